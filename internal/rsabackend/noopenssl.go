//go:build !cgo

package rsabackend

import (
	"crypto/rsa"
	"errors"
)

// Without cgo, github.com/golang-fips/openssl/v2 cannot be built, so only
// the Go backend exists.

var errNoCgo = errors.New("built without cgo (CGO_ENABLED=0)")

func loadOpenSSL() error { return errNoCgo }

func opensslFIPS() bool { return false }

func opensslDescription() string { return errNoCgo.Error() }

type nativePriv struct{}

func newNativePriv(*rsa.PrivateKey) (*nativePriv, error) { return nil, errNoCgo }

func (*nativePriv) signSHA256([]byte) ([]byte, error) { return nil, errNoCgo }

func (*nativePriv) signMessage([]byte) ([]byte, error) { return nil, errNoCgo }

type nativePub struct{}

func newNativePub(*rsa.PublicKey) (*nativePub, error) { return nil, errNoCgo }

func (*nativePub) verifySHA256(_, _ []byte) error { return errNoCgo }
