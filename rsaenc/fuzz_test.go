package rsaenc_test

import (
	"os"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

// FuzzParse feeds arbitrary bytes to every PEM loader: no panic, and any
// key returned is usable.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"merchant_key.pem", "merchant_key_pkcs1.pem", "platform_pub.pem", "platform_cert.pem"} {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("not pem"))
	// Bare base64 bodies, as the loaders accept them.
	f.Add([]byte("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"))
	f.Add([]byte("MAMCAQE="))
	f.Add([]byte("MIIEvgIBADANBgkqhkiG9w0BAQEFAASC\nBKgwggSkAgEAAoIBAQ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := rsaenc.ParsePrivateKey(data); err == nil && (k == nil || k.N == nil) {
			t.Fatal("ParsePrivateKey returned a nil key without error")
		}
		if k, err := rsaenc.ParsePublicKey(data); err == nil && (k == nil || k.N == nil) {
			t.Fatal("ParsePublicKey returned a nil key without error")
		}
		if c, s, err := rsaenc.ParseCertificate(data); err == nil && (c == nil || s == "") {
			t.Fatal("ParseCertificate returned no certificate or serial without error")
		}
	})
}
