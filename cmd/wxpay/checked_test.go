package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// TestCallsAreChecked: a call is checked against the catalogue before
// anything is sent (exit 2, every problem listed), unless --no-check; valid
// calls pass, a bill of any type and its download_url (a full URL, whose
// query holds the token) included.
func TestCallsAreChecked(t *testing.T) {
	h := setup(t)
	bad := []string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"R-CHECK-1","amount":{"refund":1.5,"total":888,"currency":"CNY"}}`, "--config", h.config}
	r := h.run(t, bad...)
	wantCode(t, r, exitUsage, bad...)
	if want := "POST v3/refund/domestic/refunds does not pass the catalogue's check (1 problem):\n  amount.refund: is a fraction, want an integer (amounts are in fen)\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if n := h.srv.RequestCount(); n != 0 {
		t.Fatalf("a call that fails the check sent %d requests", n)
	}
	r = h.run(t, append(bad, "--no-check")...)
	wantCode(t, r, exitError, append(bad, "--no-check")...)
	if n := h.srv.RequestCount(); n != 1 || !strings.Contains(r.stderr, "HTTP 400 PARAM_ERROR") {
		t.Errorf("--no-check: %d requests, stderr:\n%s", n, r.stderr)
	}

	for _, typ := range []string{"ALL", "SUCCESS", "RECHARGE_REFUND"} {
		args := []string{"get", "v3/bill/tradebill", "bill_date=" + h.srv.LatestBillDate(), "bill_type=" + typ, "-q", "download_url", "--config", h.config}
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		dl := strings.TrimSpace(r.stdout)
		if !strings.Contains(dl, "token=") {
			t.Fatalf("download_url %q", dl)
		}
		args = []string{"get", dl, "--raw", "--config", h.config}
		wantCode(t, h.run(t, args...), exitOK, args...)
	}
}

// TestEncryptAllFlag: --encrypt all encrypts every sensitive field the
// catalogue marks, in the body and in the query, with or without the check.
func TestEncryptAllFlag(t *testing.T) {
	h := setup(t)
	_, pk := testKeys(t)
	body := `{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"6214830000001234","real_name":"张三"}`
	for _, extra := range [][]string{nil, {"--no-check"}} {
		if err := h.srv.SetRefundStatus(wxpaytest.FixtureRefundID, "ABNORMAL"); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"post", abnormalTemplate, "refund_id=" + wxpaytest.FixtureRefundID, "-d", body, "--encrypt", "all", "--config", h.config}, extra...)
		wantCode(t, h.run(t, args...), exitOK, args...)
		req := lastRequest(t, h)
		for field, want := range map[string]string{"bank_account": "6214830000001234", "real_name": "张三"} {
			if got, err := rsaenc.Decrypt(pk, gjson.GetBytes(req.Body, field).String()); err != nil || got != want {
				t.Errorf("%v: %s decrypts to %q, %v; want %q", extra, field, got, err, want)
			}
		}
	}

	args := []string{"get", "v3/aggracct-bc/wb-channel/bank-channel-account/rename/{application_id}",
		"application_id=11117742499090086455469010028373", "mchid=1900016681", "bal_account_no=6214830000001234",
		"--encrypt", "all", "--config", h.config}
	wantCode(t, h.run(t, args...), exitOK, args...)
	u, _ := url.ParseRequestURI(lastRequest(t, h).RequestURI)
	if got, err := rsaenc.Decrypt(pk, u.Query().Get("bal_account_no")); err != nil || got != "6214830000001234" {
		t.Errorf("the query's bal_account_no decrypts to %q, %v", got, err)
	}
	// Without --encrypt, the check refuses the plain text before sending;
	// with --no-check, the emulator refuses it, as WeChat Pay does.
	args = args[:len(args)-4]
	args = append(args, "--config", h.config)
	before := h.srv.RequestCount()
	if r := h.run(t, args...); r.code != exitUsage || !strings.Contains(r.stderr, "query:bal_account_no: is sensitive and not encrypted") || h.srv.RequestCount() != before {
		t.Errorf("plain bal_account_no: exit %d, %d requests sent\n%s", r.code, h.srv.RequestCount()-before, r.stderr)
	}
	args = append(args, "--no-check")
	if r := h.run(t, args...); r.code != exitError || !strings.Contains(r.stderr, "HTTP 400 PARAM_ERROR") {
		t.Errorf("plain bal_account_no, --no-check: exit %d\n%s", r.code, r.stderr)
	}
}
