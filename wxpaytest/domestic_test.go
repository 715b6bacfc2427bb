package wxpaytest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const refundsPath = "/v3/refund/domestic/refunds"

// refundBody returns a valid apply refund body, changed by edits.
func refundBody(outRefundNo string, edits ...func(m map[string]any)) map[string]any {
	m := map[string]any{
		"transaction_id": "4200000000000000000000000042",
		"out_refund_no":  outRefundNo,
		"reason":         "商品已售完",
		"notify_url":     "https://weixin.qq.com",
		"funds_account":  "AVAILABLE",
		"amount": map[string]any{
			"refund":   60,
			"from":     []any{map[string]any{"account": "AVAILABLE", "amount": 60}},
			"total":    100,
			"currency": "CNY",
		},
	}
	for _, e := range edits {
		e(m)
	}
	return m
}

func amountOf(m map[string]any) map[string]any { return m["amount"].(map[string]any) }

func TestApplyRefundValidation(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	param := func(field string) errorSummary {
		return errorSummary{Status: 400, Code: CodeParamError, Field: field, Location: "body"}
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want errorSummary
	}{
		{"no out_refund_no", func(m map[string]any) { delete(m, "out_refund_no") }, param("/out_refund_no")},
		{"empty out_refund_no", func(m map[string]any) { m["out_refund_no"] = "" }, param("/out_refund_no")},
		{"long out_refund_no", func(m map[string]any) { m["out_refund_no"] = strings.Repeat("x", 65) }, param("/out_refund_no")},
		{"numeric out_refund_no", func(m map[string]any) { m["out_refund_no"] = 12 }, param("/out_refund_no")},
		{"no trade", func(m map[string]any) { delete(m, "transaction_id") }, param("/transaction_id")},
		{"long transaction_id", func(m map[string]any) { m["transaction_id"] = "123456789012345678901234567890123" }, param("/transaction_id")},
		{"no amount", func(m map[string]any) { delete(m, "amount") }, param("/amount")},
		{"amount not object", func(m map[string]any) { m["amount"] = 5 }, param("/amount")},
		{"no refund", func(m map[string]any) { delete(amountOf(m), "refund") }, param("/amount/refund")},
		{"fractional refund", func(m map[string]any) { amountOf(m)["refund"] = 1.5 }, param("/amount/refund")},
		{"string refund", func(m map[string]any) { amountOf(m)["refund"] = "60" }, param("/amount/refund")},
		{"zero refund", func(m map[string]any) { amountOf(m)["refund"] = 0 }, param("/amount/refund")},
		{"no total", func(m map[string]any) { delete(amountOf(m), "total") }, param("/amount/total")},
		{"refund over total", func(m map[string]any) { amountOf(m)["refund"] = 101 }, param("/amount/refund")},
		{"no currency", func(m map[string]any) { delete(amountOf(m), "currency") }, param("/amount/currency")},
		{"USD", func(m map[string]any) { amountOf(m)["currency"] = "USD" }, param("/amount/currency")},
		{"bad from account", func(m map[string]any) {
			amountOf(m)["from"] = []any{map[string]any{"account": "BASIC", "amount": 1}}
		}, param("/amount/from/0/account")},
		{"from not array", func(m map[string]any) { amountOf(m)["from"] = "AVAILABLE" }, param("/amount/from")},
		{"from amount missing", func(m map[string]any) {
			amountOf(m)["from"] = []any{map[string]any{"account": "AVAILABLE", "amount": 1}, map[string]any{"account": "UNAVAILABLE"}}
		}, param("/amount/from/1/amount")},
		{"bad funds_account", func(m map[string]any) { m["funds_account"] = "BASIC" }, param("/funds_account")},
		{"bad goods_detail", func(m map[string]any) {
			m["goods_detail"] = []any{map[string]any{"unit_price": 1, "refund_amount": 1, "refund_quantity": 1}}
		}, param("/goods_detail/0/merchant_goods_id")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(refundsPath, refundBody("VALIDATION", tt.edit))
			if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if n := len(s.Refunds()); n != 1 {
		t.Errorf("%d refunds after invalid requests, want only the fixture", n)
	}
}

func TestApplyRefund(t *testing.T) {
	now := time.Date(2025, 1, 16, 2, 0, 0, 0, time.UTC)
	s := newServer(t, func(s *Server) { s.Now = fixedClock(now) })
	c := newClient(t, s)
	r := c.post(refundsPath, refundBody("R-1"))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := r.verify(s); err != nil {
		t.Error(err)
	}
	got := r.json(t)
	id, _ := got["refund_id"].(string)
	if !regexp.MustCompile(`^\d{29}$`).MatchString(id) {
		t.Errorf("refund_id = %q, want 29 digits", id)
	}
	delete(got, "refund_id")
	want := map[string]any{
		"out_refund_no":         "R-1",
		"transaction_id":        "4200000000000000000000000042",
		"out_trade_no":          "4200000000000000000000000042",
		"channel":               "ORIGINAL",
		"user_received_account": "支付用户零钱",
		"create_time":           "2025-01-16T10:00:00+08:00",
		"status":                StatusProcessing,
		"funds_account":         "AVAILABLE",
		"amount": map[string]any{
			"total": 100.0, "refund": 60.0,
			"from":        []any{map[string]any{"account": "AVAILABLE", "amount": 60.0}},
			"payer_total": 100.0, "payer_refund": 60.0,
			"settlement_total": 100.0, "settlement_refund": 60.0,
			"discount_refund": 0.0, "currency": "CNY",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got)\n%s", diff)
	}
	stored, ok := s.Refund(id)
	if !ok || stored.OutRefundNo != "R-1" || stored.Status != StatusProcessing || stored.Reason != "商品已售完" {
		t.Errorf("Refund(%s) = %+v, %v", id, stored, ok)
	}

	// The query answers the same refund.
	q := c.get(refundsPath + "/R-1")
	qm := q.json(t)
	delete(qm, "refund_id")
	if diff := cmp.Diff(want, qm); diff != "" {
		t.Errorf("query (-want +got)\n%s", diff)
	}

	// Success shows in the query with its time.
	if err := s.SetRefundStatus(id, StatusSuccess); err != nil {
		t.Fatal(err)
	}
	qm = c.get(refundsPath + "/R-1").json(t)
	if qm["status"] != StatusSuccess || qm["success_time"] != "2025-01-16T10:00:00+08:00" {
		t.Errorf("after SetRefundStatus: status %v, success_time %v", qm["status"], qm["success_time"])
	}
	if err := s.SetRefundStatus(id, "DONE"); err == nil {
		t.Error("SetRefundStatus accepted DONE")
	}
	if err := s.SetRefundStatus("1", StatusClosed); err == nil {
		t.Error("SetRefundStatus accepted an unknown refund")
	}
}

func TestApplyRefundIdempotent(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	first := c.post(refundsPath, refundBody("IDEM-1")).json(t)
	// Same content, other reason, keys in another order: the same refund.
	again := c.post(refundsPath, refundBody("IDEM-1", func(m map[string]any) { m["reason"] = "retry" }))
	if again.status != 200 {
		t.Fatalf("resubmission: %d %s", again.status, again.body)
	}
	if diff := cmp.Diff(first, again.json(t)); diff != "" {
		t.Errorf("resubmission answered another refund (-first +again)\n%s", diff)
	}
	// Different content under the same out_refund_no is refused.
	for name, edit := range map[string]func(map[string]any){
		"refund": func(m map[string]any) { amountOf(m)["refund"] = 61 },
		"trade":  func(m map[string]any) { m["transaction_id"] = "4200000000000000000000000043" },
	} {
		r := c.post(refundsPath, refundBody("IDEM-1", edit))
		if diff := cmp.Diff(errorSummary{Status: 400, Code: CodeInvalidRequest}, r.summary(t)); diff != "" {
			t.Errorf("other %s: (-want +got)\n%s", name, diff)
		}
	}
	n := 0
	for _, r := range s.Refunds() {
		if r.OutRefundNo == "IDEM-1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d refunds IDEM-1, want 1", n)
	}
}

func TestApplyRefundTradeRules(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	if r := c.post(refundsPath, refundBody("T-1")); r.status != 200 {
		t.Fatalf("first refund: %d %s", r.status, r.body)
	}
	invalid := errorSummary{Status: 400, Code: CodeInvalidRequest}
	// 60 + 50 > 100.
	r := c.post(refundsPath, refundBody("T-2", func(m map[string]any) {
		amountOf(m)["refund"] = 50
		amountOf(m)["from"] = nil
	}))
	if diff := cmp.Diff(invalid, r.summary(t)); diff != "" {
		t.Errorf("over-refund: (-want +got)\n%s", diff)
	}
	// Another total for the same order.
	r = c.post(refundsPath, refundBody("T-3", func(m map[string]any) { amountOf(m)["total"] = 200 }))
	if diff := cmp.Diff(invalid, r.summary(t)); diff != "" {
		t.Errorf("other total: (-want +got)\n%s", diff)
	}
	// The rest of the order, named by out_trade_no this time.
	r = c.post(refundsPath, refundBody("T-4", func(m map[string]any) {
		delete(m, "transaction_id")
		m["out_trade_no"] = "4200000000000000000000000042"
		amountOf(m)["refund"] = 40
		amountOf(m)["from"] = nil
	}))
	if r.status != 200 {
		t.Fatalf("rest of the order: %d %s", r.status, r.body)
	}
	if got := r.json(t)["transaction_id"]; got != "4200000000000000000000000042" {
		t.Errorf("transaction_id = %v, want the order's", got)
	}
	// An ABNORMAL out_refund_no makes an abnormal refund.
	r = c.post(refundsPath, refundBody("ABNORMAL-1", func(m map[string]any) { m["transaction_id"] = "4200000000000000000000000099" }))
	if got := r.json(t)["status"]; got != StatusAbnormal {
		t.Errorf("ABNORMAL-1 status = %v, want ABNORMAL", got)
	}
}

func TestQueryRefund(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	tests := []struct {
		target string
		want   errorSummary
	}{
		{refundsPath + "/" + FixtureOutRefundNo, errorSummary{Status: 200}},
		{refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid=" + FixtureSubMchID, errorSummary{Status: 200}},
		{refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid=1230000109", errorSummary{Status: 404, Code: CodeResourceNotExists}},
		{refundsPath + "/nope", errorSummary{Status: 404, Code: CodeResourceNotExists}},
		{refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid=%zz", errorSummary{Status: 400, Code: CodeParamError, Field: "query", Location: "query"}},
	}
	for _, tt := range tests {
		r := c.get(tt.target)
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("GET %s: (-want +got)\n%s", tt.target, diff)
		}
	}
}

func TestRefundsCopies(t *testing.T) {
	s := newServer(t)
	r, ok := s.Refund(FixtureRefundID)
	if !ok {
		t.Fatal("no fixture")
	}
	r.Amount.From[0].Amount = 1
	r2, _ := s.RefundByOutRefundNo(FixtureOutRefundNo)
	if r2.Amount.From[0].Amount != FixtureAmount {
		t.Error("changing a returned Refund changed the store")
	}
}
