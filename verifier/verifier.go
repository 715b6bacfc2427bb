// Package verifier checks the signatures WeChat Pay puts on its APIv3
// responses and callback notifications.
//
// WeChat Pay signs TIMESTAMP\nNONCE\nBODY\n with SHA256withRSA under a
// platform key and sends the parts in the Wechatpay-Timestamp,
// Wechatpay-Nonce, Wechatpay-Signature and Wechatpay-Serial headers. The serial
// names the key: a platform certificate serial or a WeChat Pay public-key id
// (PUB_KEY_ID_...). A Verifier holds the trusted keys by serial (with, when
// known, the validity period of their certificates) and rejects a
// message with a missing header, a timestamp too far from the local clock, an
// unknown serial, a bad signature, or a WECHATPAY/SIGNTEST/ probe signature,
// each with its own sentinel error for errors.Is.
package verifier

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
)

// Header names WeChat Pay signs with.
const (
	HeaderTimestamp = "Wechatpay-Timestamp"
	HeaderNonce     = "Wechatpay-Nonce"
	HeaderSignature = "Wechatpay-Signature"
	HeaderSerial    = "Wechatpay-Serial"
)

// ProbePrefix starts the signatures of the probe messages WeChat Pay sends to
// check that merchants really verify: they must always be refused.
const ProbePrefix = "WECHATPAY/SIGNTEST/"

// DefaultMaxSkew is how far a message timestamp may be from the local clock.
const DefaultMaxSkew = 300 * time.Second

// Sentinel errors, matched with errors.Is.
var (
	ErrMissingHeader   = errors.New("verifier: signature header missing")
	ErrMalformedHeader = errors.New("verifier: signature header malformed")
	ErrClockSkew       = errors.New("verifier: timestamp too far from local clock")
	ErrUnknownSerial   = errors.New("verifier: unknown platform key serial")
	ErrBadSignature    = errors.New("verifier: signature does not verify")
	ErrSignatureProbe  = errors.New("verifier: signature is a WECHATPAY/SIGNTEST probe")
)

// Headers holds the four signature headers of a message.
type Headers struct {
	Timestamp string
	Nonce     string
	Signature string
	Serial    string
}

// Present reports whether any of the four headers is set.
func (h Headers) Present() bool {
	return h.Timestamp != "" || h.Nonce != "" || h.Signature != "" || h.Serial != ""
}

// Verifier checks messages against a set of trusted platform keys. Replace the
// keys with SetKeys or SetTrustedKeys while it is in use; everything else is
// read-only after New. A Verifier is safe for concurrent use.
type Verifier struct {
	keys atomic.Pointer[map[string]TrustedKey]

	// MaxSkew is how far a timestamp may be from Now. If zero,
	// DefaultMaxSkew is used. Set it before first use.
	MaxSkew time.Duration
	// Now returns the local time. If nil, time.Now is used. Set it before
	// first use.
	Now func() time.Time
}

// A TrustedKey is a WeChat Pay public key a Verifier trusts, with the
// validity period of its platform certificate when that is known. The
// period does not limit verification; it tells which of several
// certificates is the newest in force.
type TrustedKey struct {
	PublicKey *rsa.PublicKey
	// NotBefore and NotAfter bound the period the platform certificate is
	// valid in. Both are zero when it is not known: for a WeChat Pay public
	// key (PUB_KEY_ID_...), which has no certificate, and for a key given
	// without its certificate. Either may be zero alone for an open end.
	NotBefore, NotAfter time.Time
}

// Dated reports whether the validity period of k is known.
func (k TrustedKey) Dated() bool { return !k.NotBefore.IsZero() || !k.NotAfter.IsZero() }

// InForce reports whether k is valid at t: from NotBefore (included) to
// NotAfter (excluded). A key without dates is always in force.
func (k TrustedKey) InForce(t time.Time) bool {
	return (k.NotBefore.IsZero() || !t.Before(k.NotBefore)) && (k.NotAfter.IsZero() || t.Before(k.NotAfter))
}

// New returns a Verifier that trusts keys, a map from serial to public key.
// The map is copied.
func New(keys map[string]*rsa.PublicKey) (*Verifier, error) {
	v := &Verifier{}
	if err := v.SetKeys(keys); err != nil {
		return nil, err
	}
	return v, nil
}

// SetKeys atomically replaces the trusted keys with a copy of keys, none of
// them dated. Calls in flight finish with the keys they started with. Keys
// must have at least 2048 bits; larger ones (3072, 4096 bits) verify as
// well.
func (v *Verifier) SetKeys(keys map[string]*rsa.PublicKey) error {
	m := make(map[string]TrustedKey, len(keys))
	for serial, k := range keys {
		m[serial] = TrustedKey{PublicKey: k}
	}
	return v.SetTrustedKeys(m)
}

// SetTrustedKeys is SetKeys for keys that may carry the validity period of
// their platform certificate.
func (v *Verifier) SetTrustedKeys(keys map[string]TrustedKey) error {
	m := make(map[string]TrustedKey, len(keys))
	for serial, k := range keys {
		if serial == "" {
			return errors.New("verifier: empty serial")
		}
		if k.PublicKey == nil || k.PublicKey.N == nil {
			return fmt.Errorf("verifier: nil key for serial %s", serial)
		}
		if k.PublicKey.N.BitLen() < 2048 {
			return fmt.Errorf("verifier: key %s has %d bits, want at least 2048", serial, k.PublicKey.N.BitLen())
		}
		if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && !k.NotBefore.Before(k.NotAfter) {
			return fmt.Errorf("verifier: key %s is valid from %s to %s, an empty period", serial, k.NotBefore.Format(time.RFC3339), k.NotAfter.Format(time.RFC3339))
		}
		m[serial] = k
	}
	v.keys.Store(&m)
	return nil
}

// Key returns the trusted key with the given serial.
func (v *Verifier) Key(serial string) (*rsa.PublicKey, bool) {
	m := v.keys.Load()
	if m == nil {
		return nil, false
	}
	k, ok := (*m)[serial]
	return k.PublicKey, ok
}

// TrustedKeys returns a copy of the trusted keys, by serial, with their
// validity periods, all from one moment: a concurrent SetKeys does not mix
// old and new keys in the result.
func (v *Verifier) TrustedKeys() map[string]TrustedKey {
	m := v.keys.Load()
	if m == nil {
		return map[string]TrustedKey{}
	}
	out := make(map[string]TrustedKey, len(*m))
	for s, k := range *m {
		out[s] = k
	}
	return out
}

// Serials returns the serials of the trusted keys, sorted.
func (v *Verifier) Serials() []string {
	m := v.keys.Load()
	if m == nil {
		return nil
	}
	s := make([]string, 0, len(*m))
	for k := range *m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// AppendMessage appends the response signing message TIMESTAMP\nNONCE\nBODY\n
// to dst and returns the result.
func AppendMessage(dst []byte, timestamp, nonce string, body []byte) []byte {
	dst = append(dst, timestamp...)
	dst = append(dst, '\n')
	dst = append(dst, nonce...)
	dst = append(dst, '\n')
	dst = append(dst, body...)
	dst = append(dst, '\n')
	return dst
}

// Verify checks the signature headers h over body. scratch, if it has
// capacity, is used to build the message. The checks run in this order:
// every header present, not a probe, timestamp within MaxSkew, serial
// trusted, signature valid.
func (v *Verifier) Verify(h Headers, body, scratch []byte) error {
	switch {
	case h.Timestamp == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case h.Nonce == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderNonce)
	case h.Signature == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	case h.Serial == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSerial)
	}
	if strings.HasPrefix(h.Signature, ProbePrefix) {
		return ErrSignatureProbe
	}
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a unix time", ErrMalformedHeader, HeaderTimestamp)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	}
	n, limit := now().Unix(), int64(skew/time.Second)
	// compared without subtracting ts, which could overflow
	if ts < n-limit || ts > n+limit {
		off := "far from"
		switch {
		case ts < n-limit && n-limit-ts < 1<<40:
			off = strconv.FormatInt(n-ts, 10) + " s behind"
		case ts > n+limit && ts-n-limit < 1<<40:
			off = strconv.FormatInt(ts-n, 10) + " s ahead of"
		}
		return fmt.Errorf("%w: %s is %s local time (limit %d s)", ErrClockSkew, HeaderTimestamp, off, limit)
	}
	key, ok := v.Key(h.Serial)
	if !ok {
		return fmt.Errorf("%w: %q (trusted: %s)", ErrUnknownSerial, h.Serial, strings.Join(v.Serials(), ", "))
	}
	msg := AppendMessage(scratch[:0], h.Timestamp, h.Nonce, body)
	return VerifySignature(key, msg, h.Signature)
}

// VerifySignature checks that sigB64, a base64 SHA256withRSA signature,
// signs message under key, whatever the key's size.
func VerifySignature(key *rsa.PublicKey, message []byte, sigB64 string) error {
	// A signature is as long as the modulus: text that would decode to
	// more is refused before decoding. Signatures of keys up to 4096 bits
	// decode into the stack buffer, larger ones into a heap one.
	if key == nil || key.N == nil {
		return fmt.Errorf("%w: no key", ErrBadSignature)
	}
	if base64.StdEncoding.DecodedLen(len(sigB64)) > key.Size()+2 {
		return fmt.Errorf("%w: signature too long for a %d-bit key", ErrBadSignature, key.N.BitLen())
	}
	var buf [maxStackSignature]byte
	sig, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(sigB64))
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	digest := sha256.Sum256(message)
	if err := verifyDigest(key, digest[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// maxStackSignature is the largest signature decoded without allocating:
// that of a 4096-bit key, with room for base64's rounding.
const maxStackSignature = 4096/8 + 2

// verifyDigest checks an RSASSA-PKCS1-v1_5 SHA-256 signature through the
// crypto backend in use (OpenSSL's libcrypto when available, else
// crypto/rsa; see internal/rsabackend).
func verifyDigest(key *rsa.PublicKey, digest, sig []byte) error {
	return rsabackend.VerifySHA256(key, digest, sig)
}
