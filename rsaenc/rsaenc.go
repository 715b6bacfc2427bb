// Package rsaenc encrypts and decrypts the sensitive fields of WeChat Pay
// APIv3 messages and loads the RSA keys and certificates a merchant works with.
//
// Sensitive request fields (a bank account number, a real name) are encrypted
// with RSA-OAEP, SHA-1 and MGF1-SHA-1 under the WeChat Pay platform public key
// and sent base64-encoded; sensitive response fields are encrypted the same
// way under the merchant's key. Encrypt and Decrypt do exactly that.
//
// The parsers accept PKCS#1 ("RSA PRIVATE KEY") and PKCS#8 ("PRIVATE KEY")
// private keys, SPKI ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY") public
// keys, and X.509 certificates, as PEM text or as the bare base64 body of
// the DER without the BEGIN and END lines (the form Java code and .env files
// often keep keys in), with or without line breaks and spaces. PEM text
// whose line breaks are written as the two characters \n is accepted too.
//
// LoadPrivateKey, LoadPublicKey and LoadCertificate take either the name of
// a file holding the key or the key itself. A value is taken for the key
// itself when it holds "-----BEGIN", a line break, more than 512 bytes, or
// the base64 encoding of one DER structure; anything else is a file name.
//
// Errors name what was wrong with the input but never include key material:
// not the text of a key, not a piece of one, not a value that may be one. A
// file name is quoted only when it cannot be a piece of a key (it is short,
// on one line, has no run of 24 base64 characters in its last element, so
// that an APIv3 key given by mistake is not shown either (the digits of a
// public key id after PUB_KEY_ID_ are no such run), and no run of 40
// anywhere, unless that run lies in directories that exist); otherwise the
// error says "(value not shown)".
// A missing file is still reported as fs.ErrNotExist to errors.Is.
package rsaenc

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/wxpay-chain/wxpay/internal/keytext"
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

// decode returns the DER bytes data holds and their PEM type: the first
// PEM block of one of the wanted types or, when data holds no PEM block at
// all, the DER that data encodes in base64 (type ""). The error never
// quotes data.
func decode(data []byte, what string, types ...string) (string, []byte, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) && bytes.Contains(data, []byte(`\n`)) {
		// PEM text whose line breaks were written as \n, as in .env files.
		data = bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
	}
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
				return b.Type, b.Bytes, nil
			}
		}
		seen = append(seen, b.Type)
	}
	if len(seen) > 0 {
		return "", nil, fmt.Errorf("rsaenc: want a %s PEM block (%s), found %s", what, strings.Join(types, " or "), strings.Join(seen, ", "))
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		if der := keytext.DERFromBase64(data); der != nil {
			return "", der, nil
		}
	}
	return "", nil, fmt.Errorf("rsaenc: no PEM block and no base64 DER where a %s was expected", what)
}

// ParsePrivateKey parses an RSA private key in PKCS#1 or PKCS#8 form: PEM
// text, or the bare base64 body of the DER (line breaks and spaces allowed).
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	typ, der, err := decode(data, "private key", "PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var key any
	switch typ {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	default:
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			key, err = x509.ParsePKCS1PrivateKey(der)
		}
	}
	if err != nil {
		return nil, malformed(typ, "a PKCS#8 or PKCS#1 private key")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("rsaenc: private key is %T, want an RSA key", key)
	}
	return rk, nil
}

// malformed reports DER that did not parse: a PEM block of type typ, or
// base64 text that does not hold what was wanted.
func malformed(typ, want string) error {
	if typ == "" {
		return fmt.Errorf("rsaenc: base64 text that does not hold %s", want)
	}
	return fmt.Errorf("rsaenc: malformed %s block", typ)
}

// ParsePublicKey parses an RSA public key: SPKI ("PUBLIC KEY", the form
// WeChat Pay hands out for its public-key ids), PKCS#1 ("RSA PUBLIC KEY"),
// or the public key of an X.509 certificate, as PEM text or as the bare
// base64 body of the DER.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	typ, der, err := decode(data, "public key", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	var key any
	switch typ {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(der)
	case "CERTIFICATE":
		key, err = certificateKey(der)
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(der)
	default:
		if key, err = x509.ParsePKIXPublicKey(der); err != nil {
			if key, err = x509.ParsePKCS1PublicKey(der); err != nil {
				key, err = certificateKey(der)
			}
		}
	}
	if err != nil {
		return nil, malformed(typ, "an SPKI or PKCS#1 public key or a certificate")
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("rsaenc: public key is %T, want an RSA key", key)
	}
	return rk, nil
}

func certificateKey(der []byte) (any, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return c.PublicKey, nil
}

// ParseCertificate parses an X.509 certificate holding an RSA key, PEM
// text or the bare base64 body of the DER, and returns it with its serial
// number in upper-case hexadecimal, the form WeChat Pay uses in
// Wechatpay-Serial headers.
func ParseCertificate(data []byte) (*x509.Certificate, string, error) {
	typ, der, err := decode(data, "certificate", "CERTIFICATE")
	if err != nil {
		return nil, "", err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", malformed(typ, "an X.509 certificate")
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

// LoadPrivateKey loads an RSA private key (PKCS#8 or PKCS#1) from
// pathOrKey: the name of a file holding it, or the key itself, as PEM text or
// as the bare base64 body of the DER. See the package documentation for how
// the two are told apart. Errors never quote the key.
func LoadPrivateKey(pathOrKey string) (*rsa.PrivateKey, error) {
	var k *rsa.PrivateKey
	err := load(pathOrKey, "private key", func(b []byte) (err error) {
		k, err = ParsePrivateKey(b)
		return err
	})
	return k, err
}

// LoadPublicKey loads an RSA public key (SPKI, PKCS#1, or a certificate's
// key) from pathOrKey: the name of a file holding it, or the key itself, as
// PEM text or as the bare base64 body of the DER.
func LoadPublicKey(pathOrKey string) (*rsa.PublicKey, error) {
	var k *rsa.PublicKey
	err := load(pathOrKey, "public key", func(b []byte) (err error) {
		k, err = ParsePublicKey(b)
		return err
	})
	return k, err
}

// LoadCertificate loads an X.509 certificate from pathOrCert: the name of a
// file holding it, or the certificate itself, as PEM text or as the bare
// base64 body of the DER. It returns the certificate with its upper-case
// hexadecimal serial.
func LoadCertificate(pathOrCert string) (*x509.Certificate, string, error) {
	var c *x509.Certificate
	var serial string
	err := load(pathOrCert, "certificate", func(b []byte) (err error) {
		c, serial, err = ParseCertificate(b)
		return err
	})
	return c, serial, err
}
