// Package rsabackend makes and checks the SHA256withRSA signatures
// (RSASSA-PKCS1-v1_5 over SHA-256) of WeChat Pay APIv3, either with Go's
// crypto/rsa or, when the program is built with cgo and a supported libcrypto
// (OpenSSL 1.0.2, 1.1 or 3) can be loaded at run time, with OpenSSL through
// github.com/golang-fips/openssl/v2. OpenSSL signs an RSA-2048 message about
// three times faster than crypto/rsa; both produce the same bytes, since
// PKCS#1 v1.5 signatures are deterministic.
//
// The backend is chosen once, on first use, from the WXPAY_CRYPTO environment
// variable (read when the package is initialised):
//
//	auto (or unset)  OpenSSL if it can be loaded, else Go
//	go               always crypto/rsa
//	openssl          OpenSSL; if it cannot be loaded, NewSigningKey fails
//	                 with the reason, and verification uses Go
//
// In auto mode Go is also chosen when Go's FIPS 140-3 mode is on
// (GODEBUG=fips140=on) and the loaded OpenSSL is not in FIPS mode, so that
// enabling Go's validated module is not silently bypassed. Use switches the
// backend at run time; it is meant for tests and benchmarks.
//
// The package loads libcrypto lazily: a program that never signs or verifies
// never opens it.
package rsabackend

import (
	"crypto"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Backend names, as returned by Name and accepted by Use.
const (
	Go      = "go"
	OpenSSL = "openssl"
	Auto    = "auto"
)

// EnvVar is the environment variable that selects the backend.
const EnvVar = "WXPAY_CRYPTO"

type backend int32

const (
	unresolved backend = iota
	goBackend
	opensslBackend
)

var (
	// envSetting is WXPAY_CRYPTO as it was when the package was
	// initialised.
	envSetting = strings.ToLower(strings.TrimSpace(os.Getenv(EnvVar)))

	resolveOnce sync.Once
	current     atomic.Int32 // a backend; set by resolve, then by Use
	forced      atomic.Bool  // OpenSSL was asked for by name, not by auto

	// configErr is why the backend WXPAY_CRYPTO asks for cannot be
	// used; NewSigningKey returns it until Use succeeds. Guarded by
	// configMu.
	configMu  sync.Mutex
	configErr error
)

// active returns the backend in use, choosing it on first call.
func active() backend {
	resolveOnce.Do(resolve)
	return backend(current.Load())
}

func resolve() {
	b, err := choose(envSetting)
	if err != nil {
		err = fmt.Errorf("rsabackend: %s=%q: %w", EnvVar, envSetting, err)
		b = goBackend
	}
	setBackend(b, envSetting == OpenSSL, err)
}

func setBackend(b backend, forceOpenSSL bool, err error) {
	configMu.Lock()
	configErr = err
	forced.Store(forceOpenSSL)
	current.Store(int32(b))
	configMu.Unlock()
}

func getConfigErr() error {
	configMu.Lock()
	defer configMu.Unlock()
	return configErr
}

// choose maps a backend name to a backend, loading OpenSSL if needed.
func choose(name string) (backend, error) {
	switch name {
	case Go:
		return goBackend, nil
	case OpenSSL:
		if err := loadOpenSSL(); err != nil {
			return unresolved, fmt.Errorf("openssl backend unavailable: %w", err)
		}
		return opensslBackend, nil
	case Auto, "":
		if loadOpenSSL() != nil {
			return goBackend, nil
		}
		if fips140.Enabled() && !opensslFIPS() {
			return goBackend, nil
		}
		return opensslBackend, nil
	default:
		return unresolved, fmt.Errorf("unknown backend %q (want %s, %s or %s)", name, Go, OpenSSL, Auto)
	}
}

// Name returns the backend that signs and verifies: "openssl" or "go".
func Name() string {
	if active() == opensslBackend {
		return OpenSSL
	}
	return Go
}

// Description returns Name with details of the library in use, such as
// "openssl (OpenSSL 3.0.13 30 Jan 2024, libcrypto.so.3, FIPS mode off)".
func Description() string {
	if active() == opensslBackend {
		return OpenSSL + " (" + opensslDescription() + ")"
	}
	if err := getConfigErr(); err != nil {
		return Go + " (crypto/rsa; " + err.Error() + ")"
	}
	return Go + " (crypto/rsa)"
}

// Use switches to the named backend: "go", "openssl" or "auto". Forcing
// "openssl" when OpenSSL cannot be used returns an error saying why and
// leaves the backend unchanged. Keys made by NewSigningKey follow the switch.
// Use is meant for tests and benchmarks; it is safe to call concurrently
// with signing and verifying.
func Use(name string) error {
	active() // let the environment setting resolve first, so it does not override name
	b, err := choose(name)
	if err != nil {
		return fmt.Errorf("rsabackend: %w", err)
	}
	setBackend(b, name == OpenSSL, nil)
	return nil
}

// Available reports whether the OpenSSL backend can be used, and if not, why.
func Available() error {
	if err := loadOpenSSL(); err != nil {
		return fmt.Errorf("rsabackend: openssl backend unavailable: %w", err)
	}
	return nil
}

// A SigningKey is an RSA private key prepared for signing by the backend in
// use: for OpenSSL it holds the library's key object, built once, so that
// signing does no key conversion. A SigningKey is safe for concurrent use.
type SigningKey struct {
	priv *rsa.PrivateKey

	nativeOnce sync.Once
	native     *nativePriv // nil if OpenSSL is unavailable or refused the key
	nativeErr  error
}

// NewSigningKey prepares priv for signing. It calls priv.Precompute, so priv
// must not be in use by other goroutines during the call, and must not be
// modified afterwards. It does not run priv.Validate; callers should.
//
// NewSigningKey fails if the backend requested with WXPAY_CRYPTO cannot be
// used, or if the OpenSSL backend is in use and was forced (with
// WXPAY_CRYPTO=openssl or Use) and OpenSSL rejects the key. In auto mode a key
// OpenSSL cannot take (such as a multi-prime key) is signed with Go.
func NewSigningKey(priv *rsa.PrivateKey) (*SigningKey, error) {
	if priv == nil || priv.N == nil || priv.D == nil {
		return nil, errors.New("rsabackend: nil or incomplete RSA private key")
	}
	b := active()
	if err := getConfigErr(); err != nil {
		return nil, err
	}
	priv.Precompute()
	k := &SigningKey{priv: priv}
	if b == opensslBackend {
		if _, err := k.nativeKey(); err != nil && forced.Load() {
			return nil, fmt.Errorf("rsabackend: openssl: %w", err)
		}
	}
	return k, nil
}

// nativeKey returns the OpenSSL form of the key, building it on first call.
func (k *SigningKey) nativeKey() (*nativePriv, error) {
	k.nativeOnce.Do(func() {
		if len(k.priv.Primes) != 2 {
			k.nativeErr = fmt.Errorf("%d-prime keys are not supported", len(k.priv.Primes))
			return
		}
		k.native, k.nativeErr = newNativePriv(k.priv)
	})
	return k.native, k.nativeErr
}

// opensslKey returns the OpenSSL key to sign with, or nil to sign with Go.
func (k *SigningKey) opensslKey() *nativePriv {
	if active() != opensslBackend {
		return nil
	}
	nk, _ := k.nativeKey()
	return nk
}

// Backend returns the backend that signs with k now: "openssl" or "go".
func (k *SigningKey) Backend() string {
	if k.opensslKey() != nil {
		return OpenSSL
	}
	return Go
}

// Public returns the public half of the key.
func (k *SigningKey) Public() *rsa.PublicKey { return &k.priv.PublicKey }

// SignSHA256 returns the RSASSA-PKCS1-v1_5 signature of a SHA-256 digest.
func (k *SigningKey) SignSHA256(digest []byte) ([]byte, error) {
	if len(digest) != sha256Size {
		return nil, fmt.Errorf("rsabackend: digest of %d bytes, want %d", len(digest), sha256Size)
	}
	if nk := k.opensslKey(); nk != nil {
		return nk.signSHA256(digest)
	}
	return rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest)
}

// SignMessage returns the RSASSA-PKCS1-v1_5 SHA-256 signature of msg,
// hashing it first.
func (k *SigningKey) SignMessage(msg []byte) ([]byte, error) {
	if nk := k.opensslKey(); nk != nil {
		return nk.signMessage(msg)
	}
	digest := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:])
}

const sha256Size = sha256.Size

// VerifySHA256 checks that sig is a valid RSASSA-PKCS1-v1_5 signature of the
// SHA-256 digest under pub. Every bad signature gives rsa.ErrVerification,
// whichever backend checked it. It accepts and rejects exactly what
// rsa.VerifyPKCS1v15 does for keys of 2048 bits and more (the signature must
// be exactly as long as the modulus); keys outside 2048 to 16384 bits are
// always checked by crypto/rsa. With the OpenSSL backend the library's form
// of pub is cached, keyed by modulus and exponent, so repeated verifications
// under the same key do not rebuild it.
func VerifySHA256(pub *rsa.PublicKey, digest, sig []byte) error {
	if pub == nil || pub.N == nil {
		return errors.New("rsabackend: nil RSA public key")
	}
	if len(digest) != sha256Size {
		return rsa.ErrVerification
	}
	if active() == opensslBackend && opensslSize(pub) {
		if len(sig) != pub.Size() {
			return rsa.ErrVerification
		}
		if np := cachedPub(pub); np != nil {
			if np.verifySHA256(digest, sig) != nil {
				return rsa.ErrVerification
			}
			return nil
		}
	}
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
}

// opensslSize reports whether pub is a key the OpenSSL paths handle; others
// go to crypto/rsa, which applies its own limits.
func opensslSize(pub *rsa.PublicKey) bool {
	bits := pub.N.BitLen()
	return pub.N.Sign() > 0 && bits >= 2048 && bits <= maxBits &&
		pub.E >= 3 && pub.E <= 1<<31-1 && pub.E&1 == 1
}

// maxBits bounds the key size the OpenSSL paths and the cache key handle.
const maxBits = 16384

// pubCacheSize bounds how many OpenSSL public keys are kept. WeChat Pay uses
// a handful of platform keys at a time.
const pubCacheSize = 32

type pubEntry struct {
	key *nativePub
}

var pubCache struct {
	mu sync.RWMutex
	m  map[string]pubEntry // modulus (big-endian, pub.Size() bytes) + exponent (4 bytes)
}

// cachedPub returns the OpenSSL form of pub, from the cache or newly built,
// or nil if OpenSSL rejects the key.
func cachedPub(pub *rsa.PublicKey) *nativePub {
	var buf [maxBits/8 + 4]byte
	size := pub.Size()
	id := buf[:size+4]
	pub.N.FillBytes(id[:size])
	e := uint32(pub.E)
	id[size], id[size+1], id[size+2], id[size+3] = byte(e>>24), byte(e>>16), byte(e>>8), byte(e)

	pubCache.mu.RLock()
	ent, ok := pubCache.m[string(id)] // does not allocate
	pubCache.mu.RUnlock()
	if ok {
		return ent.key
	}

	np, err := newNativePub(pub)
	if err != nil {
		np = nil // remember the refusal too: crypto/rsa will check this key
	}
	pubCache.mu.Lock()
	if pubCache.m == nil {
		pubCache.m = make(map[string]pubEntry, pubCacheSize)
	}
	if _, ok := pubCache.m[string(id)]; !ok {
		if len(pubCache.m) >= pubCacheSize {
			// Evict an arbitrary entry: map iteration starts at a
			// random place.
			for k := range pubCache.m {
				delete(pubCache.m, k)
				break
			}
		}
		pubCache.m[string(id)] = pubEntry{key: np}
	}
	pubCache.mu.Unlock()
	return np
}

// pubCacheLen returns the number of cached public keys, for tests.
func pubCacheLen() int {
	pubCache.mu.RLock()
	defer pubCache.mu.RUnlock()
	return len(pubCache.m)
}
