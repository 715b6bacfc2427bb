package wxpaytest

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

func TestCertificates(t *testing.T) {
	s := newServer(t, withTwoPlatformKeys)
	c := newClient(t, s)
	r := c.get("/v3/certificates")
	if r.status != http.StatusOK {
		t.Fatalf("GET /v3/certificates: %d %s", r.status, r.body)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("answer not signed: %v", err)
	}
	data, _ := r.json(t)["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("%d certificates, want 1 (the public-key id has none)", len(data))
	}
	m := data[0].(map[string]any)
	if m["serial_no"] != certSerial {
		t.Errorf("serial_no = %v, want %s", m["serial_no"], certSerial)
	}
	e := m["encrypt_certificate"].(map[string]any)
	if e["algorithm"] != "AEAD_AES_256_GCM" || e["associated_data"] != "certificate" || len(e["nonce"].(string)) != 12 {
		t.Errorf("encrypt_certificate = %v", e)
	}
	block, _ := aes.NewCipher([]byte(s.APIv3Key))
	gcm, _ := cipher.NewGCM(block)
	ct, _ := base64.StdEncoding.DecodeString(e["ciphertext"].(string))
	pem, err := gcm.Open(nil, []byte(e["nonce"].(string)), ct, []byte("certificate"))
	if err != nil {
		t.Fatalf("ciphertext does not decrypt with the APIv3 key: %v", err)
	}
	cert, serial, err := rsaenc.ParseCertificate(pem)
	if err != nil || serial != certSerial {
		t.Fatalf("certificate: serial %q, %v", serial, err)
	}
	if !platformKey2.PublicKey.Equal(cert.PublicKey) {
		t.Errorf("certificate key is not the platform key")
	}
	for _, f := range []string{"effective_time", "expire_time"} {
		if _, err := time.Parse(time.RFC3339, m[f].(string)); err != nil {
			t.Errorf("%s = %v: %v", f, m[f], err)
		}
	}
	if got, ok := s.PlatformCertificate(certSerial); !ok || string(got) != string(pem) {
		t.Errorf("PlatformCertificate differs from what was served")
	}
	if _, ok := s.PlatformCertificate(DefaultPlatformSerial); ok {
		t.Errorf("a public-key id has a certificate")
	}
	// The nonce is fresh for each answer.
	r2 := c.get("/v3/certificates")
	e2 := r2.json(t)["data"].([]any)[0].(map[string]any)["encrypt_certificate"].(map[string]any)
	if e2["nonce"] == e["nonce"] {
		t.Errorf("the same nonce twice")
	}
}
