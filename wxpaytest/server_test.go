package wxpaytest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/verifier"
)

func TestSignedRequestSucceeds(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.get("/v3/refund/domestic/refunds/" + FixtureOutRefundNo)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", r.status, r.body)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("response signature: %v", err)
	}
	if got := r.header.Get(verifier.HeaderSerial); got != DefaultPlatformSerial {
		t.Errorf("Wechatpay-Serial = %q, want %q", got, DefaultPlatformSerial)
	}
	if id := r.header.Get("Request-ID"); id == "" {
		t.Error("no Request-ID header")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.json(t)
	for path, want := range map[string]any{
		"refund_id":     FixtureRefundID,
		"out_refund_no": FixtureOutRefundNo,
		"status":        StatusAbnormal,
		"amount.total":  float64(FixtureAmount),
		"amount.refund": float64(FixtureAmount),
	} {
		if got := get(m, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	recs := s.Requests()
	if len(recs) != 1 || !recs[0].Authenticated || recs[0].Status != 200 || recs[0].Method != "GET" {
		t.Errorf("Requests() = %+v, want one authenticated GET answered 200", recs)
	}
	if s.RequestCount() != 1 {
		t.Errorf("RequestCount() = %d, want 1", s.RequestCount())
	}
}

func TestURLAndConfig(t *testing.T) {
	s := newServer(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(s.URL) {
		t.Errorf("URL = %q, want http://127.0.0.1:PORT/", s.URL)
	}
	cfg := s.Config()
	if cfg.MchID != DefaultMchID || cfg.Serial != DefaultMerchantSerial || cfg.BaseURL != s.URL {
		t.Errorf("Config() = %q, %q, %q; want %q, %q, %q", cfg.MchID, cfg.Serial, cfg.BaseURL, DefaultMchID, DefaultMerchantSerial, s.URL)
	}
	if len(cfg.APIv3Key) != 32 {
		t.Errorf("len(APIv3Key) = %d, want 32", len(cfg.APIv3Key))
	}
	if cfg.PrivateKey != s.MerchantKey {
		t.Error("Config().PrivateKey is not the merchant key")
	}
	if k := cfg.Certs[DefaultPlatformSerial]; len(cfg.Certs) != 1 || k == nil || !k.Equal(&platformKey.PublicKey) {
		t.Errorf("Config().Certs = %v, want the platform public key under %s", cfg.Certs, DefaultPlatformSerial)
	}
}

func TestFreshKeysByDefault(t *testing.T) {
	s := NewServer()
	defer s.Close()
	if s.MerchantKey == nil || len(s.Platform) != 1 || s.Platform[0].Key == nil {
		t.Fatal("NewServer did not generate its keys")
	}
	if s.MerchantKey.Equal(s.Platform[0].Key) {
		t.Error("merchant and platform keys are the same")
	}
	c := newClient(t, s)
	if r := c.get("/v3/refund/domestic/refunds/" + FixtureOutRefundNo); r.status != 200 || r.verify(s) != nil {
		t.Errorf("request to a default server: %d %s", r.status, r.body)
	}
}

func TestRouting(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	tests := []struct {
		method, target string
		want           errorSummary
	}{
		{"GET", "/v3/nothing/here", errorSummary{Status: 404, Code: CodeNotFound}},
		{"GET", "/v3/refund/domestic/refunds/", errorSummary{Status: 404, Code: CodeNotFound}},
		{"GET", "/v3/refund/domestic/refunds/a/b", errorSummary{Status: 404, Code: CodeNotFound}},
		{"DELETE", "/v3/refund/domestic/refunds", errorSummary{Status: 405, Code: CodeMethodNotAllowed}},
		{"GET", "/v3/ecommerce/refunds/apply", errorSummary{Status: 405, Code: CodeMethodNotAllowed}},
		{"PUT", "/v3/ecommerce/refunds/x/apply-abnormal-refund", errorSummary{Status: 405, Code: CodeMethodNotAllowed}},
	}
	for _, tt := range tests {
		r := c.do(req{method: tt.method, target: tt.target})
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("%s %s: (-want +got)\n%s", tt.method, tt.target, diff)
		}
		if err := r.verify(s); err != nil {
			t.Errorf("%s %s: error answer not signed: %v", tt.method, tt.target, err)
		}
	}
}

func TestResponseKeyFollowsWechatpaySerial(t *testing.T) {
	s := newServer(t, withTwoPlatformKeys)
	c := newClient(t, s)
	for _, serial := range []string{"", DefaultPlatformSerial, certSerial, "UNKNOWN"} {
		r := c.do(req{method: "GET", target: "/v3/refund/domestic/refunds/" + FixtureOutRefundNo,
			header: map[string]string{verifier.HeaderSerial: serial}})
		want := serial
		if serial == "" || serial == "UNKNOWN" {
			want = DefaultPlatformSerial
		}
		if got := r.header.Get(verifier.HeaderSerial); got != want {
			t.Errorf("request Wechatpay-Serial %q: answer serial %q, want %q", serial, got, want)
		}
		if err := r.verify(s); err != nil {
			t.Errorf("request Wechatpay-Serial %q: %v", serial, err)
		}
	}
}

func TestRequestsAreCopies(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	target := "/v3/refund/domestic/refunds/" + FixtureOutRefundNo + "?sub_mchid=" + FixtureSubMchID
	c.get(target)
	c.do(req{method: "GET", target: target, noAuth: true})
	recs := s.Requests()
	if len(recs) != 2 {
		t.Fatalf("len(Requests()) = %d, want 2", len(recs))
	}
	if recs[0].RequestURI != target || !recs[0].Authenticated || recs[1].Authenticated || recs[1].Status != 401 {
		t.Errorf("Requests() = %+v", recs)
	}
	recs[0].Header.Set("X-Changed", "1")
	recs[0].RequestURI = "changed"
	again, _ := s.LastRequest()
	if again.Header.Get("X-Changed") != "" || s.Requests()[0].RequestURI != target {
		t.Error("changing a returned record changed the server's records")
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.RequestCount() != 0 {
		t.Error("ResetRequests did not forget the records")
	}
}

func TestStartErr(t *testing.T) {
	s := newServer(t)
	if err := s.StartErr(); err == nil {
		t.Error("second StartErr succeeded")
	}
	u := NewUnstartedServer()
	testKeys(t)
	u.MerchantKey = merchantKey
	u.Platform = []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	u.APIv3Key = "short"
	if err := u.StartErr(); err == nil {
		u.Close()
		t.Error("StartErr accepted a 5-byte APIv3Key")
	}
	u.Close()
	u.Close() // harmless twice
}
