package verifier

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// backendsForTest returns the usable crypto backends: always "go", and
// "openssl" when libcrypto loads.
func backendsForTest(t testing.TB) []string {
	if err := rsabackend.Available(); err != nil {
		t.Logf("testing only the go backend: %v", err)
		return []string{rsabackend.Go}
	}
	return []string{rsabackend.Go, rsabackend.OpenSSL}
}

// useBackend switches the crypto backend for the rest of the test.
func useBackend(t testing.TB, name string) {
	t.Helper()
	if err := rsabackend.Use(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rsabackend.Use(rsabackend.Auto) })
}

type golden struct {
	pub  *rsa.PublicKey
	priv *rsa.PrivateKey
	msg  []byte
	sig  string
}

// loadGolden returns the platform key and the response message signed by
// the openssl tool.
func loadGolden(t testing.TB) golden {
	t.Helper()
	pub, err := rsaenc.LoadPublicKey("../testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := rsaenc.LoadPrivateKey("../testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := os.ReadFile("../testdata/response_message.txt")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile("../testdata/response_signature.b64")
	if err != nil {
		t.Fatal(err)
	}
	return golden{pub, priv, msg, strings.TrimSpace(string(sig))}
}

func TestVerifySignatureBackends(t *testing.T) {
	g := loadGolden(t)
	raw, err := base64.StdEncoding.DecodeString(g.sig)
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range backendsForTest(t) {
		t.Run(be, func(t *testing.T) {
			useBackend(t, be)
			if err := VerifySignature(g.pub, g.msg, g.sig); err != nil {
				t.Fatalf("golden signature: %v", err)
			}
			// A fresh copy of the key, as after SetKeys with
			// reparsed certificates, verifies too.
			cp := &rsa.PublicKey{N: g.pub.N, E: g.pub.E}
			if err := VerifySignature(cp, g.msg, g.sig); err != nil {
				t.Fatalf("golden signature, copied key: %v", err)
			}
			bad := []struct {
				name string
				msg  []byte
				sig  string
			}{
				{"tampered message", append([]byte{'x'}, g.msg...), g.sig},
				{"truncated message", g.msg[:len(g.msg)-1], g.sig},
				{"flipped signature bit", g.msg, flipB64(raw, len(raw)/2)},
				{"truncated signature", g.msg, base64.StdEncoding.EncodeToString(raw[:len(raw)-1])},
				{"padded signature", g.msg, base64.StdEncoding.EncodeToString(append([]byte{0}, raw...))},
				{"empty signature", g.msg, ""},
				{"not base64", g.msg, "!!" + g.sig[2:]},
			}
			for _, c := range bad {
				if err := VerifySignature(g.pub, c.msg, c.sig); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: error %v, want ErrBadSignature", c.name, err)
				}
			}
		})
	}
}

func flipB64(sig []byte, i int) string {
	c := append([]byte(nil), sig...)
	c[i] ^= 0x80
	return base64.StdEncoding.EncodeToString(c)
}

// TestVerifyAcrossBackends checks signatures made by crypto/rsa with the
// Verifier under every backend, from many goroutines; run it with -race.
func TestVerifyAcrossBackends(t *testing.T) {
	g := loadGolden(t)
	v, err := New(map[string]*rsa.PublicKey{"PUB_KEY_ID_1": g.pub})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1700000000, 0) }
	for _, be := range backendsForTest(t) {
		t.Run(be, func(t *testing.T) {
			useBackend(t, be)
			var wg sync.WaitGroup
			for n := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := []byte(`{"n":` + strings.Repeat("1", n+1) + `}`)
					msg := AppendMessage(nil, "1700000000", "NONCE", body)
					d := sha256.Sum256(msg)
					sig, err := rsa.SignPKCS1v15(nil, g.priv, crypto.SHA256, d[:])
					if err != nil {
						t.Error(err)
						return
					}
					h := Headers{Timestamp: "1700000000", Nonce: "NONCE", Signature: base64.StdEncoding.EncodeToString(sig), Serial: "PUB_KEY_ID_1"}
					for range 5 {
						if err := v.Verify(h, body, nil); err != nil {
							t.Error(err)
						}
						if err := v.Verify(h, append(body, ' '), nil); !errors.Is(err, ErrBadSignature) {
							t.Errorf("tampered body: %v, want ErrBadSignature", err)
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// BenchmarkVerifyBackend verifies the golden response, hashing included.
func BenchmarkVerifyBackend(b *testing.B) {
	g := loadGolden(b)
	for _, be := range backendsForTest(b) {
		b.Run(be, func(b *testing.B) {
			useBackend(b, be)
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifySignature(g.pub, g.msg, g.sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
