//go:build cgo

package rsabackend

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"math/big"
	"runtime"
	"strings"
	"sync"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcryptoNames returns the shared libraries to try, newest first. Only
// versioned names are tried: on macOS loading the unversioned system
// libcrypto aborts the process, and elsewhere the unversioned name belongs to
// development packages and may point at anything.
func libcryptoNames() []string {
	switch runtime.GOOS {
	case "darwin", "ios":
		return []string{"libcrypto.3.dylib", "libcrypto.1.1.dylib"}
	case "windows":
		return []string{"libcrypto-3-x64.dll", "libcrypto-3.dll", "libcrypto-1_1-x64.dll", "libcrypto-1_1.dll"}
	default:
		// .so.10 and .so.1.0.2 are OpenSSL 1.0.2 on RHEL/CentOS 7
		// and elsewhere; .so.1.0.0 is 1.0.x on Debian-likes.
		return []string{"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so.10", "libcrypto.so.1.0.2", "libcrypto.so.1.0.0"}
	}
}

var (
	loadOnce sync.Once
	loadErr  error
	loadLib  string // the library loaded
)

// loadOpenSSL loads and initialises libcrypto once, and reports whether it
// can be used.
func loadOpenSSL() error {
	loadOnce.Do(func() {
		names := libcryptoNames()
		for _, name := range names {
			// openssl.Init can be called only once, so probe first.
			if ok, _ := openssl.CheckVersion(name); !ok {
				continue
			}
			if err := openssl.Init(name); err != nil {
				loadErr = err
				return
			}
			loadLib = name
			return
		}
		loadErr = errors.New("no libcrypto found (tried " + strings.Join(names, ", ") + ")")
	})
	return loadErr
}

func opensslFIPS() bool { return loadOpenSSL() == nil && openssl.FIPS() }

func opensslDescription() string {
	if err := loadOpenSSL(); err != nil {
		return err.Error()
	}
	fips := "off"
	if openssl.FIPS() {
		fips = "on"
	}
	return openssl.VersionText() + ", " + loadLib + ", FIPS mode " + fips
}

// nativePriv is an OpenSSL RSA private key.
type nativePriv struct {
	k *openssl.PrivateKeyRSA
}

func newNativePriv(priv *rsa.PrivateKey) (*nativePriv, error) {
	if err := loadOpenSSL(); err != nil {
		return nil, err
	}
	dp, dq, qinv := crtValues(priv)
	k, err := openssl.NewPrivateKeyRSA(
		bbig.Enc(priv.N), bbig.Enc(big.NewInt(int64(priv.E))), bbig.Enc(priv.D),
		bbig.Enc(priv.Primes[0]), bbig.Enc(priv.Primes[1]),
		bbig.Enc(dp), bbig.Enc(dq), bbig.Enc(qinv))
	if err != nil {
		return nil, err
	}
	return &nativePriv{k: k}, nil
}

func (p *nativePriv) signSHA256(digest []byte) ([]byte, error) {
	return openssl.SignRSAPKCS1v15(p.k, crypto.SHA256, digest)
}

func (p *nativePriv) signMessage(msg []byte) ([]byte, error) {
	return openssl.HashSignRSAPKCS1v15(p.k, crypto.SHA256, msg)
}

// crtValues returns the CRT values of a two-prime key, computing them if
// Precompute could not.
func crtValues(priv *rsa.PrivateKey) (dp, dq, qinv *big.Int) {
	pc := priv.Precomputed
	if pc.Dp != nil && pc.Dq != nil && pc.Qinv != nil {
		return pc.Dp, pc.Dq, pc.Qinv
	}
	p, q := priv.Primes[0], priv.Primes[1]
	one := big.NewInt(1)
	dp = new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one))
	dq = new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one))
	qinv = new(big.Int).ModInverse(q, p)
	return dp, dq, qinv
}

// nativePub is an OpenSSL RSA public key.
type nativePub struct {
	k *openssl.PublicKeyRSA
}

func newNativePub(pub *rsa.PublicKey) (*nativePub, error) {
	if err := loadOpenSSL(); err != nil {
		return nil, err
	}
	k, err := openssl.NewPublicKeyRSA(bbig.Enc(pub.N), bbig.Enc(big.NewInt(int64(pub.E))))
	if err != nil {
		return nil, err
	}
	return &nativePub{k: k}, nil
}

func (p *nativePub) verifySHA256(digest, sig []byte) error {
	return openssl.VerifyRSAPKCS1v15(p.k, crypto.SHA256, digest, sig)
}
