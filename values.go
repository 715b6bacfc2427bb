package wxpay

// This file holds what both protocols, APIv3 (do.go) and APIv2 (v2.go), use
// to read the values of options: the text of a scalar, the headers option,
// keys in a stable order and the "did you mean" of an unknown key. It
// depends on neither protocol.

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// sortedKeys returns the keys of m in order, so that what is built from a
// map, and the first error found in one, is the same from run to run.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// scalar returns the text of a string, bool, integer or fmt.Stringer value,
// as it goes into a path, a query or a header.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case fmt.Stringer:
		if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
			return "", false // a typed nil: its String method would panic
		}
		return x.String(), true
	}
	return "", false
}

// didYouMean returns "; did you mean %q?" for the first of names that k is
// close to (closeTo), or "" when there is none.
func didYouMean(k string, names []string) string {
	for _, n := range names {
		if closeTo(k, n) {
			return fmt.Sprintf("; did you mean %q?", n)
		}
	}
	return ""
}

// closeTo reports whether a and b differ by one edit or a swap of two
// neighbouring letters, or only in case.
func closeTo(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}

// headerList reads the headers option h into header lines, in a stable
// order: each value of a header given several (an http.Header with two
// values, a []string in Opts) is a line of its own, and every line is
// sent.
func headerList(h any) ([][2]string, error) {
	var out [][2]string
	add := func(k, v string) error {
		if k == "" || !validToken(k) {
			return fmt.Errorf("%w: header name %q is not a valid token", ErrInvalidOption, k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%w: header %s value holds a line break", ErrInvalidOption, k)
		}
		if i := strings.IndexFunc(v, isControl); i >= 0 {
			return fmt.Errorf("%w: header %s value holds the control character %q", ErrInvalidOption, k, v[i])
		}
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Host", "Content-Length", "Transfer-Encoding", "Connection":
			return fmt.Errorf("%w: header %s is set by the client and cannot be given", ErrInvalidOption, http.CanonicalHeaderKey(k))
		}
		out = append(out, [2]string{k, v})
		return nil
	}
	switch m := h.(type) {
	case map[string]string:
		for _, k := range sortedKeys(m) {
			if err := add(k, m[k]); err != nil {
				return nil, err
			}
		}
	case http.Header:
		for _, k := range sortedKeys(m) {
			for _, v := range m[k] {
				if err := add(k, v); err != nil {
					return nil, err
				}
			}
		}
	case Opts:
		if err := headerListAny(m, add); err != nil {
			return nil, err
		}
	case map[string]any:
		if err := headerListAny(m, add); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: headers is %T, want map[string]string, http.Header or Opts", ErrInvalidOption, h)
	}
	return out, nil
}

// headerListAny adds the headers of an Opts or map[string]any: a scalar
// value is one header line, a []string one line for each of its values.
func headerListAny(m map[string]any, add func(k, v string) error) error {
	for _, k := range sortedKeys(m) {
		if vs, ok := m[k].([]string); ok {
			for _, v := range vs {
				if err := add(k, v); err != nil {
					return err
				}
			}
			continue
		}
		s, ok := scalar(m[k])
		if !ok {
			return fmt.Errorf("%w: header %s is %T, want a string or a []string", ErrInvalidOption, k, m[k])
		}
		if err := add(k, s); err != nil {
			return err
		}
	}
	return nil
}

// isControl reports whether r is a control character that a header value
// cannot hold (RFC 9110 field-value): any but the horizontal tab.
func isControl(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// option returns the value of option k and whether it was given: a key
// given the untyped nil counts as not given, so Opts{"json": nil} sends no
// body.
func option(opts Opts, k string) (any, bool) {
	v, ok := opts[k]
	return v, ok && v != nil
}
