package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
)

// maxBody bounds a request body read from a file or stdin.
const maxBody = 16 << 20

// CallCommand is "wxpay METHOD PATH [name=value ...]": one signed call whose
// verified answer is printed.
type CallCommand struct {
	m *Main

	config  string
	baseURL string
	data    optionalString
	headers stringList
	encrypt stringList // each --encrypt's comma-separated list
	pick    string
	raw     bool
	include bool
	timeout time.Duration
	retry   int
	noCheck bool
}

// optionalString is a string flag that remembers whether it was given, so
// that an empty -d is an error rather than no body.
type optionalString struct {
	value string
	set   bool
}

func (s *optionalString) String() string { return s.value }
func (s *optionalString) Set(v string) error {
	if s.set {
		return errors.New("given twice")
	}
	s.value, s.set = v, true
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (c *CallCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("wxpay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.config, "config", "", "")
	fs.StringVar(&c.baseURL, "base-url", "", "")
	fs.Var(&c.data, "d", "")
	fs.Var(&c.data, "data", "")
	fs.Var(&c.headers, "H", "")
	fs.Var(&c.headers, "header", "")
	fs.Var(&c.encrypt, "encrypt", "")
	fs.StringVar(&c.pick, "q", "", "")
	fs.BoolVar(&c.raw, "raw", false, "")
	fs.BoolVar(&c.include, "i", false, "")
	fs.BoolVar(&c.include, "include", false, "")
	fs.DurationVar(&c.timeout, "timeout", 0, "")
	fs.IntVar(&c.retry, "retry", 1, "")
	fs.BoolVar(&c.noCheck, "no-check", false, "")
	return fs
}

// Run parses args (METHOD PATH [name=value ...] with flags anywhere), makes
// the call and prints the answer.
func (c *CallCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseInterleaved(c.flagSet(), args)
	cmd := ""
	if len(pos) > 0 {
		if m, ok := methodName(pos[0]); ok {
			cmd = strings.ToLower(m)
		}
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.m.Stdout, callUsage)
		return errHelp
	}
	hint := cmd
	if hint == "" {
		hint = guessCommand(args) // after a flag no command takes
	}
	if hint == "" {
		hint = "post"
	}
	if err != nil {
		return usagef(hint, "%v", err)
	}
	switch {
	case len(pos) == 0:
		return usagef(hint, "no METHOD and PATH given")
	case cmd == "":
		return unknownCommand(pos[0])
	case len(pos) == 1:
		return usagef(cmd, "no PATH given after %s", pos[0])
	}
	method := strings.ToUpper(cmd)
	if c.raw && c.pick != "" {
		return usagef(cmd, "give --raw or -q, not both")
	}
	if c.retry < 1 {
		return usagef(cmd, "--retry %d: give the number of attempts, 1 or more", c.retry)
	}
	if c.timeout < 0 {
		return usagef(cmd, "--timeout %v is negative", c.timeout)
	}

	// Everything the command line says is checked before credentials are
	// loaded, so that a typo is reported as one.
	segments := splitPath(pos[1])
	probe := wxpay.Chain{}.Chain(segments...)
	if err := probe.Err(); err != nil {
		return usagef(cmd, "PATH %q: %s", pos[1], strings.TrimPrefix(err.Error(), "wxpay: "))
	}
	opts, err := c.options(cmd, probe.String(), pos[2:])
	if err != nil {
		return err
	}
	if !c.noCheck {
		if err := checkCommand(cmd, method, pos[1], probe.String(), opts); err != nil { // check.go
			return err
		}
	}

	cfg, err := c.m.loadConfig(cmd, c.config)
	if err != nil {
		return err
	}
	if c.baseURL != "" {
		cfg.BaseURL = c.baseURL
	}
	if c.retry > 1 {
		cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: c.retry}
	}
	if opts["encrypt"] == true {
		cfg.Checker = sensitiveFields{catalog.Checker()} // check.go
	}
	client, err := wxpay.New(cfg)
	if err != nil {
		return clientError(cmd, err)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	ch := client.Chain(segments...)
	resp, err := ch.Do(ctx, method, opts)
	if err != nil {
		for _, e := range []error{wxpay.ErrInvalidPath, wxpay.ErrMissingParam, wxpay.ErrInvalidOption, wxpay.ErrHostNotAllowed, wxpay.ErrInvalidConfig} {
			if errors.Is(err, e) {
				return usagef(cmd, "%s", strings.TrimPrefix(err.Error(), "wxpay: "))
			}
		}
		return &callError{method: method, path: ch.String(), err: err}
	}
	return c.print(resp)
}

// options turns name=value arguments, -d, -H and --encrypt into the call's
// options. tmpl is the normalised path, whose placeholders the names fill.
func (c *CallCommand) options(cmd, tmpl string, params []string) (wxpay.Opts, error) {
	opts := wxpay.Opts{}
	names := placeholderNames(tmpl)
	query := url.Values{}
	for _, p := range params {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usagef(cmd, "argument %q: want name=value", p)
		}
		if !names[name] {
			query.Add(name, value)
			continue
		}
		if _, dup := opts[name]; dup {
			return nil, usagef(cmd, "placeholder %s given twice", name)
		}
		opts[name] = value // always a string, never a number
	}
	if len(query) > 0 {
		opts["query"] = query
	}
	if c.data.set {
		body, err := c.readBody(cmd, c.data.value)
		if err != nil {
			return nil, err
		}
		opts["json"] = json.RawMessage(body)
	}
	if len(c.headers) > 0 {
		h := http.Header{}
		for _, line := range c.headers {
			name, value, ok := strings.Cut(line, ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, usagef(cmd, "header %q: want 'Name: value'", line)
			}
			h.Add(name, strings.TrimSpace(value))
		}
		opts["headers"] = h
	}
	if len(c.encrypt) > 0 {
		enc, err := encryptOption(cmd, strings.Join(c.encrypt, ","), c.data.set)
		if err != nil {
			return nil, err
		}
		opts["encrypt"] = enc
	}
	return opts, nil
}

// encryptOption returns the encrypt option --encrypt arg gives (the lists
// of every --encrypt, joined by commas): true for "all", every sensitive
// field of the body and query the catalogue marks; else the comma-separated
// paths of body fields.
func encryptOption(cmd, arg string, hasBody bool) (any, error) {
	var paths []string
	for _, p := range strings.Split(arg, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	switch {
	case slices.Contains(paths, "all") && len(paths) > 1:
		return nil, usagef(cmd, "--encrypt all encrypts every sensitive field the catalogue marks: give it alone, or name the fields")
	case slices.Contains(paths, "all"):
		return true, nil
	case len(paths) == 0:
		return nil, usagef(cmd, "--encrypt names no field: give the fields to encrypt, such as --encrypt bank_account,real_name, or all")
	case !hasBody:
		return nil, usagef(cmd, "--encrypt needs a JSON body (-d)")
	}
	return paths, nil
}

// readBody reads the -d argument: JSON text, @file, or - (or @-) for stdin.
// The bytes are sent as they are, once checked to be JSON.
func (c *CallCommand) readBody(cmd, arg string) ([]byte, error) {
	var body []byte
	var from string
	switch {
	case arg == "-" || arg == "@-":
		b, err := io.ReadAll(io.LimitReader(c.m.Stdin, maxBody+1))
		if err != nil {
			return nil, usagef(cmd, "-d %s: %v", arg, err)
		}
		body, from = b, "stdin"
	case strings.HasPrefix(arg, "@"):
		f, err := os.Open(arg[1:])
		if err != nil {
			return nil, usagef(cmd, "-d %s: %v", arg, pathless(err))
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxBody+1))
		if err != nil {
			return nil, usagef(cmd, "-d %s: %v", arg, pathless(err))
		}
		body, from = b, arg[1:]
	default:
		body, from = []byte(arg), "the -d argument"
	}
	if len(body) > maxBody {
		return nil, usagef(cmd, "the body from %s is larger than %d bytes", from, maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, usagef(cmd, "the body from %s is empty", from)
	}
	if bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		// Sent byte for byte, it would not be JSON to WeChat Pay either.
		return nil, usagef(cmd, "the body from %s starts with a UTF-8 byte order mark: save it without one", from)
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, usagef(cmd, "the body from %s is not valid JSON: %s", from, jsonProblem(err))
	}
	if path, ok := duplicateName(body); ok {
		return nil, usagef(cmd, "the body from %s has %q twice: which value counts would be up to the reader; give it once", from, path)
	}
	return body, nil
}

// duplicateName returns the first name that appears twice in one object of
// body, valid JSON, as a path of names and array indexes joined by dots.
func duplicateName(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string) (string, bool)
	walk = func(path string) (string, bool) {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		join := func(name string) string {
			if path == "" {
				return name
			}
			return path + "." + name
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				t, err := dec.Token()
				if err != nil {
					return "", false
				}
				name, _ := t.(string)
				if seen[name] {
					return join(name), true
				}
				seen[name] = true
				if p, ok := walk(join(name)); ok {
					return p, true
				}
			}
			dec.Token() // '}'
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if p, ok := walk(join(strconv.Itoa(i))); ok {
					return p, true
				}
			}
			dec.Token() // ']'
		}
		return "", false
	}
	return walk("")
}

// pathless returns the error of a failed file operation without the
// operation and path its *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// print writes the verified response to stdout as the flags ask.
func (c *CallCommand) print(resp *wxpay.Response) error {
	var out bytes.Buffer
	if c.include {
		fmt.Fprintf(&out, "HTTP %d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
		for _, k := range sortedKeys(resp.Header) {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		out.WriteByte('\n')
	}
	switch {
	case c.pick != "":
		r := resp.Get(c.pick)
		if !r.Exists() {
			c.m.Stdout.Write(out.Bytes())
			return fmt.Errorf("the response has no value at %q", c.pick)
		}
		if r.Raw != "" && (r.IsObject() || r.IsArray()) {
			writePretty(&out, []byte(r.Raw))
		} else if r.Type == gjson.String {
			out.WriteString(r.Str + "\n")
		} else {
			out.WriteString(r.Raw + "\n")
		}
	case c.raw:
		out.Write(resp.Body)
	default:
		writePretty(&out, resp.Body)
	}
	_, err := c.m.Stdout.Write(out.Bytes())
	return err
}

// writePretty writes a JSON body indented by two spaces, strings kept as
// they were received; anything else is written as it is.
func writePretty(w *bytes.Buffer, body []byte) {
	if len(body) == 0 {
		return
	}
	n := w.Len()
	if err := json.Indent(w, body, "", "  "); err != nil {
		w.Truncate(n)
		w.Write(body)
		if body[len(body)-1] != '\n' {
			w.WriteByte('\n')
		}
		return
	}
	w.WriteByte('\n')
}

func sortedKeys(h http.Header) []string { return slices.Sorted(maps.Keys(h)) }

// methodName returns the HTTP method for a METHOD argument, in any case.
func methodName(s string) (string, bool) {
	switch m := strings.ToUpper(s); m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m, true
	}
	return "", false
}

// splitPath returns the chain segments of a PATH argument. A full URL and a
// path with '/' are one argument for Chain; a path without '/' that holds a
// '.' is the dotted form of the Node CLI (v3.ecommerce.refunds._refund_id_.applyAbnormalRefund).
func splitPath(p string) []string {
	if !strings.Contains(p, "/") && strings.Contains(p, ".") {
		return strings.Split(p, ".")
	}
	return []string{p}
}

// placeholderNames returns the names of the placeholders of a normalised
// template ("{refund_id}", "{+path}").
func placeholderNames(tmpl string) map[string]bool {
	names := map[string]bool{}
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return names
		}
		names[strings.TrimPrefix(tmpl[i+1:i+j], "+")] = true
		tmpl = tmpl[i+j+1:]
	}
}

// parseInterleaved parses flags that may come before, between and after
// the positional arguments, which it returns in order. Everything after
// "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return pos, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// callError is a call that reached WeChat Pay (or tried to) and failed.
type callError struct {
	method, path string
	err          error
}

func (e *callError) Error() string { return e.method + " " + e.path + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// reportCallError writes an API error or a verification failure in full and
// reports whether err was one.
func reportCallError(w io.Writer, err error) bool {
	prefix := ""
	var ce *callError
	if errors.As(err, &ce) {
		prefix = ce.method + " " + ce.path + ": "
	}
	var ae *wxpay.APIError
	if errors.As(err, &ae) {
		fmt.Fprintf(w, "wxpay: %sHTTP %d", prefix, ae.StatusCode)
		if ae.Code != "" {
			fmt.Fprintf(w, " %s", ae.Code)
		}
		if ae.Message != "" {
			fmt.Fprintf(w, ": %s", ae.Message)
		}
		fmt.Fprintln(w)
		if len(ae.Detail) > 0 {
			fmt.Fprintf(w, "  detail:     %s\n", ae.Detail)
		}
		if ae.RequestID != "" {
			fmt.Fprintf(w, "  request id: %s\n", ae.RequestID)
		}
		if ae.Retryable() {
			fmt.Fprintln(w, "  retry:      the same request may be sent again unchanged (keep the same out_refund_no), after a pause")
		}
		if !ae.Verified {
			if uerr := ae.Unwrap(); uerr != nil {
				fmt.Fprintf(w, "  warning:    the error answer's signature did not verify (%v): it may not come from WeChat Pay\n", uerr)
			} else {
				fmt.Fprintln(w, "  warning:    the error answer was not signed: it may not come from WeChat Pay")
			}
		}
		return true
	}
	var ve *wxpay.VerifyError
	if errors.As(err, &ve) {
		fmt.Fprintf(w, "wxpay: %s %s: the answer (HTTP %d) is not trusted: %s\n", ve.Method, ve.Path, ve.StatusCode, verifyCheck(ve.Err))
		fmt.Fprintf(w, "  cause:      %v\n", ve.Err)
		if ve.RequestID != "" {
			fmt.Fprintf(w, "  request id: %s\n", ve.RequestID)
		}
		fmt.Fprintln(w, "  The request may have taken effect; query its result before sending it again.")
		return true
	}
	if ce != nil {
		// The library's message names the method and path, but for a
		// deadline over before the request went out.
		msg := strings.TrimPrefix(ce.err.Error(), "wxpay: ")
		if !strings.HasPrefix(msg, ce.method+" ") {
			msg = prefix + msg
		}
		fmt.Fprintf(w, "wxpay: %s\n", msg)
		var ne *wxpay.NetworkError
		noAnswer := errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) // --timeout
		if noAnswer && ce.method != http.MethodGet {
			fmt.Fprintln(w, "  No answer came back: the request may or may not have reached WeChat Pay. Send it again unchanged (same out_refund_no), or query first.")
		}
		return true
	}
	return false
}

// verifyCheck names the response check that failed.
func verifyCheck(err error) string {
	switch {
	case errors.Is(err, wxpay.ErrMissingHeader):
		return "header check failed: a Wechatpay-Timestamp, -Nonce, -Signature or -Serial header is missing"
	case errors.Is(err, wxpay.ErrMalformedHeader):
		return "header check failed: a Wechatpay-* header is malformed"
	case errors.Is(err, wxpay.ErrClockSkew):
		return "timestamp check failed: Wechatpay-Timestamp is too far from this machine's clock"
	case errors.Is(err, wxpay.ErrUnknownSerial):
		return "serial check failed: Wechatpay-Serial names a key that is not among your certs"
	case errors.Is(err, wxpay.ErrSignatureProbe):
		return "signature check failed: Wechatpay-Signature is a WECHATPAY/SIGNTEST probe"
	case errors.Is(err, wxpay.ErrBadSignature):
		return "signature check failed: Wechatpay-Signature does not verify with the key Wechatpay-Serial names"
	}
	return "verification failed"
}

const callUsage = `Usage: wxpay METHOD PATH [name=value ...] [flags]

Signs a request to the WeChat Pay APIv3, sends it, verifies the signature
of the answer and prints the answer's JSON, indented.

METHOD is get, post, put, patch or delete, in any case.

PATH is written in any form the library takes:

	v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund   a template
	v3/ecommerce/refunds/_refund_id_/applyAbnormalRefund           chain segments
	v3.ecommerce.refunds._refund_id_.applyAbnormalRefund           the dotted form
	https://api.mch.weixin.qq.com/v3/...                           a full URL

wxpay endpoints WORDS finds an endpoint; wxpay describe METHOD PATH shows
its parameters and body fields, and a command like this one that calls it.

A name=value argument fills the placeholder {name} of PATH; any other name
becomes a query parameter. Values are always strings: 1900000109 is sent
as "1900000109".

Before anything is sent, the call is checked against the catalogue of
every APIv3 operation (wxpay describe shows what it knows): an unknown
endpoint, a missing required parameter or field, a wrong JSON type, a value
outside an enum, a string too long, a sensitive field or query parameter
in plain text that --encrypt leaves out (one already encrypted by hand, the
base64 of an RSA ciphertext, passes)... Every problem is printed, one a line,
and the command exits 2. --no-check skips it; APIv2 paths (v2/...) are not
checked.

Flags (before, between or after the arguments):

	-d, --data BODY     the JSON body: JSON text, @FILE, or - for stdin;
	                    sent byte for byte once checked to be JSON
	-H, --header 'Name: value'
	                    a request header; repeatable
	--encrypt a,b       encrypt these fields of the body (gjson paths) with
	                    the WeChat Pay public key and set Wechatpay-Serial;
	                    repeatable
	--encrypt all       encrypt every sensitive field the catalogue marks
	                    that the body holds, and the sensitive query
	                    parameters given
	--no-check          send without checking the call against the catalogue
	-q PATH             print only the value at this gjson path
	--raw               print the body exactly as received
	-i, --include       print the status line and headers first
	--config FILE       credentials from FILE (JSON or KEY=VALUE lines)
	                    instead of the environment
	--base-url URL      send to URL instead of the configured base URL
	--timeout DURATION  give up after DURATION (such as 10s), retries included
	--retry N           make up to N attempts when WeChat Pay says the same
	                    request may be sent again (500 SYSTEM_ERROR, 429, 503)
	                    or no answer came; each attempt is re-signed over the
	                    same body (default 1: no retry)

Credentials: --config FILE, else the environment variables
	WXPAY_MCHID        merchant id (商户号)
	WXPAY_SERIAL       merchant API certificate serial
	WXPAY_PRIVATE_KEY  path of the merchant API private key (apiclient_key.pem),
	                   or the key itself: PEM text or the bare base64 body
	WXPAY_CERTS        WeChat Pay public keys or platform certificates, id=path,...
	                   (a path may be the key itself too)
	WXPAY_APIV3_KEY    APIv3 key (optional)
	WXPAY_BASE_URL     base URL (optional; default https://api.mch.weixin.qq.com/)
A JSON config file holds {"mchid", "serial", "private_key", "certs":
{id: path}, "apiv3_key", "base_url"} and nothing else; relative paths are
relative to it.

Exit status: 0 on success; 1 for an API error (status, code and message on
stderr), an answer whose signature does not verify, or a network failure;
2 for a usage error, a call the catalogue's check refuses, or a
configuration problem (a missing or unreadable config or key, an unknown
config key, an APIv3 key that is not 32 bytes): found before anything is
sent.

Examples:

	wxpay get 'v3/refund/domestic/refunds/{out_refund_no}' \
		out_refund_no=1217752501201407033233368018 sub_mchid=1900000109 -q status

	wxpay post v3/refund/domestic/refunds -d @refund.json

	wxpay post 'v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund' \
		refund_id=50000000382019052709732678859 -d @abnormal.json \
		--encrypt bank_account,real_name

	wxpay post v3.ecommerce.refunds._refund_id_.applyAbnormalRefund \
		refund_id=50000000382019052709732678859 \
		--encrypt bank_account,real_name -d - < abnormal.json

Try: wxpay emulator, then the command it prints
`
