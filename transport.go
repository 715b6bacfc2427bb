package wxpay

// This file is the exchange of a request over fasthttp, the stage after
// signing (do.go), shared by both protocols and the certificate download:
// the transport the client sends with, one request and its answer within
// the call's deadline, and the error when no answer came. Retries,
// failover and the rate limit wrap it in retry.go.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// newRequest returns the fasthttp request of one attempt of the APIv3
// request p to origin, with the Authorization header auth and, unless p's
// headers give one, the Accept header acc. The caller releases it.
func (c *Client) newRequest(p *prepared, origin, target string, auth []byte, acc string) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.Header.DisableNormalizing()
	req.SetRequestURI(origin + target)
	req.Header.SetMethod(p.method)
	req.Header.SetBytesV("Authorization", auth)
	c.putHeaders(req, acc, p.ownAccept, p.headers) // headers.go
	if p.body != nil {
		req.Header.SetContentType(p.contentType)
		// A copy: the caller may reuse its buffer as soon as Do returns,
		// and after a cancellation the transport may still be writing.
		req.SetBody(p.body)
	}
	return req
}

// trip is one attempt's exchange: where it goes, within what deadline, and
// how it is shown to the middleware (middleware.go) and the debug log
// (debug.go).
type trip struct {
	hc       *fasthttp.Client
	method   string
	origin   string // scheme://host
	target   string // path and query as sent
	deadline time.Time
	attempt  int       // 1 for the first
	debug    *debugLog // nil when the call is not logged
	v2       bool      // an APIv2 exchange: the sign in its XML bodies is elided from views
	token    bool      // the query holds a download token: redacted from views
}

// sendAndCheck sends req, the request of attempt t, and turns the answer
// into the attempt's result with check, logging both when t is logged.
// req is released.
func (c *Client) sendAndCheck(ctx context.Context, t *trip, req *fasthttp.Request, check func(*fasthttp.Response) (*Response, error)) (*Response, error) {
	var start time.Time
	if t.debug != nil {
		t.debug.request(t, req) // debug.go
		start = time.Now()
	}
	resp := fasthttp.AcquireResponse()
	err := c.send(ctx, t.hc, req, resp, t.method, t.origin, t.target, t.deadline)
	var took time.Duration
	if t.debug != nil {
		took = time.Since(start)
	}
	if err != nil {
		t.debug.failed(t, took, err)
		return nil, err
	}
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	r, err := check(resp)
	t.debug.response(t, took, resp, r, err)
	return r, err
}

// send sends req to origin on hc and reads resp, within ctx and before
// deadline (exchange). On success the caller owns req and resp and must
// release them; on an error they are released already, or left to the
// transport after a cancellation. A request whose deadline has passed is
// not sent. method and target name the request in errors.
func (c *Client) send(ctx context.Context, hc *fasthttp.Client, req *fasthttp.Request, resp *fasthttp.Response, method, origin, target string, deadline time.Time) error {
	if !time.Now().Before(deadline) {
		// The call's time ran out while the attempt was being signed or
		// went through the middleware: nothing is sent, and since no
		// answer was asked for, none was lost (no *NetworkError, no
		// failover).
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		return fmt.Errorf("wxpay: %s %s: %w: the call's time ran out before the request was sent", method, redactQuery(target), context.DeadlineExceeded)
	}
	abandoned, err := c.exchange(ctx, hc, req, resp, deadline)
	switch {
	case abandoned:
		return fmt.Errorf("wxpay: %s %s: %w", method, redactQuery(target), err)
	case err != nil:
		err = keptAliveError(ctx, method, origin, target, resp, err)
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		return err
	}
	return nil
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

// newTransport returns the fasthttp client the client sends with: keep-alive
// connections that are checked before reuse (conn.go), the configured
// timeouts and response cap, tlsConf, and dial (a TCP dialer if nil).
func (c *Client) newTransport(cfg Config, tlsConf *tls.Config, dial fasthttp.DialFunc) *fasthttp.Client {
	max := cfg.MaxResponseBodySize
	if max == 0 {
		max = DefaultMaxResponseBodySize
	}
	hc := &fasthttp.Client{
		Name:                c.userAgent,
		ReadTimeout:         c.timeout,
		WriteTimeout:        c.timeout,
		MaxIdleConnDuration: 30 * time.Second,
		// fasthttp would resend an idempotent request on a broken
		// connection with the same Authorization; a resend must be
		// re-signed, so it is left to wxpay (or a retry policy). The one
		// exception is a pooled connection found closed before anything
		// was written on it (errIdleClosed): fasthttp takes the next one,
		// as many times as the pool can hold connections.
		MaxIdemponentCallAttempts: fasthttp.DefaultMaxConnsPerHost + 1,
		RetryIfErr:                retryIdleClosed,
		MaxConnWaitTimeout:        c.timeout,
		MaxResponseBodySize:       max,
		DisablePathNormalizing:    true,
		TLSConfig:                 tlsConf,
	}
	if dial != nil {
		hc.Dial = keepAliveDial(dial)
		return hc
	}
	// DialTimeout, not Dial: fasthttp then bounds the dial by what is left
	// of the call instead of the dialer's own 3 s.
	tcp := &fasthttp.TCPDialer{Concurrency: 1000}
	hc.DialTimeout = func(addr string, timeout time.Duration) (net.Conn, error) {
		if timeout <= 0 { // a dial for a request waiting for a connection
			timeout = c.timeout
		}
		return keepAlive(tcp.DialTimeout(addr, timeout))
	}
	return hc
}

// NetworkError reports an attempt that got no response: the connection
// could not be made, was reset, or timed out (Config.Timeout). The request
// may or may not have reached WeChat Pay, so it must only ever be resent
// unchanged. A call ended by its context's deadline or cancellation is not a
// NetworkError: its error wraps the context's error.
type NetworkError struct {
	Method string
	Path   string // path and query, each query value shown as "…"
	Host   string // scheme://host the attempt went to
	Err    error

	// reused: the attempt failed on a kept-alive connection the server
	// closed before answering, so the server was reachable and this starts
	// no failover; resend: it may be sent again at once (conn.go).
	reused, resend bool
}

// Error describes the NetworkError.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("wxpay: %s %s%s: %v", e.Method, e.Host, e.Path, e.Err)
}

// Unwrap returns the transport error (context.DeadlineExceeded for a
// timeout).
func (e *NetworkError) Unwrap() error { return e.Err }
