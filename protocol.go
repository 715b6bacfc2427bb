package wxpay

// A call on a chain is made in one of two protocols, which Chain.Do chooses
// once, from the chain's path, and hands the call to:
//
//   - APIv2 (XML), for the path v2 or v2/... (any case): doV2 (v2.go) sends
//     it and checkV2 (v2response.go) checks the answer;
//   - APIv3 (JSON), for every other path and for a full URL: do (do.go)
//     builds the request stage by stage, sends it and checks the answer.
//
// Each protocol has its own list of option keys (optionKeys in options.go,
// v2OptionKeys in v2.go) and reports the keys it does not know itself.
// This file, which knows both, adds one rule: an option that only APIv2
// takes, given to an APIv3 call, is named as an APIv2 option rather than as
// an unknown key.

import "fmt"

// isV2 reports whether the chain is an APIv2 path: v2, or v2/... (any
// case).
func isV2(ch Chain) bool {
	t := ch.tmpl
	return ch.origin == "" && len(t) >= 2 && (t[0] == 'v' || t[0] == 'V') && t[1] == '2' && (len(t) == 2 || t[2] == '/')
}

// checkNotV2Options refuses in an APIv3 call the options only APIv2 calls
// take (xml, security, nonceless), where they would mean nothing, unless
// the key is a placeholder of the path.
func checkNotV2Options(ch Chain, opts Opts) error {
	if len(opts) == 0 {
		return nil
	}
	for _, k := range v2OptionKeys {
		if isOptionKey(k) {
			continue // headers: both protocols take it
		}
		if _, ok := opts[k]; ok && (ch.origin != "" || !hasPlaceholder(ch.tmpl, k)) {
			return fmt.Errorf("%w: %q is an APIv2 option, for paths starting with v2/, not %s", ErrInvalidOption, k, ch.String())
		}
	}
	return nil
}
