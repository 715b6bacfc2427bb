package wxpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
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
	deadline    time.Time // when the call must be over, see callDeadline
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

	// Encryption of sensitive fields (encrypt.go).
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
			if p.body, err = encryptFields(p.body, paths, key); err != nil {
				return nil, err
			}
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
	msg += didYouMean(k, append(names, optionKeys[:]...))
	return fmt.Errorf("%w: %s", ErrInvalidOption, msg)
}

// jsonBody returns the body the json option gives: v encoded, or its bytes
// when v is already JSON. Every WeChat Pay APIv3 request body is a JSON
// object, so a nil value (a nil pointer, map or slice given with its type)
// and anything that is not an object (null, an array, a string...) are
// refused: a signed POST of "null" can only fail, or do harm.
func jsonBody(v any) ([]byte, error) {
	if rv := reflect.ValueOf(v); nilable(rv.Kind()) && rv.IsNil() {
		return nil, fmt.Errorf("%w: json is a nil %T, want a JSON object (leave json out to send no body)", ErrInvalidOption, v)
	}
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
		raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		return raw, checkJSONObject(v, raw)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%w: json: the %T given is not valid JSON", ErrInvalidOption, v)
	}
	return raw, checkJSONObject(v, raw)
}

// checkJSONObject refuses valid JSON that is not an object.
func checkJSONObject(v any, raw []byte) error {
	b := bytes.TrimLeft(raw, " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		return nil
	}
	what := "a number"
	switch {
	case len(b) == 0:
		what = "nothing"
	case b[0] == 'n':
		what = "null"
	case b[0] == '[':
		what = "an array"
	case b[0] == '"':
		what = "a string"
	case b[0] == 't' || b[0] == 'f':
		what = "a boolean"
	}
	return fmt.Errorf("%w: json: the %T given is %s, want a JSON object, as every WeChat Pay APIv3 request body is (send anything else with the body option)", ErrInvalidOption, v, what)
}

// nilable reports whether a value of kind k can be nil.
func nilable(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return true
	}
	return false
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
	p.deadline = c.callDeadline(ctx)
	target := string(p.target)
	failover := ch.origin == "" && c.backup != ""
	return c.withRetries(ctx, p.deadline, failover, p.origin, DefaultCheckRetry, func(origin string) (*Response, error) {
		return c.attempt(ctx, p, origin, target, bufs)
	})
}

// callDeadline returns when a call starting now must be over:
// Config.Timeout from now, or the context's deadline if it is earlier.
func (c *Client) callDeadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// withRetries makes the attempts of one call: try for each attempt the
// RetryPolicy allows (one without a policy), paced by the rate limiter,
// waiting between attempts as the policy's Backoff says but never past
// deadline, the end of the call. An attempt that failed on a kept-alive
// connection the server had closed is made again at once when
// keptAliveFailure allows, and that is not a new attempt. With failover, an
// attempt goes to the backup while a failover is in force, and a
// connection-level failure of the primary starts one, unless the primary
// was reachable (a kept-alive connection it closed) or the caller's context
// ended the attempt. fallback decides on retries when the policy has no
// CheckRetry.
func (c *Client) withRetries(ctx context.Context, deadline time.Time, failover bool, primary string, fallback CheckRetry, try func(origin string) (*Response, error)) (*Response, error) {
	max := c.retry.attempts()
	attempt := 1
	var err error
	for ; ; attempt++ {
		if c.limiter != nil {
			if lerr := c.limiter.waitUntil(ctx, deadline); lerr != nil {
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
		if resp, err = tryFresh(try, origin); err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		var netErr *NetworkError
		if failover && origin == primary && errors.As(err, &netErr) && !netErr.reused {
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
		if time.Until(deadline) <= wait {
			break
		}
		if !sleep(ctx, wait) || !time.Now().Before(deadline) {
			break
		}
	}
	if attempt > 1 {
		return nil, &RetryError{Attempts: attempt, Err: err}
	}
	return nil, err
}

// tryFresh makes an attempt with try, and makes it once more when it failed
// on a kept-alive connection the server had closed and keptAliveFailure
// says the request may be sent again: try signs it afresh, and it goes out
// on another connection.
func tryFresh(try func(origin string) (*Response, error), origin string) (*Response, error) {
	resp, err := try(origin)
	if err != nil && mayResend(err) {
		return try(origin)
	}
	return resp, err
}

func mayResend(err error) bool {
	var netErr *NetworkError
	return errors.As(err, &netErr) && netErr.resend
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
		return nil, fmt.Errorf("wxpay: %s %s: sign: %w", p.method, redactQuery(target), err)
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

	if abandoned, err := c.exchange(ctx, c.hc, req, resp, p.deadline); abandoned {
		return nil, fmt.Errorf("wxpay: %s %s: %w", p.method, redactQuery(target), err)
	} else if err != nil {
		err = keptAliveError(ctx, p.method, origin, target, resp, err)
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		return nil, err
	}
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	return c.check(p, target, resp, bufs)
}

// exchange sends req on hc and reads resp, within ctx and before deadline,
// the end of the call. When ctx is done first it returns abandoned true
// with ctx.Err(): the transport still holds req and resp and they are
// released once it is done with them, so the caller must neither touch nor
// release them. Otherwise the caller owns them again, whatever the error.
func (c *Client) exchange(ctx context.Context, hc *fasthttp.Client, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) (abandoned bool, err error) {
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

// transportError turns the error of a failed exchange into the call's
// error: the context's error when the caller's deadline or cancellation
// ended it, else a *NetworkError (or ErrResponseTooLarge).
func transportError(ctx context.Context, method, origin, target string, err error) error {
	target = redactQuery(target) // a download_url's token stays out of errors
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("wxpay: %s %s: %w", method, target, ctx.Err())
	case deadlinePassed(ctx):
		// fasthttp's timeout fires with the context's deadline and may
		// report first, before ctx.Err is set: still the caller's deadline.
		return fmt.Errorf("wxpay: %s %s: %w", method, target, context.DeadlineExceeded)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fmt.Errorf("wxpay: %s %s: %w (Config.MaxResponseBodySize)", method, target, ErrResponseTooLarge)
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout), isTimeout(err):
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return &NetworkError{Method: method, Path: target, Host: origin, Err: err}
}

// isTimeout reports whether err is a net.Error that timed out, such as a
// dial past its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// deadlinePassed reports whether ctx has a deadline and it has come.
func deadlinePassed(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// keptAliveError is transportError for an exchange of the client's
// transport, whose response is resp: a *NetworkError records what
// keptAliveFailure makes of it.
func keptAliveError(ctx context.Context, method, origin, target string, resp *fasthttp.Response, err error) error {
	e := transportError(ctx, method, origin, target, err)
	if netErr, ok := e.(*NetworkError); ok {
		netErr.reused, netErr.resend = keptAliveFailure(method, resp, err)
	}
	return e
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
		return nil, &VerifyError{Method: p.method, Path: redactQuery(target), StatusCode: status, RequestID: header.Get("Request-Id"), Err: err}
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
