package wxpay

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Opts holds the options of one call, the way wechatpay-php's options array
// does:
//
//   - a key that names a placeholder of the path ("refund_id" for
//     {refund_id}) gives its value: a string, an integer or a fmt.Stringer;
//   - "json": the request body, a map, Opts or struct (encoded once,
//     without HTML escaping), or []byte, string or json.RawMessage (checked
//     to be JSON and sent byte for byte). It must be a JSON object, as every
//     APIv3 request body is: a nil pointer, map or slice, and anything that
//     encodes to null, an array or a scalar, are refused (an untyped nil is
//     the same as no json: no body);
//   - "query": query parameters, a url.Values, map[string]string,
//     map[string][]string or Opts; part of the signed URL;
//   - "headers": extra request headers (map[string]string, Opts or
//     http.Header); Authorization, Host and Content-Length cannot be set;
//   - "body": a raw body ([]byte or string) with a Content-Type given in
//     "headers";
//   - "encrypt": the string fields of the json body ([]string, or one
//     string) to replace by their RSA-OAEP encryption under the WeChat Pay
//     key Client.Encrypt chooses, with the Wechatpay-Serial header set to
//     that key's id (or, if "headers" names a Wechatpay-Serial, under that
//     key). A field is named
//     by its keys and array indexes joined by dots ("bank_account",
//     "payee.account", "list.0.acct"); other gjson syntax (modifiers, pipes,
//     queries, wildcards, escapes) and a field named twice are refused, and
//     a body in which a named field does not hold its ciphertext is never
//     sent. true encrypts every sensitive field Config.Checker finds in the
//     request (with catalog.Checker, each the catalogue marks that the json
//     body holds, in arrays too, and each sensitive query parameter given
//     in the query option); a field that is absent or null is left out,
//     one that is not a string or is empty is an error, as it is when
//     named. true without a Checker is an error; false encrypts nothing.
//   - "file": a File to upload (POST only, without json or body): the
//     body is multipart/form-data with the meta JSON and the file, and the
//     request is signed over the meta JSON, as the media upload APIs require.
//
// A path starting with v2/ is an APIv2 (XML) call, with its own options:
// "xml" (the request parameters, a map[string]string or Opts of flat
// values), "security" (true to present Config.TLSCertificate) and
// "nonceless" (true to send no nonce_str), besides "headers" and the
// placeholders; see docs/apiv2.md.
//
// Any other key is an error: a typo such as "jsno" is not silently ignored.
type Opts map[string]any

// Chain is a request path being built, segment by segment, as in
// wechatpay-php's $instance->v3->pay->transactions->native or
// $instance->chain('v3/pay/transactions/native'). A Chain is an immutable
// value: Chain returns a new one and leaves its receiver alone, so a partial
// chain can be kept and shared between goroutines.
//
// A segment error (say, ".." or a space) is kept in the Chain and returned by
// every call made with it, and by Err.
type Chain struct {
	c      *Client
	origin string // "https://host" when the chain starts with a full URL
	tmpl   string // normalised template, without a leading '/'
	query  bool   // tmpl holds a query (from a full URL): nothing may follow
	err    error
}

// Chain starts a chain. Each argument is one or more '/'-separated segments,
// or, as the first, a full URL such as the download_url WeChat Pay hands out
// (its scheme, http:// or https://, in any case).
// See NormalizeSegment for how segments are written. Several arguments are a
// Go convenience, Chain("v3", "refund") being Chain("v3").Chain("refund"):
// wechatpay-php's chain() takes one string, so its chain('v3/refund') is
// Chain("v3/refund").
func (c *Client) Chain(segments ...string) Chain {
	return Chain{c: c}.Chain(segments...)
}

// Chain returns a new chain with segments appended.
func (ch Chain) Chain(segments ...string) Chain {
	if ch.err != nil {
		return ch
	}
	for _, seg := range segments {
		ch = ch.append(seg)
		if ch.err != nil {
			return ch
		}
	}
	return ch
}

func (ch Chain) append(seg string) Chain {
	if ch.tmpl == "" && ch.origin == "" && (hasPrefixFold(seg, "https://") || hasPrefixFold(seg, "http://")) {
		return ch.withURL(seg)
	}
	if ch.query {
		ch.err = fmt.Errorf("%w: segment %q follows a URL with a query", ErrInvalidPath, seg)
		return ch
	}
	first := ch.tmpl == ""
	buf := make([]byte, 0, len(ch.tmpl)+len(seg)+8)
	buf = append(buf, ch.tmpl...)
	if strings.HasSuffix(ch.tmpl, "/") {
		buf = buf[:len(buf)-1]
	}
	start := len(buf)
	buf, err := appendPath(buf, seg, first && ch.origin == "")
	if err != nil {
		ch.err = err
		return ch
	}
	if ch.origin != "" && bytes.IndexByte(buf[start:], '{') >= 0 {
		// A URL is sent as given: nothing would fill the placeholder.
		ch.err = fmt.Errorf("%w: segment %q: a chain that starts with a full URL takes no placeholders", ErrInvalidPath, seg)
		return ch
	}
	ch.tmpl = string(buf)
	return ch
}

// hasPrefixFold reports whether s begins with prefix, ignoring case, as
// URL schemes are compared.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// withURL starts a chain from a full URL, kept byte for byte but for the
// scheme and host, which are lower-cased.
func (ch Chain) withURL(raw string) Chain {
	scheme, rest, _ := strings.Cut(raw, "://")
	i := strings.IndexAny(rest, "/?#")
	host, target := rest, "/"
	if i >= 0 {
		host, target = rest[:i], rest[i:]
	}
	fail := func(why string) Chain {
		ch.err = fmt.Errorf("%w: URL %q: %s", ErrInvalidPath, redactQuery(raw), why)
		return ch
	}
	if host == "" || strings.ContainsAny(host, "@ \\") {
		return fail("bad host")
	}
	if strings.ContainsRune(target, '#') {
		return fail("a fragment is not allowed")
	}
	if target[0] != '/' {
		return fail("no path")
	}
	path, query, hasQuery := strings.Cut(target, "?")
	if hasQuery && query == "" {
		// "...?" with nothing after: fasthttp sends no '?', so none is signed.
		target, hasQuery = path, false
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if u, err := url.PathUnescape(seg); err != nil || u == "." || u == ".." {
			return fail("dot segments and bad escapes are not allowed")
		}
	}
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c <= ' ' || c >= 0x7f || c == '{' || c == '}' || c == '<' || c == '>' || c == '"' || c == '\\' || c == '^' || c == '`' || c == '|' {
			return fail(fmt.Sprintf("character %q cannot appear in a URL", rune(c)))
		}
	}
	ch.origin = strings.ToLower(scheme) + "://" + strings.ToLower(host)
	ch.tmpl = target[1:]
	ch.query = hasQuery
	return ch
}

// String returns the normalised path template, such as
// "v3/refund/domestic/refunds/{out_refund_no}", or the full URL the chain
// started from with the value of each query parameter shown as "…": the
// query of a download_url holds a token, which must not reach a log.
func (ch Chain) String() string {
	if ch.origin != "" {
		return ch.origin + "/" + redactQuery(ch.tmpl)
	}
	return ch.tmpl
}

// Err returns the error that made the chain unusable, if any.
func (ch Chain) Err() error { return ch.err }

// Get sends a GET request; see Do.
func (ch Chain) Get(opts ...Opts) (*Response, error) { return ch.doVariadic(http.MethodGet, opts) }

// Post sends a POST request; see Do.
func (ch Chain) Post(opts ...Opts) (*Response, error) {
	return ch.doVariadic(http.MethodPost, opts)
}

// Put sends a PUT request; see Do.
func (ch Chain) Put(opts ...Opts) (*Response, error) { return ch.doVariadic(http.MethodPut, opts) }

// Patch sends a PATCH request; see Do.
func (ch Chain) Patch(opts ...Opts) (*Response, error) {
	return ch.doVariadic(http.MethodPatch, opts)
}

// Delete sends a DELETE request; see Do.
func (ch Chain) Delete(opts ...Opts) (*Response, error) {
	return ch.doVariadic(http.MethodDelete, opts)
}

func (ch Chain) doVariadic(method string, opts []Opts) (*Response, error) {
	o, err := mergeOpts(opts)
	if err != nil {
		return nil, err
	}
	return ch.Do(context.Background(), method, o)
}

// mergeOpts joins several Opts into one; a key given twice is an error.
func mergeOpts(opts []Opts) (Opts, error) {
	switch len(opts) {
	case 0:
		return nil, nil
	case 1:
		return opts[0], nil
	}
	m := Opts{}
	for _, o := range opts {
		for k, v := range o {
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%w: key %q given in two Opts", ErrInvalidOption, k)
			}
			m[k] = v
		}
	}
	return m, nil
}

// Do sends one request with method (GET, POST, PUT, PATCH or DELETE) to the
// chain's path and returns the verified response.
//
// Before anything is sent, the path placeholders are filled from opts and
// every option is checked; a problem is an error wrapping ErrInvalidPath,
// ErrMissingParam, ErrInvalidOption or ErrHostNotAllowed. The request is
// signed over the exact path, query and body bytes sent. A 2xx response must
// carry a valid WeChat Pay signature (else a *VerifyError); any other status
// is an *APIError.
//
// ctx bounds the call: its deadline (or Config.Timeout, whichever is
// earlier) is the deadline of the whole exchange. A cancellation stops the
// wait and returns ctx.Err() at once, but cannot recall bytes already
// written: a cancelled POST may still have reached WeChat Pay, so retry it
// with the same out_refund_no (or out_trade_no), never a new one.
func (ch Chain) Do(ctx context.Context, method string, opts Opts) (*Response, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if ch.err != nil {
		return nil, ch.err
	}
	if ch.c == nil {
		return nil, fmt.Errorf("%w: chain has no client; start it with Client.Chain", ErrInvalidPath)
	}
	if ch.tmpl == "" && ch.origin == "" {
		return nil, fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	// The protocol is chosen here, once (protocol.go).
	if isV2(ch) {
		return ch.c.doV2(ctx, method, ch, opts) // APIv2 (XML): v2.go
	}
	if err := checkNotV2Options(ch, opts); err != nil {
		return nil, err
	}
	return ch.c.do(ctx, method, ch, opts) // APIv3 (JSON): do.go
}
