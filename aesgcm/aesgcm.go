// Package aesgcm encrypts and decrypts the AEAD_AES_256_GCM resources of
// WeChat Pay APIv3: the resource of a callback notification and the
// certificates of the platform certificate download.
//
// WeChat Pay seals such a resource with AES-256-GCM under the merchant's
// APIv3 key (32 bytes), a 12-byte nonce sent in clear and an associated_data
// string ("refund", "transaction", "certificate", ...), and sends the
// ciphertext followed by the 16-byte authentication tag, base64-encoded.
// Decrypt opens it; Encrypt seals one, for emulators and tests.
//
// The package depends only on the standard library.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
)

// Algorithm is the name WeChat Pay gives the scheme in the algorithm field
// of an encrypted resource.
const Algorithm = "AEAD_AES_256_GCM"

// Sizes of the parts, in bytes.
const (
	KeySize   = 32 // the APIv3 key
	NonceSize = 12
	TagSize   = 16 // appended to the ciphertext
)

// Sentinel errors, matched with errors.Is. None of the errors returned by
// this package holds key material.
var (
	// ErrKeySize: the key is not KeySize bytes.
	ErrKeySize = errors.New("aesgcm: key is not 32 bytes")
	// ErrNonceSize: the nonce is not NonceSize bytes.
	ErrNonceSize = errors.New("aesgcm: nonce is not 12 bytes")
	// ErrCiphertext: the ciphertext is not base64, or too short to hold the
	// authentication tag.
	ErrCiphertext = errors.New("aesgcm: malformed ciphertext")
	// ErrAuthentication: the ciphertext, nonce or associated data was
	// altered, or the key is not the one it was sealed with.
	ErrAuthentication = errors.New("aesgcm: message authentication failed")
)

func newAEAD(key []byte, nonce string) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrKeySize, len(key))
	}
	if len(nonce) != NonceSize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrNonceSize, len(nonce))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Decrypt opens ciphertext, the base64 of the sealed resource and its tag,
// with key (the APIv3 key's 32 bytes: []byte(apiv3Key) for the string kept
// in wxpay.Config.APIv3Key), nonce and associatedData as WeChat Pay sent
// them, and returns the plaintext. Note the order: wechatpay-php's
// AesGcm::decrypt takes the ciphertext first and the key second.
func Decrypt(key []byte, nonce, associatedData, ciphertext string) ([]byte, error) {
	aead, err := newAEAD(key, nonce)
	if err != nil {
		return nil, err
	}
	sealed, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrCiphertext)
	}
	if len(sealed) < TagSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte tag", ErrCiphertext, len(sealed), TagSize)
	}
	plain, err := aead.Open(sealed[:0], []byte(nonce), sealed, []byte(associatedData))
	if err != nil {
		return nil, ErrAuthentication
	}
	return plain, nil
}

// Encrypt seals plaintext with key, nonce and associatedData and returns
// the base64 of the ciphertext and its tag, as WeChat Pay sends a resource.
// The nonce must be fresh for every message sealed under one key: draw it at
// random (WeChat Pay uses 12 letters and digits).
func Encrypt(key []byte, nonce, associatedData string, plaintext []byte) (string, error) {
	aead, err := newAEAD(key, nonce)
	if err != nil {
		return "", err
	}
	sealed := aead.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))
	return base64.StdEncoding.EncodeToString(sealed), nil
}
