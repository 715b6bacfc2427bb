package wxpaytest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/verifier"
)

func TestFaultErrorBeforeApply(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(Fault{Kind: FaultError, PathPrefix: refundsPath, Method: http.MethodPost})
	body := refundBody("RETRY-1")
	r := c.post(refundsPath, body)
	if diff := cmp.Diff(errorSummary{Status: 500, Code: CodeSystemError}, r.summary(t)); diff != "" {
		t.Fatalf("injected: (-want +got)\n%s", diff)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("injected error not signed: %v", err)
	}
	if _, ok := s.RefundByOutRefundNo("RETRY-1"); ok {
		t.Fatal("refund applied despite SYSTEM_ERROR")
	}
	first := c.post(refundsPath, body)
	second := c.post(refundsPath, body)
	if first.status != 200 || second.status != 200 {
		t.Fatalf("retries: %d %s / %d %s", first.status, first.body, second.status, second.body)
	}
	if a, b := first.json(t)["refund_id"], second.json(t)["refund_id"]; a != b {
		t.Errorf("retries made refunds %v and %v", a, b)
	}
	if n := len(s.Refunds()); n != 2 {
		t.Errorf("%d refunds, want the fixture and RETRY-1", n)
	}
	if s.PendingFaults() != 0 {
		t.Errorf("PendingFaults() = %d after use", s.PendingFaults())
	}
}

func TestFaultErrorCodes(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	target := refundsPath + "/" + FixtureOutRefundNo
	tests := []struct {
		f    Fault
		want errorSummary
	}{
		{Fault{Kind: FaultError, Status: 429}, errorSummary{Status: 429, Code: CodeFrequencyLimited}},
		{Fault{Kind: FaultError, Status: 503}, errorSummary{Status: 503, Code: CodeSystemError}},
		{Fault{Kind: FaultError, Status: 400, Code: "NOT_ENOUGH", Message: "余额不足"}, errorSummary{Status: 400, Code: "NOT_ENOUGH"}},
	}
	for _, tt := range tests {
		s.Inject(tt.f)
		r := c.get(target)
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("%+v: (-want +got)\n%s", tt.f, diff)
		}
	}
	if r := c.get(target); r.status != 200 {
		t.Errorf("after the faults: %d", r.status)
	}
}

func TestFaultMatching(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(Fault{Kind: FaultError, Times: 2, PathPrefix: "/v3/ecommerce/"})
	domestic := refundsPath + "/" + FixtureOutRefundNo
	ecommerce := "/v3/ecommerce/refunds/id/" + FixtureRefundID + "?sub_mchid=" + FixtureSubMchID
	var got []int
	for _, target := range []string{domestic, ecommerce, domestic, ecommerce, ecommerce} {
		got = append(got, c.get(target).status)
	}
	if diff := cmp.Diff([]int{200, 500, 200, 500, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
	s.Inject(Fault{Kind: FaultError, Times: -1, Method: http.MethodPost})
	for range 3 {
		if r := c.post(refundsPath, refundBody("FOREVER")); r.status != 500 {
			t.Errorf("unlimited fault: %d", r.status)
		}
	}
	if r := c.get(domestic); r.status != 200 {
		t.Errorf("GET under a POST fault: %d", r.status)
	}
	s.ClearFaults()
	if r := c.post(refundsPath, refundBody("FOREVER")); r.status != 200 {
		t.Errorf("after ClearFaults: %d %s", r.status, r.body)
	}
}

func TestFaultResponseSignature(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	target := refundsPath + "/" + FixtureOutRefundNo
	tests := []struct {
		f       Fault
		want    error
		present []string // headers that must be there
		absent  []string // headers that must not
	}{
		{Fault{Kind: FaultCorruptSignature}, verifier.ErrBadSignature, nil, nil},
		{Fault{Kind: FaultSkewTimestamp, Skew: -10 * time.Minute}, verifier.ErrClockSkew, nil, nil},
		{Fault{Kind: FaultUnknownSerial}, verifier.ErrUnknownSerial, nil, nil},
		{Fault{Kind: FaultProbeSignature}, verifier.ErrSignatureProbe, nil, nil},
		{Fault{Kind: FaultRemoveHeader}, verifier.ErrMissingHeader, nil, []string{verifier.HeaderSignature}},
		{Fault{Kind: FaultRemoveHeader, Header: verifier.HeaderNonce}, verifier.ErrMissingHeader, []string{verifier.HeaderSignature}, []string{verifier.HeaderNonce}},
		{Fault{Kind: FaultUnsigned}, verifier.ErrMissingHeader, []string{"Request-ID"}, []string{verifier.HeaderTimestamp, verifier.HeaderNonce, verifier.HeaderSignature, verifier.HeaderSerial}},
		{Fault{Kind: FaultDelay, Delay: 20 * time.Millisecond}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.f.Kind.String(), func(t *testing.T) {
			s.Inject(tt.f)
			start := time.Now()
			r := c.get(target)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if err := r.verify(s); !errors.Is(err, tt.want) || (tt.want != nil) != (err != nil) {
				t.Errorf("verify = %v, want %v", err, tt.want)
			}
			for _, h := range tt.present {
				if r.header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			for _, h := range tt.absent {
				if r.header.Get(h) != "" {
					t.Errorf("header %s present", h)
				}
			}
			if tt.f.Delay > 0 && time.Since(start) < tt.f.Delay {
				t.Errorf("answered after %v, before the %v delay", time.Since(start), tt.f.Delay)
			}
			// The refund was answered in full: the fault spoils only
			// the signature.
			if r.json(t)["refund_id"] != FixtureRefundID {
				t.Errorf("body %s", r.body)
			}
		})
	}
	if got := FaultKind(99).String(); got != "FaultKind(99)" {
		t.Errorf("FaultKind(99).String() = %q", got)
	}
}

func TestFaultBodies(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	target := refundsPath + "/" + FixtureOutRefundNo

	s.Inject(Fault{Kind: FaultTruncateBody})
	if _, err := c.send(req{method: "GET", target: target}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: err = %v, want unexpected EOF", err)
	}

	const size = 1 << 20
	s.Inject(Fault{Kind: FaultOversizeBody, Size: size})
	r := c.get(target)
	if len(r.body) < size {
		t.Errorf("oversized body has %d bytes, want at least %d", len(r.body), size)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || m["refund_id"] != FixtureRefundID {
		t.Errorf("oversized body is not the padded answer: %v", err)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("oversized body: %v", err)
	}
}

func TestFaultReset(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	body := refundBody("RESET-1")

	s.Inject(Fault{Kind: FaultReset})
	if _, err := c.send(req{method: "POST", target: refundsPath, body: jsonBody(t, body)}); err == nil {
		t.Fatal("reset connection: no error")
	}
	if _, ok := s.RefundByOutRefundNo("RESET-1"); ok {
		t.Error("FaultReset applied the request")
	}
	if rec, _ := s.LastRequest(); rec.Status != 0 || rec.Method != "POST" {
		t.Errorf("record of the reset request: %+v", rec)
	}

	s.Inject(Fault{Kind: FaultResetAfterApply})
	if _, err := c.send(req{method: "POST", target: refundsPath, body: jsonBody(t, body)}); err == nil {
		t.Fatal("reset after apply: no error")
	}
	made, ok := s.RefundByOutRefundNo("RESET-1")
	if !ok {
		t.Fatal("FaultResetAfterApply did not apply the request")
	}
	r := c.post(refundsPath, body)
	if r.status != 200 || r.json(t)["refund_id"] != made.RefundID {
		t.Errorf("retry after a lost answer: %d %s, want refund %s", r.status, r.body, made.RefundID)
	}
}

func TestFaultDelayEndsWithClient(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(Fault{Kind: FaultDelay, Delay: time.Hour})
	c.hc = &http.Client{Timeout: 100 * time.Millisecond}
	_, err := c.send(req{method: "GET", target: refundsPath + "/" + FixtureOutRefundNo})
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("err = %v, want a client timeout", err)
	}
	// Close returns although a handler was waiting an hour.
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestCloseEndsDelay(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(Fault{Kind: FaultDelay, Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := c.send(req{method: "GET", target: refundsPath + "/" + FixtureOutRefundNo})
		errc <- err
	}()
	// Wait until the server holds the request.
	deadline := time.Now().Add(10 * time.Second)
	for s.PendingFaults() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("request answered normally across Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed request outlived Close")
	}
}

// TestFaultSpelling: a Fault written the way chains are, its path without
// the leading '/' and its method in lower case, matches as ParseFault's
// text form of it does, rather than never.
func TestFaultSpelling(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(Fault{Kind: FaultError, Method: "post", PathPrefix: "v3/refund/domestic/refunds"})
	if r := c.post(refundsPath, refundBody("SPELLING-1")); r.status != 500 {
		t.Errorf("POST under a fault {post v3/refund/domestic/refunds}: %d, want the injected 500", r.status)
	}
	if n := s.PendingFaults(); n != 0 {
		t.Errorf("%d faults pending, want the one used up", n)
	}
}
