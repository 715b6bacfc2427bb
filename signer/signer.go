// Package signer signs WeChat Pay APIv3 requests.
//
// A request is signed over the message
//
//	METHOD\nREQUEST_TARGET\nTIMESTAMP\nNONCE\nBODY\n
//
// with SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) under the merchant API
// private key, and the result is sent in the Authorization header:
//
//	WECHATPAY2-SHA256-RSA2048 mchid="...",nonce_str="...",signature="...",timestamp="...",serial_no="..."
//
// REQUEST_TARGET is the path and query exactly as they go on the wire, and
// BODY the exact body bytes (empty for a request without a body). A Signer is
// safe for concurrent use.
package signer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
)

// Scheme is the authorization scheme WeChat Pay APIv3 expects.
const Scheme = "WECHATPAY2-SHA256-RSA2048"

// NonceLen is the length of the nonces made by AppendNonce.
const NonceLen = 32

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Signer makes Authorization headers for one merchant. Create it with New.
type Signer struct {
	mchID  string
	serial string
	key    crypto.Signer
	pub    *rsa.PublicKey  // key's public half, as New checked it
	rsaKey *rsa.PrivateKey // set when key is an RSA key: the fast path
	// rsaSK is rsaKey prepared once for the crypto backend (for OpenSSL,
	// the library's key object), so that Sign does no key conversion.
	rsaSK *rsabackend.SigningKey
}

// New returns a Signer for the merchant mchID whose API certificate has the
// given serial number and private key. The key must be an RSA key of at least
// 2048 bits (an *rsa.PrivateKey, or a crypto.Signer such as an HSM handle
// whose public key is RSA).
func New(mchID, serial string, key crypto.Signer) (*Signer, error) {
	if mchID == "" {
		return nil, errors.New("signer: empty merchant id")
	}
	if serial == "" {
		return nil, errors.New("signer: empty certificate serial")
	}
	if !headerSafe(mchID) || !headerSafe(serial) {
		return nil, errors.New("signer: merchant id and serial must be printable ASCII without quotes or commas")
	}
	if key == nil {
		return nil, errors.New("signer: nil private key")
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signer: private key is %T with a %T public key, want RSA", key, key.Public())
	}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("signer: RSA key of %d bits, want at least 2048", pub.N.BitLen())
	}
	s := &Signer{mchID: mchID, serial: serial, key: key, pub: pub}
	if rk, ok := key.(*rsa.PrivateKey); ok {
		if err := rk.Validate(); err != nil {
			return nil, errors.New("signer: RSA private key fails validation")
		}
		rk.Precompute()
		sk, err := rsabackend.NewSigningKey(rk)
		if err != nil {
			return nil, fmt.Errorf("signer: %w", err)
		}
		s.rsaKey = rk
		s.rsaSK = sk
	}
	return s, nil
}

func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == '\\' {
			return false
		}
	}
	return true
}

// MchID returns the merchant id the Signer signs for.
func (s *Signer) MchID() string { return s.mchID }

// Serial returns the merchant certificate serial the Signer announces.
func (s *Signer) Serial() string { return s.serial }

// Public returns the public half of the signing key.
func (s *Signer) Public() *rsa.PublicKey { return s.pub }

// AppendMessage appends the request signing message
// METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n to dst and returns the result.
func AppendMessage(dst []byte, method, target string, timestamp int64, nonce string, body []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, '\n')
	dst = append(dst, target...)
	dst = append(dst, '\n')
	dst = strconv.AppendInt(dst, timestamp, 10)
	dst = append(dst, '\n')
	dst = append(dst, nonce...)
	dst = append(dst, '\n')
	dst = append(dst, body...)
	dst = append(dst, '\n')
	return dst
}

// AppendNonce appends a fresh nonce of NonceLen characters from
// [A-Za-z0-9], drawn from crypto/rand without modulo bias.
func AppendNonce(dst []byte) []byte {
	var buf [48]byte
	n := 0
	for n < NonceLen {
		if _, err := io.ReadFull(rand.Reader, buf[:]); err != nil {
			// crypto/rand does not fail on supported platforms.
			panic("signer: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every
			// character equally likely.
			if b >= 248 {
				continue
			}
			dst = append(dst, nonceAlphabet[b%62])
			n++
			if n == NonceLen {
				break
			}
		}
	}
	return dst
}

// Nonce returns a fresh nonce made by AppendNonce.
func Nonce() string { return string(AppendNonce(make([]byte, 0, NonceLen))) }

// Sign returns the SHA256withRSA signature of message. The signature of a
// key that is not an *rsa.PrivateKey (a remote signer) is checked with its
// public key, and one that does not verify is an error.
func (s *Signer) Sign(message []byte) ([]byte, error) {
	digest := sha256.Sum256(message)
	if s.rsaKey != nil {
		return signDigest(s.rsaSK, digest[:])
	}
	sig, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	// A remote signer answers for a key the client cannot see: one set
	// up for PSS, one that hashes the digest again, or a wrong key would
	// have every request refused with SIGN_ERROR and every paySign fail on
	// the payer's device. One public-key operation catches all of them
	// before anything leaves the machine.
	if err := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("signer: the %T signature (%d bytes) does not verify with its public key: want RSASSA-PKCS1-v1_5 over the SHA-256 digest given", s.key, len(sig))
	}
	return sig, nil
}

// signDigest signs a SHA-256 digest with the RSA key through the crypto
// backend in use (see Backend).
func signDigest(k *rsabackend.SigningKey, digest []byte) ([]byte, error) {
	sig, err := k.SignSHA256(digest)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return sig, nil
}

// AppendAuthorization signs the request given by method, target (path and
// query as sent) and body with the given timestamp and nonce, and appends the
// Authorization header value to dst. scratch, if it has capacity, is used to
// build the signing message.
func (s *Signer) AppendAuthorization(dst, scratch []byte, method, target string, body []byte, timestamp int64, nonce string) ([]byte, error) {
	msg := AppendMessage(scratch[:0], method, target, timestamp, nonce, body)
	sig, err := s.Sign(msg)
	if err != nil {
		return dst, err
	}
	dst = append(dst, Scheme...)
	dst = append(dst, ` mchid="`...)
	dst = append(dst, s.mchID...)
	dst = append(dst, `",nonce_str="`...)
	dst = append(dst, nonce...)
	dst = append(dst, `",signature="`...)
	dst = base64.StdEncoding.AppendEncode(dst, sig)
	dst = append(dst, `",timestamp="`...)
	dst = strconv.AppendInt(dst, timestamp, 10)
	dst = append(dst, `",serial_no="`...)
	dst = append(dst, s.serial...)
	dst = append(dst, '"')
	return dst, nil
}

// Authorization signs a request with the current time and a fresh nonce and
// returns the Authorization header value.
func (s *Signer) Authorization(method, target string, body []byte) (string, error) {
	nonce := Nonce()
	b, err := s.AppendAuthorization(nil, nil, method, target, body, time.Now().Unix(), nonce)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	MchID     string
	Nonce     string
	Signature string // base64
	Timestamp string
	Serial    string
}

// ParseAuthorization parses a WECHATPAY2-SHA256-RSA2048 Authorization header
// value. Every one of the five fields must be present exactly once.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Scheme+" ")
	if !ok {
		return a, fmt.Errorf("signer: authorization scheme is not %s", Scheme)
	}
	seen := map[string]bool{}
	for rest != "" {
		var kv string
		// values never hold a comma (base64, digits, [A-Za-z0-9])
		kv, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return a, fmt.Errorf("signer: malformed authorization parameter %q", k)
		}
		v = v[1 : len(v)-1]
		if seen[k] {
			return a, fmt.Errorf("signer: authorization parameter %s repeated", k)
		}
		seen[k] = true
		switch k {
		case "mchid":
			a.MchID = v
		case "nonce_str":
			a.Nonce = v
		case "signature":
			a.Signature = v
		case "timestamp":
			a.Timestamp = v
		case "serial_no":
			a.Serial = v
		default:
			return a, fmt.Errorf("signer: unknown authorization parameter %q", k)
		}
	}
	for _, k := range []string{"mchid", "nonce_str", "signature", "timestamp", "serial_no"} {
		if !seen[k] {
			return a, fmt.Errorf("signer: authorization parameter %s missing", k)
		}
	}
	return a, nil
}
