package wxpay

// This file is the first stage of an APIv3 request (do.go): the method and
// the keys of the options. Each later stage checks the type of the option
// it reads. The rule for nil is the same for every option: a key given the
// untyped nil is a key not given (option, values.go), while a nil of a type
// (a nil pointer, map or slice) is a value, refused where it would send
// nothing meaningful (isTypedNil).

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// optionKeys are the keys of Opts that are not placeholders.
var optionKeys = [...]string{"json", "query", "headers", "body", "encrypt", "file", "debug"}

// isOptionKey reports whether k is one of optionKeys.
func isOptionKey(k string) bool {
	for _, o := range optionKeys {
		if k == o {
			return true
		}
	}
	return false
}

// newPrepared checks the method and that every key of opts is an option or
// a placeholder of the chain's path, and starts the request.
func newPrepared(method string, ch Chain, opts Opts) (*prepared, error) {
	m, ok := normMethod(method)
	if !ok {
		return nil, fmt.Errorf("%w: method %q, want GET, POST, PUT, PATCH or DELETE", ErrInvalidOption, method)
	}
	known := func(k string) bool { return isOptionKey(k) || (ch.origin == "" && hasPlaceholder(ch.tmpl, k)) }
	for k := range opts {
		if !known(k) {
			// name the first unknown key in sorted order, so that the
			// error is the same from run to run
			for _, k := range sortedKeys(opts) {
				if !known(k) {
					return nil, unknownOption(ch, k)
				}
			}
		}
	}
	return &prepared{method: m}, nil
}

// isTypedNil reports whether v is a nil of a type that can be nil: a nil
// pointer, map, slice, interface, func or channel.
func isTypedNil(v any) bool {
	rv := reflect.ValueOf(v)
	return nilable(rv.Kind()) && rv.IsNil()
}

// normMethod returns the method m names, in upper case, and whether it is
// one an APIv3 call takes.
func normMethod(m string) (string, bool) {
	switch strings.ToUpper(m) {
	case http.MethodGet:
		return http.MethodGet, true
	case http.MethodPost:
		return http.MethodPost, true
	case http.MethodPut:
		return http.MethodPut, true
	case http.MethodPatch:
		return http.MethodPatch, true
	case http.MethodDelete:
		return http.MethodDelete, true
	}
	return "", false
}

// unknownOption reports a key of opts that is neither an option nor a
// placeholder of ch, with both lists and a "did you mean".
func unknownOption(ch Chain, k string) error {
	var names []string
	if ch.origin == "" {
		placeholders(ch.tmpl, func(n string, _ bool) { names = append(names, n) })
	}
	msg := fmt.Sprintf("unknown key %q: not a placeholder of %s", k, ch.String())
	if len(names) > 0 {
		msg += " (placeholders: " + strings.Join(names, ", ") + ")"
	}
	msg += " nor an option (" + strings.Join(optionKeys[:], ", ") + ")"
	msg += didYouMean(k, append(names, optionKeys[:]...))
	return fmt.Errorf("%w: %s", ErrInvalidOption, msg)
}

// nilable reports whether a value of kind k can be nil.
func nilable(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return true
	}
	return false
}
