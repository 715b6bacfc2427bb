// Package rsaenc encrypts and decrypts the sensitive fields of WeChat Pay
// APIv3 messages and loads the RSA keys and certificates a merchant works with.
//
// Sensitive request fields (a bank account number, a real name) are encrypted
// with RSA-OAEP, SHA-1 and MGF1-SHA-1 under the WeChat Pay platform public key
// and sent base64-encoded; sensitive response fields are encrypted the same
// way under the merchant's key. Encrypt and Decrypt do exactly that.
//
// The loaders accept PEM text: PKCS#1 ("RSA PRIVATE KEY") and PKCS#8
// ("PRIVATE KEY") private keys, SPKI ("PUBLIC KEY") and PKCS#1
// ("RSA PUBLIC KEY") public keys, and X.509 certificates. Errors name what was
// wrong with the input but never include key material.
package rsaenc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrDecrypt is returned by Decrypt when a ciphertext is not valid base64 or
// does not decrypt under the given key. It says nothing more, on purpose.
var ErrDecrypt = errors.New("rsaenc: ciphertext does not decrypt with this key")

// Encrypt encrypts plaintext with RSA-OAEP (SHA-1, MGF1-SHA-1) under pub and
// returns the standard base64 encoding of the ciphertext, the form WeChat Pay
// expects in fields such as bank_account and real_name.
func Encrypt(pub *rsa.PublicKey, plaintext string) (string, error) {
	if pub == nil {
		return "", errors.New("rsaenc: nil public key")
	}
	max := pub.Size() - 2*sha1.Size - 2
	if len(plaintext) > max {
		return "", fmt.Errorf("rsaenc: plaintext of %d bytes is longer than the %d bytes a %d-bit key can encrypt", len(plaintext), max, pub.N.BitLen())
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, []byte(plaintext), nil)
	if err != nil {
		return "", fmt.Errorf("rsaenc: encrypt: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// Decrypt reverses Encrypt with the private key priv. Any failure returns
// ErrDecrypt.
func Decrypt(priv *rsa.PrivateKey, ciphertext string) (string, error) {
	if priv == nil {
		return "", errors.New("rsaenc: nil private key")
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", ErrDecrypt
	}
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, priv, ct, nil)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pt), nil
}

// firstBlock returns the first PEM block of data of one of the wanted types.
func firstBlock(data []byte, what string, types ...string) (*pem.Block, error) {
	rest := data
	seen := []string{}
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		for _, t := range types {
			if b.Type == t {
				return b, nil
			}
		}
		seen = append(seen, b.Type)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("rsaenc: no PEM block found where a %s was expected", what)
	}
	return nil, fmt.Errorf("rsaenc: want a %s PEM block (%s), found %s", what, strings.Join(types, " or "), strings.Join(seen, ", "))
}

// ParsePrivateKey parses a PEM-encoded RSA private key in PKCS#1 or PKCS#8
// form.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	b, err := firstBlock(data, "private key", "PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var key any
	if b.Type == "RSA PRIVATE KEY" {
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	} else {
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("rsaenc: malformed %s block", b.Type)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("rsaenc: private key is %T, want an RSA key", key)
	}
	return rk, nil
}

// ParsePublicKey parses a PEM-encoded RSA public key: SPKI ("PUBLIC KEY", the
// form WeChat Pay hands out for its public-key ids), PKCS#1
// ("RSA PUBLIC KEY"), or the public key of an X.509 certificate.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	b, err := firstBlock(data, "public key", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	var key any
	switch b.Type {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		c, err = x509.ParseCertificate(b.Bytes)
		if err == nil {
			key = c.PublicKey
		}
	default:
		key, err = x509.ParsePKIXPublicKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("rsaenc: malformed %s block", b.Type)
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("rsaenc: public key is %T, want an RSA key", key)
	}
	return rk, nil
}

// ParseCertificate parses a PEM-encoded X.509 certificate holding an RSA key
// and returns it with its serial number in upper-case hexadecimal, the form
// WeChat Pay uses in Wechatpay-Serial headers.
func ParseCertificate(data []byte) (*x509.Certificate, string, error) {
	b, err := firstBlock(data, "certificate", "CERTIFICATE")
	if err != nil {
		return nil, "", err
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("rsaenc: malformed CERTIFICATE block: %v", err)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return nil, "", fmt.Errorf("rsaenc: certificate key is %T, want an RSA key", c.PublicKey)
	}
	return c, SerialHex(c), nil
}

// SerialHex returns the serial number of c in upper-case hexadecimal without
// leading zeros, as WeChat Pay writes certificate serials.
func SerialHex(c *x509.Certificate) string {
	return strings.ToUpper(c.SerialNumber.Text(16))
}

// readFile reads path for a loader, with an error that names the file but
// not its contents.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rsaenc: %w", err)
	}
	return data, nil
}

// LoadPrivateKey reads and parses the PEM private key file at path.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// LoadPublicKey reads and parses the PEM public key or certificate file at
// path.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// LoadCertificate reads and parses the PEM certificate file at path and
// returns it with its upper-case hexadecimal serial.
func LoadCertificate(path string) (*x509.Certificate, string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	c, s, err := ParseCertificate(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w (file %s)", err, path)
	}
	return c, s, nil
}
