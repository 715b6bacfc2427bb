package wxpaytest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const ecommerceApplyPath = "/v3/ecommerce/refunds/apply"

// seed004Body is the request example of the e-commerce refund document,
// verbatim.
func seed004Body() map[string]any {
	return map[string]any{
		"individual_auth_id":     "1900000109",
		"sub_mchid":              "1900000109",
		"sp_appid":               "wx8888888888888888",
		"sub_appid":              "wx8888888888888888",
		"combine_mchid":          "1230000109",
		"combine_out_trade_no":   "P20150806125346",
		"combine_transaction_id": "1217752501201407033233368018",
		"transaction_id":         "1217752501201407033233368018",
		"out_trade_no":           "1217752501201407033233368018",
		"out_refund_no":          "1217752501201407033233368018",
		"reason":                 "商品已售完",
		"amount": map[string]any{
			"refund":   888,
			"from":     []any{map[string]any{"account": "AVAILABLE", "amount": 444}},
			"total":    888,
			"currency": "CNY",
		},
		"notify_url":     "https://weixin.qq.com",
		"refund_account": "REFUND_SOURCE_SUB_MERCHANT",
		"funds_account":  "AVAILABLE",
	}
}

// ecommerceBody is a valid e-commerce refund for a new order.
func ecommerceBody(outRefundNo string, edits ...func(m map[string]any)) map[string]any {
	m := seed004Body()
	m["transaction_id"] = "4200000000000000000000000777"
	delete(m, "out_trade_no")
	m["out_refund_no"] = outRefundNo
	amountOf(m)["refund"] = 300
	amountOf(m)["total"] = 500
	amountOf(m)["from"] = []any{map[string]any{"account": "AVAILABLE", "amount": 300}}
	for _, e := range edits {
		e(m)
	}
	return m
}

func TestEcommerceSeedExample(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.post(ecommerceApplyPath, seed004Body())
	if r.status != 200 {
		t.Fatalf("seed example: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["refund_id"] != FixtureRefundID || get(m, "amount.refund") != 888.0 || m["refund_account"] != "REFUND_SOURCE_SUB_MERCHANT" {
		t.Errorf("seed example answered %s, want the fixture refund", r.body)
	}
	if len(s.Refunds()) != 1 {
		t.Errorf("%d refunds, want the fixture only", len(s.Refunds()))
	}
}

func TestEcommerceApplyValidation(t *testing.T) {
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
		{"no sp_appid", func(m map[string]any) { delete(m, "sp_appid") }, param("/sp_appid")},
		{"no trade", func(m map[string]any) { delete(m, "transaction_id") }, param("/transaction_id")},
		{"no out_refund_no", func(m map[string]any) { delete(m, "out_refund_no") }, param("/out_refund_no")},
		{"no funds_account", func(m map[string]any) { delete(m, "funds_account") }, param("/funds_account")},
		{"bad funds_account", func(m map[string]any) { m["funds_account"] = "UNAVAILABLE" }, param("/funds_account")},
		{"bad refund_account", func(m map[string]any) { m["refund_account"] = "REFUND_SOURCE_PLATFORM" }, param("/refund_account")},
		{"no refund", func(m map[string]any) { delete(amountOf(m), "refund") }, param("/amount/refund")},
		{"no total", func(m map[string]any) { delete(amountOf(m), "total") }, param("/amount/total")},
		{"bad from", func(m map[string]any) {
			amountOf(m)["from"] = []any{map[string]any{"account": "OPERATION", "amount": 1}}
		}, param("/amount/from/0/account")},
		{"numeric sub_mchid", func(m map[string]any) { m["sub_mchid"] = 1900000109 }, param("/sub_mchid")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(ecommerceApplyPath, ecommerceBody("E-VALIDATION", tt.edit))
			if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestEcommerceApplyAndQuery(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.post(ecommerceApplyPath, ecommerceBody("E-1", func(m map[string]any) {
		m["refund_account"] = "REFUND_SOURCE_PARTNER_ADVANCE"
		delete(amountOf(m), "currency") // optional here: CNY
	}))
	if r.status != 200 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	got := r.json(t)
	id, _ := got["refund_id"].(string)
	delete(got, "refund_id")
	delete(got, "create_time")
	want := map[string]any{
		"out_refund_no":  "E-1",
		"refund_account": "REFUND_SOURCE_PARTNER_ADVANCE",
		"amount": map[string]any{
			"refund":          300.0,
			"from":            []any{map[string]any{"account": "AVAILABLE", "amount": 300.0}},
			"payer_refund":    300.0,
			"discount_refund": 0.0,
			"currency":        "CNY",
			"advance":         300.0,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("apply answer (-want +got)\n%s", diff)
	}
	// Idempotent.
	if again := c.post(ecommerceApplyPath, ecommerceBody("E-1", func(m map[string]any) {
		m["refund_account"] = "REFUND_SOURCE_PARTNER_ADVANCE"
	})); again.json(t)["refund_id"] != id {
		t.Errorf("resubmission answered %s, want refund %s", again.body, id)
	}

	tests := []struct {
		target string
		want   errorSummary
	}{
		{"/v3/ecommerce/refunds/id/" + id + "?sub_mchid=1900000109", errorSummary{Status: 200}},
		{"/v3/ecommerce/refunds/out-refund-no/E-1?sub_mchid=1900000109", errorSummary{Status: 200}},
		{"/v3/ecommerce/refunds/id/" + FixtureRefundID + "?sub_mchid=" + FixtureSubMchID, errorSummary{Status: 200}},
		{"/v3/ecommerce/refunds/out-refund-no/" + FixtureOutRefundNo + "?sub_mchid=" + FixtureSubMchID, errorSummary{Status: 200}},
		{"/v3/ecommerce/refunds/id/" + id, errorSummary{Status: 400, Code: CodeParamError, Field: "sub_mchid", Location: "query"}},
		{"/v3/ecommerce/refunds/id/" + id + "?sub_mchid=1230000109", errorSummary{Status: 404, Code: CodeResourceNotExists}},
		{"/v3/ecommerce/refunds/out-refund-no/none?sub_mchid=1900000109", errorSummary{Status: 404, Code: CodeResourceNotExists}},
	}
	for _, tt := range tests {
		r := c.get(tt.target)
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("GET %s: (-want +got)\n%s", tt.target, diff)
		}
	}
	q := c.get("/v3/ecommerce/refunds/id/" + id + "?sub_mchid=1900000109").json(t)
	for path, want := range map[string]any{
		"refund_id": id, "out_refund_no": "E-1", "status": StatusProcessing, "channel": "ORIGINAL",
		"transaction_id": "4200000000000000000000000777", "amount.advance": 300.0,
		"refund_account": "REFUND_SOURCE_PARTNER_ADVANCE", "funds_account": "AVAILABLE",
	} {
		if got := get(q, path); got != want {
			t.Errorf("query %s = %v, want %v", path, got, want)
		}
	}
}

// The catalogue (the OpenAPI description) lists PREPAID among the e-commerce
// refund's funds_account values beside seed 004's two: the emulator takes
// what a client checked against the catalogue sends.
func TestEcommerceFundsAccountPrepaid(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.post(ecommerceApplyPath, ecommerceBody("PREPAID-1", func(m map[string]any) { m["funds_account"] = "PREPAID" }))
	if r.status != 200 {
		t.Errorf("funds_account PREPAID: %d %s", r.status, r.body)
	}
}
