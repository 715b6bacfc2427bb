package wxpay

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultBaseURL is the WeChat Pay API's primary domain, used when
// Config.BaseURL is empty.
const DefaultBaseURL = "https://api.mch.weixin.qq.com/"

// BackupBaseURL is the WeChat Pay API's backup domain, served from another
// region. Signed requests may go there as well as to DefaultBaseURL.
const BackupBaseURL = "https://api2.mch.weixin.qq.com/"

// Config describes a merchant and the WeChat Pay endpoint it talks to. Only
// MchID, Serial, PrivateKey and Certs are required. LoadConfig reads the
// merchant's part from a config file (wxpay.json, the file `wxpay emulator`
// writes).
type Config struct {
	// MchID is the merchant id (商户号) requests are signed for.
	MchID string
	// Serial is the serial number of the merchant API certificate
	// (商户API证书序列号). It must not be one of the Certs serials.
	Serial string
	// PrivateKey is the merchant API private key, an *rsa.PrivateKey of at
	// least 2048 bits in practice (any crypto.Signer with an RSA public key
	// works, at the cost of the fast path; its signatures are checked
	// with its public key before use).
	PrivateKey crypto.Signer
	// Certs are the WeChat Pay keys responses are verified with and sensitive
	// fields are encrypted with, by platform certificate serial or WeChat Pay
	// public-key id (PUB_KEY_ID_...). At least one is required; both kinds
	// may be given at once during a migration. The map is copied by New.
	Certs map[string]*rsa.PublicKey
	// APIv3Key is the merchant's APIv3 key, used to decrypt callback
	// notifications and platform certificates. Optional; when set it must be
	// 32 bytes.
	APIv3Key string
	// APIv2Secret is the merchant's APIv2 key (API密钥), the shared secret
	// APIv2 (v2/...) requests and answers are signed with and APIv2 refund
	// notifications are encrypted with. Needed only for APIv2; when set it
	// must be 32 bytes.
	APIv2Secret string
	// TLSCertificate is the merchant API certificate with its private key
	// (apiclient_cert.pem and apiclient_key.pem, as tls.LoadX509KeyPair
	// reads them), presented as the TLS client certificate by the APIv2
	// calls made with the security option (secapi/..., mmpaymkttransfers/...).
	// Optional; those calls are refused without it.
	TLSCertificate *tls.Certificate
	// RootCAs, if set, are the certificate authorities server certificates
	// are checked against, instead of the system's: an emulator's, say. It
	// applies to the default transport and to the security option's.
	RootCAs *x509.CertPool
	// BaseURL is where requests go. If empty, DefaultBaseURL is used. An
	// http:// URL is accepted only for a loopback host (an emulator).
	BaseURL string

	// Timeout bounds one call when the context has no earlier deadline:
	// the rate limiter's wait, every attempt (dial, write, wait, read) and
	// the waits between attempts, together. No wait starts that would end
	// past it; an attempt it cuts short fails with a *NetworkError wrapping
	// context.DeadlineExceeded, and a call whose time runs out before its
	// request is sent (a slow remote signer or middleware) fails with an
	// error wrapping context.DeadlineExceeded that is no *NetworkError:
	// nothing was sent. The streamed downloads (Chain.Download,
	// DownloadBill, ...) are bounded by their context only; there Timeout
	// bounds each read. If zero, DefaultTimeout is used.
	Timeout time.Duration
	// MaxResponseBodySize caps a response body in bytes. If zero,
	// DefaultMaxResponseBodySize is used.
	MaxResponseBodySize int
	// UserAgent is sent with every request. If empty, DefaultUserAgent is
	// used.
	UserAgent string
	// Headers, if set, are sent with every request (APIv3, APIv2 and the
	// downloads), under a call's own: a header the headers option gives,
	// in any case, replaces the one here. Each value of a header is sent;
	// User-Agent and Wechatpay-Serial take one value, not empty, and
	// Content-Type, which belongs to a body, and the headers the client
	// sets itself (Authorization, Host, Content-Length,
	// Transfer-Encoding, Connection) are refused. An Accept here replaces the client's. The
	// map is copied by New.
	Headers http.Header
	// OnNotificationError, if set, is called by NotificationHandler,
	// FasthttpNotificationHandler and V2NotificationHandler with the reason
	// each refused notification was refused (a bad signature, a malformed
	// body, ...) or the error the handler's function returned, for logging
	// and alerting. It runs on the
	// request's goroutine before the answer is written: it must be quick and
	// safe for concurrent use. The errors hold no secret.
	OnNotificationError func(error)

	// Debug, if set, receives a transcript of every call: for each
	// attempt, the request line, headers and body as sent, then the
	// status, headers and body received, how long the exchange took and
	// what the check of the answer found. What is derived from a key is
	// elided: the signature in the Authorization header, the sign of an
	// APIv2 body, an APIv2 sandbox_signkey; a download URL's token is
	// redacted as in errors. A
	// call's debug option overrides it. Writes are serialized per client;
	// each block is one Write. Meant for development: bodies hold personal
	// data.
	Debug io.Writer
	// Middleware wraps each attempt's exchange, the first outermost, for
	// logging, metrics or tracing: each sees every attempt of every call
	// (APIv3, APIv2, certificate and file downloads) after it is signed,
	// as an ExchangeRequest, and its checked answer, and may add
	// unsigned headers or end the attempt with an error, but never change
	// what was signed. See Middleware and docs/porting-from-php.md.
	Middleware []Middleware

	// Retry, if set, makes calls retry what WeChat Pay says may be retried
	// (see RetryPolicy). If nil, every call is sent once.
	Retry *RetryPolicy
	// BackupURL is where requests go while the primary cannot be reached.
	// If empty and BaseURL is the default, BackupBaseURL is used; for any
	// other BaseURL failover is off unless BackupURL is set. It must have
	// the same path as BaseURL.
	BackupURL string
	// DisableFailover keeps every request on BaseURL.
	DisableFailover bool
	// FailoverFor is how long requests stay on the backup after the primary
	// failed to answer at the connection level (refused, reset, timed out
	// within Timeout); then they go back to the primary. Two failures never
	// start a failover: a call ended by its context (its deadline or a
	// cancellation), and a kept-alive connection the primary closed before
	// answering (the primary was reachable). If zero, DefaultFailoverFor is
	// used.
	FailoverFor time.Duration
	// RateLimit, if positive, caps the requests the client sends per
	// second (every attempt counts), so that a batch job stays under
	// WeChat Pay's limits (150 qps for abnormal refunds, 6 qps for
	// erroneous refund requests) instead of tripping FREQUENCY_LIMITED.
	RateLimit float64
	// RateBurst is how many requests may leave at once under RateLimit. If
	// zero, 1.
	RateBurst int

	// Checker, if set, checks every APIv3 request against a description
	// of the API before it is signed: catalog.Checker() checks it against
	// its operation in the catalogue of every APIv3 operation (missing
	// required fields, wrong types, values outside an enum, unknown
	// endpoints, sensitive fields in plain text, ...). It runs after the
	// encrypt option, on the request as it would be sent. A request it
	// refuses is not sent; the error wraps
	// ErrInvalidOption and the Checker's own (errors.As finds a
	// *catalog.CheckError or *catalog.UnknownEndpointError). It also
	// knows the sensitive fields that the encrypt option true encrypts
	// and that DecryptResponse decrypts. If nil, requests are sent
	// unchecked, at no cost. APIv2 calls are never checked.
	Checker Checker

	// Transport is the fasthttp client requests are sent with. If nil, a
	// client with keep-alive connections, TLS 1.2 or later with certificate
	// verification, and the timeouts above is used; before it reuses a
	// kept-alive connection, it checks that the server has not closed it
	// meanwhile (see docs/reliability.md). A Transport given here must set
	// DisablePathNormalizing (the path goes out as signed) and
	// MaxIdemponentCallAttempts: 1 (fasthttp would otherwise resend a request
	// with its old Authorization); New checks both. It gets no such check: a
	// call that finds a kept-alive connection closed fails with a
	// *NetworkError. fasthttp's Client.Do never follows redirects.
	Transport *fasthttp.Client
}

// DefaultFailoverFor is how long requests stay on the backup domain when
// Config.FailoverFor is zero.
const DefaultFailoverFor = time.Minute

// DefaultTimeout is the per-call timeout when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultMaxResponseBodySize is the response size cap when
// Config.MaxResponseBodySize is zero: 16 MiB, far above any JSON answer.
const DefaultMaxResponseBodySize = 16 << 20

// Version is the version of this module, sent in the User-Agent.
const Version = "0.1.0"

// DefaultUserAgent is the User-Agent sent when Config.UserAgent is empty.
const DefaultUserAgent = "wxpay-go/" + Version

// String describes the config with its secrets redacted: the private key,
// the APIv3 key, the APIv2 secret and the client certificate's key are never
// printed, so a Config can be logged with %v or %+v.
func (c Config) String() string {
	set := func(ok bool) string {
		if ok {
			return "[set]"
		}
		return "[none]"
	}
	serials := make([]string, 0, len(c.Certs))
	for s := range c.Certs {
		serials = append(serials, s)
	}
	sort.Strings(serials)
	return fmt.Sprintf("wxpay.Config{MchID: %s, Serial: %s, PrivateKey: %s, Certs: [%s], APIv3Key: %s, APIv2Secret: %s, TLSCertificate: %s, BaseURL: %s}",
		c.MchID, c.Serial, set(c.PrivateKey != nil), strings.Join(serials, ","), set(c.APIv3Key != ""), set(c.APIv2Secret != ""), set(c.TLSCertificate != nil), c.BaseURL)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }
