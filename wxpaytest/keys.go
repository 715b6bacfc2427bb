package wxpaytest

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Default identities of a new Server.
const (
	// DefaultMchID is the merchant id a new Server expects.
	DefaultMchID = "1900000109"
	// DefaultMerchantSerial is the merchant API certificate serial a new
	// Server expects in the serial_no of the Authorization header.
	DefaultMerchantSerial = "3775B6A45ACD588826D15E583A95F5DD0C3F5DA1"
	// DefaultPlatformSerial is the WeChat Pay public-key id of the platform
	// key a new Server signs with, the one the WeChat Pay documents use in
	// their examples.
	DefaultPlatformSerial = "PUB_KEY_ID_0114232134912410000000000000"
	// DefaultCertificateSerial is a platform certificate serial, for a
	// server in certificate mode: with Platform set to
	// []PlatformKey{{Serial: DefaultCertificateSerial}} it signs with a
	// platform certificate's key and serves that certificate at GET
	// /v3/certificates, as `wxpay emulator --platform-certificates` does.
	DefaultCertificateSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
)

// PlatformKey is a WeChat Pay platform key pair held by the emulator: the
// private half signs responses and decrypts sensitive request fields, the
// public half is what merchants trust.
type PlatformKey struct {
	// Serial names the key in Wechatpay-Serial headers: a WeChat Pay
	// public-key id (PUB_KEY_ID_...) or a platform certificate serial in
	// upper-case hexadecimal.
	Serial string
	// Key is the private key. If nil when the Server starts, a fresh
	// RSA-2048 key is generated.
	Key *rsa.PrivateKey
	// NotBefore and NotAfter bound the validity of the key's platform
	// certificate, as served by GET /v3/certificates (a public-key id has
	// no certificate). If zero, a day before the certificate is first made
	// and five years after, so that a rotation can be played out with
	// certificates of different ages.
	NotBefore, NotAfter time.Time
}

// GenerateKey returns a fresh RSA-2048 private key, the size WeChat Pay
// uses. It takes a noticeable fraction of a second: tests that start many
// servers should generate keys once and assign them to each Server.
func GenerateKey() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
}

// setupKeys fills in the identities and keys that were left unset and
// checks the ones that were given. It is called with s.setupMu held.
func (s *Server) setupKeys() error {
	if s.MchID == "" {
		s.MchID = DefaultMchID
	}
	if s.MerchantSerial == "" {
		s.MerchantSerial = DefaultMerchantSerial
	}
	if s.MerchantKey == nil {
		k, err := GenerateKey()
		if err != nil {
			return fmt.Errorf("wxpaytest: generate merchant key: %w", err)
		}
		s.MerchantKey = k
	}
	if len(s.Platform) == 0 {
		s.Platform = []PlatformKey{{Serial: DefaultPlatformSerial}}
	}
	seen := map[string]bool{}
	for i := range s.Platform {
		p := &s.Platform[i]
		if p.Serial == "" {
			return errors.New("wxpaytest: platform key with an empty serial")
		}
		if strings.ContainsAny(p.Serial, " \t\r\n\"/\\") {
			return fmt.Errorf("wxpaytest: platform serial %q has characters a header or file name cannot hold", p.Serial)
		}
		if seen[p.Serial] || p.Serial == s.MerchantSerial {
			return fmt.Errorf("wxpaytest: serial %s used twice", p.Serial)
		}
		seen[p.Serial] = true
		if p.Key == nil {
			k, err := GenerateKey()
			if err != nil {
				return fmt.Errorf("wxpaytest: generate platform key: %w", err)
			}
			p.Key = k
		}
	}
	if s.APIv3Key == "" {
		s.APIv3Key = randomString(32, alnum)
	}
	if len(s.APIv3Key) != 32 {
		return fmt.Errorf("wxpaytest: APIv3Key has %d bytes, want 32", len(s.APIv3Key))
	}
	return nil
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	digits = "0123456789"
	hexUC  = "0123456789ABCDEF"
)

// randomString returns n characters drawn from alphabet with crypto/rand.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("wxpaytest: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		// The slight modulo bias is harmless for test identifiers.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
