package wxpay

import "fmt"

// isV2 reports whether the chain is an APIv2 path: v2, or v2/... (any
// case).
func isV2(ch Chain) bool {
	t := ch.tmpl
	return ch.origin == "" && len(t) >= 2 && (t[0] == 'v' || t[0] == 'V') && t[1] == '2' && (len(t) == 2 || t[2] == '/')
}

// checkNotV2Options refuses the APIv2 options in an APIv3 call, where they
// would mean nothing.
func checkNotV2Options(ch Chain, opts Opts) error {
	if len(opts) == 0 {
		return nil
	}
	for _, k := range v2Only {
		if _, ok := opts[k]; ok && (ch.origin != "" || !hasPlaceholder(ch.tmpl, k)) {
			return fmt.Errorf("%w: %q is an APIv2 option, for paths starting with v2/, not %s", ErrInvalidOption, k, ch.String())
		}
	}
	return nil
}

// v2Only are the APIv2 options that mean nothing to an APIv3 call.
var v2Only = [...]string{"xml", "security", "nonceless"}
