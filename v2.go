package wxpay

// This file holds the APIv2 (XML) request: chains whose path starts with v2/
// are sent here by Chain.Do (protocol.go). doV2 makes the call: prepareV2
// checks the options and builds the signed body (checkV2Options,
// setV2Target, setV2Body, checkV2Security), withRetries (retry.go) makes
// the attempts, and each attempt is sent (send, transport.go) and its answer
// checked, sign included (checkV2, v2response.go). APIv2 notifications are
// read in v2notify.go. The XML encoding, signing and req_info decryption
// live in the v2xml package.

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
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
var v2OptionKeys = [...]string{"xml", "security", "nonceless", "headers", "debug"}

// acceptV2 is the Accept header of APIv2 requests: XML answers, and the
// text or gzip files of the bill downloads.
const acceptV2 = "text/xml, text/plain, application/x-gzip"

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

// v2Prepared is an APIv2 request ready to be sent.
type v2Prepared struct {
	target    string // path as sent, base path included
	pathOnly  string // path below the base, without v2/
	body      []byte
	signType  string
	security  bool
	headers   [][2]string // the headers option over Config.Headers (headers.go)
	ownAccept bool        // headers hold an Accept, which replaces the client's
	debug     *debugLog   // where the call is logged, nil if it is not (debug.go)
	deadline  time.Time   // when the call must be over, see callDeadline
}

// prepareV2 checks the options of an APIv2 call and builds its signed
// body.
func (c *Client) prepareV2(method string, ch Chain, opts Opts) (*v2Prepared, error) {
	if err := checkV2Options(method, ch, opts); err != nil {
		return nil, err
	}
	if c.v2.secret == "" {
		return nil, ErrNoAPIv2Secret
	}
	p := &v2Prepared{}
	if err := c.setV2Target(p, ch, opts); err != nil {
		return nil, err
	}
	var err error
	if p.debug, err = c.debugFor(opts); err != nil { // debug.go
		return nil, err
	}
	if p.security, err = boolOption(opts, "security"); err != nil {
		return nil, err
	}
	if err := c.setV2Body(p, opts); err != nil {
		return nil, err
	}
	if err := c.checkV2Security(p); err != nil {
		return nil, err
	}
	var own [][2]string
	if hv, ok := option(opts, "headers"); ok {
		if own, err = headerList(hv); err != nil {
			return nil, err
		}
		if err := checkSingleValues(own); err != nil {
			return nil, err
		}
	}
	p.headers = mergeHeaders(c.headers, own) // headers.go
	p.ownAccept = hasHeader(p.headers, "Accept")
	return p, nil
}

// checkV2Options checks the method, POST, and that every key of opts is an
// APIv2 option or a placeholder of the path.
func checkV2Options(method string, ch Chain, opts Opts) error {
	if !strings.EqualFold(method, http.MethodPost) {
		return fmt.Errorf("%w: method %s: APIv2 calls are POST", ErrInvalidOption, method)
	}
	for _, k := range sortedKeys(opts) {
		if isV2OptionKey(k) || hasPlaceholder(ch.tmpl, k) {
			continue
		}
		switch k {
		case "json", "body", "query", "encrypt":
			return fmt.Errorf("%w: %q is not an APIv2 option: give the request parameters in xml", ErrInvalidOption, k)
		}
		msg := fmt.Sprintf("unknown key %q: not a placeholder of %s nor an APIv2 option (%s)", k, ch.String(), strings.Join(v2OptionKeys[:], ", "))
		msg += didYouMean(k, v2OptionKeys[:])
		return fmt.Errorf("%w: %s", ErrInvalidOption, msg)
	}
	return nil
}

// setV2Target sets the path of an APIv2 call: the chain's path without
// v2/, below the base URL, its placeholders filled from opts, with no
// query.
func (c *Client) setV2Target(p *v2Prepared, ch Chain, opts Opts) error {
	rel := strings.TrimPrefix(ch.tmpl[2:], "/")
	if rel == "" {
		return fmt.Errorf("%w: %s names no APIv2 endpoint", ErrInvalidPath, ch.tmpl)
	}
	target := append(make([]byte, 0, len(c.basePath)+len(rel)+16), c.basePath...)
	start := len(target)
	target, err := expand(target, rel, opts)
	if err != nil {
		return fmt.Errorf("%w (path %s)", err, ch.tmpl)
	}
	if strings.IndexByte(string(target[start:]), '?') >= 0 {
		return fmt.Errorf("%w: an APIv2 path has no query", ErrInvalidPath)
	}
	p.target, p.pathOnly = string(target), string(target[start:])
	return nil
}

// setV2Body makes the signed XML body of an APIv2 call from the xml
// option: the client's merchant id checked, a nonce_str added (unless
// nonceless), and the sign made with the APIv2 key, by MD5 or by the
// HMAC-SHA256 its sign_type asks for.
func (c *Client) setV2Body(p *v2Prepared, opts Opts) error {
	nonceless, err := boolOption(opts, "nonceless")
	if err != nil {
		return err
	}
	params, err := v2Params(opts["xml"])
	if err != nil {
		return err
	}
	if err := c.checkV2MchID(params); err != nil {
		return err
	}
	if !nonceless && params["nonce_str"] == "" {
		params["nonce_str"] = signer.Nonce()
	}
	p.signType = params["sign_type"]
	switch p.signType {
	case "", v2xml.MD5, v2xml.HMACSHA256:
	default:
		return fmt.Errorf("%w: xml sign_type %q: want MD5 (the default) or HMAC-SHA256", ErrInvalidOption, clipTo(p.signType, 20))
	}
	delete(params, "sign")
	sign, err := v2xml.Sign(params, p.signType, c.v2.secret)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOption, err)
	}
	params["sign"] = sign
	if p.body, err = v2xml.Encode(params); err != nil {
		return fmt.Errorf("%w: xml: %v", ErrInvalidOption, err)
	}
	return nil
}

// checkV2Security requires the security option for the paths that need
// the merchant's TLS client certificate, and the certificate and https for
// the option.
func (c *Client) checkV2Security(p *v2Prepared) error {
	if v2NeedsCert(p.pathOnly) && !p.security {
		return fmt.Errorf("%w: %s needs the merchant's TLS client certificate: add \"security\": true", ErrInvalidOption, p.pathOnly)
	}
	if !p.security {
		return nil
	}
	if c.v2.sec == nil {
		return fmt.Errorf("%w: the security option needs Config.TLSCertificate (the merchant API certificate and its key)", ErrInvalidConfig)
	}
	if c.scheme != "https" {
		return fmt.Errorf("%w: the security option needs an https BaseURL: the client certificate is presented in the TLS handshake", ErrInvalidConfig)
	}
	return nil
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
	plan := callPlan{deadline: p.deadline, primary: primary, failover: c.backup != "", check: defaultV2CheckRetry}
	return c.withRetries(ctx, plan, func(origin string, n int) (*Response, error) { // retry.go
		return c.attemptV2(ctx, hc, p, origin, n)
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

// attemptV2 sends p once to origin as attempt number n, through the
// client's middleware if any, and checks the answer.
func (c *Client) attemptV2(ctx context.Context, hc *fasthttp.Client, p *v2Prepared, origin string, n int) (*Response, error) {
	req := fasthttp.AcquireRequest()
	req.Header.DisableNormalizing()
	req.SetRequestURI(origin + p.target)
	req.Header.SetMethod(http.MethodPost)
	req.Header.SetContentType("text/xml; charset=utf-8")
	c.putHeaders(req, acceptV2, p.ownAccept, p.headers) // headers.go: a Content-Type there replaces this one
	req.SetBodyRaw(p.body)

	// Each branch has its own closure, as in attempt (do.go).
	if c.middleware != nil {
		t := &trip{hc: hc, method: http.MethodPost, origin: origin, target: p.target, deadline: p.deadline, attempt: n, debug: p.debug, v2: true}
		return c.throughMiddleware(ctx, t, req, func(resp *fasthttp.Response) (*Response, error) { // middleware.go
			return c.checkV2(p, resp)
		})
	}
	t := trip{hc: hc, method: http.MethodPost, origin: origin, target: p.target, deadline: p.deadline, attempt: n, debug: p.debug, v2: true}
	return c.sendAndCheck(ctx, &t, req, func(resp *fasthttp.Response) (*Response, error) { // transport.go
		return c.checkV2(p, resp) // v2response.go
	})
}
