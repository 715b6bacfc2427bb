package main

import (
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// TestPlainSensitiveRefused: a sensitive field or query parameter in plain
// text that --encrypt does not cover is refused with exit 2, the problem
// and the --encrypt that fixes it named, and nothing sent; --encrypt (all
// or the fields), a value encrypted by hand, or --no-check let it go.
func TestPlainSensitiveRefused(t *testing.T) {
	h := setup(t)
	const body = `{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD",` +
		`"bank_type":"ICBC_DEBIT","bank_account":"6214830000001234","real_name":"李四"}`
	abnormal := []string{"post", abnormalTemplate, "refund_id=" + wxpaytest.FixtureRefundID, "-d", body, "--config", h.config}
	search := []string{"get", "v3/capital/capitallhh/banks/search-banks-by-bank-account", "account_number=6214830000001234", "--config", h.config}
	for _, tc := range []struct {
		name string
		args []string
		want []string // lines of stderr
	}{
		{"no --encrypt", abnormal, []string{
			"wxpay: POST " + abnormalTemplate + " does not pass the catalogue's check (2 problems):",
			"  bank_account: is sensitive and not encrypted (not the base64 of an RSA ciphertext)",
			"  real_name: is sensitive and not encrypted (not the base64 of an RSA ciphertext)",
			"fix: --encrypt bank_account,real_name (or --encrypt all)"}},
		{"--encrypt one of two", append(abnormal, "--encrypt", "real_name"), []string{
			"  bank_account: is sensitive and not encrypted (not the base64 of an RSA ciphertext)",
			"fix: --encrypt real_name,bank_account (or --encrypt all)"}},
		{"query", search, []string{
			"  query:account_number: is sensitive and not encrypted (not the base64 of an RSA ciphertext)",
			"fix: --encrypt all encrypts the sensitive fields and query parameters"}},
	} {
		r := h.run(t, tc.args...)
		wantCode(t, r, exitUsage, tc.args...)
		for _, line := range tc.want {
			if !strings.Contains(r.stderr, line+"\n") {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, line, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "6214830000001234") || strings.Contains(r.stderr, "李四") {
			t.Errorf("%s: stderr quotes a sensitive value:\n%s", tc.name, r.stderr)
		}
	}
	if n := len(h.srv.Requests()); n != 0 {
		t.Fatalf("the emulator received %d requests, want none", n)
	}

	_, pk := testKeys(t)
	ct, err := rsaenc.Encrypt(&pk.PublicKey, "6214830000001234")
	if err != nil {
		t.Fatal(err)
	}
	serial := "Wechatpay-Serial: " + wxpaytest.DefaultPlatformSerial
	for _, args := range [][]string{
		append(abnormal, "--encrypt", "all"),
		append(abnormal, "--encrypt", "bank_account,real_name"),
		append(search, "--encrypt", "all"),
		{"get", "v3/capital/capitallhh/banks/search-banks-by-bank-account", "account_number=" + ct, "-H", serial, "--config", h.config},
	} {
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
	}
	if n := len(h.srv.Requests()); n != 4 {
		t.Errorf("the emulator received %d requests, want 4", n)
	}
	args := append(abnormal, "--no-check")
	if r := h.run(t, args...); r.code != exitError || !strings.Contains(r.stderr, "in plain text") {
		t.Errorf("--no-check: exit %d, want %d and the emulator's 400:\n%s", r.code, exitError, r.stderr)
	}
}
