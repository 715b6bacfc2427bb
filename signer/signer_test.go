package signer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/signer"
)

func load(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func merchantKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsaenc.LoadPrivateKey("../testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	goldenTarget = "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund"
	goldenBody   = `{"out_refund_no":"1217752501201407033233368018","sub_mchid":"1900000109","type":"MERCHANT_BANK_CARD"}`
	goldenNonce  = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
	goldenTS     = 1700000000
)

func TestAppendMessageMatchesGoldenFile(t *testing.T) {
	got := string(signer.AppendMessage(nil, "POST", goldenTarget, goldenTS, goldenNonce, []byte(goldenBody)))
	if want := load(t, "request_message.txt"); got != want {
		t.Errorf("AppendMessage = %q, want %q", got, want)
	}
	got = string(signer.AppendMessage(nil, "GET", "/v3/certificates", goldenTS, goldenNonce, nil))
	if want := load(t, "request_message_empty.txt"); got != want {
		t.Errorf("AppendMessage with empty body = %q, want %q", got, want)
	}
}

// The golden signatures were made by the openssl command line tool (see
// testdata/README.md), so this checks the Signer against an independent
// implementation, byte for byte.
func TestAuthorizationGolden(t *testing.T) {
	s, err := signer.New("1900000109", "3775B6A45ACD588826D15E583A95F5DD12345678", merchantKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, target, body, sigFile string
	}{
		{"POST", goldenTarget, goldenBody, "request_signature.b64"},
		{"GET", "/v3/certificates", "", "request_signature_empty.b64"},
	} {
		got, err := s.AppendAuthorization(nil, nil, tc.method, tc.target, []byte(tc.body), goldenTS, goldenNonce)
		if err != nil {
			t.Fatal(err)
		}
		want := `WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",signature="` +
			strings.TrimSpace(load(t, tc.sigFile)) + `",timestamp="1700000000",serial_no="3775B6A45ACD588826D15E583A95F5DD12345678"`
		if string(got) != want {
			t.Errorf("%s %s: Authorization =\n%s\nwant\n%s", tc.method, tc.target, got, want)
		}
		a, err := signer.ParseAuthorization(string(got))
		if err != nil {
			t.Fatal(err)
		}
		if a.MchID != "1900000109" || a.Nonce != goldenNonce || a.Timestamp != "1700000000" || a.Serial != "3775B6A45ACD588826D15E583A95F5DD12345678" || a.Signature != strings.TrimSpace(load(t, tc.sigFile)) {
			t.Errorf("ParseAuthorization = %+v", a)
		}
	}
}

func TestNonce(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for i := 0; i < 2000; i++ {
		n := signer.Nonce()
		if len(n) != signer.NonceLen {
			t.Fatalf("Nonce() = %q, len %d", n, len(n))
		}
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("Nonce() = %q holds %q", n, c)
			}
			counts[c]++
		}
		if seen[n] {
			t.Fatalf("Nonce() repeated %q", n)
		}
		seen[n] = true
	}
	// 64000 characters over 62 symbols: about 1032 each. A modulo-biased
	// generator (byte % 62) gives the first 8 symbols about 1250.
	for c, n := range counts {
		if n < 880 || n > 1180 {
			t.Errorf("character %q drawn %d times of 64000; want about 1032", c, n)
		}
	}
	if len(counts) != 62 {
		t.Errorf("%d distinct characters, want 62", len(counts))
	}
}

func TestNewErrors(t *testing.T) {
	k := merchantKey(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, mchid, serial string
		key                 any
		want                string
	}{
		{"empty mchid", "", "S", k, "empty merchant id"},
		{"empty serial", "1", "", k, "empty certificate serial"},
		{"quote in serial", "1", `S"`, k, "printable ASCII"},
		{"nil key", "1", "S", nil, "nil private key"},
		{"small key", "1", "S", small, "1024 bits"},
		{"ecdsa", "1", "S", ec, "want RSA"},
	} {
		var err error
		switch key := tc.key.(type) {
		case *rsa.PrivateKey:
			_, err = signer.New(tc.mchid, tc.serial, key)
		case *ecdsa.PrivateKey:
			_, err = signer.New(tc.mchid, tc.serial, key)
		default:
			_, err = signer.New(tc.mchid, tc.serial, nil)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error = %v, want one containing %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE") {
			t.Errorf("%s: error leaks key material: %v", tc.name, err)
		}
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	for _, h := range []string{
		"",
		"Bearer x",
		`WECHATPAY2-SHA256-RSA2048 mchid="1"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="s",mchid="2"`,
		`WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",signature="s",timestamp="1",serial_no="s"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="s",extra="x"`,
	} {
		if a, err := signer.ParseAuthorization(h); err == nil {
			t.Errorf("ParseAuthorization(%q) = %+v, want an error", h, a)
		}
	}
}

func BenchmarkAuthorization(b *testing.B) {
	s, err := signer.New("1900000109", "3775B6A45ACD588826D15E583A95F5DD12345678", merchantKey(b))
	if err != nil {
		b.Fatal(err)
	}
	dst, scratch := make([]byte, 0, 512), make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst, err = s.AppendAuthorization(dst[:0], scratch, "POST", goldenTarget, []byte(goldenBody), goldenTS, goldenNonce)
		if err != nil {
			b.Fatal(err)
		}
	}
}
