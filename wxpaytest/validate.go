package wxpaytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fields reads the members of one JSON object of a request body and
// reports problems as PARAM_ERROR answers whose detail.field is the JSON
// pointer of the member, such as /amount/refund.
type fields struct {
	obj  map[string]any
	path string // JSON pointer of obj; "" for the body itself
}

// body returns the fields of a decoded request body.
func body(obj map[string]any) fields { return fields{obj: obj} }

func (f fields) ptr(name string) string { return f.path + "/" + name }

// get returns the member name, treating null as absent.
func (f fields) get(name string) (any, bool) {
	v, ok := f.obj[name]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// shortValue returns v for an error detail, or nil when it is too long to
// be worth echoing.
func shortValue(v any) any {
	if s, ok := v.(string); ok && len(s) > 128 {
		return nil
	}
	return v
}

// str reads a string member. required means present and not empty; max,
// when positive, bounds the length in characters; enum, when given, lists
// the allowed values.
func (f fields) str(name string, required bool, max int, enum ...string) (string, *apiError) {
	v, ok := f.get(name)
	if !ok {
		if required {
			return "", paramError("body", f.ptr(name), nil, "is required")
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", paramError("body", f.ptr(name), shortValue(v), "must be a string")
	}
	if s == "" {
		if required {
			return "", paramError("body", f.ptr(name), s, "must not be empty")
		}
		return "", nil
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return "", paramError("body", f.ptr(name), shortValue(s), fmt.Sprintf("is longer than %d characters", max))
	}
	if len(enum) > 0 && !oneOf(s, enum) {
		return "", paramError("body", f.ptr(name), shortValue(s), "must be one of "+strings.Join(enum, ", "))
	}
	return s, nil
}

// integer reads an integer member of at least min. present reports whether
// it was given.
func (f fields) integer(name string, required bool, min int64) (n int64, present bool, e *apiError) {
	v, ok := f.get(name)
	if !ok {
		if required {
			return 0, false, paramError("body", f.ptr(name), nil, "is required")
		}
		return 0, false, nil
	}
	num, isNum := v.(json.Number)
	if !isNum {
		return 0, false, paramError("body", f.ptr(name), shortValue(v), "must be an integer")
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return 0, false, paramError("body", f.ptr(name), num, "must be an integer number of fen")
	}
	if n < min {
		return 0, false, paramError("body", f.ptr(name), num, fmt.Sprintf("must be at least %d", min))
	}
	return n, true, nil
}

// object reads an object member.
func (f fields) object(name string, required bool) (fields, bool, *apiError) {
	v, ok := f.get(name)
	if !ok {
		if required {
			return fields{}, false, paramError("body", f.ptr(name), nil, "is required")
		}
		return fields{}, false, nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		return fields{}, false, paramError("body", f.ptr(name), shortValue(v), "must be an object")
	}
	return fields{obj: o, path: f.ptr(name)}, true, nil
}

// objects reads an optional array of objects.
func (f fields) objects(name string) ([]fields, *apiError) {
	v, ok := f.get(name)
	if !ok {
		return nil, nil
	}
	a, isArr := v.([]any)
	if !isArr {
		return nil, paramError("body", f.ptr(name), shortValue(v), "must be an array")
	}
	out := make([]fields, len(a))
	for i, el := range a {
		o, isObj := el.(map[string]any)
		if !isObj {
			return nil, paramError("body", f.ptr(name)+"/"+strconv.Itoa(i), shortValue(el), "must be an object")
		}
		out[i] = fields{obj: o, path: f.ptr(name) + "/" + strconv.Itoa(i)}
	}
	return out, nil
}

// merchantIDIssue is the issue of a sub_mchid that is not a merchant id.
const merchantIDIssue = "must be a merchant id: 8 to 32 digits"

// isMerchantID reports whether s is a merchant id, as WeChat Pay assigns
// them: 8 to 32 ASCII digits.
func isMerchantID(s string) bool { return isDigits(s, 8, 32) }

// isDigits reports whether s is min to max ASCII digits.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// merchantID reads a merchant id member, such as sub_mchid.
func (f fields) merchantID(name string, required bool) (string, *apiError) {
	s, e := f.str(name, required, 0)
	if e != nil || s == "" {
		return s, e
	}
	if !isMerchantID(s) {
		return "", paramError("body", f.ptr(name), shortValue(s), merchantIDIssue)
	}
	return s, nil
}

// queryMerchantID reads the merchant id query parameter name: "" when
// absent and not required; present, it must be a merchant id (an empty
// value is not).
func queryMerchantID(q url.Values, name string, required bool) (string, *apiError) {
	if !q.Has(name) {
		if required {
			return "", paramError("query", name, nil, "is required")
		}
		return "", nil
	}
	s := q.Get(name)
	if s == "" && required {
		return "", paramError("query", name, nil, "is required")
	}
	if !isMerchantID(s) {
		return "", paramError("query", name, shortValue(s), merchantIDIssue)
	}
	return s, nil
}

// parseQuery parses the query of c's request.
func parseQuery(c *call) (url.Values, *apiError) {
	q, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return nil, paramError("query", "query", nil, "malformed query string")
	}
	return q, nil
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
