package wxpay

// This file holds the APIv2 (XML) side of the client: chains whose path
// starts with v2/ are sent here by Chain.Do. The XML encoding, signing and
// req_info decryption live in the v2xml package.

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/v2xml"
)

// Errors of APIv2 calls, matched with errors.Is.
var (
	// ErrNoAPIv2Secret: an APIv2 call or notification needs
	// Config.APIv2Secret, which was not set.
	ErrNoAPIv2Secret = errors.New("wxpay: Config.APIv2Secret is not set: APIv2 messages cannot be signed or checked")
	// ErrMalformedV2Response: an APIv2 answer is not a flat XML document
	// with a return_code (an endpoint that answers with a bill is not held
	// to this).
	ErrMalformedV2Response = errors.New("wxpay: malformed APIv2 response")
)

// v2OptionKeys are the Opts keys of an APIv2 call.
var v2OptionKeys = [...]string{"xml", "security", "nonceless", "headers"}

// v2Only are the APIv2 options that mean nothing to an APIv3 call.
var v2Only = [...]string{"xml", "security", "nonceless"}

// v2Client is the APIv2 part of a Client.
type v2Client struct {
	secret string
	// sec sends the calls made with the security option, presenting
	// Config.TLSCertificate; nil without one.
	sec *fasthttp.Client
}

// setupV2 checks the APIv2 fields of cfg and builds the transport of the
// security option. It runs at the end of New.
func (c *Client) setupV2(cfg Config) error {
	if cfg.APIv2Secret != "" && len(cfg.APIv2Secret) != 32 {
		return fmt.Errorf("APIv2Secret is %d bytes, want 32", len(cfg.APIv2Secret))
	}
	c.v2.secret = cfg.APIv2Secret
	if cfg.TLSCertificate == nil {
		return nil
	}
	cert := *cfg.TLSCertificate
	if len(cert.Certificate) == 0 {
		return errors.New("TLSCertificate holds no certificate")
	}
	if cert.PrivateKey == nil {
		return errors.New("TLSCertificate has no PrivateKey")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("TLSCertificate: the certificate does not parse: %v", err)
		}
		cert.Leaf = leaf
	}
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("TLSCertificate.PrivateKey is a %T, not a crypto.Signer", cert.PrivateKey)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return errors.New("TLSCertificate: the private key is not the key of the certificate")
	}
	roots := cfg.RootCAs
	var dial fasthttp.DialFunc
	if t := cfg.Transport; t != nil {
		if roots == nil && t.TLSConfig != nil {
			roots = t.TLSConfig.RootCAs
		}
		dial = t.Dial
	}
	c.v2.sec = c.newTransport(cfg, &tls.Config{
		MinVersion:   tls.VersionTLS12,
		RootCAs:      roots,
		Certificates: []tls.Certificate{cert},
	}, dial)
	return nil
}

// isV2 reports whether the chain is an APIv2 path: v2, or v2/... (any
// case).
func isV2(ch Chain) bool {
	t := ch.tmpl
	return ch.origin == "" && len(t) >= 2 && (t[0] == 'v' || t[0] == 'V') && t[1] == '2' && (len(t) == 2 || t[2] == '/')
}

// checkNotV2Options refuses the APIv2 options in an APIv3 call, where they
// would mean nothing.
func checkNotV2Options(ch Chain, opts Opts) error {
	if len(opts) == 0 {
		return nil
	}
	for _, k := range v2Only {
		if _, ok := opts[k]; ok && (ch.origin != "" || !hasPlaceholder(ch.tmpl, k)) {
			return fmt.Errorf("%w: %q is an APIv2 option, for paths starting with v2/, not %s", ErrInvalidOption, k, ch.String())
		}
	}
	return nil
}

// v2CertPrefixes are the APIv2 paths (below v2/) that need the merchant's
// TLS client certificate: a call to them without the security option is
// refused before it is sent, since WeChat Pay would refuse it anyway.
var v2CertPrefixes = []string{
	"secapi/",            // refund, reverse, profit sharing, sub-merchant management
	"mmpaymkttransfers/", // red packets, transfers to balance, coupons
	"mmpaysptrans/",      // transfers to bank cards
}

// v2CertExempt are paths under v2CertPrefixes that WeChat Pay documents as
// not needing the certificate.
var v2CertExempt = []string{
	"mmpaymkttransfers/query_coupon_stock",
	"mmpaymkttransfers/querycouponsinfo",
}

// v2Unsigned are the APIv2 paths whose answers WeChat Pay does not sign:
// the bill downloads (their success answer is the bill itself, text or
// gzip) and the red packet, transfer, risk and sandbox-key endpoints, whose
// documented answers carry no sign. Answers from them are returned with
// Verified false. Other endpoints must sign every return_code SUCCESS
// answer.
var v2Unsigned = []string{
	"pay/downloadbill",
	"pay/downloadfundflow",
	"pay/batchquerycomment",
	"mmpaymkttransfers/sendredpack",
	"mmpaymkttransfers/sendgroupredpack",
	"mmpaymkttransfers/sendminiprogramhb",
	"mmpaymkttransfers/gethbinfo",
	"mmpaymkttransfers/promotion/transfers",
	"mmpaymkttransfers/gettransferinfo",
	"mmpaymkttransfers/promotion/paywwsptrans2pocket",
	"mmpaymkttransfers/promotion/querywwsptrans2pocket",
	"mmpaysptrans/pay_bank",
	"mmpaysptrans/query_bank",
	"risk/getpublickey",
	"risk/getviolation",
	"mchrisk/querymchrisk",
	"mchrisk/setmchriskcallback",
	"mchrisk/syncmchriskresult",
	"secapi/mch/submchmanage",
	"sandboxnew/pay/getsignkey",
	"payitil/report",
}

func v2NeedsCert(path string) bool {
	for _, p := range v2CertExempt {
		if path == p {
			return false
		}
	}
	for _, p := range v2CertPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func v2IsUnsigned(path string) bool {
	for _, p := range v2Unsigned {
		if path == p {
			return true
		}
	}
	return false
}

// v2Prepared is an APIv2 request ready to be sent.
type v2Prepared struct {
	target   string // path as sent, base path included
	pathOnly string // path below the base, without v2/
	body     []byte
	signType string
	security bool
	headers  [][2]string
	deadline time.Time // when the call must be over, see callDeadline
}

// prepareV2 checks the options of an APIv2 call and builds its signed
// body.
func (c *Client) prepareV2(method string, ch Chain, opts Opts) (*v2Prepared, error) {
	if !strings.EqualFold(method, http.MethodPost) {
		return nil, fmt.Errorf("%w: method %s: APIv2 calls are POST", ErrInvalidOption, method)
	}
	for _, k := range sortedKeys(opts) {
		if isV2OptionKey(k) || hasPlaceholder(ch.tmpl, k) {
			continue
		}
		switch k {
		case "json", "body", "query", "encrypt":
			return nil, fmt.Errorf("%w: %q is not an APIv2 option: give the request parameters in xml", ErrInvalidOption, k)
		}
		msg := fmt.Sprintf("unknown key %q: not a placeholder of %s nor an APIv2 option (%s)", k, ch.String(), strings.Join(v2OptionKeys[:], ", "))
		msg += didYouMean(k, v2OptionKeys[:])
		return nil, fmt.Errorf("%w: %s", ErrInvalidOption, msg)
	}
	if c.v2.secret == "" {
		return nil, ErrNoAPIv2Secret
	}
	p := &v2Prepared{}
	rel := strings.TrimPrefix(ch.tmpl[2:], "/")
	if rel == "" {
		return nil, fmt.Errorf("%w: %s names no APIv2 endpoint", ErrInvalidPath, ch.tmpl)
	}
	target := append(make([]byte, 0, len(c.basePath)+len(rel)+16), c.basePath...)
	start := len(target)
	target, err := expand(target, rel, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (path %s)", err, ch.tmpl)
	}
	if strings.IndexByte(string(target[start:]), '?') >= 0 {
		return nil, fmt.Errorf("%w: an APIv2 path has no query", ErrInvalidPath)
	}
	p.target, p.pathOnly = string(target), string(target[start:])

	if p.security, err = boolOption(opts, "security"); err != nil {
		return nil, err
	}
	nonceless, err := boolOption(opts, "nonceless")
	if err != nil {
		return nil, err
	}
	params, err := v2Params(opts["xml"])
	if err != nil {
		return nil, err
	}
	if err := c.checkV2MchID(params); err != nil {
		return nil, err
	}
	if !nonceless && params["nonce_str"] == "" {
		params["nonce_str"] = signer.Nonce()
	}
	p.signType = params["sign_type"]
	switch p.signType {
	case "", v2xml.MD5, v2xml.HMACSHA256:
	default:
		return nil, fmt.Errorf("%w: xml sign_type %q: want MD5 (the default) or HMAC-SHA256", ErrInvalidOption, clipTo(p.signType, 20))
	}
	delete(params, "sign")
	sign, err := v2xml.Sign(params, p.signType, c.v2.secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOption, err)
	}
	params["sign"] = sign
	if p.body, err = v2xml.Encode(params); err != nil {
		return nil, fmt.Errorf("%w: xml: %v", ErrInvalidOption, err)
	}

	if v2NeedsCert(p.pathOnly) && !p.security {
		return nil, fmt.Errorf("%w: %s needs the merchant's TLS client certificate: add \"security\": true", ErrInvalidOption, p.pathOnly)
	}
	if p.security {
		if c.v2.sec == nil {
			return nil, fmt.Errorf("%w: the security option needs Config.TLSCertificate (the merchant API certificate and its key)", ErrInvalidConfig)
		}
		if c.scheme != "https" {
			return nil, fmt.Errorf("%w: the security option needs an https BaseURL: the client certificate is presented in the TLS handshake", ErrInvalidConfig)
		}
	}
	if hv, ok := opts["headers"]; ok && hv != nil {
		if p.headers, err = headerList(hv); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func isV2OptionKey(k string) bool {
	for _, o := range v2OptionKeys {
		if k == o {
			return true
		}
	}
	return false
}

// boolOption returns the bool option k, false when absent or nil.
func boolOption(opts Opts, k string) (bool, error) {
	v, ok := opts[k]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %s is %T, want a bool", ErrInvalidOption, k, v)
	}
	return b, nil
}

// v2Params copies the xml option into a fresh map of strings.
func v2Params(v any) (map[string]string, error) {
	out := map[string]string{}
	switch m := v.(type) {
	case nil:
		return nil, fmt.Errorf("%w: an APIv2 call needs the xml option, the request parameters", ErrInvalidOption)
	case map[string]string:
		for k, s := range m {
			out[k] = s
		}
	case Opts:
		return out, v2ParamsAny(out, m)
	case map[string]any:
		return out, v2ParamsAny(out, m)
	default:
		return nil, fmt.Errorf("%w: xml is %T, want map[string]string or Opts", ErrInvalidOption, v)
	}
	return out, nil
}

func v2ParamsAny(out map[string]string, m map[string]any) error {
	for _, k := range sortedKeys(m) {
		s, ok := scalar(m[k])
		if !ok {
			return fmt.Errorf("%w: xml %q is %T: APIv2 takes flat values (string, number or bool); send nested data such as detail as a JSON string", ErrInvalidOption, k, m[k])
		}
		out[k] = s
	}
	return nil
}

// checkV2MchID requires the merchant id of the request, mch_id or mchid
// (enterprise transfers), to be the client's, as wechatpay-php does.
func (c *Client) checkV2MchID(params map[string]string) error {
	id, hasID := params["mch_id"]
	alt, hasAlt := params["mchid"]
	if !hasID && !hasAlt {
		return fmt.Errorf("%w: xml has no mch_id (or mchid): want %s, the client's merchant", ErrInvalidOption, c.mchID)
	}
	if hasID && id != c.mchID {
		return fmt.Errorf("%w: xml mch_id %q is not the client's merchant %s", ErrInvalidOption, clipTo(id, 32), c.mchID)
	}
	if hasAlt && alt != c.mchID {
		return fmt.Errorf("%w: xml mchid %q is not the client's merchant %s", ErrInvalidOption, clipTo(alt, 32), c.mchID)
	}
	return nil
}

// doV2 sends an APIv2 call, retrying it as the client's RetryPolicy
// allows. Every attempt sends the very same bytes (same nonce_str and
// sign): a retry is the same request.
func (c *Client) doV2(ctx context.Context, method string, ch Chain, opts Opts) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := c.prepareV2(method, ch, opts)
	if err != nil {
		return nil, err
	}
	hc := c.hc
	if p.security {
		hc = c.v2.sec
	}
	primary := c.scheme + "://" + c.host
	p.deadline = c.callDeadline(ctx)
	return c.withRetries(ctx, p.deadline, c.backup != "", primary, defaultV2CheckRetry, func(origin string) (*Response, error) {
		return c.attemptV2(ctx, hc, p, origin)
	})
}

// defaultV2CheckRetry is DefaultCheckRetry that also retries the APIv2
// errors WeChat Pay says may be retried unchanged.
func defaultV2CheckRetry(ctx context.Context, attempt int, err error) (bool, error) {
	var v2Err *V2Error
	if ctx.Err() == nil && errors.As(err, &v2Err) {
		return v2Err.Retryable(), nil
	}
	return DefaultCheckRetry(ctx, attempt, err)
}

// attemptV2 sends p once to origin and checks the answer.
func (c *Client) attemptV2(ctx context.Context, hc *fasthttp.Client, p *v2Prepared, origin string) (*Response, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.Header.DisableNormalizing()
	req.SetRequestURI(origin + p.target)
	req.Header.SetMethod(http.MethodPost)
	req.Header.Set("Accept", "text/xml, text/plain, application/x-gzip")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.SetContentType("text/xml; charset=utf-8")
	for _, h := range p.headers {
		req.Header.Set(h[0], h[1])
	}
	req.SetBodyRaw(p.body)

	if abandoned, err := c.exchange(ctx, hc, req, resp, p.deadline); abandoned {
		return nil, fmt.Errorf("wxpay: POST %s: %w", p.target, err)
	} else if err != nil {
		err = keptAliveError(ctx, http.MethodPost, origin, p.target, resp, err)
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		return nil, err
	}
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	return c.checkV2(p, resp)
}

// checkV2 turns an APIv2 answer into a *Response or an error: a status
// other than 2xx is an *APIError; return_code FAIL, or result_code FAIL in
// a verified answer, a *V2Error; a missing or wrong sign a *VerifyError.
func (c *Client) checkV2(p *v2Prepared, resp *fasthttp.Response) (*Response, error) {
	status := resp.StatusCode()
	body := append([]byte(nil), resp.Body()...)
	header := make(http.Header, 8)
	for k, v := range resp.Header.All() {
		header.Add(string(k), string(v))
	}
	if status < 200 || status > 299 {
		return nil, newAPIError(status, header, body)
	}
	r := &Response{StatusCode: status, Header: header, Body: body}
	unsigned := v2IsUnsigned(p.pathOnly)
	m, err := v2xml.Decode(body)
	if err != nil {
		if unsigned {
			return r, nil // a bill, text or gzip
		}
		return nil, fmt.Errorf("%w: POST %s: %v", ErrMalformedV2Response, p.target, err)
	}
	rc, ok := m["return_code"]
	switch {
	case !ok && unsigned:
		return r, nil
	case !ok:
		return nil, fmt.Errorf("%w: POST %s: no return_code", ErrMalformedV2Response, p.target)
	case rc != "SUCCESS":
		// WeChat Pay does not sign these answers; they carry no result.
		return nil, newV2Error(p.target, m, body, false)
	}
	if !unsigned {
		if err := c.verifyV2(m, p.signType); err != nil {
			return nil, &VerifyError{Method: http.MethodPost, Path: p.target, StatusCode: status, RequestID: header.Get("Request-Id"), Err: err}
		}
		r.Verified = true
	}
	if res, ok := m["result_code"]; ok && res != "SUCCESS" {
		return nil, newV2Error(p.target, m, body, r.Verified)
	}
	return r, nil
}

// verifyV2 checks the sign of an APIv2 answer with the APIv2 key. The
// algorithm follows the sign's length, but an answer to a request signed
// with HMAC-SHA256 must be signed with it too.
func (c *Client) verifyV2(m map[string]string, requestType string) error {
	sign := m["sign"]
	if sign == "" {
		return fmt.Errorf("%w: the APIv2 answer has no sign", ErrBadSignature)
	}
	if requestType == v2xml.HMACSHA256 && len(sign) != 64 {
		return fmt.Errorf("%w: the APIv2 answer is not signed with HMAC-SHA256, which the request used", ErrBadSignature)
	}
	if err := v2xml.Verify(m, "", c.v2.secret); err != nil {
		return fmt.Errorf("%w: APIv2 sign does not match the answer", ErrBadSignature)
	}
	return nil
}

// V2Error is the error of an APIv2 answer that reports a failure: return
// code FAIL (the request was refused: bad sign, bad parameter format, no
// certificate, ...) or, with return code SUCCESS, result code FAIL (the
// business failed: NOTENOUGH, ORDERNOTEXIST, SYSTEMERROR, ...). Match it
// with errors.As.
type V2Error struct {
	// Path is the path the request was sent to, such as
	// /secapi/pay/refund.
	Path string
	// ReturnCode and ReturnMsg are the communication result.
	ReturnCode string
	ReturnMsg  string
	// ResultCode, ErrCode and ErrCodeDes are the business result, empty
	// when ReturnCode is FAIL.
	ResultCode string
	ErrCode    string
	ErrCodeDes string
	// Verified reports that the answer's sign was checked and valid.
	// WeChat Pay does not sign return_code FAIL answers, nor the answers of
	// some endpoints (see docs/apiv2.md): such an error may not come from
	// WeChat Pay.
	Verified bool
	// Fields is the whole decoded answer.
	Fields map[string]string
	// Body is the raw XML answer.
	Body []byte
}

func newV2Error(path string, m map[string]string, body []byte, verified bool) *V2Error {
	return &V2Error{
		Path:       path,
		ReturnCode: m["return_code"],
		ReturnMsg:  m["return_msg"],
		ResultCode: m["result_code"],
		ErrCode:    m["err_code"],
		ErrCodeDes: m["err_code_des"],
		Verified:   verified,
		Fields:     m,
		Body:       body,
	}
}

func (e *V2Error) Error() string {
	var b strings.Builder
	b.WriteString("wxpay: APIv2 " + e.Path + ": ")
	if e.ReturnCode != "SUCCESS" {
		b.WriteString("return_code " + clip(e.ReturnCode))
		if e.ReturnMsg != "" {
			b.WriteString(": " + clip(e.ReturnMsg))
		}
	} else {
		b.WriteString("result_code " + clip(e.ResultCode))
		if e.ErrCode != "" {
			b.WriteString(" " + clip(e.ErrCode))
		}
		if e.ErrCodeDes != "" {
			b.WriteString(": " + clip(e.ErrCodeDes))
		}
	}
	if !e.Verified {
		b.WriteString(" [unsigned]")
	}
	return b.String()
}

// clip shortens a server-given text for an error message.
func clip(s string) string { return clipTo(s, 120) }

// clipTo returns s as valid UTF-8 of at most n runes, marked when cut.
func clipTo(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// Retryable reports whether WeChat Pay says the same request may be sent
// again unchanged (same out_refund_no, out_trade_no or partner_trade_no):
// err_code SYSTEMERROR, BIZERR_NEED_RETRY, FREQUENCY_LIMITED or FREQ_LIMIT.
// With a RetryPolicy whose CheckRetry is nil, APIv2 calls retry these.
func (e *V2Error) Retryable() bool {
	switch e.ErrCode {
	case "SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "FREQ_LIMIT":
		return true
	}
	return false
}

// XML returns the decoded APIv2 answer, each element's name to its text
// (resp.XML()["refund_id"]), or nil when the body is not a flat XML
// document (an APIv3 answer, or a bill from pay/downloadbill). It decodes
// the body on every call.
func (r *Response) XML() map[string]string {
	m, err := v2xml.Decode(r.Body)
	if err != nil {
		return nil
	}
	return m
}

// V2Notification is an APIv2 callback notification (XML), checked by
// ParseV2Notification. It comes in two kinds, and only what a kind
// protects is handed back as its data:
//
//   - A signed notification (a payment result): Signed is true and Fields
//     holds every element, all covered by the sign.
//   - A refund notification: WeChat Pay does not sign it; it protects only
//     req_info, encrypted with the APIv2 key. ReqInfo holds the decrypted
//     req_info, Fields is nil, and the elements around req_info (appid,
//     mch_id, nonce_str, ...) are in Unverified, which nothing vouches for.
//
// So a handler that reads Fields reads signed data only, whether or not it
// checks Signed: a forged body carrying a replayed req_info yields no
// payment fields.
type V2Notification struct {
	// Fields are the elements of a signed notification (return_code,
	// appid, mch_id, result_code, out_trade_no, total_fee, ...), every one
	// covered by the sign; nil for an unsigned refund notification.
	Fields map[string]string
	// ReqInfo is the decrypted req_info of a refund notification
	// (out_refund_no, refund_id, out_trade_no, refund_status,
	// settlement_refund_fee, success_time, ...), nil for other
	// notifications. It is the only content of a refund notification that
	// WeChat Pay protects.
	ReqInfo map[string]string
	// Unverified are the elements outside req_info of an unsigned refund
	// notification (return_code, appid, mch_id, nonce_str and anything
	// else the body held), as received: no sign covers them and anyone
	// could have written them. Use them for logging, never for business
	// decisions. Nil for a signed notification.
	Unverified map[string]string
	// Signed reports that the notification carried a valid sign. Payment
	// notifications are signed; refund notifications are not, their
	// req_info is encrypted instead.
	Signed bool
	// Body is the notification as received.
	Body []byte
}

// ParseV2Notification checks an APIv2 callback notification (the XML body
// WeChat Pay posts to a notify_url) with Config.APIv2Secret.
//
// A body with a sign must verify, with the sign_type it names or, when it
// names none, by the sign's length; its elements are returned in Fields
// (and a req_info it holds is decrypted into ReqInfo). A body without a
// sign is accepted only as a refund notification: its req_info must
// decrypt (AES-256-ECB under the MD5 of the APIv2 key), and then only the
// decrypted req_info is returned as data, in ReqInfo; the other elements
// go to Unverified. A mch_id, if present, must be the client's.
//
// Failures wrap ErrNoAPIv2Secret, ErrMalformedNotification (not a flat XML
// document, return_code not SUCCESS, another merchant, a req_info that is
// not a <root> document), ErrDecryptFailed (a req_info that does not
// decrypt) or ErrBadSignature (a sign that does not match, or neither a
// sign nor a req_info).
//
// Neither kind carries a timestamp, and ECB has no authentication: a
// req_info that decrypts may be an earlier refund notification replayed,
// or blocks of several pasted together. Handle notifications idempotently,
// and confirm a refund with pay/refundquery (or the APIv3 query) before
// acting on it.
func (c *Client) ParseV2Notification(body []byte) (*V2Notification, error) {
	if c.v2.secret == "" {
		return nil, ErrNoAPIv2Secret
	}
	m, err := v2xml.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	if rc := m["return_code"]; rc != "SUCCESS" {
		return nil, fmt.Errorf("%w: return_code %q", ErrMalformedNotification, clipTo(rc, 20))
	}
	for _, k := range [...]string{"mch_id", "mchid"} {
		if id, ok := m[k]; ok && id != c.mchID {
			return nil, fmt.Errorf("%w: %s %q is not the client's merchant %s", ErrMalformedNotification, k, clipTo(id, 32), c.mchID)
		}
	}
	n := &V2Notification{Body: append([]byte(nil), body...)}
	if ri, ok := m["req_info"]; ok {
		if n.ReqInfo, err = c.decryptReqInfo(ri); err != nil {
			return nil, err
		}
		if m["sign"] == "" {
			n.Unverified = m
			return n, nil
		}
	}
	if err := c.verifyV2Notification(m); err != nil {
		return nil, err
	}
	n.Fields, n.Signed = m, true
	return n, nil
}

// decryptReqInfo decrypts the req_info of a refund notification.
func (c *Client) decryptReqInfo(ri string) (map[string]string, error) {
	info, err := v2xml.DecryptReqInfo(ri, c.v2.secret)
	switch {
	case errors.Is(err, v2xml.ErrDecrypt):
		return nil, fmt.Errorf("%w: req_info", ErrDecryptFailed)
	case err != nil:
		return nil, fmt.Errorf("%w: decrypted req_info: %v", ErrMalformedNotification, err)
	}
	return info, nil
}

// verifyV2Notification checks the sign of a notification with the
// sign_type it names, or by the sign's length.
func (c *Client) verifyV2Notification(m map[string]string) error {
	typ := m["sign_type"]
	if typ != "" && typ != v2xml.MD5 && typ != v2xml.HMACSHA256 {
		return fmt.Errorf("%w: sign_type %q", ErrMalformedNotification, clipTo(typ, 20))
	}
	if err := v2xml.Verify(m, typ, c.v2.secret); err != nil {
		if errors.Is(err, v2xml.ErrNoSign) {
			return fmt.Errorf("wxpay: notification not trusted: %w: no sign", ErrBadSignature)
		}
		return fmt.Errorf("wxpay: notification not trusted: %w: APIv2 sign does not match", ErrBadSignature)
	}
	return nil
}

// V2Answer returns the XML answer to an APIv2 notification:
// returnCode SUCCESS (with returnMsg OK) acknowledges it; FAIL makes WeChat
// Pay send it again later.
func V2Answer(returnCode, returnMsg string) []byte {
	b, err := v2xml.Encode(map[string]string{"return_code": returnCode, "return_msg": returnMsg})
	if err != nil {
		b, _ = v2xml.Encode(map[string]string{"return_code": "FAIL", "return_msg": "invalid answer"})
	}
	return b
}

// V2NotificationHandler returns a net/http handler for APIv2 callback
// notifications (the notify_url of an APIv2 payment or refund). For each
// POST it reads the body (up to MaxNotificationSize), checks it as
// ParseV2Notification does and calls fn with the request's context and the
// notification.
//
// It answers 200 with return_code SUCCESS and return_msg OK when fn returns
// nil; otherwise an error status with return_code FAIL, so that WeChat Pay
// sends the notification again: 405 for a method other than POST, 413 for a
// body too large, 401 for a bad or missing sign, 400 for a notification
// that cannot be read or decrypted (one message for both), and 500 when fn
// fails or panics, or the client has no APIv2 key.
//
// fn gets signed data in n.Fields and, for a refund, the decrypted req_info
// in n.ReqInfo; never the unsigned elements of a refund notification as
// data (see V2Notification). fn must be idempotent: WeChat Pay may deliver
// a notification more than once, and nothing stops a refund notification
// from being replayed. Check the state of the order or refund with a query
// before acting on it.
func (c *Client) V2NotificationHandler(fn func(context.Context, *V2Notification) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := c.serveV2Notification(w, r, fn)
		body := V2Answer("SUCCESS", "OK")
		if status != http.StatusOK {
			body = V2Answer("FAIL", msg)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

func (c *Client) serveV2Notification(w http.ResponseWriter, r *http.Request, fn func(context.Context, *V2Notification) error) (int, string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, "method not allowed: want POST"
	}
	if r.ContentLength > MaxNotificationSize {
		return http.StatusRequestEntityTooLarge, "notification body too large"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationSize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, "notification body too large"
		}
		return http.StatusBadRequest, "notification body unreadable"
	}
	n, err := c.ParseV2Notification(body)
	switch {
	case errors.Is(err, ErrNoAPIv2Secret):
		return http.StatusInternalServerError, "notification receiver misconfigured"
	case errors.Is(err, ErrBadSignature):
		return http.StatusUnauthorized, "notification sign not verified"
	case err != nil:
		return http.StatusBadRequest, "notification not readable"
	}
	if err := callV2NotificationFunc(r.Context(), n, fn); err != nil {
		return http.StatusInternalServerError, "notification not processed"
	}
	return http.StatusOK, "OK"
}

func callV2NotificationFunc(ctx context.Context, n *V2Notification, fn func(context.Context, *V2Notification) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err = fmt.Errorf("wxpay: notification function panicked: %v", p)
		}
	}()
	return fn(ctx, n)
}
