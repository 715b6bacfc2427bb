package wxpay

// This file is the last stage of an APIv3 call (do.go): check verifies
// WeChat Pay's signature on a 2xx answer (but for the download endpoints
// it does not sign) and turns any other status into an *APIError; and
// Response, what a call returns.

import (
	"encoding/json"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Response is a 2xx answer from WeChat Pay. Its body is the raw JSON exactly
// as received; query it with Get (gjson syntax) or decode it with Unmarshal.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Verified reports that the response signature was checked and valid.
	// It is false only for the download endpoints WeChat Pay does not sign
	// (bills, statements, ...), whose content is checked by digest instead.
	Verified bool
	// Serial is the platform key serial the response was verified with.
	Serial string
	// Attempts is how many attempts the call took (more than 1 only with a
	// RetryPolicy).
	Attempts int

	sent *sentRequest // the request, when the client has a Checker
}

// Get returns the value at path in the JSON body, in gjson path syntax
// ("amount.refund", "promotion_detail.0.promotion_id"). A missing value is
// the zero gjson.Result (check Exists).
func (r *Response) Get(path string) gjson.Result {
	return gjson.GetBytes(r.Body, path)
}

// JSON returns the whole body as a gjson.Result.
func (r *Response) JSON() gjson.Result { return gjson.ParseBytes(r.Body) }

// Unmarshal decodes the JSON body into v with encoding/json.
func (r *Response) Unmarshal(v any) error { return json.Unmarshal(r.Body, v) }

// String returns the body as a string.
func (r *Response) String() string { return string(r.Body) }

// check turns the fasthttp response into a verified *Response or an error.
func (c *Client) check(p *prepared, target string, resp *fasthttp.Response, bufs *buffers) (*Response, error) {
	status := resp.StatusCode()
	body := append([]byte(nil), resp.Body()...)
	header := responseHeader(&resp.Header)
	h := signatureHeaders(header)
	if status < 200 || status > 299 {
		return nil, c.apiError(status, header, h, body, bufs.msg[:0])
	}
	r := &Response{StatusCode: status, Header: header, Body: body}
	if p.noVerify || unsigned(p.method, p.pathOnly) {
		return r, nil
	}
	if err := c.verifier.Verify(h, body, bufs.msg[:0]); err != nil {
		return nil, &VerifyError{Method: p.method, Path: redactQuery(target), StatusCode: status, RequestID: header.Get("Request-Id"), Err: err,
			UntrustedHeader: header, UntrustedBody: body}
	}
	r.Verified, r.Serial = true, h.Serial
	return r, nil
}

// signatureHeaders returns the Wechatpay-* headers an answer's (or a
// notification's) signature is checked with.
func signatureHeaders(h http.Header) verifier.Headers {
	return verifier.Headers{
		Timestamp: h.Get(verifier.HeaderTimestamp),
		Nonce:     h.Get(verifier.HeaderNonce),
		Signature: h.Get(verifier.HeaderSignature),
		Serial:    h.Get(verifier.HeaderSerial),
	}
}

// apiError returns the *APIError of an answer with a status other than
// 2xx. When it carries signature headers sig, they are checked, with msg
// as room for the signed message: an error answer is trusted only if they
// verify (APIError.Verified).
func (c *Client) apiError(status int, header http.Header, sig verifier.Headers, body, msg []byte) *APIError {
	e := newAPIError(status, header, body)
	if sig.Present() {
		e.verifyErr = c.verifier.Verify(sig, body, msg)
		e.Verified = e.verifyErr == nil
	}
	return e
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
