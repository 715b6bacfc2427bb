package rsaenc_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

func TestEncryptDecryptRoundTrip(t *testing.T) {
	priv, err := rsaenc.LoadPrivateKey("../testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := rsaenc.LoadPublicKey("../testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range []string{"6225880000001234", "张三", "", strings.Repeat("x", 214)} {
		ct, err := rsaenc.Encrypt(pub, pt)
		if err != nil {
			t.Fatalf("Encrypt(%q): %v", pt, err)
		}
		ct2, _ := rsaenc.Encrypt(pub, pt)
		if ct == ct2 {
			t.Errorf("Encrypt(%q) twice gave the same ciphertext: OAEP must be randomised", pt)
		}
		got, err := rsaenc.Decrypt(priv, ct)
		if err != nil || got != pt {
			t.Errorf("Decrypt(Encrypt(%q)) = %q, %v", pt, got, err)
		}
	}
	if _, err := rsaenc.Encrypt(pub, strings.Repeat("x", 215)); err == nil {
		t.Error("Encrypt of 215 bytes with a 2048-bit key succeeded; OAEP-SHA1 allows 214")
	}
	other, _ := rsaenc.LoadPrivateKey("../testdata/merchant_key.pem")
	ct, _ := rsaenc.Encrypt(pub, "secret")
	for _, tc := range []struct{ name, ct string }{{"wrong key", ct}, {"not base64", "%%%"}, {"garbage", "AAAA"}} {
		k := priv
		if tc.name == "wrong key" {
			k = other
		}
		if _, err := rsaenc.Decrypt(k, tc.ct); !errors.Is(err, rsaenc.ErrDecrypt) {
			t.Errorf("%s: Decrypt error = %v, want ErrDecrypt", tc.name, err)
		}
	}
}

func TestLoaders(t *testing.T) {
	a, err := rsaenc.LoadPrivateKey("../testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	b, err := rsaenc.LoadPrivateKey("../testdata/merchant_key_pkcs1.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) {
		t.Error("PKCS#8 and PKCS#1 files give different keys")
	}
	pub, err := rsaenc.LoadPublicKey("../testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	certPub, err := rsaenc.LoadPublicKey("../testdata/platform_cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(certPub) {
		t.Error("the certificate's key differs from the SPKI key")
	}
	_, serial, err := rsaenc.LoadCertificate("../testdata/platform_cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	if serial != "3775B6A45ACD588826D15E583A95F5DD12345678" {
		t.Errorf("serial = %s", serial)
	}
}

func TestLoaderErrors(t *testing.T) {
	keyPEM, _ := os.ReadFile("../testdata/merchant_key.pem")
	pubPEM, _ := os.ReadFile("../testdata/platform_pub.pem")
	for _, tc := range []struct {
		name string
		fn   func() error
		want string
	}{
		{"no PEM", func() error { _, err := rsaenc.ParsePrivateKey([]byte("hello")); return err }, "no PEM block"},
		{"public as private", func() error { _, err := rsaenc.ParsePrivateKey(pubPEM); return err }, "found PUBLIC KEY"},
		{"private as public", func() error { _, err := rsaenc.ParsePublicKey(keyPEM); return err }, "found PRIVATE KEY"},
		{"private as cert", func() error { _, _, err := rsaenc.ParseCertificate(keyPEM); return err }, "want a certificate"},
		{"corrupt", func() error {
			_, err := rsaenc.ParsePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
			return err
		}, "malformed PRIVATE KEY"},
		{"missing file", func() error { _, err := rsaenc.LoadPrivateKey("../testdata/nope.pem"); return err }, "nope.pem"},
	} {
		err := tc.fn()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: error shows key material: %v", tc.name, err)
		}
	}
}
