package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
)

// checkCall checks one call against the catalogue before anything is sent:
// method, the path template as the call command normalised it
// ("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund", any
// placeholder names, or a concrete path), the values of its placeholders,
// the query and the JSON body (nil for none). It returns nil when the call
// passes, else a usage error of cmd (exit status 2) whose message names the
// operation and lists every problem on its own line, field path first:
//
//	POST v3/refund/domestic/refunds does not pass the catalogue's check (2 problems):
//	  amount.total: is a fraction, want an integer (amounts are in fen)
//	  out_refund_no: required field is missing
//
// An endpoint the catalogue does not know is reported with the closest
// ones.
func checkCall(cmd, method, tmpl string, values map[string]string, query url.Values, body []byte) error {
	op, pathValues, ok := resolveCall(method, tmpl, values)
	if !ok {
		return usagef(cmd, "%s", unknownEndpoint(method, tmpl))
	}
	err := op.Check(pathValues, query, body)
	var ce *catalog.CheckError
	if err == nil {
		return nil
	} else if !errors.As(err, &ce) {
		return usagef(cmd, "%s %s: %v", op.Method, op.Template, err)
	}
	return usagef(cmd, "%s", problemList(op, ce.Problems))
}

// checkOpts is checkCall for the options the call command builds
// (CallCommand.options): the placeholder values, "query" and "json" (the
// body, before any field is encrypted: the check takes plain text).
func checkOpts(cmd, method, tmpl string, opts wxpay.Opts) error {
	values := map[string]string{}
	var query url.Values
	var body []byte
	for k, v := range opts {
		switch v := v.(type) {
		case string:
			values[k] = v
		case url.Values:
			query = v
		case json.RawMessage:
			body = v
		}
	}
	return checkCall(cmd, method, tmpl, values, query, body)
}

// problemList is the message of a failed check: a line naming the
// operation, then one line per problem.
func problemList(op *catalog.Operation, problems []catalog.Problem) string {
	var b strings.Builder
	n := fmt.Sprintf("%d problems", len(problems))
	if len(problems) == 1 {
		n = "1 problem"
	}
	fmt.Fprintf(&b, "%s %s does not pass the catalogue's check (%s):", op.Method, op.Template, n)
	for _, p := range problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// resolveCall finds the operation of a call and the values of its path
// parameters by the catalogue's names. A template is looked up first, its
// placeholders matched to the catalogue's by position; a template the
// catalogue does not know (or a concrete path) is filled with values and
// matched as a request path.
func resolveCall(method, tmpl string, values map[string]string) (*catalog.Operation, map[string]string, bool) {
	p := strings.TrimPrefix(stripHost(tmpl), "/")
	if op, ok := catalog.Lookup(method, p); ok {
		return op, positionalValues(op.Template, p, values), true
	}
	return catalog.Match(method, fillTemplate(p, values))
}

// positionalValues returns the values of the path parameters of template
// (the catalogue's) given in tmpl, a template of the same shape: a
// placeholder of tmpl gives the value of its name, a literal segment its
// unescaped self.
func positionalValues(template, tmpl string, values map[string]string) map[string]string {
	out := map[string]string{}
	want, got := strings.Split(template, "/"), strings.Split(tmpl, "/")
	for i, seg := range want {
		name, ok := placeholder(seg)
		if !ok || i >= len(got) {
			continue
		}
		if given, ok := placeholder(got[i]); ok {
			if v, ok := values[given]; ok {
				out[name] = v
			}
		} else if v, err := url.PathUnescape(got[i]); err == nil {
			out[name] = v
		}
	}
	return out
}

// placeholder returns the name of a segment that is one placeholder:
// "{refund_id}" (or "{+path}").
func placeholder(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}") {
		return strings.TrimPrefix(seg[1:len(seg)-1], "+"), true
	}
	return "", false
}

// fillTemplate replaces each placeholder segment of tmpl that has a value
// with the escaped value.
func fillTemplate(tmpl string, values map[string]string) string {
	segs := strings.Split(tmpl, "/")
	for i, seg := range segs {
		if name, ok := placeholder(seg); ok {
			if v, ok := values[name]; ok {
				segs[i] = url.PathEscape(v)
			}
		}
	}
	return strings.Join(segs, "/")
}

// stripHost removes the scheme and host of a full URL.
func stripHost(p string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if len(p) >= len(scheme) && strings.EqualFold(p[:len(scheme)], scheme) {
			rest := p[len(scheme):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i:]
			}
			return ""
		}
	}
	return p
}

// unknownEndpoint says that method and path are not in the catalogue, with
// the closest operations.
func unknownEndpoint(method, path string) string {
	msg := fmt.Sprintf("%s %s is not in the catalogue", strings.ToUpper(method), path)
	sug := catalog.Suggest(method, path)
	if len(sug) == 0 {
		return msg + "; wxpay endpoints WORDS finds an operation by its name or path"
	}
	return msg + "; did you mean:\n  " + strings.Join(sug, "\n  ")
}
