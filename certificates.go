package wxpay

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// certificatesPath is the API that lists the platform certificates.
const certificatesPath = "v3/certificates"

// Certificate is a WeChat Pay platform certificate (平台证书), as
// DownloadCertificates returns it: decrypted with the APIv3 key, parsed and
// checked to carry the serial it is listed under.
type Certificate struct {
	// Serial is the certificate serial in upper-case hexadecimal, the form
	// of the Wechatpay-Serial header.
	Serial string
	// EffectiveTime and ExpireTime bound the period WeChat Pay signs with
	// the certificate.
	EffectiveTime time.Time
	ExpireTime    time.Time
	// Certificate is the parsed X.509 certificate.
	Certificate *x509.Certificate
	// PEM is the certificate in PEM form, to write to a file.
	PEM []byte
}

// PublicKey returns the certificate's RSA public key, the key to put in
// Config.Certs under Serial.
func (c Certificate) PublicKey() *rsa.PublicKey {
	k, _ := c.Certificate.PublicKey.(*rsa.PublicKey)
	return k
}

// TrustedKey returns the certificate's public key with its validity period
// (EffectiveTime to ExpireTime), for Verifier.SetTrustedKeys: a key whose
// period is known lets the encrypt option pick the newest certificate.
func (c Certificate) TrustedKey() verifier.TrustedKey {
	return verifier.TrustedKey{PublicKey: c.PublicKey(), NotBefore: c.EffectiveTime, NotAfter: c.ExpireTime}
}

// DownloadCertificates lists the WeChat Pay platform certificates with GET
// v3/certificates. The answer must verify with a key the client already
// trusts (Config.Certs, or keys a CertificateRefresher added), like every
// answer; each certificate is then decrypted with Config.APIv3Key
// (AEAD_AES_256_GCM), parsed, and checked to carry the serial it is listed
// under (a certificate that does not decrypt is an error wrapping
// ErrDecryptFailed). Merchants who trust only a WeChat Pay public key (PUB_KEY_ID_...)
// can use it to fetch the certificates during a migration; one who trusts no
// key that signs this answer needs DownloadCertificatesTOFU. A client made
// without Config.APIv3Key gets an error wrapping ErrNoAPIv3Key, before
// anything is sent.
//
// https://pay.weixin.qq.com/doc/v3/merchant/4012551764
func (c *Client) DownloadCertificates(ctx context.Context) ([]Certificate, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if c.apiv3Key == nil {
		return nil, fmt.Errorf("%w: DownloadCertificates needs it to decrypt the certificates", ErrNoAPIv3Key)
	}
	resp, err := c.Chain(certificatesPath).Do(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	return c.parseCertificates(resp.Body)
}

// DownloadCertificatesTOFU is DownloadCertificates for a client that may
// not yet trust the key the answer is signed with: trust on first use
// (TOFU). If the answer verifies with a trusted key, it behaves as
// DownloadCertificates and tofu is false. If the answer is signed under a
// serial the client does not know, the certificates are decrypted with the
// APIv3 key and the answer must verify with the one of them its
// Wechatpay-Serial names; then tofu is true.
//
// In TOFU mode nothing vouches for the answer but the APIv3 key: only a
// party that knows it can produce certificates that decrypt, so keep that
// key secret, and prefer to check the serials against the merchant platform
// (商户平台) before trusting them for good. A signature that fails for any
// other reason (a bad signature, a clock skew, a probe) is never accepted.
func (c *Client) DownloadCertificatesTOFU(ctx context.Context) (certs []Certificate, tofu bool, err error) {
	if ctx == nil {
		return nil, false, errNilContext
	}
	if c.apiv3Key == nil {
		return nil, false, fmt.Errorf("%w: DownloadCertificatesTOFU needs it to decrypt the certificates", ErrNoAPIv3Key)
	}
	resp, h, err := c.getUnverified(ctx, c.Chain(certificatesPath))
	if err != nil {
		return nil, false, err
	}
	verifyErr := func(err error) error {
		return &VerifyError{Method: http.MethodGet, Path: "/" + certificatesPath, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("Request-Id"), Err: err,
			UntrustedHeader: resp.Header, UntrustedBody: resp.Body}
	}
	verr := c.verifier.Verify(h, resp.Body, nil)
	if verr != nil && !errors.Is(verr, ErrUnknownSerial) {
		return nil, false, verifyErr(verr)
	}
	certs, err = c.parseCertificates(resp.Body)
	if err != nil {
		return nil, false, err
	}
	if verr == nil {
		return certs, false, nil
	}
	keys := make(map[string]*rsa.PublicKey, len(certs))
	for _, ct := range certs {
		keys[ct.Serial] = ct.PublicKey()
	}
	v, err := verifier.New(keys)
	if err != nil {
		return nil, false, fmt.Errorf("wxpay: %s: %w", certificatesPath, err)
	}
	v.MaxSkew, v.Now = c.verifier.MaxSkew, c.verifier.Now
	if err := v.Verify(h, resp.Body, nil); err != nil {
		return nil, false, verifyErr(err)
	}
	return certs, true, nil
}

// parseCertificates decrypts and checks the data of a v3/certificates
// answer.
func (c *Client) parseCertificates(body []byte) ([]Certificate, error) {
	var list struct {
		Data []struct {
			SerialNo           string `json:"serial_no"`
			EffectiveTime      string `json:"effective_time"`
			ExpireTime         string `json:"expire_time"`
			EncryptCertificate struct {
				Algorithm      string `json:"algorithm"`
				Nonce          string `json:"nonce"`
				AssociatedData string `json:"associated_data"`
				Ciphertext     string `json:"ciphertext"`
			} `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("wxpay: %s: answer is not a certificate list: %v", certificatesPath, err)
	}
	out := make([]Certificate, 0, len(list.Data))
	for _, d := range list.Data {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("wxpay: %s: certificate %q: "+format, append([]any{certificatesPath, d.SerialNo}, a...)...)
		}
		e := d.EncryptCertificate
		if e.Algorithm != "AEAD_AES_256_GCM" {
			return nil, bad("algorithm %q, want AEAD_AES_256_GCM", e.Algorithm)
		}
		pem, err := openCertificate(c.apiv3Key, e.Nonce, e.AssociatedData, e.Ciphertext)
		if err != nil {
			return nil, bad("%w", err)
		}
		cert, serial, err := rsaenc.ParseCertificate(pem)
		if err != nil {
			return nil, bad("%v", err)
		}
		if n, ok := new(big.Int).SetString(d.SerialNo, 16); !ok || n.Cmp(cert.SerialNumber) != 0 {
			return nil, bad("the certificate's serial is %s", serial)
		}
		ct := Certificate{Serial: d.SerialNo, Certificate: cert, PEM: pem}
		if ct.EffectiveTime, err = time.Parse(time.RFC3339, d.EffectiveTime); err != nil {
			return nil, bad("effective_time %q is not an RFC 3339 time", d.EffectiveTime)
		}
		if ct.ExpireTime, err = time.Parse(time.RFC3339, d.ExpireTime); err != nil {
			return nil, bad("expire_time %q is not an RFC 3339 time", d.ExpireTime)
		}
		out = append(out, ct)
	}
	return out, nil
}

// openCertificate decrypts an encrypt_certificate with the APIv3 key:
// AES-256-GCM, the nonce and associated data as given, the ciphertext in
// base64 with the 16-byte tag at its end.
func openCertificate(key []byte, nonce, ad, ciphertext string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, errors.New("ciphertext is not base64")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("the APIv3 key is not an AES-256 key")
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(nonce))
	if len(nonce) == 0 || err != nil {
		return nil, fmt.Errorf("nonce of %d bytes is unusable", len(nonce))
	}
	pt, err := gcm.Open(nil, []byte(nonce), ct, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("%w with the APIv3 key (wrong key, or altered)", ErrDecryptFailed)
	}
	return pt, nil
}

// getUnverified sends a signed GET and returns a 2xx answer without
// checking its signature, with the signature headers for the caller to
// check. A non-2xx answer is an *APIError, as for any call.
func (c *Client) getUnverified(ctx context.Context, ch Chain) (*Response, verifier.Headers, error) {
	var h verifier.Headers
	if err := ctx.Err(); err != nil {
		return nil, h, err
	}
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	p, err := c.prepare(http.MethodGet, ch, nil, bufs.target[:0])
	if err != nil {
		return nil, h, err
	}
	bufs.target = p.target[:0]
	p.noVerify = true
	p.deadline = c.callDeadline(ctx)
	target := string(p.target)
	// One attempt to the primary, paced by the rate limit: no retry and no
	// failover.
	plan := callPlan{deadline: p.deadline, primary: p.origin, single: true}
	resp, err := c.withRetries(ctx, plan, func(origin string, n int) (*Response, error) { // retry.go
		return c.attempt(ctx, p, origin, target, bufs, n)
	})
	if err != nil {
		return nil, h, err
	}
	return resp, signatureHeaders(resp.Header), nil
}

// DefaultCertificateRefreshInterval is how often a CertificateRefresher
// downloads the certificates when started with a zero interval.
const DefaultCertificateRefreshInterval = 12 * time.Hour

// CertificateRefresher downloads the platform certificates periodically and
// adds the new ones to the client's verifier, so that a long-running service
// keeps verifying answers when WeChat Pay moves to a new certificate. Start
// it with Client.StartCertificateRefresher and stop it with Stop.
//
// It only ever adds keys: the keys configured in Config.Certs and those
// added before are never removed or replaced, and nothing is added from an
// answer that failed verification (the certificate list must verify with a
// key already trusted, as DownloadCertificates requires; there is no trust
// on first use here). Certificates already expired are not added. Run one
// refresher per client, and do not call the verifier's SetKeys while it runs:
// a concurrent SetKeys could undo an addition.
//
// The certificates it adds keep their validity periods, so that the encrypt
// option (and Client.Encrypt) can move to WeChat Pay's new certificate on
// its own once it is in force: see Client.Encrypt for the rule.
type CertificateRefresher struct {
	c        *Client
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.Mutex // serialises refreshes
	errMu   sync.Mutex
	lastErr error
}

// StartCertificateRefresher starts a CertificateRefresher that downloads
// the certificates at once and then every interval (if interval is not
// positive, DefaultCertificateRefreshInterval). Each download is bounded by
// Config.Timeout. The caller must call Stop when done with it.
func (c *Client) StartCertificateRefresher(interval time.Duration) *CertificateRefresher {
	if interval <= 0 {
		interval = DefaultCertificateRefreshInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &CertificateRefresher{c: c, interval: interval, cancel: cancel, done: make(chan struct{})}
	go r.run(ctx)
	return r
}

func (r *CertificateRefresher) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		_, err := r.Refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		r.errMu.Lock()
		r.lastErr = err
		r.errMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh downloads the certificates now and adds those the client does
// not trust yet, with their validity periods; a key the client already
// trusts without dates takes those of the certificate listed under its
// serial, if it is that certificate's key. It returns the serials added,
// sorted. It is safe to call while the refresher runs, and after Stop.
func (r *CertificateRefresher) Refresh(ctx context.Context) (added []string, err error) {
	certs, err := r.c.DownloadCertificates(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.c.now()
	keys := r.c.verifier.TrustedKeys()
	changed := false
	for _, ct := range certs {
		tk := ct.TrustedKey()
		if tk.PublicKey == nil {
			continue
		}
		if k, ok := keys[ct.Serial]; ok {
			// A key configured without dates learns them from the
			// list, if it is the very key listed.
			if !k.Dated() && k.PublicKey.Equal(tk.PublicKey) {
				keys[ct.Serial], changed = tk, true
			}
			continue
		}
		if !now.Before(ct.ExpireTime) {
			continue
		}
		keys[ct.Serial], changed = tk, true
		added = append(added, ct.Serial)
	}
	if !changed {
		return nil, nil
	}
	if err := r.c.verifier.SetTrustedKeys(keys); err != nil {
		return nil, fmt.Errorf("wxpay: certificate refresh: %w", err)
	}
	sort.Strings(added)
	return added, nil
}

// Err returns the error of the latest periodic refresh, or nil if it
// succeeded (or none has finished yet).
func (r *CertificateRefresher) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.lastErr
}

// Stop stops the periodic refreshes, cancelling one in progress, and
// returns when the refresher's goroutine has ended. Calling Stop more than
// once is harmless.
func (r *CertificateRefresher) Stop() {
	r.cancel()
	<-r.done
}
