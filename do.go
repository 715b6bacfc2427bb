package wxpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// prepared is a request ready to be signed and sent.
type prepared struct {
	noVerify    bool // 2xx answers are left to the caller to verify (a TOFU certificate download)
	method      string
	origin      string // scheme://host
	target      []byte // path and query as sent and signed
	pathOnly    string // path below the base, for the unsigned-download check
	body        []byte
	signBody    []byte // signed instead of body when set: an upload's meta JSON
	contentType string
	headers     [][2]string
}

type buffers struct {
	target []byte
	msg    []byte
	auth   []byte
}

var bufPool = sync.Pool{New: func() any {
	return &buffers{target: make([]byte, 0, 256), msg: make([]byte, 0, 1024), auth: make([]byte, 0, 512)}
}}

func normMethod(m string) (string, bool) {
	switch strings.ToUpper(m) {
	case http.MethodGet:
		return http.MethodGet, true
	case http.MethodPost:
		return http.MethodPost, true
	case http.MethodPut:
		return http.MethodPut, true
	case http.MethodPatch:
		return http.MethodPatch, true
	case http.MethodDelete:
		return http.MethodDelete, true
	}
	return "", false
}

// prepare checks opts against the chain and builds the request.
func (c *Client) prepare(method string, ch Chain, opts Opts, target []byte) (*prepared, error) {
	m, ok := normMethod(method)
	if !ok {
		return nil, fmt.Errorf("%w: method %q, want GET, POST, PUT, PATCH or DELETE", ErrInvalidOption, method)
	}
	p := &prepared{method: m}
	known := func(k string) bool { return isOptionKey(k) || (ch.origin == "" && hasPlaceholder(ch.tmpl, k)) }
	for k := range opts {
		if !known(k) {
			// name the first unknown key in sorted order, so that the
			// error is the same from run to run
			for _, k := range sortedKeys(opts) {
				if !known(k) {
					return nil, unknownOption(ch, k)
				}
			}
		}
	}

	// Path.
	if ch.origin != "" {
		if !c.allowed[ch.origin] {
			return nil, fmt.Errorf("%w: %s: signed requests go only to %s", ErrHostNotAllowed, ch.origin, strings.Join(c.allowedList(), ", "))
		}
		p.origin = ch.origin
		target = append(target, '/')
		target = append(target, ch.tmpl...)
		p.pathOnly = ch.tmpl
	} else {
		p.origin = c.scheme + "://" + c.host
		target = append(target, c.basePath...)
		start := len(target)
		var err error
		if target, err = expand(target, ch.tmpl, opts); err != nil {
			return nil, fmt.Errorf("%w (path %s)", err, ch.tmpl)
		}
		p.pathOnly = string(target[start:])
	}

	// Query.
	if q, ok := opts["query"]; ok && q != nil {
		vals, err := queryValues(q)
		if err != nil {
			return nil, err
		}
		if enc := vals.Encode(); enc != "" {
			if bytes.IndexByte(target, '?') >= 0 {
				target = append(target, '&')
			} else {
				target = append(target, '?')
			}
			target = append(target, enc...)
		}
	}
	p.target = target

	// Body.
	jv, hasJSON := opts["json"]
	bv, hasBody := opts["body"]
	if hasJSON && jv == nil {
		hasJSON = false
	}
	if hasBody && bv == nil {
		hasBody = false
	}
	if hasJSON && hasBody {
		return nil, fmt.Errorf("%w: give json or body, not both", ErrInvalidOption)
	}
	if (hasJSON || hasBody) && m == http.MethodGet {
		return nil, fmt.Errorf("%w: a GET request has no body; put parameters in query", ErrInvalidOption)
	}
	if hasJSON {
		b, err := jsonBody(jv)
		if err != nil {
			return nil, err
		}
		p.body, p.contentType = b, "application/json"
	}
	if hasBody {
		switch b := bv.(type) {
		case []byte:
			p.body = b
		case string:
			p.body = []byte(b)
		default:
			return nil, fmt.Errorf("%w: body is %T, want []byte or string", ErrInvalidOption, bv)
		}
	}

	// Headers.
	var serial string
	if hv, ok := opts["headers"]; ok && hv != nil {
		hs, err := headerList(hv)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			switch http.CanonicalHeaderKey(h[0]) {
			case "Content-Type":
				p.contentType = h[1]
				continue
			case "Wechatpay-Serial":
				serial = h[1]
			}
			p.headers = append(p.headers, h)
		}
	}
	if hasBody && p.contentType == "" {
		return nil, fmt.Errorf("%w: a raw body needs its Content-Type in headers", ErrInvalidOption)
	}

	// Upload: a multipart body is sent, its meta JSON signed (upload.go).
	if fv, ok := opts["file"]; ok && fv != nil {
		if hasJSON || hasBody || m != http.MethodPost || p.contentType != "" {
			return nil, fmt.Errorf("%w: file needs a POST without json, body or a Content-Type header", ErrInvalidOption)
		}
		var err error
		if p.body, p.signBody, p.contentType, err = uploadBody(p.pathOnly, fv); err != nil {
			return nil, err
		}
	}

	// Encryption of sensitive fields.
	if ev, ok := opts["encrypt"]; ok && ev != nil {
		paths, err := encryptPaths(ev)
		if err != nil {
			return nil, err
		}
		if len(paths) > 0 {
			if !hasJSON {
				return nil, fmt.Errorf("%w: encrypt needs a json body", ErrInvalidOption)
			}
			used, key, err := c.encryptionKey(serial)
			if err != nil {
				return nil, err
			}
			if k, dup := duplicateKey(gjson.ParseBytes(p.body)); dup {
				return nil, fmt.Errorf("%w: encrypt: json has the key %q twice in one object; which one WeChat Pay reads is not certain, so neither is encrypted", ErrInvalidOption, k)
			}
			body := append([]byte(nil), p.body...) // never edit the caller's bytes
			for _, path := range paths {
				r := gjson.GetBytes(body, path)
				switch {
				case !r.Exists():
					return nil, fmt.Errorf("%w: encrypt: json has no value at %q", ErrInvalidOption, path)
				case r.Type != gjson.String:
					return nil, fmt.Errorf("%w: encrypt: value at %q is a %s, want a string", ErrInvalidOption, path, r.Type)
				case r.Str == "":
					return nil, fmt.Errorf("%w: encrypt: value at %q is empty", ErrInvalidOption, path)
				}
				ct, err := rsaenc.Encrypt(key, r.Str)
				if err != nil {
					return nil, fmt.Errorf("%w: encrypt %q: %v", ErrInvalidOption, path, err)
				}
				if body, err = sjson.SetBytes(body, path, ct); err != nil {
					return nil, fmt.Errorf("%w: encrypt %q: %v", ErrInvalidOption, path, err)
				}
			}
			p.body = body
			if serial == "" {
				p.headers = append(p.headers, [2]string{"Wechatpay-Serial", used})
			}
		}
	}
	return p, nil
}

func (c *Client) allowedList() []string {
	l := make([]string, 0, len(c.allowed))
	for h := range c.allowed {
		l = append(l, h)
	}
	sort.Strings(l)
	return l
}

func unknownOption(ch Chain, k string) error {
	var names []string
	if ch.origin == "" {
		placeholders(ch.tmpl, func(n string, _ bool) { names = append(names, n) })
	}
	msg := fmt.Sprintf("unknown key %q: not a placeholder of %s", k, ch.String())
	if len(names) > 0 {
		msg += " (placeholders: " + strings.Join(names, ", ") + ")"
	}
	msg += " nor an option (" + strings.Join(optionKeys[:], ", ") + ")"
	for _, n := range append(names, optionKeys[:]...) {
		if closeTo(k, n) {
			msg += fmt.Sprintf("; did you mean %q?", n)
			break
		}
	}
	return fmt.Errorf("%w: %s", ErrInvalidOption, msg)
}

// closeTo reports whether a and b differ by one edit or a swap of two
// neighbouring letters, or only in case.
func closeTo(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}

// duplicateKey reports a key that appears twice in one object anywhere in
// r: gjson and sjson act on the first, most JSON readers keep the last.
func duplicateKey(r gjson.Result) (string, bool) {
	var dupKey string
	var found bool
	if r.IsObject() {
		seen := map[string]bool{}
		r.ForEach(func(k, v gjson.Result) bool {
			if seen[k.Str] {
				dupKey, found = k.Str, true
				return false
			}
			seen[k.Str] = true
			dupKey, found = duplicateKey(v)
			return !found
		})
	} else if r.IsArray() {
		r.ForEach(func(_, v gjson.Result) bool {
			dupKey, found = duplicateKey(v)
			return !found
		})
	}
	return dupKey, found
}

func jsonBody(v any) ([]byte, error) {
	var raw []byte
	switch b := v.(type) {
	case []byte:
		raw = b
	case json.RawMessage:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("%w: json: %v", ErrInvalidOption, err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%w: json: the %T given is not valid JSON", ErrInvalidOption, v)
	}
	return raw, nil
}

// scalar returns the text of a string, bool, integer or fmt.Stringer value,
// as it goes into a path, a query or a header.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case fmt.Stringer:
		if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
			return "", false // a typed nil: its String method would panic
		}
		return x.String(), true
	}
	return "", false
}

func queryValues(q any) (url.Values, error) {
	switch m := q.(type) {
	case url.Values:
		return m, nil
	case map[string][]string:
		return url.Values(m), nil
	case map[string]string:
		vals := url.Values{}
		for k, v := range m {
			vals.Set(k, v)
		}
		return vals, nil
	case Opts:
		return queryFromAny(m)
	case map[string]any:
		return queryFromAny(m)
	}
	return nil, fmt.Errorf("%w: query is %T, want url.Values, map[string]string or Opts", ErrInvalidOption, q)
}

func queryFromAny(m map[string]any) (url.Values, error) {
	vals := url.Values{}
	for k, v := range m {
		if s, ok := scalar(v); ok {
			vals.Set(k, s)
			continue
		}
		if ss, ok := v.([]string); ok {
			vals[k] = ss
			continue
		}
		return nil, fmt.Errorf("%w: query %q is %T, want a string, number or bool", ErrInvalidOption, k, v)
	}
	return vals, nil
}

func headerList(h any) ([][2]string, error) {
	var out [][2]string
	add := func(k, v string) error {
		if k == "" || !validToken(k) {
			return fmt.Errorf("%w: header name %q is not a valid token", ErrInvalidOption, k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("%w: header %s value holds a line break", ErrInvalidOption, k)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Host", "Content-Length", "Transfer-Encoding", "Connection":
			return fmt.Errorf("%w: header %s is set by the client and cannot be given", ErrInvalidOption, http.CanonicalHeaderKey(k))
		}
		out = append(out, [2]string{k, v})
		return nil
	}
	switch m := h.(type) {
	case map[string]string:
		for _, k := range sortedKeys(m) {
			if err := add(k, m[k]); err != nil {
				return nil, err
			}
		}
	case http.Header:
		for _, k := range sortedKeys(m) {
			for _, v := range m[k] {
				if err := add(k, v); err != nil {
					return nil, err
				}
			}
		}
	case Opts:
		if err := headerListAny(m, add); err != nil {
			return nil, err
		}
	case map[string]any:
		if err := headerListAny(m, add); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: headers is %T, want map[string]string, http.Header or Opts", ErrInvalidOption, h)
	}
	return out, nil
}

func headerListAny(m map[string]any, add func(k, v string) error) error {
	for _, k := range sortedKeys(m) {
		s, ok := scalar(m[k])
		if !ok {
			return fmt.Errorf("%w: header %s is %T, want a string", ErrInvalidOption, k, m[k])
		}
		if err := add(k, s); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func encryptPaths(v any) ([]string, error) {
	switch p := v.(type) {
	case string:
		if p == "" {
			return nil, nil
		}
		return []string{p}, nil
	case []string:
		return p, nil
	case []any:
		out := make([]string, 0, len(p))
		for _, x := range p {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%w: encrypt holds a %T, want gjson paths as strings", ErrInvalidOption, x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: encrypt is %T, want []string", ErrInvalidOption, v)
}

// unsignedDownloads are the GET endpoints whose responses WeChat Pay does
// not sign; their content is checked by digest instead.
var unsignedDownloads = []string{
	"v3/billdownload/file",
	"v3/transferdownload/",
	"v3/statements",
	"v3/global/statements",
	"v3/new-tax-control-fapiao/download",
	"v3/merchant-service/images/",
}

func unsigned(method, path string) bool {
	if method != http.MethodGet {
		return false
	}
	path, _, _ = strings.Cut(path, "?")
	for _, p := range unsignedDownloads {
		if strings.HasSuffix(p, "/") {
			if strings.HasPrefix(path, p) && len(path) > len(p) {
				return true
			}
		} else if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// do signs, sends and checks one call, retrying it as the client's
// RetryPolicy allows.
func (c *Client) do(ctx context.Context, method string, ch Chain, opts Opts) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	p, err := c.prepare(method, ch, opts, bufs.target[:0])
	if err != nil {
		return nil, err
	}
	bufs.target = p.target[:0]
	target := string(p.target)
	failover := ch.origin == "" && c.backup != ""
	return c.withRetries(ctx, failover, p.origin, DefaultCheckRetry, func(origin string) (*Response, error) {
		return c.attempt(ctx, p, origin, target, bufs)
	})
}

// withRetries makes the attempts of one call: try for each attempt the
// RetryPolicy allows (one without a policy), paced by the rate limiter,
// waiting between attempts as the policy's Backoff says but never past the
// context's deadline. With failover, an attempt goes to the backup while a
// failover is in force, and a connection-level failure of the primary starts
// one. fallback decides on retries when the policy has no CheckRetry.
func (c *Client) withRetries(ctx context.Context, failover bool, primary string, fallback CheckRetry, try func(origin string) (*Response, error)) (*Response, error) {
	max := c.retry.attempts()
	attempt := 1
	var err error
	for ; ; attempt++ {
		if c.limiter != nil {
			if lerr := c.limiter.wait(ctx); lerr != nil {
				if attempt == 1 {
					err = lerr
				} else {
					attempt-- // not sent: the last attempt's error stands
				}
				break
			}
		}
		origin := primary
		if failover {
			origin = c.pickOrigin()
		}
		var resp *Response
		if resp, err = try(origin); err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		var netErr *NetworkError
		if failover && origin == primary && errors.As(err, &netErr) {
			c.failOver()
		}
		if attempt >= max {
			break
		}
		check := fallback
		if c.retry != nil && c.retry.CheckRetry != nil {
			check = c.retry.CheckRetry
		}
		retry, cerr := check(ctx, attempt, err)
		if cerr != nil {
			err = cerr
			break
		}
		if !retry {
			break
		}
		wait := c.retry.wait(attempt, err)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	if attempt > 1 {
		return nil, &RetryError{Attempts: attempt, Err: err}
	}
	return nil, err
}

// attempt signs the prepared request afresh, sends it to origin and checks
// the answer.
func (c *Client) attempt(ctx context.Context, p *prepared, origin, target string, bufs *buffers) (*Response, error) {
	nonce := signer.AppendNonce(make([]byte, 0, signer.NonceLen))
	signed := p.body
	if p.signBody != nil {
		signed = p.signBody
	}
	auth, err := c.signer.AppendAuthorization(bufs.auth[:0], bufs.msg, p.method, target, signed, c.now().Unix(), string(nonce))
	if err != nil {
		return nil, fmt.Errorf("wxpay: %s %s: sign: %w", p.method, target, err)
	}
	bufs.auth = auth[:0]

	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.Header.DisableNormalizing()
	req.SetRequestURI(origin + target)
	req.Header.SetMethod(p.method)
	req.Header.Set("Accept", accept(p.method, p.pathOnly))
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.SetBytesV("Authorization", auth)
	for _, h := range p.headers {
		req.Header.Set(h[0], h[1])
	}
	if p.body != nil {
		req.Header.SetContentType(p.contentType)
		// A copy: the caller may reuse its buffer as soon as Do returns,
		// and after a cancellation the transport may still be writing.
		req.SetBody(p.body)
	}

	if abandoned, err := c.exchange(ctx, c.hc, req, resp); abandoned {
		return nil, fmt.Errorf("wxpay: %s %s: %w", p.method, target, err)
	} else if err != nil {
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		return nil, transportError(ctx, p.method, origin, target, err)
	}
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	return c.check(p, target, resp, bufs)
}

// exchange sends req on hc and reads resp, within ctx and the client's
// timeout. When ctx is done first it returns abandoned true with ctx.Err():
// the transport still holds req and resp and they are released once it is
// done with them, so the caller must neither touch nor release them.
// Otherwise the caller owns them again, whatever the error.
func (c *Client) exchange(ctx context.Context, hc *fasthttp.Client, req *fasthttp.Request, resp *fasthttp.Response) (abandoned bool, err error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if ctx.Done() == nil {
		return false, hc.DoDeadline(req, resp, deadline)
	}
	done := make(chan error, 1)
	go func() { done <- hc.DoDeadline(req, resp, deadline) }()
	select {
	case err = <-done:
		return false, err
	case <-ctx.Done():
		go func() {
			<-done
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
		}()
		return true, ctx.Err()
	}
}

func transportError(ctx context.Context, method, origin, target string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("wxpay: %s %s: %w", method, target, ctx.Err())
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fmt.Errorf("wxpay: %s %s: %w (Config.MaxResponseBodySize)", method, target, ErrResponseTooLarge)
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return &NetworkError{Method: method, Path: target, Host: origin, Err: err}
}

// check turns the fasthttp response into a verified *Response or an error.
func (c *Client) check(p *prepared, target string, resp *fasthttp.Response, bufs *buffers) (*Response, error) {
	status := resp.StatusCode()
	body := append([]byte(nil), resp.Body()...)
	header := responseHeader(&resp.Header)
	h := verifier.Headers{
		Timestamp: header.Get(verifier.HeaderTimestamp),
		Nonce:     header.Get(verifier.HeaderNonce),
		Signature: header.Get(verifier.HeaderSignature),
		Serial:    header.Get(verifier.HeaderSerial),
	}
	if status < 200 || status > 299 {
		e := newAPIError(status, header, body)
		if h.Present() {
			e.verifyErr = c.verifier.Verify(h, body, bufs.msg[:0])
			e.Verified = e.verifyErr == nil
		}
		return nil, e
	}
	r := &Response{StatusCode: status, Header: header, Body: body}
	if p.noVerify || unsigned(p.method, p.pathOnly) {
		return r, nil
	}
	if err := c.verifier.Verify(h, body, bufs.msg[:0]); err != nil {
		return nil, &VerifyError{Method: p.method, Path: target, StatusCode: status, RequestID: header.Get("Request-Id"), Err: err}
	}
	r.Verified, r.Serial = true, h.Serial
	return r, nil
}

// responseHeader copies the headers of resp into an http.Header with a
// constant number of allocations: one string holds every name and value,
// and one slice backs every single value.
func responseHeader(rh *fasthttp.ResponseHeader) http.Header {
	n, size := 0, 0
	for k, v := range rh.All() {
		n++
		size += len(k) + len(v)
	}
	var sb strings.Builder
	sb.Grow(size)
	for k, v := range rh.All() {
		sb.Write(k)
		sb.Write(v)
	}
	all := sb.String()
	vals := make([]string, n)
	h := make(http.Header, n)
	off, i := 0, 0
	for k, v := range rh.All() {
		name := textproto.CanonicalMIMEHeaderKey(all[off : off+len(k)])
		off += len(k)
		val := all[off : off+len(v)]
		off += len(v)
		if prev, ok := h[name]; ok {
			h[name] = append(prev, val)
			continue
		}
		vals[i] = val
		h[name] = vals[i : i+1 : i+1]
		i++
	}
	return h
}
