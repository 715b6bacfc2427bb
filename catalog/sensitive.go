package catalog

import (
	"slices"
	"strconv"

	"github.com/tidwall/gjson"
)

// Sensitive returns the gjson paths of the sensitive fields of the request
// body: strings WeChat Pay wants RSA-OAEP encrypted with its public key
// (format base64; the request then needs the Wechatpay-Serial header). A
// field inside an array is written with '#' ("items.#.bank_account"); see
// ExpandPaths for the paths present in a given body. A sensitive query
// parameter is a Param whose Schema is Sensitive.
func (op *Operation) Sensitive() []string { return slices.Clone(op.sensitive) }

// ResponseSensitive returns the gjson paths of the sensitive fields of the
// answer, which WeChat Pay encrypts with the merchant's public key, in the
// form of Sensitive.
func (op *Operation) ResponseSensitive() []string { return slices.Clone(op.respSensitive) }

// sensitivePaths walks s for sensitive strings.
func sensitivePaths(s *Schema) []string {
	var out []string
	var walk func(s *Schema, prefix string, depth int)
	walk = func(s *Schema, prefix string, depth int) {
		if s == nil || depth > 32 {
			return
		}
		if s.Sensitive() && prefix != "" {
			out = append(out, prefix)
			return
		}
		join := func(comp string) string {
			if prefix == "" {
				return comp
			}
			return prefix + "." + comp
		}
		for _, p := range s.Properties {
			walk(p.Schema, join(gjson.Escape(p.Name)), depth+1)
		}
		if s.Type == "array" {
			walk(s.Items, join("#"), depth+1)
		}
	}
	walk(s, "", 0)
	return out
}

// ExpandPaths returns the concrete paths in the JSON document doc of the
// gjson paths given, each '#' component replaced by the index of every item
// of the array there: with doc {"items":[{"a":"x"},{"b":"y"},{"a":"z"}]},
// "items.#.a" gives "items.0.a" and "items.2.a". Only paths to values
// present and not null are returned, in document order; they are writable
// with sjson, to encrypt or decrypt a field in place.
func ExpandPaths(doc []byte, paths []string) []string {
	if !gjson.ValidBytes(doc) {
		return nil
	}
	root := gjson.ParseBytes(doc)
	var out []string
	for _, p := range paths {
		out = expand(out, root, splitGJSON(p), "")
	}
	return out
}

func expand(out []string, v gjson.Result, comps []string, prefix string) []string {
	if len(comps) == 0 {
		if v.Exists() && v.Type != gjson.Null && prefix != "" {
			out = append(out, prefix)
		}
		return out
	}
	join := func(comp string) string {
		if prefix == "" {
			return comp
		}
		return prefix + "." + comp
	}
	if comps[0] == "#" {
		if !v.IsArray() {
			return out
		}
		for i, item := range v.Array() {
			out = expand(out, item, comps[1:], join(strconv.Itoa(i)))
		}
		return out
	}
	if !v.IsObject() {
		return out
	}
	return expand(out, v.Get(comps[0]), comps[1:], join(comps[0]))
}

// splitGJSON splits a gjson path at its unescaped dots, keeping escapes.
func splitGJSON(p string) []string {
	var comps []string
	start := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '.':
			comps = append(comps, p[start:i])
			start = i + 1
		}
	}
	return append(comps, p[start:])
}
