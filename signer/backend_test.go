package signer

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"sync"
	"testing"

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

func backendTestKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsaenc.LoadPrivateKey("../testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBackend(t *testing.T) {
	b := Backend()
	if b != rsabackend.Go && b != rsabackend.OpenSSL {
		t.Fatalf("Backend() = %q", b)
	}
	t.Logf("Backend() = %q: %s", b, rsabackend.Description())
	for _, be := range backendsForTest(t) {
		useBackend(t, be)
		if got := Backend(); got != be {
			t.Errorf("after Use(%q), Backend() = %q", be, got)
		}
	}
}

// TestSignBackendsAgree signs the golden request under every backend and
// checks each signature against the one made by the openssl tool.
func TestSignBackendsAgree(t *testing.T) {
	msg, err := os.ReadFile("../testdata/request_message.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../testdata/request_signature.b64")
	if err != nil {
		t.Fatal(err)
	}
	key := backendTestKey(t)
	var made []*Signer
	for _, be := range backendsForTest(t) {
		t.Run(be, func(t *testing.T) {
			useBackend(t, be)
			s, err := New("1900000109", "3775B6A45ACD588826D15E583A95F5DD12345678", key)
			if err != nil {
				t.Fatal(err)
			}
			if s.rsaSK == nil {
				t.Fatal("Signer holds no prepared key")
			}
			if got := s.rsaSK.Backend(); got != be {
				t.Errorf("prepared key signs with %q, want %q", got, be)
			}
			made = append(made, s)
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(want)); base64.StdEncoding.EncodeToString(sig) != got {
				t.Errorf("Sign = %s, want %s", base64.StdEncoding.EncodeToString(sig), got)
			}
			// A Signer made under one backend signs identically
			// under every other.
			for _, other := range made {
				sig2, err := other.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sig, sig2) {
					t.Error("signers made under different backends disagree")
				}
			}
			h := sha256.Sum256(append(bytes.Clone(msg), 'x'))
			if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, h[:], sig) == nil {
				t.Error("signature verifies for a tampered message")
			}
		})
	}
}

// TestSignConcurrent signs from many goroutines with one Signer; run it
// with -race.
func TestSignConcurrent(t *testing.T) {
	key := backendTestKey(t)
	s, err := New("1900000109", "3775B6A45ACD588826D15E583A95F5DD12345678", key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				msg := AppendMessage(nil, "GET", "/v3/certificates", int64(1700000000+i), "NONCE", []byte{byte(g)})
				sig, err := s.Sign(msg)
				if err != nil {
					t.Error(err)
					return
				}
				d := sha256.Sum256(msg)
				if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, d[:], sig); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkSignBackend signs a typical request message, hashing included.
func BenchmarkSignBackend(b *testing.B) {
	key := backendTestKey(b)
	msg := AppendMessage(nil, "POST", "/v3/pay/transactions/jsapi", 1700000000, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
		[]byte(`{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","amount":{"total":100,"currency":"CNY"}}`))
	for _, be := range backendsForTest(b) {
		b.Run(be, func(b *testing.B) {
			useBackend(b, be)
			s, err := New("1900000109", "3775B6A45ACD588826D15E583A95F5DD12345678", key)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
