package catalog

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// Kind classifies a Problem.
type Kind string

// The kinds of Problem.
const (
	KindMissing Kind = "missing" // a required field is absent (or null)
	KindType    Kind = "type"    // a value of the wrong JSON type
	KindEnum    Kind = "enum"    // a value outside the allowed ones
	KindLength  Kind = "length"  // a string too long or too short
	KindPattern Kind = "pattern" // a string not matching the pattern
	KindFormat  Kind = "format"  // a string not in its format (time, date, digits)
	KindRange   Kind = "range"   // a number below the minimum or above the maximum
	KindItems   Kind = "items"   // an array with too many or too few items
	KindSyntax  Kind = "syntax"  // a body that is not JSON
	KindUnknown Kind = "unknown" // a field the catalogue does not know (UnknownFields only)
	KindPlain   Kind = "plain"   // a sensitive value not encrypted (CheckEncrypted only)
)

// Problem is one thing wrong with a request.
type Problem struct {
	// Field names the field: a gjson path into the body
	// ("amount.from.0.account"), "query:NAME" for a query parameter,
	// "path:NAME" for a path parameter, "" for the body as a whole.
	Field   string
	Kind    Kind
	Message string // what is wrong, such as "required field is missing"
}

// String returns "field: message".
func (p Problem) String() string {
	f := p.Field
	if f == "" {
		f = "body"
	}
	return f + ": " + p.Message
}

// CheckError reports every problem of a request, sorted: path parameters,
// then query parameters, then body fields, each by field name. It wraps
// wxpay.ErrInvalidOption.
type CheckError struct {
	Method, Template string
	Problems         []Problem
}

// Error lists the problems on one line.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog: %s %s: ", e.Method, e.Template)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if fix := plainFix(e.Problems); fix != "" {
		b.WriteString("; " + fix)
	}
	return b.String()
}

// Unwrap returns wxpay.ErrInvalidOption.
func (e *CheckError) Unwrap() error { return wxpay.ErrInvalidOption }

// UnknownEndpointError reports a request to a path and method the catalogue
// does not know. Suggestions are the closest operations ("POST
// v3/refund/domestic/refunds"), best first. It wraps wxpay.ErrInvalidPath.
type UnknownEndpointError struct {
	Method, Path string
	Suggestions  []string
}

// Error names the endpoint and the suggestions.
func (e *UnknownEndpointError) Error() string {
	msg := fmt.Sprintf("catalog: no APIv3 operation %s %s", e.Method, e.Path)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggestions, " or ") + "?"
	}
	return msg
}

// Unwrap returns wxpay.ErrInvalidPath.
func (e *UnknownEndpointError) Unwrap() error { return wxpay.ErrInvalidPath }

// Check checks a request given by method, concrete path (a query in it is
// checked with query) and body against its operation (see Match and
// Operation.Check). An unknown endpoint is an *UnknownEndpointError.
func Check(method, path string, query url.Values, body []byte) error {
	p, rawQuery, hasQuery := strings.Cut(path, "?")
	if hasQuery {
		q, _ := url.ParseQuery(rawQuery) // what parses is checked
		for k, vs := range query {
			q[k] = append(q[k], vs...)
		}
		query = q
	}
	op, segs := match(method, p)
	if op == nil {
		return &UnknownEndpointError{Method: strings.ToUpper(method), Path: p, Suggestions: Suggest(method, p)}
	}
	return op.Check(pathValues(op, segs), query, body)
}

// Check checks one request against the operation: path values (by the
// catalogue's placeholder names), query parameters and JSON body (for a
// Multipart operation, the meta JSON). It returns nil or a *CheckError with
// every problem:
//
//   - a required path, query or body field that is absent; a JSON null
//     counts as absent, and an optional field may be null;
//   - a value of the wrong JSON type; "integer" and "number" fields take
//     integers only (WeChat Pay amounts are in fen; the description writes
//     most of them "number"), unless the format is "float" or "double";
//     a query or path value must parse as its type;
//   - a value outside the enum; a string longer than MaxLength or shorter
//     than MinLength, counted in characters (Unicode code points); a
//     number out of [Minimum, Maximum]; an array with more than MaxItems or
//     fewer than MinItems items; a string not matching Pattern, or not in
//     its format for "rfc3339" (a time such as 2024-06-01T10:00:00+08:00),
//     "date" (2024-06-01) and "numeric" (digits);
//   - a body that is not JSON, or absent when the operation requires one.
//
// Fields the catalogue does not know are not problems: WeChat Pay ignores
// many, the description omits some; UnknownFields lists them. Headers are
// not checked, nor whether a sensitive field is a ciphertext: the check
// passes plain text before encryption as it does the ciphertext after
// (CheckEncrypted checks that too). A message quotes a value only when it is outside an enum
// (and never a sensitive field's), so no personal data ends up in an error.
func (op *Operation) Check(pathValues map[string]string, query url.Values, body []byte) error {
	return op.check(pathValues, query, body, false)
}

// CheckEncrypted checks a request as it is sent, its sensitive fields
// encrypted: it finds what Check finds and, as a problem of KindPlain,
// each sensitive body field (Sensitive) and sensitive query parameter
// present whose value is not a ciphertext: not what rsaenc.IsCiphertext
// takes, the standard base64 of exactly 256, 384 or 512 bytes (an RSA
// ciphertext under a 2048-, 3072- or 4096-bit key). WeChat Pay refuses such
// a request with 400 PARAM_ERROR, as wxpaytest does; catalog.Checker checks
// this way. An empty string is not a problem: there is nothing to protect,
// and nothing to encrypt. Only the form is checked: whether the ciphertext
// decrypts under the key the Wechatpay-Serial header names is for WeChat
// Pay to find. The value is never quoted.
func (op *Operation) CheckEncrypted(pathValues map[string]string, query url.Values, body []byte) error {
	return op.check(pathValues, query, body, true)
}

func (op *Operation) check(pathValues map[string]string, query url.Values, body []byte, encrypted bool) error {
	c := checker{encrypted: encrypted}
	for i := range op.Params {
		p := &op.Params[i]
		switch p.In {
		case "path":
			v := pathValues[p.Name]
			if v == "" {
				c.add("path:"+p.Name, KindMissing, "path parameter is missing")
				continue
			}
			c.text(p.Schema, v, "path:"+p.Name)
		case "query":
			c.query(p, query[p.Name])
		}
	}
	if op.Body != nil {
		c.body(op, body)
	}
	if len(c.problems) == 0 {
		return nil
	}
	slices.SortFunc(c.problems, compareProblems)
	return &CheckError{Method: op.Method, Template: op.Template, Problems: c.problems}
}

func compareProblems(a, b Problem) int {
	return cmp.Or(cmp.Compare(group(a.Field), group(b.Field)), cmp.Compare(a.Field, b.Field),
		cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Message, b.Message))
}

func group(field string) int {
	switch {
	case strings.HasPrefix(field, "path:"):
		return 0
	case strings.HasPrefix(field, "query:"):
		return 1
	}
	return 2
}

// checker collects problems while walking a request.
type checker struct {
	encrypted bool // sensitive values must be ciphertexts (CheckEncrypted)
	problems  []Problem
	path      []pathElem // the body field being checked
}

// pathElem is one step of a body path: a property name or an array index.
type pathElem struct {
	name string
	idx  int // -1 for a name
}

func (c *checker) add(field string, kind Kind, msg string) {
	c.problems = append(c.problems, Problem{Field: field, Kind: kind, Message: msg})
}

// field returns the gjson path of the current body field, plus name if
// not "".
func (c *checker) field(name string) string {
	var b strings.Builder
	for _, e := range c.path {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if e.idx >= 0 {
			b.WriteString(strconv.Itoa(e.idx))
		} else {
			b.WriteString(gjson.Escape(e.name))
		}
	}
	if name != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(gjson.Escape(name))
	}
	return b.String()
}

func (c *checker) query(p *Param, vals []string) {
	field := "query:" + p.Name
	if len(vals) == 0 || (len(vals) == 1 && vals[0] == "") {
		if p.Required {
			c.add(field, KindMissing, "required query parameter is missing")
		}
		return
	}
	s := p.Schema
	if s.Type == "array" {
		if s.MaxItems > 0 && len(vals) > s.MaxItems {
			c.add(field, KindItems, fmt.Sprintf("has %d values, more than the %d allowed", len(vals), s.MaxItems))
		}
		if s.Items != nil {
			s = s.Items
		}
	}
	for _, v := range vals {
		c.text(s, v, field)
	}
}

func (c *checker) body(op *Operation, body []byte) {
	if len(strings.TrimSpace(string(body))) == 0 {
		if op.BodyRequired {
			c.add("", KindMissing, "the JSON body is missing")
		}
		return
	}
	if !gjson.ValidBytes(body) {
		c.add("", KindSyntax, "the body is not valid JSON")
		return
	}
	c.value(op.Body, gjson.ParseBytes(body))
}

// value checks a JSON value against s.
func (c *checker) value(s *Schema, v gjson.Result) {
	switch s.Type {
	case "string":
		if v.Type != gjson.String {
			c.wrongType(v, "a string")
			return
		}
		c.str(s, v.Str, "")
	case "integer", "number":
		integer := s.isInteger()
		if v.Type != gjson.Number {
			c.wrongType(v, map[bool]string{true: "an integer", false: "a number"}[integer])
			return
		}
		if integer && strings.ContainsAny(v.Raw, ".eE") {
			c.add(c.field(""), KindType, "is a fraction, want an integer (amounts are in fen)")
			return
		}
		c.num(s, v.Num, v.Raw, "")
	case "boolean":
		if v.Type != gjson.True && v.Type != gjson.False {
			c.wrongType(v, "a boolean")
		}
	case "object":
		if !v.IsObject() {
			c.wrongType(v, "an object")
			return
		}
		if len(s.Properties) > 0 {
			c.object(s, v)
		}
	case "array":
		if !v.IsArray() {
			c.wrongType(v, "an array")
			return
		}
		c.array(s, v)
	}
}

func (c *checker) wrongType(v gjson.Result, want string) {
	c.add(c.field(""), KindType, "is "+jsonType(v)+", want "+want)
}

func jsonType(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return "a string"
	case gjson.Number:
		return "a number"
	case gjson.True, gjson.False:
		return "a boolean"
	case gjson.Null:
		return "null"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

func (c *checker) object(s *Schema, v gjson.Result) {
	var seen uint64     // bit i: property i was present
	var seenMore []bool // for objects of more than 64 properties
	if len(s.Properties) > 64 {
		seenMore = make([]bool, len(s.Properties))
	}
	v.ForEach(func(k, val gjson.Result) bool {
		i := s.prop(k.Str)
		if i < 0 || val.Type == gjson.Null {
			return true
		}
		if i < 64 {
			seen |= 1 << i
		} else {
			seenMore[i] = true
		}
		if ps := s.Properties[i].Schema; ps != nil {
			c.path = append(c.path, pathElem{name: k.Str, idx: -1})
			c.value(ps, val)
			c.path = c.path[:len(c.path)-1]
		}
		return true
	})
	for i := range s.Properties {
		p := &s.Properties[i]
		if p.Required && ((i < 64 && seen&(1<<i) == 0) || (i >= 64 && !seenMore[i])) {
			c.add(c.field(p.Name), KindMissing, "required field is missing")
		}
	}
}

func (c *checker) array(s *Schema, v gjson.Result) {
	n := 0
	v.ForEach(func(_, item gjson.Result) bool {
		if s.Items != nil {
			c.path = append(c.path, pathElem{idx: n})
			c.value(s.Items, item)
			c.path = c.path[:len(c.path)-1]
		}
		n++
		return true
	})
	c.items(s, n, "")
}

func (c *checker) items(s *Schema, n int, field string) {
	if s.MaxItems > 0 && n > s.MaxItems {
		c.add(c.orField(field), KindItems, fmt.Sprintf("has %d items, more than the %d allowed", n, s.MaxItems))
	}
	if n < s.MinItems {
		c.add(c.orField(field), KindItems, fmt.Sprintf("has %d items, fewer than the %d required", n, s.MinItems))
	}
}

// orField returns field, or the current body path when field is "".
func (c *checker) orField(field string) string {
	if field != "" {
		return field
	}
	return c.field("")
}

// str checks a string value; field is "" for the current body path.
func (c *checker) str(s *Schema, v, field string) {
	if c.encrypted && v != "" && s.Sensitive() && !strings.HasPrefix(field, "path:") && !rsaenc.IsCiphertext(v) {
		c.add(c.orField(field), KindPlain, plainMessage)
	}
	if len(s.Enum) > 0 {
		if !slices.Contains(s.Enum, v) {
			if s.Sensitive() {
				v = "…" // never quote a sensitive value
			}
			c.add(c.orField(field), KindEnum, notInEnum(v, s.Enum))
		}
		return
	}
	if s.MaxLength > 0 || s.MinLength > 0 {
		n := utf8.RuneCountInString(v)
		if s.MaxLength > 0 && n > s.MaxLength {
			c.add(c.orField(field), KindLength, fmt.Sprintf("is %d characters long, more than the %d allowed", n, s.MaxLength))
		}
		if n < s.MinLength {
			c.add(c.orField(field), KindLength, fmt.Sprintf("is %d characters long, fewer than the %d required", n, s.MinLength))
		}
	}
	if re := s.regexp(); re != nil && !re.MatchString(v) {
		c.add(c.orField(field), KindPattern, "does not match the pattern "+s.Pattern)
	}
	if msg := badFormat(s.Format, v); msg != "" {
		c.add(c.orField(field), KindFormat, msg)
	}
}

// badFormat describes how v misses format, "" if it does not or if the
// format is not one Check knows. A sensitive (base64) field is not checked:
// the check may run before encryption.
func badFormat(format, v string) string {
	switch format {
	case "rfc3339":
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return "is not an RFC 3339 time such as 2024-06-01T10:00:00+08:00"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "is not a date such as 2024-06-01"
		}
	case "numeric":
		if v == "" || strings.TrimLeft(v, "0123456789") != "" {
			return "is not a string of digits"
		}
	}
	return ""
}

// num checks a number given as float and JSON text.
func (c *checker) num(s *Schema, f float64, raw, field string) {
	if len(s.Enum) > 0 {
		if !slices.Contains(s.Enum, raw) && !slices.Contains(s.Enum, strconv.FormatFloat(f, 'f', -1, 64)) {
			c.add(c.orField(field), KindEnum, notInEnum(raw, s.Enum))
		}
		return
	}
	if s.Minimum != nil && f < *s.Minimum {
		c.add(c.orField(field), KindRange, fmt.Sprintf("is less than the minimum %s", fmtNum(*s.Minimum)))
	}
	if s.Maximum != nil && f > *s.Maximum {
		c.add(c.orField(field), KindRange, fmt.Sprintf("is more than the maximum %s", fmtNum(*s.Maximum)))
	}
}

// text checks a path or query value, which is text whatever its type.
func (c *checker) text(s *Schema, v, field string) {
	switch s.Type {
	case "integer", "number":
		integer := s.isInteger()
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || (integer && strings.ContainsAny(v, ".eE")) {
			want := "an integer"
			if !integer {
				want = "a number"
			}
			c.add(field, KindType, "is not "+want)
			return
		}
		c.num(s, f, v, field)
	case "boolean":
		if v != "true" && v != "false" {
			c.add(field, KindType, `is not "true" or "false"`)
		}
	default:
		c.str(s, v, field)
	}
}

func notInEnum(v string, enum []string) string {
	const show = 8
	list := enum
	if len(list) > show {
		list = list[:show]
	}
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	msg := fmt.Sprintf("%q is not one of %s", v, strings.Join(list, ", "))
	if len(enum) > show {
		msg += fmt.Sprintf(" (and %d more)", len(enum)-show)
	}
	return msg
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// UnknownFields lists the query parameters and body fields of a request
// that the operation does not declare, as Problems of KindUnknown, sorted.
// They are not errors (see Check); a linter or a CLI may warn about them.
// Inside an object declared without properties anything goes.
func (op *Operation) UnknownFields(query url.Values, body []byte) []Problem {
	c := checker{}
	for name := range query {
		if op.param("query", name) == nil {
			c.add("query:"+name, KindUnknown, "not a query parameter of this operation")
		}
	}
	if op.Body != nil && gjson.ValidBytes(body) {
		c.unknown(op.Body, gjson.ParseBytes(body))
	}
	slices.SortFunc(c.problems, compareProblems)
	return c.problems
}

func (c *checker) unknown(s *Schema, v gjson.Result) {
	switch {
	case s.Type == "object" && v.IsObject() && len(s.Properties) > 0:
		v.ForEach(func(k, val gjson.Result) bool {
			i := s.prop(k.Str)
			if i < 0 {
				c.add(c.field(k.Str), KindUnknown, "not a field of this operation")
				return true
			}
			if ps := s.Properties[i].Schema; ps != nil {
				c.path = append(c.path, pathElem{name: k.Str, idx: -1})
				c.unknown(ps, val)
				c.path = c.path[:len(c.path)-1]
			}
			return true
		})
	case s.Type == "array" && v.IsArray() && s.Items != nil:
		n := 0
		v.ForEach(func(_, item gjson.Result) bool {
			c.path = append(c.path, pathElem{idx: n})
			c.unknown(s.Items, item)
			c.path = c.path[:len(c.path)-1]
			n++
			return true
		})
	}
}
