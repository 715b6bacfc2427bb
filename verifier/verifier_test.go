package verifier_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

const serial = "PUB_KEY_ID_0114232134912410000000000000"

func setup(t *testing.T) (*verifier.Verifier, verifier.Headers, []byte) {
	t.Helper()
	pub, err := rsaenc.LoadPublicKey("../testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(map[string]*rsa.PublicKey{serial: pub})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1700000000, 0) }
	sig, err := os.ReadFile("../testdata/response_signature.b64")
	if err != nil {
		t.Fatal(err)
	}
	h := verifier.Headers{Timestamp: "1700000000", Nonce: "NONCE1234567890", Signature: strings.TrimSpace(string(sig)), Serial: serial}
	return v, h, []byte(`{"status":"PROCESSING"}`)
}

func TestVerifyGolden(t *testing.T) {
	v, h, body := setup(t)
	if err := v.Verify(h, body, nil); err != nil {
		t.Fatalf("Verify(golden) = %v", err)
	}
}

func TestVerifyRejections(t *testing.T) {
	v, good, body := setup(t)
	for _, tc := range []struct {
		name string
		edit func(*verifier.Headers, *[]byte)
		want error
	}{
		{"no timestamp", func(h *verifier.Headers, _ *[]byte) { h.Timestamp = "" }, verifier.ErrMissingHeader},
		{"no nonce", func(h *verifier.Headers, _ *[]byte) { h.Nonce = "" }, verifier.ErrMissingHeader},
		{"no signature", func(h *verifier.Headers, _ *[]byte) { h.Signature = "" }, verifier.ErrMissingHeader},
		{"no serial", func(h *verifier.Headers, _ *[]byte) { h.Serial = "" }, verifier.ErrMissingHeader},
		{"probe", func(h *verifier.Headers, _ *[]byte) { h.Signature = "WECHATPAY/SIGNTEST/" + h.Signature }, verifier.ErrSignatureProbe},
		{"timestamp not a number", func(h *verifier.Headers, _ *[]byte) { h.Timestamp = "17e8" }, verifier.ErrMalformedHeader},
		{"301 s late", func(h *verifier.Headers, _ *[]byte) { h.Timestamp = "1699999699" }, verifier.ErrClockSkew},
		{"301 s early", func(h *verifier.Headers, _ *[]byte) { h.Timestamp = "1700000301" }, verifier.ErrClockSkew},
		{"unknown serial", func(h *verifier.Headers, _ *[]byte) { h.Serial = "PUB_KEY_ID_X" }, verifier.ErrUnknownSerial},
		{"tampered body", func(_ *verifier.Headers, b *[]byte) { *b = []byte(`{"status":"SUCCESS"}`) }, verifier.ErrBadSignature},
		{"tampered nonce", func(h *verifier.Headers, _ *[]byte) { h.Nonce += "x" }, verifier.ErrBadSignature},
		{"signature not base64", func(h *verifier.Headers, _ *[]byte) { h.Signature = "!!!" }, verifier.ErrBadSignature},
		{"signature too long", func(h *verifier.Headers, _ *[]byte) { h.Signature = strings.Repeat("A", 2000) }, verifier.ErrBadSignature},
		{"flipped signature", func(h *verifier.Headers, _ *[]byte) {
			s := []byte(h.Signature)
			if s[10] == 'A' {
				s[10] = 'B'
			} else {
				s[10] = 'A'
			}
			h.Signature = string(s)
		}, verifier.ErrBadSignature},
	} {
		h, b := good, append([]byte(nil), body...)
		tc.edit(&h, &b)
		if err := v.Verify(h, b, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
	// exactly 300 s off is still accepted
	h := good
	h.Timestamp = "1699999700"
	if err := v.Verify(h, body, nil); !errors.Is(err, verifier.ErrBadSignature) {
		t.Errorf("300 s late: Verify = %v, want the skew check passed (then a bad signature)", err)
	}
}

func TestSetKeys(t *testing.T) {
	v, h, body := setup(t)
	pub, _ := v.Key(serial)
	if err := v.SetKeys(map[string]*rsa.PublicKey{"OTHER": pub}); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(h, body, nil); !errors.Is(err, verifier.ErrUnknownSerial) {
		t.Errorf("after SetKeys without the serial: Verify = %v, want ErrUnknownSerial", err)
	}
	if got := v.Serials(); len(got) != 1 || got[0] != "OTHER" {
		t.Errorf("Serials() = %v", got)
	}
	for _, bad := range []map[string]*rsa.PublicKey{{"": pub}, {"X": nil}} {
		if err := v.SetKeys(bad); err == nil {
			t.Errorf("SetKeys(%v) succeeded", bad)
		}
	}
}

// A timestamp so far off that subtracting it overflows is still too far.
func TestVerifySkewWithoutOverflow(t *testing.T) {
	v, h, body := setup(t)
	for _, ts := range []int64{1700000000 + math.MinInt64, math.MinInt64, math.MaxInt64, -1} {
		h.Timestamp = strconv.FormatInt(ts, 10)
		if err := v.Verify(h, body, nil); !errors.Is(err, verifier.ErrClockSkew) {
			t.Errorf("timestamp %d: Verify = %v, want ErrClockSkew", ts, err)
		}
	}
}

// Every key size SetKeys accepts verifies: WeChat Pay may sign with a key
// larger than 2048 bits, and a 4096-bit signature is 684 base64 characters.
func TestVerifyLargerKeys(t *testing.T) {
	for _, bits := range []int{3072, 4096} {
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(map[string]*rsa.PublicKey{serial: &priv.PublicKey})
		if err != nil {
			t.Fatalf("%d bits: New: %v", bits, err)
		}
		v.Now = func() time.Time { return time.Unix(1700000000, 0) }
		body := []byte(`{"status":"PROCESSING"}`)
		digest := sha256.Sum256(verifier.AppendMessage(nil, "1700000000", "NONCE", body))
		sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		h := verifier.Headers{Timestamp: "1700000000", Nonce: "NONCE", Signature: base64.StdEncoding.EncodeToString(sig), Serial: serial}
		if err := v.Verify(h, body, nil); err != nil {
			t.Errorf("%d bits (%d-character signature): Verify = %v", bits, len(h.Signature), err)
		}
		// and still refuses what it must
		for name, s := range map[string]string{
			"one byte short": base64.StdEncoding.EncodeToString(sig[1:]),
			"one byte long":  base64.StdEncoding.EncodeToString(append(sig, 0)),
			"twice as long":  base64.StdEncoding.EncodeToString(append(sig, sig...)),
			"tampered":       base64.StdEncoding.EncodeToString(append([]byte{sig[0] ^ 1}, sig[1:]...)),
		} {
			h := h
			h.Signature = s
			if err := v.Verify(h, body, nil); !errors.Is(err, verifier.ErrBadSignature) {
				t.Errorf("%d bits, signature %s: Verify = %v, want ErrBadSignature", bits, name, err)
			}
		}
	}
}

func TestTrustedKeys(t *testing.T) {
	v, h, body := setup(t)
	pub, _ := v.Key(serial)
	from := time.Unix(1600000000, 0)
	to := time.Unix(1800000000, 0)
	if err := v.SetTrustedKeys(map[string]verifier.TrustedKey{serial: {PublicKey: pub, NotBefore: from, NotAfter: to}}); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(h, body, nil); err != nil {
		t.Errorf("Verify with a dated key = %v", err)
	}
	got := v.TrustedKeys()
	if k := got[serial]; !k.Dated() || !k.NotBefore.Equal(from) || !k.NotAfter.Equal(to) || !k.PublicKey.Equal(pub) {
		t.Errorf("TrustedKeys()[%s] = %+v", serial, k)
	}
	delete(got, serial) // a copy: the verifier keeps its keys
	if _, ok := v.Key(serial); !ok {
		t.Error("editing the map TrustedKeys returned changed the verifier")
	}
	k := v.TrustedKeys()[serial]
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{from.Add(-time.Second), false}, {from, true}, {to.Add(-time.Second), true}, {to, false}} {
		if got := k.InForce(tc.at); got != tc.want {
			t.Errorf("InForce(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if undated := (verifier.TrustedKey{PublicKey: pub}); undated.Dated() || !undated.InForce(time.Now()) {
		t.Error("a key without dates: want undated and always in force")
	}
	// SetKeys drops the dates.
	if err := v.SetKeys(map[string]*rsa.PublicKey{serial: pub}); err != nil || v.TrustedKeys()[serial].Dated() {
		t.Errorf("SetKeys: %v, dated %v", err, v.TrustedKeys()[serial].Dated())
	}
	for name, bad := range map[string]verifier.TrustedKey{
		"empty period": {PublicKey: pub, NotBefore: to, NotAfter: from},
		"nil key":      {},
		"no modulus":   {PublicKey: &rsa.PublicKey{E: 65537}},
	} {
		if err := v.SetTrustedKeys(map[string]verifier.TrustedKey{serial: bad}); err == nil {
			t.Errorf("SetTrustedKeys with %s succeeded", name)
		}
	}
}
