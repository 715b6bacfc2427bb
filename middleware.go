package wxpay

// This file is the client's middleware (Config.Middleware), the Go form of
// a Guzzle handler stack: functions wrapped around the exchange of each
// attempt, after signing, that see a copy of the signed request and the
// checked answer, and cannot change what was signed.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Exchange sends one attempt of a signed request and returns its answer,
// once checked: the answer to a 2xx APIv3 call verified, an APIv2 answer
// with its sign checked. A failed attempt returns the error the call would
// (*APIError, *VerifyError, *NetworkError, *V2Error, ...) and no answer.
type Exchange func(ctx context.Context, req *ExchangeRequest) (*ExchangeResponse, error)

// Middleware wraps an Exchange: it is given the next Exchange and returns
// the one to call instead, which may do something before and after calling
// next, or return an error without calling it. See Config.Middleware.
type Middleware func(next Exchange) Exchange

// ExchangeRequest is one attempt of a request as a Middleware sees it,
// signed and ready to go. What it returns are copies: the method, URL and
// body cannot be changed after signing, and changing a copy changes
// nothing. AddHeader adds a header that is not signed, such as a trace id.
type ExchangeRequest struct {
	attempt  int
	method   string
	url      string
	header   http.Header
	body     []byte
	v2       bool
	deadline time.Time

	// added are the headers AddHeader added, sent after the others.
	added [][2]string
	// state is where the attempt stands: one of the exchange constants.
	state atomic.Int32
	// send sends the request and checks the answer; the innermost
	// Exchange calls it, once.
	send func(ctx context.Context) (*Response, error)
}

// Attempt returns the number of the attempt, 1 for the first; a call that
// a RetryPolicy retries goes through the middleware once per attempt.
func (r *ExchangeRequest) Attempt() int { return r.attempt }

// Deadline returns when the call must be over: the earlier of the caller's
// context deadline and Config.Timeout from the call's start. The context a
// middleware is given is the caller's, which may have no deadline; a
// middleware that waits for something of its own (a tracing exporter, a
// metrics push) should bound the wait by Deadline. The exchange in next is
// bounded by it in any case. A streamed download's file (Chain.Download,
// DownloadBill, ...), which Config.Timeout does not bound, has the
// context's deadline, or the zero time when the context has none: a zero
// Deadline is no deadline.
func (r *ExchangeRequest) Deadline() time.Time { return r.deadline }

// Method returns the request method.
func (r *ExchangeRequest) Method() string { return r.method }

// URL returns the URL the request goes to. The query of a download URL,
// which holds a short-lived token, is shown as errors show it, each value
// replaced by "…".
func (r *ExchangeRequest) URL() string { return r.url }

// Header returns a copy of the request headers, those AddHeader added
// included, as they are sent but for the Authorization header's signature,
// which is replaced by "[elided]" (its mchid, nonce_str, timestamp and
// serial_no are kept). Host and Content-Length, which the transport
// writes, are not in it.
func (r *ExchangeRequest) Header() http.Header {
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, kv := range r.added {
		h.Add(kv[0], kv[1])
	}
	return h
}

// Body returns a copy of the request body as signed and sent (encrypted
// fields already encrypted), nil for a request without a body. In an
// APIv2 body the sign, a value made with the APIv2 key, is replaced by
// "[elided]".
func (r *ExchangeRequest) Body() []byte {
	if r.body == nil {
		return nil
	}
	return append([]byte(nil), r.body...)
}

// AddHeader adds a header to the request, one WeChat Pay does not sign
// and ignores (a trace id, a tag for a proxy), before the request is sent:
// it must be called before next. It refuses an invalid name or value, a
// header the request already has (in any case: a header is added, never
// replaced), and the headers the client sets or signs by: Authorization,
// Content-Type, Wechatpay-Serial, Accept, User-Agent, Host, Content-Length,
// Transfer-Encoding and Connection.
func (r *ExchangeRequest) AddHeader(name, value string) error {
	if r.state.Load() != exchangeReady {
		return fmt.Errorf("%w: AddHeader %s: the request is already sent", ErrInvalidOption, name)
	}
	canon := http.CanonicalHeaderKey(name)
	switch canon {
	case "Content-Type", "Wechatpay-Serial", "Accept", "User-Agent":
		return fmt.Errorf("%w: AddHeader: %s is set by the call, not by a middleware", ErrInvalidOption, canon)
	}
	hs, err := headerList(map[string]string{name: value}) // values.go: the headers option's rules
	if err != nil {
		return fmt.Errorf("AddHeader: %w", err)
	}
	if _, ok := r.header[canon]; ok || hasHeader(r.added, name) {
		return fmt.Errorf("%w: AddHeader: the request already has a %s header", ErrInvalidOption, canon)
	}
	r.added = append(r.added, hs...)
	return nil
}

// ExchangeResponse is the checked answer of an attempt as a Middleware sees
// it. What it returns are copies: the caller gets the answer as received,
// whatever a middleware does with them.
type ExchangeResponse struct {
	status   int
	header   http.Header
	body     []byte
	verified bool
}

// StatusCode returns the status of the answer.
func (r *ExchangeResponse) StatusCode() int { return r.status }

// Header returns a copy of the answer's headers.
func (r *ExchangeResponse) Header() http.Header { return r.header.Clone() }

// Body returns a copy of the answer's body; nil for a streamed download
// (Chain.Download, DownloadBill, ...), whose body is read after the
// exchange. In an APIv2 answer the sign (and a sandbox_signkey) is
// replaced by "[elided]".
func (r *ExchangeResponse) Body() []byte {
	if r.body == nil {
		return nil
	}
	return append([]byte(nil), r.body...)
}

// Verified reports that the answer's signature (an APIv2 answer's sign)
// was checked and valid; it is false for the answers WeChat Pay does not
// sign, such as a bill file.
func (r *ExchangeResponse) Verified() bool { return r.verified }

// setObservers checks and sets Config.Debug and Config.Middleware.
func (c *Client) setObservers(cfg Config) error {
	if cfg.Debug != nil && isTypedNil(cfg.Debug) {
		return fmt.Errorf("Debug is a nil %T", cfg.Debug)
	}
	c.debugW = cfg.Debug
	var err error
	c.middleware, err = composeMiddleware(cfg.Middleware)
	return err
}

// Where an ExchangeRequest's attempt stands (ExchangeRequest.state).
const (
	exchangeReady     = iota // not sent yet
	exchangeSending          // next was called; the send is under way
	exchangeSent             // the send is over and its result kept
	exchangeNotSent          // the middleware returned without calling next
	exchangeAbandoned        // the middleware returned while the send was under way
)

// errMiddleware is the error of an attempt a middleware ended wrongly.
var errMiddleware = fmt.Errorf("%w: Middleware", ErrInvalidConfig)

// composeMiddleware returns the Exchange that runs the attempts through
// mw, the first outermost, for New.
func composeMiddleware(mw []Middleware) (Exchange, error) {
	if len(mw) == 0 {
		return nil, nil
	}
	x := Exchange(sendExchange)
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] == nil {
			return nil, fmt.Errorf("Middleware[%d] is nil", i)
		}
		if x = mw[i](x); x == nil {
			return nil, fmt.Errorf("Middleware[%d] returned a nil Exchange", i)
		}
	}
	return x, nil
}

// sendExchange is the innermost Exchange: it sends req, the request the
// client made for this attempt, once.
func sendExchange(ctx context.Context, req *ExchangeRequest) (*ExchangeResponse, error) {
	if req == nil || req.send == nil {
		return nil, fmt.Errorf("%w: next was called with a request the client did not make", errMiddleware)
	}
	if !req.state.CompareAndSwap(exchangeReady, exchangeSending) {
		return nil, fmt.Errorf("%w: next was called twice, or after the attempt was over: an attempt is sent once (Config.Retry makes more)", errMiddleware)
	}
	r, err := req.send(ctx)
	if err != nil {
		return nil, err
	}
	return &ExchangeResponse{status: r.StatusCode, header: r.Header.Clone(), body: viewBody(r.Body, req.v2), verified: r.Verified}, nil
}

// throughMiddleware makes attempt t through the client's middleware:
// req, signed, is shown to it, and sent (with the headers it added) and
// checked with check when the innermost Exchange is reached. req is
// released. A middleware's error is the attempt's error; a middleware
// cannot make a failed attempt succeed, nor succeed without sending.
func (c *Client) throughMiddleware(ctx context.Context, t *trip, req *fasthttp.Request, check func(*fasthttp.Response) (*Response, error)) (*Response, error) {
	x := newExchangeRequest(t, req)
	var result *Response
	var resultErr error
	x.send = func(ctx context.Context) (*Response, error) {
		for _, h := range x.added {
			req.Header.Add(h[0], h[1])
		}
		result, resultErr = c.sendAndCheck(ctx, t, req, check) // transport.go: releases req
		x.state.CompareAndSwap(exchangeSending, exchangeSent)  // stays abandoned if the middleware has returned
		return result, resultErr
	}
	// Once sent and checked, req and its answer are released: nothing is
	// left to discard.
	return c.runMiddleware(ctx, t, x, func() { fasthttp.ReleaseRequest(req) }, func() {}, func() (*Response, error) { return result, resultErr })
}

// runMiddleware runs x through the middleware. drop releases what the
// attempt holds when it was not sent, discard what it holds when it was,
// with success, but a middleware failed it; outcome returns what the send
// left once it is over.
func (c *Client) runMiddleware(ctx context.Context, t *trip, x *ExchangeRequest, drop, discard func(), outcome func() (*Response, error)) (*Response, error) {
	mr, err := c.middleware(ctx, x)
	if x.state.CompareAndSwap(exchangeReady, exchangeNotSent) {
		// Never sent: a middleware ended the attempt.
		drop()
		if err == nil {
			err = fmt.Errorf("%w: a middleware returned neither an answer from next nor an error", errMiddleware)
		}
		t.debug.notSent(t, err) // debug.go
		return nil, err
	}
	if x.state.CompareAndSwap(exchangeSending, exchangeAbandoned) {
		// next still runs on another goroutine; the send releases what it
		// holds when it ends (exchangeAbandoned tells it nobody will), and
		// its result is dropped.
		return nil, fmt.Errorf("%w: a middleware returned before the next it called did", errMiddleware)
	}
	resp, sendErr := outcome()
	switch {
	case sendErr != nil:
		return nil, sendErr // a failed attempt stays failed
	case err != nil:
		discard()
		return nil, err // a middleware refused the answer
	case mr == nil:
		// Sent and answered, but the middleware dropped the answer (a next
		// run on another goroutine may even have ended first): the caller
		// cannot tell what happened, so the attempt fails.
		discard()
		return nil, fmt.Errorf("%w: a middleware returned neither the answer from next nor an error", errMiddleware)
	}
	return resp, nil
}

// shownHeader returns the value of a request header as the middleware and
// the debug log show it: the Authorization's signature elided.
func shownHeader(name, value []byte) string {
	if http.CanonicalHeaderKey(string(name)) == "Authorization" {
		return elideSignature(string(value))
	}
	return string(value)
}

// newExchangeRequest returns the view of req, the request of attempt t,
// that the middleware sees.
func newExchangeRequest(t *trip, req *fasthttp.Request) *ExchangeRequest {
	target := t.target
	if t.token {
		target = redactQuery(target)
	}
	h := make(http.Header, 8)
	for k, v := range req.Header.All() {
		h.Add(string(k), shownHeader(k, v))
	}
	var body []byte
	if b := req.Body(); len(b) > 0 {
		body = viewBody(b, t.v2)
	}
	return &ExchangeRequest{attempt: t.attempt, method: t.method, url: t.origin + target, header: h, body: body, v2: t.v2, deadline: t.deadline}
}

// viewBody returns a copy of body to show, with what must stay out of
// logs taken out: an APIv2 body's sign is elided, and the query of a
// download_url in a JSON body, which holds a token, is redacted.
func viewBody(body []byte, v2 bool) []byte {
	if body == nil {
		return nil
	}
	if v2 {
		return elideV2Sign(body)
	}
	if !bytes.Contains(body, []byte(`"download_url"`)) {
		return append([]byte(nil), body...)
	}
	return downloadURLValue.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := downloadURLValue.FindSubmatchIndex(m)
		out := append([]byte(nil), m[:sub[2]]...)
		out = append(out, redactQuery(string(m[sub[2]:sub[3]]))...)
		return append(out, m[sub[3]:]...)
	})
}

// downloadURLValue matches a download_url member of a JSON object; its
// first group is the value, without its quotes.
var downloadURLValue = regexp.MustCompile(`"download_url"\s*:\s*"((?:[^"\\]|\\.)*)"`)

// elided replaces a credential-derived value in what is shown.
const elided = "[elided]"

// elideSignature returns the Authorization header value h with the value
// of its signature parameter replaced by elided; the other parameters
// (mchid, nonce_str, timestamp, serial_no) are kept.
func elideSignature(h string) string {
	const key = `signature="`
	i := strings.Index(h, key)
	if i < 0 {
		return h
	}
	start := i + len(key)
	end := strings.IndexByte(h[start:], '"')
	if end < 0 {
		return h[:start] + elided + `"`
	}
	return h[:start] + elided + h[start+end:]
}

// elideV2Sign returns a copy of the APIv2 XML body with the content of
// every <sign> element (made with the APIv2 key) and <sandbox_signkey>
// element (the key a sandbox's requests are signed with) replaced by
// elided.
func elideV2Sign(body []byte) []byte {
	for _, name := range [...]string{"sign", "sandbox_signkey"} {
		body = elideElement(body, "<"+name+">", "</"+name+">")
	}
	return body
}

// elideElement returns a copy of body with the content of every element
// between open and closing, in any case, replaced by elided; an element
// that is not closed hides everything after its tag.
func elideElement(body []byte, open, closing string) []byte {
	out := make([]byte, 0, len(body))
	rest := body
	for {
		i := indexFold(rest, open)
		if i < 0 {
			break
		}
		j := indexFold(rest[i+len(open):], closing)
		if j < 0 {
			out = append(out, rest[:i+len(open)]...)
			out = append(out, elided...)
			return out
		}
		out = append(out, rest[:i+len(open)]...)
		out = append(out, elided...)
		rest = rest[i+len(open)+j:]
	}
	return append(out, rest...)
}

// indexFold is the index of the first s in b, in any case, or -1.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return i
		}
	}
	return -1
}
