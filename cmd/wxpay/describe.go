package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/wxpay-chain/wxpay/catalog"
)

// DescribeCommand is "wxpay describe METHOD PATH": everything the catalogue
// knows about one operation, and a command that calls it.
type DescribeCommand struct {
	m *Main
}

// Run describes the operation named by args.
func (c *DescribeCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseInterleaved(c.flagSet(), args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.m.Stdout, describeUsage)
		return errHelp
	}
	switch {
	case err != nil:
		return usagef("describe", "%v", err)
	case len(pos) == 1:
		return usagef("describe", "want METHOD PATH, got 1 argument")
	case len(pos) != 2:
		return usagef("describe", "want METHOD PATH, got %d arguments", len(pos))
	}
	method, ok := methodName(pos[0])
	if !ok {
		return usagef("describe", "METHOD %s: want get, post, put, patch or delete", quoteArg(pos[0]))
	}
	if strings.TrimSpace(pos[1]) == "" {
		return usagef("describe", "PATH is empty: want a path template such as v3/refund/domestic/refunds")
	}
	op, values, query, err := resolveOperation(method, pos[1])
	if err != nil {
		return err
	}
	var out bytes.Buffer
	describe(&out, op, values, query)
	_, err = c.m.Stdout.Write(out.Bytes())
	return err
}

// resolveOperation finds the operation of METHOD PATH: PATH is a template
// in any chain spelling, dotted or with '/', or a concrete path (a full URL
// and a query allowed), whose path values and query it returns too.
func resolveOperation(method, arg string) (*catalog.Operation, map[string]string, url.Values, error) {
	p := strings.Join(splitPath(arg), "/")
	p, rawQuery, _ := strings.Cut(stripHost(p), "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, nil, usagef("describe", "PATH %s: the query: %v", quoteArg(arg), err)
	}
	if op, ok := catalog.Lookup(method, p); ok {
		return op, nil, query, nil
	}
	if op, values, ok := catalog.Match(method, p); ok {
		for name, v := range values {
			if looksLikePlaceholder(v) {
				delete(values, name)
			}
		}
		return op, values, query, nil
	}
	return nil, nil, nil, usagef("describe", "%s", unknownEndpoint(method, p))
}

// looksLikePlaceholder reports whether a path value matched by
// catalog.Match is a placeholder in some chain spelling rather than a value.
func looksLikePlaceholder(v string) bool {
	if len(v) < 3 {
		return false
	}
	first, last := v[0], v[len(v)-1]
	return first == '{' && last == '}' || first == '_' && last == '_' || first == '$' && last == '$' || first == '<' && last == '>'
}

// describe writes the description of op; values and query, from a concrete
// path, replace the example values in the command.
func describe(w *bytes.Buffer, op *catalog.Operation, values map[string]string, query url.Values) {
	writeHeading(w, op)
	writeParams(w, op, "path", "Path parameters")
	writeParams(w, op, "query", "Query parameters")
	writeParams(w, op, "header", "Headers")
	if op.Multipart {
		writeParams(w, op, "formData", "Form parts (multipart/form-data)")
		writeSchema(w, "The meta part (JSON, the signed part)", op.Body)
	} else if op.Body != nil {
		title := "Body (JSON)"
		if op.BodyRequired {
			title = "Body (JSON, required)"
		}
		writeSchema(w, title, op.Body)
	}
	writeSensitive(w, op)
	writeAnswer(w, op)
	writeTry(w, op, values, query)
}

func writeHeading(w *bytes.Buffer, op *catalog.Operation) {
	fmt.Fprintf(w, "%s %s\n%s\n", op.Method, op.Template, op.Name)
	if len(op.Roles) > 0 {
		fmt.Fprintf(w, "Roles: %s\n", strings.Join(op.Roles, ", "))
	}
	if len(op.Tags) > 0 {
		fmt.Fprintf(w, "Group: %s\n", strings.Join(op.Tags, ", "))
	}
	if op.BaseURL != "" {
		fmt.Fprintf(w, "Host:  %s (not the default api.mch.weixin.qq.com)\n", op.BaseURL)
	}
	if op.Deprecated {
		fmt.Fprintln(w, "Deprecated: WeChat Pay marks this operation as deprecated.")
	}
	if isNotification(op) {
		fmt.Fprintln(w, "Not an endpoint to call: this is the notification WeChat Pay POSTs to your notify_url.")
	}
}

// row is one line of a table of fields.
type row struct {
	name, typ, required, details string
}

// maxNameColumn caps the width of a table's name column: a longer name
// has a line of its own.
const maxNameColumn = 44

// writeTable writes a titled table, its columns aligned.
func writeTable(w *bytes.Buffer, title string, rows []row) {
	fmt.Fprintf(w, "\n%s:\n", title)
	nameW, typW, reqW := 0, 0, 0
	for _, r := range rows {
		nameW = max(nameW, min(len(r.name), maxNameColumn))
		typW = max(typW, len(r.typ))
		reqW = max(reqW, len(r.required))
	}
	for _, r := range rows {
		name := r.name
		if len(name) > nameW { // on a line of its own, the columns below it
			fmt.Fprintf(w, "  %s\n", name)
			name = ""
		}
		line := fmt.Sprintf("  %-*s  %-*s  %-*s  %s", nameW, name, typW, r.typ, reqW, r.required, r.details)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func writeParams(w *bytes.Buffer, op *catalog.Operation, in, title string) {
	var rows []row
	encrypts := len(op.Sensitive()) > 0 || len(sensitiveQuery(op)) > 0
	for _, p := range op.Params {
		if p.In != in {
			continue
		}
		r := fieldRow(p.Name, p.Required, p.Schema)
		if in == "header" && p.Name == "Wechatpay-Serial" && encrypts {
			r.details = joinDetails(r.details, "--encrypt sets it")
		}
		rows = append(rows, r)
	}
	if len(rows) > 0 {
		writeTable(w, title, rows)
	}
}

// writeSchema writes the fields of an object schema, nested ones as gjson
// paths ("amount.from.#.account").
func writeSchema(w *bytes.Buffer, title string, s *catalog.Schema) {
	rows := schemaRows(nil, "", s, 0)
	if len(rows) == 0 {
		fmt.Fprintf(w, "\n%s: %s, its fields not described\n", title, typeName(s))
		return
	}
	writeTable(w, title, rows)
}

// maxDepth bounds the nesting followed, against a schema that holds itself.
const maxDepth = 16

// schemaRows appends a row for each property of the object schema s and its
// nested fields, their names prefixed.
func schemaRows(rows []row, prefix string, s *catalog.Schema, depth int) []row {
	if s == nil || depth > maxDepth {
		return rows
	}
	for _, p := range s.Properties {
		name := prefix + p.Name
		rows = append(rows, fieldRow(name, p.Required, p.Schema))
		rows = nestedRows(rows, name, p.Schema, depth+1)
	}
	return rows
}

// nestedRows appends the rows of the fields inside the value named name:
// an object's properties, an array's items ("name.#"), the fields of the
// JSON text a string holds ("name(json).field").
func nestedRows(rows []row, name string, s *catalog.Schema, depth int) []row {
	switch {
	case s == nil || depth > maxDepth:
		return rows
	case s.Type == "object":
		return schemaRows(rows, name+".", s, depth)
	case s.Type == "array" && s.Items != nil:
		if s.Items.Type == "object" {
			return schemaRows(rows, name+".#.", s.Items, depth)
		}
		if s.Items.Type == "array" {
			rows = append(rows, fieldRow(name+".#", false, s.Items))
			return nestedRows(rows, name+".#", s.Items, depth+1)
		}
	case s.JSON != nil:
		return nestedRows(rows, name+"(json)", s.JSON, depth)
	}
	return rows
}

func fieldRow(name string, required bool, s *catalog.Schema) row {
	r := row{name: name, typ: typeName(s), details: details(s)}
	if required {
		r.required = "required"
	}
	return r
}

// typeName is the JSON type of s: "string", "array of object", ...
// A "number" is written "integer" unless its format is float or double:
// the check takes integers only there (amounts are in fen).
func typeName(s *catalog.Schema) string {
	switch {
	case s == nil || s.Type == "":
		return "any"
	case s.Type == "array" && s.Items != nil:
		return "array of " + typeName(s.Items)
	case s.Type == "number" && s.Format != "float" && s.Format != "double":
		return "integer"
	}
	return s.Type
}

// details lists the constraints of s.
func details(s *catalog.Schema) string {
	if s == nil {
		return ""
	}
	var d []string
	if s.Sensitive() {
		d = append(d, "sensitive")
	} else if s.Format != "" {
		d = append(d, "format "+s.Format)
	}
	if s.JSON != nil {
		d = append(d, "JSON text")
	}
	if len(s.Enum) > 0 {
		d = append(d, "one of "+strings.Join(s.Enum, ", "))
	}
	d = appendBounds(d, "length", s.MinLength, s.MaxLength)
	d = appendBounds(d, "items", s.MinItems, s.MaxItems)
	if s.Minimum != nil || s.Maximum != nil {
		d = append(d, "range "+bound(s.Minimum)+".."+bound(s.Maximum))
	}
	if s.Pattern != "" {
		d = append(d, "pattern "+s.Pattern)
	}
	return strings.Join(d, "; ")
}

// appendBounds appends "length 1-32", "length ≤ 32" or "length ≥ 1".
func appendBounds(d []string, what string, lo, hi int) []string {
	switch {
	case lo > 0 && hi > 0:
		return append(d, fmt.Sprintf("%s %d-%d", what, lo, hi))
	case hi > 0:
		return append(d, fmt.Sprintf("%s ≤ %d", what, hi))
	case lo > 0:
		return append(d, fmt.Sprintf("%s ≥ %d", what, lo))
	}
	return d
}

func bound(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func joinDetails(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// sensitiveQuery returns the names of the sensitive query parameters of op.
func sensitiveQuery(op *catalog.Operation) []string {
	var names []string
	for _, p := range op.Params {
		if p.In == "query" && p.Schema != nil && p.Schema.Sensitive() {
			names = append(names, p.Name)
		}
	}
	return names
}

func writeSensitive(w *bytes.Buffer, op *catalog.Operation) {
	paths := op.Sensitive()
	query := sensitiveQuery(op)
	if len(paths) > 0 {
		fmt.Fprintln(w, "\nSensitive fields (write them in plain text: --encrypt encrypts them with the WeChat Pay public key):")
		for _, p := range paths {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(query) > 0 {
		fmt.Fprintln(w, "\nSensitive query parameters (write them in plain text: --encrypt all encrypts them with the WeChat Pay public key):")
		for _, q := range query {
			fmt.Fprintf(w, "  %s\n", q)
		}
	}
}

func writeAnswer(w *bytes.Buffer, op *catalog.Operation) {
	switch {
	case len(op.Produces) > 0:
		fmt.Fprintf(w, "\nAnswer (HTTP %d): a file, %s\n", op.Status, strings.Join(op.Produces, " or "))
	case op.Response == nil:
		fmt.Fprintf(w, "\nAnswer: HTTP %d, no body\n", op.Status)
	default:
		writeSchema(w, fmt.Sprintf("Answer (HTTP %d, JSON)", op.Status), op.Response)
	}
	if paths := op.ResponseSensitive(); len(paths) > 0 {
		fmt.Fprintln(w, "\nSensitive answer fields (WeChat Pay encrypts them with the merchant's public key; decrypt with the merchant private key):")
		for _, p := range paths {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

func writeTry(w *bytes.Buffer, op *catalog.Operation, values map[string]string, query url.Values) {
	switch {
	case isNotification(op):
		fmt.Fprintln(w, "\nNo command: verify and decrypt a notification with the library (docs/files-and-certificates.md#callbacks).")
	case op.Multipart:
		fmt.Fprintln(w, "\nNo command: wxpay METHOD PATH does not send uploads; the library's \"file\" option does (docs/files-and-certificates.md#uploads).")
	default:
		call := newExampleCall(op, values, query)
		title := "Try it (example values"
		if len(call.encrypt) > 0 || call.encryptAll {
			title += "; the sensitive fields hold plain stand-ins that --encrypt encrypts"
		}
		fmt.Fprintf(w, "\n%s):\n  %s\n", title, call.command())
	}
}

func (c *DescribeCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("describe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

const describeUsage = `wxpay describe tells what the catalogue knows about one WeChat Pay APIv3
operation: its name, roles, path, query and header parameters, the fields
of its JSON body (nested ones as gjson paths: amount.from.#.account) with
their types, required marks, enums, formats and lengths, its sensitive
fields, the fields of its answer, and a wxpay command that calls it with
example values. The fields of a string that holds JSON are written
name(json).field.

Usage:

	wxpay describe METHOD PATH

METHOD is get, post, put, patch or delete, in any case. PATH is a template
in any chain spelling (v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund,
V3/Refund/Domestic/Refunds/_refund_id_/ApplyAbnormalRefund, the dotted
v3.refund.domestic.refunds._refund_id_.applyAbnormalRefund; placeholder
names need not be the catalogue's), or a concrete path, whose values (and
query) the command then uses. An unknown PATH exits 2 with the closest
operations.

The command fills the path, the required query parameters, the headers
the operation requires and the body with the description's examples, and
every optional field that takes one of a fixed set of values with the
first. Sensitive fields hold plain stand-ins (张三, 13800138000,
6214830000001234) that --encrypt encrypts: the description's own examples
of them are ciphertexts. A sensitive query parameter is encrypted by
--encrypt all, which the command then uses. Replace the values with yours.

Try: wxpay describe post 'v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund'
`
