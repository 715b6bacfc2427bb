package catalog

import (
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Example returns an example value of the schema, as JSON, that Check
// accepts: the description's example where it is valid, else one made up
// from the type, enum, format, lengths, range and pattern. An object has
// every required property and the optional ones the description gives an
// example for; an array has one item (or MinItems).
func (s *Schema) Example() json.RawMessage {
	return appendExample(nil, s, 0)
}

// maxExampleDepth stops a runaway schema; the catalogue's are shallower.
const maxExampleDepth = 32

func appendExample(dst []byte, s *Schema, depth int) []byte {
	if s == nil {
		return append(dst, `"example"`...)
	}
	if s.validExample() {
		return append(dst, s.DocExample...)
	}
	switch s.Type {
	case "object":
		return appendObject(dst, s, depth)
	case "array":
		return appendArray(dst, s, depth)
	case "integer", "number":
		return append(dst, exampleNumber(s)...)
	case "boolean":
		return append(dst, "false"...)
	case "string", "":
		return appendJSONString(dst, exampleString(s, depth))
	}
	return append(dst, `""`...) // a file part
}

// validExample reports whether the description's example passes Check.
func (s *Schema) validExample() bool {
	if len(s.DocExample) == 0 {
		return false
	}
	c := checker{}
	c.value(s, gjson.ParseBytes(s.DocExample))
	return len(c.problems) == 0
}

func appendObject(dst []byte, s *Schema, depth int) []byte {
	dst = append(dst, '{')
	if depth < maxExampleDepth {
		n := 0
		for _, p := range s.Properties {
			if !p.Required && (p.Schema == nil || !p.Schema.validExample()) {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, p.Name)
			dst = append(dst, ':')
			dst = appendExample(dst, p.Schema, depth+1)
			n++
		}
	}
	return append(dst, '}')
}

func appendArray(dst []byte, s *Schema, depth int) []byte {
	n := max(1, s.MinItems)
	if s.MaxItems > 0 {
		n = min(n, s.MaxItems)
	}
	if depth >= maxExampleDepth || (s.Items == nil && s.MinItems == 0) {
		n = 0
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendExample(dst, s.Items, depth+1)
	}
	return append(dst, ']')
}

func exampleNumber(s *Schema) string {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	v := 1.0
	if s.Minimum != nil && v < *s.Minimum {
		v = math.Ceil(*s.Minimum)
	}
	if s.Maximum != nil && v > *s.Maximum {
		v = math.Floor(*s.Maximum)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// formatExamples are made-up values of the string formats.
var formatExamples = map[string]string{
	"rfc3339":        "2024-06-01T10:00:00+08:00",
	"date":           "2024-06-01",
	"yyyyMMddHHmmss": "20240601100000",
	"mm/yy":          "06/30",
	"base64":         "c2Vuc2l0aXZl",
	"numeric":        "1",
	"url":            "https://example.com/",
	"MediaUrl":       "https://example.com/image.png",
	"MediaId":        "media-id",
	"jsonObjectLike": "{}",
	"jsonArrayLike":  "[]",
	"rfc2397":        "data:,example",
}

// patternTries are tried in turn when the made-up value misses a pattern.
var patternTries = []string{"20240601", "20240601100000", "000000", "1", "A"}

func exampleString(s *Schema, depth int) string {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	v, ok := formatExamples[s.Format]
	if !ok {
		v = "example"
	}
	if s.JSON != nil && depth < maxExampleDepth {
		v = string(appendExample(nil, s.JSON, depth+1))
	}
	if re := s.regexp(); re != nil && !re.MatchString(v) {
		for _, t := range patternTries {
			if re.MatchString(t) {
				v = t
				break
			}
		}
	}
	if s.MaxLength > 0 && utf8.RuneCountInString(v) > s.MaxLength {
		r := []rune(v)
		v = string(r[:s.MaxLength])
	}
	for utf8.RuneCountInString(v) < s.MinLength {
		v += "0"
	}
	return v
}

// appendJSONString appends s as a JSON string, without HTML escaping.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// ExampleRequest returns a request that passes the operation's Check: a
// value for every path parameter, the required query parameters and those
// the description gives an example for, and the body's Example (nil when
// the operation takes no body). Sensitive fields hold plain text, to be
// encrypted before sending.
func (op *Operation) ExampleRequest() (path map[string]string, query url.Values, body []byte) {
	path = map[string]string{}
	query = url.Values{}
	for _, p := range op.Params {
		switch p.In {
		case "path":
			path[p.Name] = exampleText(p.Schema)
		case "query":
			if p.Required || len(p.Schema.DocExample) > 0 {
				s := p.Schema
				if s.Type == "array" && s.Items != nil {
					s = s.Items
				}
				query.Set(p.Name, exampleText(s))
			}
		}
	}
	if op.Body != nil {
		body = op.Body.Example()
	}
	return path, query, body
}

// exampleText is the example of a path or query value, as text.
func exampleText(s *Schema) string {
	r := gjson.ParseBytes(s.Example())
	if r.Type == gjson.String {
		return r.Str
	}
	return r.Raw
}
