package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
)

// checkCall checks one call against the catalogue before anything is sent:
// method, the path template as the call command normalised it
// ("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund", any
// placeholder names, or a concrete path), the values of its placeholders,
// the query, the JSON body (nil for none) and the encrypt option the call
// has (nil, true for --encrypt all, or the paths of --encrypt a,b). A
// sensitive field or query parameter must be a ciphertext unless the
// encrypt option encrypts it (catalog's Operation.CheckEncrypted). It
// returns nil when the call passes, else a usage error of cmd (exit status
// 2) whose message names the operation and lists every problem on its own
// line, field path first, then how to encrypt the plain ones:
//
//	POST v3/refund/domestic/refunds does not pass the catalogue's check (2 problems):
//	  amount.total: is a fraction, want an integer (amounts are in fen)
//	  out_refund_no: required field is missing
//
// An endpoint the catalogue does not know is reported with the closest
// ones.
func checkCall(cmd, method, tmpl string, values map[string]string, query url.Values, body []byte, encrypt any) error {
	op, pathValues, ok := resolveCall(method, tmpl, values)
	if !ok {
		return usagef(cmd, "%s", unknownEndpoint(method, tmpl))
	}
	err := op.CheckEncrypted(pathValues, query, body)
	var ce *catalog.CheckError
	if err == nil {
		return nil
	} else if !errors.As(err, &ce) {
		return usagef(cmd, "%s %s: %v", op.Method, op.Template, err)
	}
	problems := slices.DeleteFunc(slices.Clone(ce.Problems), func(p catalog.Problem) bool {
		return p.Kind == catalog.KindPlain && encrypts(encrypt, p.Field)
	})
	if len(problems) == 0 {
		return nil
	}
	return usagef(cmd, "%s", problemList(op, problems, encrypt))
}

// encrypts reports whether the encrypt option enc encrypts field, as a
// catalog.Problem names it: true encrypts every sensitive field and query
// parameter, a list of paths the body fields it names.
func encrypts(enc any, field string) bool {
	switch enc := enc.(type) {
	case bool:
		return enc
	case []string:
		return slices.Contains(enc, field)
	}
	return false
}

// checkCommand is the catalogue's check of a call the call command is
// about to make (unless --no-check): checkOpts, with the query of a PATH
// given as a full URL. An APIv2 path (v2/...) is not in the catalogue and
// is not checked.
func checkCommand(cmd, method, pathArg, tmpl string, opts wxpay.Opts) error {
	if isV2Path(tmpl) {
		return nil
	}
	if q := urlQuery(pathArg); len(q) > 0 {
		opts = maps.Clone(opts)
		merged := url.Values{}
		if given, ok := opts["query"].(url.Values); ok {
			maps.Copy(merged, given)
		}
		for k, vs := range q {
			merged[k] = append(merged[k], vs...)
		}
		opts["query"] = merged
	}
	return checkOpts(cmd, method, tmpl, opts)
}

// isV2Path reports whether a normalised path is an APIv2 one, which the
// library sends as XML: v2, or v2/... in any case.
func isV2Path(tmpl string) bool {
	return len(tmpl) >= 2 && (tmpl[0] == 'v' || tmpl[0] == 'V') && tmpl[1] == '2' && (len(tmpl) == 2 || tmpl[2] == '/')
}

// urlQuery returns the query of a PATH argument that is a full URL (a
// download_url, say), nil for any other.
func urlQuery(arg string) url.Values {
	if stripHost(arg) == arg {
		return nil
	}
	u, err := url.Parse(arg)
	if err != nil {
		return nil
	}
	q, _ := url.ParseQuery(u.RawQuery)
	return q
}

// sensitiveFields is the catalogue's wxpay.Checker for --encrypt all with
// its check left out: the call command checks the call itself, with plain
// text and a list of problems (checkCommand), before the credentials are
// loaded, or not at all with --no-check.
type sensitiveFields struct{ wxpay.Checker }

// CheckRequest accepts every request.
func (sensitiveFields) CheckRequest(method, template, target string, body []byte) error { return nil }

// checkOpts is checkCall for the options the call command builds
// (CallCommand.options): the placeholder values, "query", "json" (the
// body, before any field is encrypted) and "encrypt" (the fields it will
// encrypt may be plain text).
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
	return checkCall(cmd, method, tmpl, values, query, body, opts["encrypt"])
}

// problemList is the message of a failed check: a line naming the
// operation, then one line per problem, then, if some are sensitive fields
// in plain text, the --encrypt that encrypts them, given the encrypt
// option the call has.
func problemList(op *catalog.Operation, problems []catalog.Problem, encrypt any) string {
	var b strings.Builder
	n := fmt.Sprintf("%d problems", len(problems))
	if len(problems) == 1 {
		n = "1 problem"
	}
	fmt.Fprintf(&b, "%s %s does not pass the catalogue's check (%s):", op.Method, op.Template, n)
	for _, p := range problems {
		b.WriteString("\n  " + p.String())
	}
	if fix := encryptFix(problems, encrypt); fix != "" {
		b.WriteString("\n" + fix)
	}
	return b.String()
}

// encryptFix says which --encrypt encrypts the sensitive fields in plain
// text among problems, "" when there are none: the body fields with those
// the call's --encrypt already names, or all, which alone encrypts query
// parameters too.
func encryptFix(problems []catalog.Problem, encrypt any) string {
	given, _ := encrypt.([]string)
	fields := slices.Clone(given)
	query := false
	for _, p := range problems {
		switch {
		case p.Kind != catalog.KindPlain:
		case strings.HasPrefix(p.Field, "query:"):
			query = true
		default:
			fields = append(fields, p.Field)
		}
	}
	switch {
	case query:
		return "fix: --encrypt all encrypts the sensitive fields and query parameters"
	case len(fields) > len(given):
		return "fix: --encrypt " + strings.Join(fields, ",") + " (or --encrypt all)"
	}
	return ""
}

// resolveCall finds the operation of a call and the values of its path
// parameters by the catalogue's names. A template is looked up first, its
// placeholders matched to the catalogue's by position; a template the
// catalogue does not know (or a concrete path) is filled with values and
// matched as a request path.
func resolveCall(method, tmpl string, values map[string]string) (*catalog.Operation, map[string]string, bool) {
	p, _, _ := strings.Cut(stripHost(tmpl), "?")
	p = strings.TrimPrefix(p, "/")
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
