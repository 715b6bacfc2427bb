package main

import (
	"bytes"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay/catalog"
)

// exampleCall is a call of one operation with example values, printed as
// a wxpay command by describe.
type exampleCall struct {
	method, template string
	args             []string // name=value: path values, then the query
	headers          []string // "Name: value"
	body             []byte
	encrypt          []string // concrete gjson paths
	encryptAll       bool     // --encrypt all: a sensitive query parameter is given
	baseURL          string
}

// newExampleCall builds the call of op from its example request, the path
// values and query parameters given replacing the examples.
func newExampleCall(op *catalog.Operation, values map[string]string, query url.Values) exampleCall {
	pv, q, body := op.ExampleRequest()
	if pv == nil {
		pv = map[string]string{}
	}
	if q == nil {
		q = url.Values{}
	}
	for name, v := range values {
		pv[name] = v
	}
	for name, vs := range query {
		q[name] = vs
	}
	if body != nil {
		body = bytes.Clone(body) // the catalogue's may be shared
		body = fillEnums(op, pv, q, body)
		body = plainStandIns(op, pv, q, body)
	}
	c := exampleCall{method: op.Method, template: op.Template, body: body, baseURL: op.BaseURL}
	c.encrypt = catalog.ExpandPaths(body, op.Sensitive())
	c.encryptAll = plainQueryStandIns(op, pv, q, body)
	names := placeholderList(op.Template)
	if slices.ContainsFunc(names, func(name string) bool { return q.Has(name) }) {
		// The description has a query parameter named like a path
		// parameter: the path is written out, so that name=value fills
		// the query.
		c.template, names = fillTemplate(op.Template, pv), nil
	}
	for _, name := range names {
		c.args = append(c.args, name+"="+pv[name])
	}
	c.args = append(c.args, queryArgs(op, q)...)
	for _, p := range op.Params {
		if p.In == "header" && p.Required && !(p.Name == "Wechatpay-Serial" && (len(c.encrypt) > 0 || c.encryptAll)) {
			c.headers = append(c.headers, p.Name+": "+exampleText(p.Schema))
		}
	}
	return c
}

// queryArgs returns the name=value arguments of q: the operation's query
// parameters in its order, then any other, sorted.
func queryArgs(op *catalog.Operation, q url.Values) []string {
	var args []string
	seen := map[string]bool{}
	add := func(name string) {
		for _, v := range q[name] {
			args = append(args, name+"="+v)
		}
		seen[name] = true
	}
	for _, p := range op.Params {
		if p.In == "query" && !seen[p.Name] {
			add(p.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if !seen[name] {
			add(name)
		}
	}
	return args
}

// exampleText is the example of a string parameter as text.
func exampleText(s *catalog.Schema) string {
	if s == nil {
		return ""
	}
	r := gjson.ParseBytes(s.Example())
	return r.String()
}

// placeholderList returns the names of the placeholders of a template, in
// order.
func placeholderList(tmpl string) []string {
	var names []string
	for _, seg := range strings.Split(tmpl, "/") {
		if name, ok := placeholder(seg); ok {
			names = append(names, name)
		}
	}
	return names
}

// fillEnums adds to body every optional field that takes one of a fixed set
// of values and that the example leaves out, with its example value: the
// description gives no example for many of them, and WeChat Pay requires
// some depending on others (bank_type when type is USER_BANK_CARD). Objects
// inside arrays are filled too. If the result failed the check, body is
// returned unchanged.
func fillEnums(op *catalog.Operation, pv map[string]string, q url.Values, body []byte) []byte {
	out := fillObject(body, "", op.Body, 0)
	if op.Check(pv, q, out) != nil {
		return body
	}
	return out
}

func fillObject(body []byte, prefix string, s *catalog.Schema, depth int) []byte {
	if s == nil || depth > maxDepth {
		return body
	}
	for _, p := range s.Properties {
		path := prefix + gjson.Escape(p.Name)
		v := gjson.GetBytes(body, path)
		switch {
		case !v.Exists() && !p.Required && len(p.Schema.Enum) > 0:
			if b, err := sjson.SetRawBytes(body, path, p.Schema.Example()); err == nil {
				body = b
			}
		case v.IsObject() && p.Schema.Type == "object":
			body = fillObject(body, path+".", p.Schema, depth+1)
		case v.IsArray() && p.Schema.Items != nil && p.Schema.Items.Type == "object":
			for i := range len(v.Array()) {
				body = fillObject(body, path+"."+strconv.Itoa(i)+".", p.Schema.Items, depth+1)
			}
		}
	}
	return body
}

// plainStandIns replaces the value of each sensitive field of body with a
// plain stand-in fit for its name: the description's examples of sensitive
// fields are mostly ciphertexts, which --encrypt would encrypt again. A
// stand-in the check refuses leaves the example as it was.
func plainStandIns(op *catalog.Operation, pv map[string]string, q url.Values, body []byte) []byte {
	for _, path := range catalog.ExpandPaths(body, op.Sensitive()) {
		b, err := sjson.SetBytes(body, path, standIn(path))
		if err == nil && op.Check(pv, q, b) == nil {
			body = b
		}
	}
	return body
}

// plainQueryStandIns gives each sensitive query parameter of q a plain
// stand-in, as plainStandIns does for the body, and reports whether q has
// one: the command then encrypts with --encrypt all, which reaches the
// query.
func plainQueryStandIns(op *catalog.Operation, pv map[string]string, q url.Values, body []byte) bool {
	found := false
	for _, p := range op.Params {
		if p.In != "query" || !p.Schema.Sensitive() || !q.Has(p.Name) {
			continue
		}
		found = true
		was := q[p.Name]
		q[p.Name] = []string{standIn(p.Name)}
		if op.Check(pv, q, body) != nil {
			q[p.Name] = was
		}
	}
	return found
}

// standIn returns a plain value for the sensitive field at path.
func standIn(path string) string {
	segs := strings.Split(strings.ToLower(path), ".")
	name := segs[len(segs)-1]
	for i := len(segs) - 1; i > 0 && isIndex(name); i-- {
		name = segs[i-1]
	}
	switch {
	case strings.Contains(name, "mail"):
		return "user@example.com"
	case strings.Contains(name, "phone") || strings.Contains(name, "mobile") || name == "tel":
		return "13800138000"
	case strings.Contains(name, "name"):
		return "张三"
	case strings.Contains(name, "address"):
		return "广东省深圳市南山区科技园"
	}
	return "6214830000001234"
}

func isIndex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// command returns the call as a wxpay command for a POSIX shell, broken
// over lines: the method and template, the name=value arguments, each -H,
// -d, --encrypt, --base-url.
func (c exampleCall) command() string {
	lines := []string{"wxpay " + strings.ToLower(c.method) + " " + shellQuote(c.template)}
	if len(c.args) > 0 {
		quoted := make([]string, len(c.args))
		for i, a := range c.args {
			quoted[i] = shellQuote(a)
		}
		lines = append(lines, strings.Join(quoted, " "))
	}
	for _, h := range c.headers {
		lines = append(lines, "-H "+shellQuote(h))
	}
	if c.body != nil {
		lines = append(lines, "-d "+shellQuote(string(c.body)))
	}
	switch {
	case c.encryptAll:
		lines = append(lines, "--encrypt all")
	case len(c.encrypt) > 0:
		lines = append(lines, "--encrypt "+shellQuote(strings.Join(c.encrypt, ",")))
	}
	if c.baseURL != "" {
		lines = append(lines, "--base-url "+shellQuote(c.baseURL))
	}
	return strings.Join(lines, " \\\n    ")
}
