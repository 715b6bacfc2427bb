package wxpay

// This file runs an APIv3 (JSON) call, which Chain.Do hands here (which
// calls those are: protocol.go). do makes the call:
// prepare builds the request from the options, one stage after another,
// withRetries (retry.go) makes the attempts, and each attempt signs,
// sends and checks. The stages, in order, each in its own file:
//
//	newPrepared   options.go   the method and the option keys
//	debugFor      debug.go     the debug option
//	appendPath    target.go    the path, its placeholders filled
//	appendQuery   target.go    the query option
//	setBody       body.go      the json and body options
//	setHeaders    headers.go   the headers option
//	setFile       upload.go    the file option: a multipart body
//	setEncrypted  encrypt.go   the encrypt option
//	checkRequest  checker.go   Config.Checker's check, if one is set
//	sign          sign.go      the Authorization, afresh for each attempt
//	send          transport.go the exchange over fasthttp, through the
//	                           middleware (middleware.go), logged (debug.go)
//	check         response.go  the signature of the answer, or an *APIError

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// prepared is a request ready to be signed and sent.
type prepared struct {
	noVerify    bool        // 2xx answers are left to the caller to verify (a TOFU certificate download)
	fromJSON    bool        // body is the json option's (body.go)
	raw         bool        // body is the body option's (body.go)
	ownAccept   bool        // headers hold an Accept, which replaces the client's
	sent        sentRequest // the request as Config.Checker was shown it (checker.go)
	method      string
	origin      string // scheme://host
	target      []byte // path and query as sent and signed
	pathOnly    string // path below the base, for the unsigned-download check
	body        []byte
	signBody    []byte // signed instead of body when set: an upload's meta JSON
	contentType string
	debug       *debugLog   // where the call is logged, nil if it is not (debug.go)
	headers     [][2]string // the headers option over Config.Headers (headers.go)
	deadline    time.Time   // when the call must be over, see callDeadline
}

type buffers struct {
	target []byte
	msg    []byte
	auth   []byte
}

var bufPool = sync.Pool{New: func() any {
	return &buffers{target: make([]byte, 0, 256), msg: make([]byte, 0, 1024), auth: make([]byte, 0, 512)}
}}

// prepare checks opts against the chain and builds the request, appending
// its path and query to target. Each stage checks the options it reads and
// fails before anything is sent.
func (c *Client) prepare(method string, ch Chain, opts Opts, target []byte) (*prepared, error) {
	p, err := newPrepared(method, ch, opts) // options.go
	if err != nil {
		return nil, err
	}
	if p.debug, err = c.debugFor(opts); err != nil { // debug.go
		return nil, err
	}
	if target, err = c.appendPath(p, ch, opts, target); err != nil { // target.go
		return nil, err
	}
	if p.target, err = appendQuery(target, opts); err != nil { // target.go
		return nil, err
	}
	if err := p.setBody(opts); err != nil { // body.go
		return nil, err
	}
	if err := p.setHeaders(opts, c.headers); err != nil { // headers.go
		return nil, err
	}
	if err := p.setFile(opts); err != nil { // upload.go
		return nil, err
	}
	if err := c.setEncrypted(p, ch, opts); err != nil { // encrypt.go
		return nil, err
	}
	// The request is now complete, and nothing is signed yet.
	if c.checker != nil {
		if err := c.checkRequest(p, ch); err != nil { // checker.go
			return nil, err
		}
	}
	return p, nil
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
	plan := callPlan{deadline: p.deadline, primary: p.origin, failover: ch.origin == "" && c.backup != "", check: DefaultCheckRetry}
	resp, err := c.withRetries(ctx, plan, func(origin string, n int) (*Response, error) { // retry.go
		return c.attempt(ctx, p, origin, target, bufs, n)
	})
	if resp != nil && c.checker != nil {
		sent := p.sent    // checkRequest's
		resp.sent = &sent // for DecryptResponse
	}
	return resp, err
}

// attempt signs the prepared request afresh, sends it to origin as attempt
// number n, through the client's middleware if any, and checks the answer.
func (c *Client) attempt(ctx context.Context, p *prepared, origin, target string, bufs *buffers, n int) (*Response, error) {
	auth, err := c.sign(p, target, bufs) // sign.go
	if err != nil {
		return nil, err
	}
	req := c.newRequest(p, origin, target, auth, accept(p.method, p.pathOnly)) // transport.go, headers.go
	// Each branch has its own closure: the middleware keeps its own, which
	// must not make the other escape to the heap.
	if c.middleware != nil {
		t := &trip{hc: c.hc, method: p.method, origin: origin, target: target, deadline: p.deadline, attempt: n, debug: p.debug, token: p.token()}
		return c.throughMiddleware(ctx, t, req, func(resp *fasthttp.Response) (*Response, error) { // middleware.go
			return c.check(p, target, resp, bufs)
		})
	}
	t := trip{hc: c.hc, method: p.method, origin: origin, target: target, deadline: p.deadline, attempt: n, debug: p.debug, token: p.token()}
	return c.sendAndCheck(ctx, &t, req, func(resp *fasthttp.Response) (*Response, error) { // transport.go
		return c.check(p, target, resp, bufs) // response.go
	})
}

// token reports whether p's query may hold a download token, to be kept out
// of logs: the request is to an unsigned download endpoint, or is a full
// URL with a query (a download_url).
func (p *prepared) token() bool {
	return unsigned(p.method, p.pathOnly) || strings.IndexByte(p.pathOnly, '?') >= 0
}
