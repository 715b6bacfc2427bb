package wxpaytest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/signer"
)

func TestAuthRejections(t *testing.T) {
	now := time.Date(2025, 1, 16, 10, 0, 0, 0, time.UTC)
	s := newServer(t, func(s *Server) { s.Now = fixedClock(now) })
	c := newClient(t, s)
	stranger, err := signer.New(DefaultMchID, DefaultMerchantSerial, strangerKey)
	if err != nil {
		t.Fatal(err)
	}
	otherMch, err := signer.New("1230000109", DefaultMerchantSerial, merchantKey)
	if err != nil {
		t.Fatal(err)
	}
	otherSerial, err := signer.New(DefaultMchID, "ABCDEF", merchantKey)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/v3/refund/domestic/refunds"
	body := jsonBody(t, map[string]any{
		"out_refund_no": "AUTH-1", "transaction_id": "4200000000000000000000000001",
		"amount": map[string]any{"refund": 1, "total": 10, "currency": "CNY"},
	})
	post := func(q req) req {
		q.method, q.target, q.body = http.MethodPost, path, body
		return q
	}
	tests := []struct {
		name string
		q    req
		want string // in the message
	}{
		{"missing", post(req{noAuth: true}), "missing"},
		{"other scheme", post(req{auth: "Bearer x"}), "malformed"},
		{"missing parameter", post(req{auth: signer.Scheme + ` mchid="1900000109",nonce_str="a",timestamp="1"`}), "malformed"},
		{"wrong mchid", post(req{signer: otherMch}), "mchid"},
		{"wrong serial", post(req{signer: otherSerial}), "serial_no"},
		{"old timestamp", post(req{timestamp: now.Add(-301 * time.Second).Unix()}), "timestamp"},
		{"future timestamp", post(req{timestamp: now.Add(301 * time.Second).Unix()}), "timestamp"},
		{"milliseconds", post(req{timestamp: now.UnixMilli()}), "timestamp"},
		{"other key", post(req{signer: stranger}), "signature"},
		{"tampered body", post(req{signBody: []byte(strings.Replace(string(body), `"refund":1`, `"refund":2`, 1))}), "signature"},
		{"tampered path", post(req{signTarget: path + "/x"}), "signature"},
		{"tampered method", post(req{signMethod: http.MethodPut}), "signature"},
		{"signed body absent", post(req{signBody: []byte{}}), "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(tt.q)
			if diff := cmp.Diff(errorSummary{Status: 401, Code: CodeSignError}, r.summary(t)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if msg, _ := r.json(t)["message"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not mention %q", msg, tt.want)
			}
			if err := r.verify(s); err != nil {
				t.Errorf("401 answer not signed: %v", err)
			}
			if rec, _ := s.LastRequest(); rec.Authenticated {
				t.Error("record says authenticated")
			}
		})
	}
	if _, ok := s.RefundByOutRefundNo("AUTH-1"); ok {
		t.Error("a rejected request was applied")
	}
	// At the edges of the window the request is accepted.
	for _, d := range []time.Duration{-300 * time.Second, 300 * time.Second} {
		if r := c.do(post(req{timestamp: now.Add(d).Unix()})); r.status != 200 {
			t.Errorf("timestamp %v from now: %d %s", d, r.status, r.body)
		}
	}
}

func TestReplayRefused(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	q := req{method: "GET", target: "/v3/refund/domestic/refunds/" + FixtureOutRefundNo}
	q.auth = c.authorization(q)
	if r := c.do(q); r.status != 200 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	r := c.do(q)
	if diff := cmp.Diff(errorSummary{Status: 401, Code: CodeSignError}, r.summary(t)); diff != "" {
		t.Fatalf("replay: (-want +got)\n%s", diff)
	}
	if msg, _ := r.json(t)["message"].(string); !strings.Contains(msg, "replay") {
		t.Errorf("message %q does not say replay", msg)
	}
	// A forged request does not burn the nonce it carries.
	nonce := signer.Nonce()
	forged := req{method: "GET", target: q.target, nonce: nonce, signTarget: "/forged"}
	if r := c.do(forged); r.status != 401 {
		t.Fatalf("forged: %d", r.status)
	}
	if r := c.do(req{method: "GET", target: q.target, nonce: nonce}); r.status != 200 {
		t.Errorf("nonce of a forged request refused afterwards: %d %s", r.status, r.body)
	}
}

func TestRawRequestURISigned(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	// %2D is "-": the server must check the URI as sent, not re-encoded.
	target := "/v3/refund/domestic/refunds/" + FixtureOutRefundNo[:4] + "%2D1?sub_mchid=" + FixtureSubMchID
	r := c.do(req{method: "GET", target: target})
	if diff := cmp.Diff(errorSummary{Status: 404, Code: CodeResourceNotExists}, r.summary(t)); diff != "" {
		t.Errorf("signed as sent: (-want +got)\n%s", diff)
	}
	decoded := strings.Replace(target, "%2D", "-", 1)
	r = c.do(req{method: "GET", target: target, signTarget: decoded})
	if diff := cmp.Diff(errorSummary{Status: 401, Code: CodeSignError}, r.summary(t)); diff != "" {
		t.Errorf("signed decoded: (-want +got)\n%s", diff)
	}
	r = c.do(req{method: "GET", target: target, signTarget: strings.Split(target, "?")[0]})
	if r.status != 401 {
		t.Errorf("query left out of the signature: status %d, want 401", r.status)
	}
}

func TestBodyChecks(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	const path = "/v3/refund/domestic/refunds"
	tests := []struct {
		name        string
		body        string
		contentType string
		want        errorSummary
	}{
		{"text content type", `{}`, "text/plain", errorSummary{Status: 400, Code: CodeInvalidRequest}},
		{"no content type", `{}`, "", errorSummary{Status: 400, Code: CodeInvalidRequest}},
		{"not JSON", `{"out_refund_no":`, "application/json", errorSummary{Status: 400, Code: CodeParamError}},
		{"array", `[1]`, "application/json", errorSummary{Status: 400, Code: CodeParamError}},
		{"trailing data", `{} {}`, "application/json", errorSummary{Status: 400, Code: CodeParamError}},
		{"empty", ``, "application/json", errorSummary{Status: 400, Code: CodeParamError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(req{method: "POST", target: path, body: []byte(tt.body),
				header: map[string]string{"Content-Type": tt.contentType}})
			if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	// With a charset parameter the type is still JSON.
	r := c.do(req{method: "POST", target: path, body: []byte(`{}`),
		header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
	if got := r.summary(t); got.Code != CodeParamError || got.Field == "" {
		t.Errorf("charset: %+v, want a PARAM_ERROR about a field", got)
	}
}
