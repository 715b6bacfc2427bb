package wxpay

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// optionKeys are the keys of Opts that are not placeholders.
var optionKeys = [...]string{"json", "query", "headers", "body", "encrypt", "file"}

func isOptionKey(k string) bool {
	for _, o := range optionKeys {
		if k == o {
			return true
		}
	}
	return false
}

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
