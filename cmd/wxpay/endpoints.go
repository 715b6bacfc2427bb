package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/wxpay-chain/wxpay/catalog"
)

// EndpointsCommand is "wxpay endpoints [WORDS...]": the catalogued APIv3
// operations that match every word, one per line.
type EndpointsCommand struct {
	m    *Main
	json bool
}

// maxTemplateColumn caps the width of the template column: the few longer
// templates push their name further right rather than every line.
const maxTemplateColumn = 80

// Run lists the operations matching the words in args.
func (c *EndpointsCommand) Run(ctx context.Context, args []string) error {
	words, err := parseInterleaved(c.flagSet(), args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.m.Stdout, endpointsUsage)
		return errHelp
	}
	if err != nil {
		return usagef("endpoints", "%v", err)
	}
	ops := findOperations(words)
	var out bytes.Buffer
	if c.json {
		writeEndpointsJSON(&out, ops) // [] when none matches: still JSON
	} else {
		writeEndpoints(&out, ops)
	}
	if _, err := c.m.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if len(ops) == 0 {
		return fmt.Errorf("no APIv3 operation matches %s", quoteArg(strings.Join(words, " ")))
	}
	return nil
}

// findOperations returns the callable operations matching every word (see
// catalog.Search), best first. A word that is an HTTP method in capitals
// (GET, POST, ...) selects the method instead.
func findOperations(words []string) []*catalog.Operation {
	var method string
	var search []string
	for _, w := range words {
		if m, ok := methodName(w); ok && w == m {
			method = m
			continue
		}
		search = append(search, w)
	}
	var out []*catalog.Operation
	for _, op := range catalog.Search(search...) {
		if (method == "" || op.Method == method) && !isNotification(op) {
			out = append(out, op)
		}
	}
	return out
}

// isNotification reports whether op is the catalogue's description of the
// notifications WeChat Pay sends to a merchant's notify_url (POST
// v3/webhooks): a schema, not an endpoint to call.
func isNotification(op *catalog.Operation) bool {
	return op.Method == "POST" && op.Template == "v3/webhooks"
}

// writeEndpoints writes one aligned line per operation: method, template,
// name.
func writeEndpoints(w *bytes.Buffer, ops []*catalog.Operation) {
	width := 0
	for _, op := range ops {
		width = max(width, min(len(op.Template), maxTemplateColumn))
	}
	for _, op := range ops {
		name := op.Name
		if op.Deprecated {
			name += " (deprecated)"
		}
		fmt.Fprintf(w, "%-6s %-*s  %s\n", op.Method, width, op.Template, name)
	}
}

// endpointJSON is one operation in the --json output.
type endpointJSON struct {
	Method     string   `json:"method"`
	Template   string   `json:"template"`
	Name       string   `json:"name"`
	Roles      []string `json:"roles"`
	Tags       []string `json:"tags"`
	Deprecated bool     `json:"deprecated,omitempty"`
	BaseURL    string   `json:"base_url,omitempty"`
}

func writeEndpointsJSON(w *bytes.Buffer, ops []*catalog.Operation) {
	list := make([]endpointJSON, len(ops))
	for i, op := range ops {
		list[i] = endpointJSON{Method: op.Method, Template: op.Template, Name: op.Name,
			Roles: nonNil(op.Roles), Tags: nonNil(op.Tags), Deprecated: op.Deprecated, BaseURL: op.BaseURL}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(list) // cannot fail: strings and booleans only
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *EndpointsCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("endpoints", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

const endpointsUsage = `wxpay endpoints lists the WeChat Pay APIv3 operations the catalogue knows
(package catalog, compiled from the public OpenAPI description): one line
per operation, its method, path template and official name.

Usage:

	wxpay endpoints [WORDS...] [--json]

Every word must match, case-insensitively, part of the operation's name
(退款, 查询), its template (refund, domestic/refunds) or its product group
(基础支付); a word in chain spelling (applyAbnormalRefund) matches its path
form too. Operations whose name holds the words come first. A word that is
a method in capitals (GET, POST, PUT, PATCH, DELETE) keeps the operations
of that method. Without words, every operation is listed, by template.

Flags:

	--json   print a JSON array of {method, template, name, roles, tags}
	         (and deprecated, base_url where they apply) instead

Exit status: 0 when an operation matches, 1 when none does (like grep;
--json then prints an empty array, []), 2 for a usage error.

Then "wxpay describe METHOD TEMPLATE" tells everything about one of them.

Try: wxpay endpoints 退款
`
