package wxpaytest

import (
	"bytes"
	"crypto/rsa"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

const (
	partnerAbnormalPath   = "/v3/refund/domestic/refunds/" + FixtureRefundID + "/apply-abnormal-refund"
	ecommerceAbnormalPath = "/v3/ecommerce/refunds/" + FixtureRefundID + "/apply-abnormal-refund"
)

// seed001Body is the request example of the e-commerce abnormal refund
// document, verbatim: its ciphertexts were made with another key.
func seed001Body() map[string]any {
	return map[string]any{
		"sub_mchid":          "1900000109",
		"individual_auth_id": "1900000109",
		"out_refund_no":      "1217752501201407033233368018",
		"type":               "USER_BANK_CARD",
		"bank_type":          "ICBC_DEBIT",
		"bank_account":       "d+xT+MQCvrLHUVDWv/8MR/dB7TkXLVfSrUxMPZy6jWWYzpRrEEaYQE8ZRGYoeorwC+w==",
		"real_name":          "UPgQcZSdq3zOayJwZ5XLrHY2dZU1W2Cd",
	}
}

func encrypt(t *testing.T, k *rsa.PrivateKey, s string) string {
	t.Helper()
	ct, err := rsaenc.Encrypt(&k.PublicKey, s)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// abnormalBody is a valid application to the user's card, encrypted for k.
func abnormalBody(t *testing.T, k *rsa.PrivateKey, card string, edits ...func(m map[string]any)) map[string]any {
	m := map[string]any{
		"sub_mchid":     FixtureSubMchID,
		"out_refund_no": FixtureOutRefundNo,
		"type":          "USER_BANK_CARD",
		"bank_type":     "ICBC_DEBIT",
		"bank_account":  encrypt(t, k, card),
		"real_name":     encrypt(t, k, "张三"),
	}
	for _, e := range edits {
		e(m)
	}
	return m
}

func TestAbnormalSeedExampleRefused(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, path := range []string{ecommerceAbnormalPath, partnerAbnormalPath} {
		r := c.post(path, seed001Body(), verifier.HeaderSerial, DefaultPlatformSerial)
		want := errorSummary{Status: 400, Code: CodeParamError, Field: "/bank_account", Location: "body"}
		if diff := cmp.Diff(want, r.summary(t)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", path, diff)
		}
	}
	if r, _ := s.Refund(FixtureRefundID); r.Status != StatusAbnormal {
		t.Errorf("fixture status = %s, want ABNORMAL", r.Status)
	}
}

func TestAbnormalRefundToUserCard(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.post(partnerAbnormalPath, abnormalBody(t, platformKey, "6222020200112345678"), verifier.HeaderSerial, DefaultPlatformSerial)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := r.verify(s); err != nil {
		t.Error(err)
	}
	m := r.json(t)
	for path, want := range map[string]any{
		"refund_id":             FixtureRefundID,
		"out_refund_no":         FixtureOutRefundNo,
		"status":                StatusProcessing,
		"channel":               "OTHER_BANKCARD",
		"user_received_account": "工商银行借记卡5678",
		"amount.total":          888.0,
	} {
		if got := get(m, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	// The same application again, with fresh ciphertexts: the same answer.
	again := c.post(partnerAbnormalPath, abnormalBody(t, platformKey, "6222020200112345678"), verifier.HeaderSerial, DefaultPlatformSerial)
	if diff := cmp.Diff(m, again.json(t)); again.status != 200 || diff != "" {
		t.Errorf("repeated application: %d (-first +again)\n%s", again.status, diff)
	}
	// Another card now is refused: the refund is no longer ABNORMAL.
	other := c.post(partnerAbnormalPath, abnormalBody(t, platformKey, "6222020200119999999"), verifier.HeaderSerial, DefaultPlatformSerial)
	if diff := cmp.Diff(errorSummary{Status: 400, Code: CodeInvalidRequest}, other.summary(t)); diff != "" {
		t.Errorf("other card: (-want +got)\n%s", diff)
	}
	// The queries see the change.
	q := c.get("/v3/ecommerce/refunds/id/" + FixtureRefundID + "?sub_mchid=" + FixtureSubMchID).json(t)
	if q["status"] != StatusProcessing || q["user_received_account"] != "工商银行借记卡5678" {
		t.Errorf("query after abnormal refund: %v", q)
	}
	if got, _ := s.Refund(FixtureRefundID); got.AbnormalType != "USER_BANK_CARD" {
		t.Errorf("AbnormalType = %q", got.AbnormalType)
	}
	// Back to ABNORMAL, another application is accepted.
	if err := s.SetRefundStatus(FixtureRefundID, StatusAbnormal); err != nil {
		t.Fatal(err)
	}
	if r := c.post(partnerAbnormalPath, abnormalBody(t, platformKey, "6222020200119999999"), verifier.HeaderSerial, DefaultPlatformSerial); r.status != 200 {
		t.Errorf("after SetRefundStatus ABNORMAL: %d %s", r.status, r.body)
	}
}

func TestAbnormalRefundCertificateSerialKey(t *testing.T) {
	s := newServer(t, withTwoPlatformKeys)
	c := newClient(t, s)
	// Encrypted for the second key, and named so: accepted.
	r := c.post(ecommerceAbnormalPath, abnormalBody(t, platformKey2, "6214830000001234", func(m map[string]any) {
		m["bank_type"] = "CMB_DEBIT"
		delete(m, "sub_mchid")
	}), verifier.HeaderSerial, certSerial)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := r.header.Get(verifier.HeaderSerial); got != certSerial {
		t.Errorf("answer signed by %s, want %s", got, certSerial)
	}
	if err := r.verify(s); err != nil {
		t.Error(err)
	}
	m := r.json(t)
	if m["user_received_account"] != "招商银行借记卡1234" || m["refund_account"] != "REFUND_SOURCE_SUB_MERCHANT" {
		t.Errorf("answer %s", r.body)
	}
}

func TestAbnormalRefundToMerchant(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	body := map[string]any{"out_refund_no": FixtureOutRefundNo, "type": "MERCHANT_BANK_CARD"}
	r := c.post(ecommerceAbnormalPath, body)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["user_received_account"] != MerchantReceivedAccount || m["channel"] != "OTHER_BANKCARD" || m["status"] != StatusProcessing {
		t.Errorf("answer %s", r.body)
	}
	if again := c.post(ecommerceAbnormalPath, body); again.status != 200 {
		t.Errorf("repeat: %d %s", again.status, again.body)
	}
}

func TestAbnormalRefundValidation(t *testing.T) {
	testKeys(t)
	s := newServer(t)
	c := newClient(t, s)
	// A refund that is PROCESSING, for the state check.
	r := c.post(refundsPath, refundBody("PROC-1"))
	procID, _ := r.json(t)["refund_id"].(string)

	body := func(edits ...func(m map[string]any)) map[string]any {
		return abnormalBody(t, platformKey, "6222020200112345678", edits...)
	}
	param := func(field string) errorSummary {
		return errorSummary{Status: 400, Code: CodeParamError, Field: field, Location: "body"}
	}
	headerErr := errorSummary{Status: 400, Code: CodeParamError, Field: verifier.HeaderSerial, Location: "header"}
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		serial string
		want   errorSummary
	}{
		{"partner needs sub_mchid", partnerAbnormalPath, body(func(m map[string]any) { delete(m, "sub_mchid") }), DefaultPlatformSerial, param("/sub_mchid")},
		{"no out_refund_no", partnerAbnormalPath, body(func(m map[string]any) { delete(m, "out_refund_no") }), DefaultPlatformSerial, param("/out_refund_no")},
		{"no type", partnerAbnormalPath, body(func(m map[string]any) { delete(m, "type") }), DefaultPlatformSerial, param("/type")},
		{"bad type", ecommerceAbnormalPath, body(func(m map[string]any) { m["type"] = "USER_BALANCE" }), DefaultPlatformSerial, param("/type")},
		{"no bank_type", ecommerceAbnormalPath, body(func(m map[string]any) { delete(m, "bank_type") }), DefaultPlatformSerial, param("/bank_type")},
		{"credit card", ecommerceAbnormalPath, body(func(m map[string]any) { m["bank_type"] = "ICBC_CREDIT" }), DefaultPlatformSerial, param("/bank_type")},
		{"no bank_account", ecommerceAbnormalPath, body(func(m map[string]any) { delete(m, "bank_account") }), DefaultPlatformSerial, param("/bank_account")},
		{"no real_name", ecommerceAbnormalPath, body(func(m map[string]any) { delete(m, "real_name") }), DefaultPlatformSerial, param("/real_name")},
		{"no Wechatpay-Serial", ecommerceAbnormalPath, body(), "", headerErr},
		{"unknown Wechatpay-Serial", ecommerceAbnormalPath, body(), "PUB_KEY_ID_0000000000000000000000000001", headerErr},
		{"real_name for another key", ecommerceAbnormalPath, body(func(m map[string]any) { m["real_name"] = encrypt(t, strangerKey, "张三") }), DefaultPlatformSerial, param("/real_name")},
		{"real_name not base64", ecommerceAbnormalPath, body(func(m map[string]any) { m["real_name"] = "张三" }), DefaultPlatformSerial, param("/real_name")},
		{"card number not digits", ecommerceAbnormalPath, body(func(m map[string]any) { m["bank_account"] = encrypt(t, platformKey, "not a card") }), DefaultPlatformSerial, param("/bank_account")},
		{"other out_refund_no", ecommerceAbnormalPath, body(func(m map[string]any) { m["out_refund_no"] = "PROC-1" }), DefaultPlatformSerial, errorSummary{Status: 400, Code: CodeInvalidRequest}},
		{"other sub_mchid", partnerAbnormalPath, body(func(m map[string]any) { m["sub_mchid"] = "1230000109" }), DefaultPlatformSerial, errorSummary{Status: 404, Code: CodeResourceNotExists}},
		{"unknown refund", "/v3/refund/domestic/refunds/50000000000000000000000000001/apply-abnormal-refund", body(), DefaultPlatformSerial, errorSummary{Status: 404, Code: CodeResourceNotExists}},
		{"long refund_id", "/v3/refund/domestic/refunds/500000000000000000000000000000001/apply-abnormal-refund", body(), DefaultPlatformSerial, errorSummary{Status: 400, Code: CodeParamError, Field: "refund_id", Location: "path"}},
		{"not abnormal", "/v3/ecommerce/refunds/" + procID + "/apply-abnormal-refund", body(func(m map[string]any) { m["out_refund_no"] = "PROC-1" }), DefaultPlatformSerial, errorSummary{Status: 400, Code: CodeInvalidRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.serial != "" {
				hdr = []string{verifier.HeaderSerial, tt.serial}
			}
			r := c.post(tt.path, tt.body, hdr...)
			if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if got, _ := s.Refund(FixtureRefundID); got.Status != StatusAbnormal {
		t.Errorf("fixture is %s after refused applications, want ABNORMAL", got.Status)
	}
}

// The domestic abnormal refund is shared by direct merchants and partners
// (both roles in the OpenAPI description; seed 003 says so of the refund
// application): sub_mchid is required for a sub-merchant's refund only, so a
// direct merchant's refund, made without sub_mchid, is handled without it.
func TestAbnormalRefundDirectMerchant(t *testing.T) {
	testKeys(t)
	s := newServer(t)
	c := newClient(t, s)
	r := c.post(refundsPath, refundBody("DIRECT-1"))
	id, _ := r.json(t)["refund_id"].(string)
	if err := s.SetRefundStatus(id, StatusAbnormal); err != nil {
		t.Fatal(err)
	}
	noSub := abnormalBody(t, platformKey, "6222020200112345678", func(m map[string]any) {
		delete(m, "sub_mchid")
		m["out_refund_no"] = "DIRECT-1"
	})
	path := "/v3/refund/domestic/refunds/" + id + "/apply-abnormal-refund"
	if r := c.post(path, noSub, verifier.HeaderSerial, DefaultPlatformSerial); r.status != 200 {
		t.Errorf("direct merchant's abnormal refund without sub_mchid: %d %s", r.status, r.body)
	}
	// A sub-merchant's refund still needs it.
	fixture := abnormalBody(t, platformKey, "6222020200112345678", func(m map[string]any) { delete(m, "sub_mchid") })
	r = c.post(partnerAbnormalPath, fixture, verifier.HeaderSerial, DefaultPlatformSerial)
	if r.status != 400 || !bytes.Contains(r.body, []byte("sub_mchid")) {
		t.Errorf("sub-merchant's refund without sub_mchid: %d %s, want 400 naming sub_mchid", r.status, r.body)
	}
}
