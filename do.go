package wxpay

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/signer"
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
