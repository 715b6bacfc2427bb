package wxpay

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Client signs, sends and verifies WeChat Pay APIv3 calls for one merchant.
// Create it with New and share it: a Client is safe for concurrent use and
// keeps its connections alive between calls. Copying a Client by value is
// not allowed; use the *Client.
type Client struct {
	mchID    string
	signer   *signer.Signer
	verifier *verifier.Verifier
	merchant *rsa.PrivateKey // nil when the key is not an *rsa.PrivateKey
	apiv3Key []byte
	v2       v2Client // APIv2 key and client-certificate transport, see v2.go

	scheme   string // "https" or "http"
	host     string // host[:port] of BaseURL
	basePath string // path of BaseURL, always ending in '/'
	allowed  map[string]bool

	backup        string // scheme://host of the backup, "" when failover is off
	failoverFor   time.Duration
	failoverUntil atomic.Int64 // unix nanoseconds; requests go to backup before it
	retry         *RetryPolicy
	limiter       *limiter

	onNotificationError func(error)
	checker             Checker // nil: requests are not checked

	middleware Exchange   // Config.Middleware around the exchange, nil without (middleware.go)
	debugW     io.Writer  // Config.Debug
	debugMu    sync.Mutex // one block of the debug log at a time (debug.go)
	debugSeq   atomic.Uint64

	hc        *fasthttp.Client
	timeout   time.Duration
	userAgent string
	headers   [][2]string // Config.Headers, checked (headers.go)
	now       func() time.Time
}

// New checks cfg and returns a Client for it. Every problem with cfg is
// reported in an error wrapping ErrInvalidConfig that names the field; key
// material never appears in it.
func New(cfg Config) (*Client, error) { return newClient(cfg, false) }

// BootstrapCertificates downloads the WeChat Pay platform certificates for a
// merchant that has no WeChat Pay key yet: cfg.Certs may be empty. Without a
// trusted key nothing vouches for the answer but the APIv3 key (the
// certificates must decrypt with it) and the answer's own signature, made by
// one of the certificates it carries: this is trust on first use, and tofu
// reports it. Check the serials on the merchant platform (商户平台) before
// trusting them. When cfg.Certs holds a key that signed the answer, it is an
// ordinary verified download and tofu is false.
func BootstrapCertificates(ctx context.Context, cfg Config) (certs []Certificate, tofu bool, err error) {
	if ctx == nil {
		return nil, false, errNilContext
	}
	c, err := newClient(cfg, true)
	if err != nil {
		return nil, false, err
	}
	if c.apiv3Key == nil {
		// Both sentinels match: a config problem, and the one that
		// DownloadCertificates reports for the same cause.
		return nil, false, &sentinels{msg: ErrNoAPIv3Key.Error() + ": BootstrapCertificates needs it to decrypt the certificates", is: []error{ErrNoAPIv3Key, ErrInvalidConfig}}
	}
	return c.DownloadCertificatesTOFU(ctx)
}

func newClient(cfg Config, allowNoCerts bool) (*Client, error) {
	c := &Client{now: time.Now, onNotificationError: cfg.OnNotificationError, checker: cfg.Checker}
	// Each step checks its fields of cfg; the first problem is the error.
	err := c.setSigner(cfg)
	if err == nil {
		err = c.setVerifier(cfg, allowNoCerts)
	}
	if err == nil {
		err = c.setLimits(cfg)
	}
	if err == nil {
		err = c.setEndpoints(cfg)
	}
	if err == nil {
		err = c.setReliability(cfg)
	}
	if err == nil {
		err = c.setTransport(cfg)
	}
	if err == nil {
		err = c.setupV2(cfg) // v2.go
	}
	if err == nil {
		err = c.setObservers(cfg) // middleware.go
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return c, nil
}

// setSigner checks the merchant's id, certificate serial and private key,
// and makes the signer.
func (c *Client) setSigner(cfg Config) error {
	if cfg.MchID == "" {
		return errors.New("MchID is empty")
	}
	for _, r := range cfg.MchID {
		if r < '0' || r > '9' {
			return fmt.Errorf("MchID %q: want the digits of a merchant id", cfg.MchID)
		}
	}
	if cfg.Serial == "" {
		return errors.New("Serial (the merchant API certificate serial) is empty")
	}
	if cfg.PrivateKey == nil {
		return errors.New("PrivateKey is nil")
	}
	s, err := signer.New(cfg.MchID, cfg.Serial, cfg.PrivateKey)
	if err != nil {
		return err
	}
	c.mchID, c.signer = cfg.MchID, s
	if k, ok := cfg.PrivateKey.(*rsa.PrivateKey); ok {
		c.merchant = k
	}
	return nil
}

// setVerifier checks the WeChat Pay keys, which a certificate bootstrap
// may go without, and the APIv3 key.
func (c *Client) setVerifier(cfg Config, allowNoCerts bool) error {
	if len(cfg.Certs) == 0 && !allowNoCerts {
		return errors.New("Certs is empty: give at least one WeChat Pay public key or platform certificate, by its id or serial")
	}
	if _, ok := cfg.Certs[cfg.Serial]; ok {
		return fmt.Errorf("Serial %s is also in Certs: the merchant certificate serial is not a WeChat Pay key", cfg.Serial)
	}
	merchantPub := c.signer.Public()
	for serial, k := range cfg.Certs {
		if k != nil && k.N != nil && k.Equal(merchantPub) { // verifier.New refuses the rest
			return fmt.Errorf("Certs[%s] is the merchant's own public key, not a WeChat Pay key", serial)
		}
	}
	v, err := verifier.New(cfg.Certs)
	if err != nil {
		return fmt.Errorf("Certs: %v", err)
	}
	c.verifier = v
	if cfg.APIv3Key != "" && len(cfg.APIv3Key) != 32 {
		return fmt.Errorf("APIv3Key is %d bytes, want 32", len(cfg.APIv3Key))
	}
	if cfg.APIv3Key != "" {
		c.apiv3Key = []byte(cfg.APIv3Key)
	}
	return nil
}

// setLimits checks the timeout, the response size cap and the default
// headers, and sets them, the User-Agent, or their defaults.
func (c *Client) setLimits(cfg Config) error {
	if cfg.Timeout < 0 {
		return fmt.Errorf("Timeout %v is negative", cfg.Timeout)
	}
	if cfg.MaxResponseBodySize < 0 {
		return fmt.Errorf("MaxResponseBodySize %d is negative", cfg.MaxResponseBodySize)
	}
	var err error
	if c.headers, err = defaultHeaders(cfg.Headers); err != nil { // headers.go
		return err
	}
	c.timeout, c.userAgent = cfg.Timeout, cfg.UserAgent
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return nil
}

// setEndpoints checks the base URL and the backup, if any.
func (c *Client) setEndpoints(cfg Config) error {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if err := c.setBase(base); err != nil {
		return fmt.Errorf("BaseURL: %v", err)
	}
	if err := c.setBackup(cfg, base); err != nil {
		return fmt.Errorf("BackupURL: %v", err)
	}
	return nil
}

// setReliability checks the retry policy and the rate limit (retry.go,
// ratelimit.go).
func (c *Client) setReliability(cfg Config) error {
	if cfg.Retry != nil {
		r := *cfg.Retry
		if r.MaxAttempts < 0 || r.MinWait < 0 || r.MaxWait < 0 {
			return errors.New("Retry: negative MaxAttempts or wait")
		}
		c.retry = &r
	}
	if cfg.RateLimit < 0 || cfg.RateBurst < 0 {
		return errors.New("RateLimit and RateBurst must not be negative")
	}
	if cfg.RateLimit > 0 {
		c.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	return nil
}

// setTransport checks a Transport given in cfg, or makes the default one
// (transport.go).
func (c *Client) setTransport(cfg Config) error {
	if t := cfg.Transport; t != nil {
		if !t.DisablePathNormalizing {
			return errors.New("Transport: set DisablePathNormalizing, so that the path goes out exactly as it was signed")
		}
		if t.MaxIdemponentCallAttempts != 1 {
			return errors.New("Transport: set MaxIdemponentCallAttempts to 1; fasthttp would resend a request with its old Authorization (use Config.Retry for retries)")
		}
		c.hc = t
		return nil
	}
	c.hc = c.newTransport(cfg, &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}, nil)
	return nil
}

// setBase parses and checks the base URL and works out the hosts signed
// requests may go to.
func (c *Client) setBase(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme %q, want https", u.Scheme)
	case u.Host == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("user info is not allowed")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return errors.New("query and fragment are not allowed")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("http:// is allowed only for a loopback host (an emulator), not %s", u.Hostname())
	}
	c.scheme = u.Scheme
	c.host = strings.ToLower(u.Host)
	c.basePath = u.EscapedPath()
	if !strings.HasSuffix(c.basePath, "/") {
		c.basePath += "/"
	}
	c.allowed = map[string]bool{c.scheme + "://" + c.host: true}
	if c.scheme == "https" && (c.host == "api.mch.weixin.qq.com" || c.host == "api2.mch.weixin.qq.com") {
		c.allowed["https://api.mch.weixin.qq.com"] = true
		c.allowed["https://api2.mch.weixin.qq.com"] = true
	}
	return nil
}

// setBackup works out the backup origin, if failover is on.
func (c *Client) setBackup(cfg Config, base string) error {
	c.failoverFor = cfg.FailoverFor
	if c.failoverFor <= 0 {
		c.failoverFor = DefaultFailoverFor
	}
	if cfg.DisableFailover {
		return nil
	}
	raw := cfg.BackupURL
	if raw == "" {
		if base != DefaultBaseURL && strings.TrimSuffix(base, "/") != strings.TrimSuffix(DefaultBaseURL, "/") {
			return nil
		}
		raw = BackupBaseURL
	}
	b := &Client{}
	if err := b.setBase(raw); err != nil {
		return err
	}
	if b.basePath != c.basePath {
		return fmt.Errorf("path %q differs from BaseURL's %q", b.basePath, c.basePath)
	}
	c.backup = b.scheme + "://" + b.host
	if c.backup == c.scheme+"://"+c.host {
		return errors.New("same as BaseURL")
	}
	for h := range b.allowed {
		c.allowed[h] = true
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the client without its keys, so that printing a Client
// (or a struct holding one) never shows a secret.
func (c *Client) String() string {
	return fmt.Sprintf("wxpay.Client{MchID: %s, Serial: %s, BaseURL: %s://%s%s, Certs: %s}",
		c.mchID, c.signer.Serial(), c.scheme, c.host, c.basePath, strings.Join(c.verifier.Serials(), ","))
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// MchID returns the merchant id the client signs for.
func (c *Client) MchID() string { return c.mchID }

// Serials returns the serials of the WeChat Pay keys the client trusts.
func (c *Client) Serials() []string { return c.verifier.Serials() }

// Verifier returns the verifier holding the trusted WeChat Pay keys. Its
// SetKeys (or SetTrustedKeys, for keys with their certificate's validity
// period) replaces them while the client is in use.
func (c *Client) Verifier() *verifier.Verifier { return c.verifier }
