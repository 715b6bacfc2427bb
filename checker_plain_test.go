package wxpay_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

const (
	abnormalTmpl = "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	searchBanks  = "v3/capital/capitallhh/banks/search-banks-by-bank-account"
	plainAccount = "6214830000001234"
)

// plainProblems returns the fields of the KindPlain problems of err, which
// must wrap ErrInvalidOption and a *catalog.CheckError.
func plainProblems(t *testing.T, err error) []string {
	t.Helper()
	var ce *catalog.CheckError
	if !errors.Is(err, wxpay.ErrInvalidOption) || !errors.As(err, &ce) {
		t.Errorf("err = %v, want an ErrInvalidOption and a *catalog.CheckError", err)
		return nil
	}
	var fields []string
	for _, p := range ce.Problems {
		if p.Kind == catalog.KindPlain {
			fields = append(fields, p.Field)
		}
	}
	return fields
}

// TestCheckerRefusesPlainSensitive: with the catalogue's Checker, a
// sensitive field or query parameter sent in plain text (no encrypt option,
// or one that leaves it out) is refused before anything is sent, by its
// path, with the option that fixes it, and without quoting the value.
func TestCheckerRefusesPlainSensitive(t *testing.T) {
	srv, c := setupChecked(t)
	abn := c.Chain(abnormalTmpl)

	_, err := abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD")})
	if got, want := plainProblems(t, err), []string{"bank_account", "real_name"}; !slices.Equal(got, want) {
		t.Errorf("plain fields %q, want %q: %v", got, want, err)
	}
	for _, s := range []string{`"encrypt": ["bank_account", "real_name"]`, `"encrypt": true`} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %s", err, s)
		}
	}
	for _, secret := range []string{"6222020200001234", "张三"} {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes the sensitive value %q", err, secret)
		}
	}

	// encrypt naming one of the two: the other is refused.
	_, err = abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"bank_account"}})
	if got, want := plainProblems(t, err), []string{"real_name"}; !slices.Equal(got, want) {
		t.Errorf("encrypt bank_account only: plain fields %q, want %q: %v", got, want, err)
	}

	// A sensitive query parameter.
	_, err = c.Chain(searchBanks).Get(wxpay.Opts{"query": url.Values{"account_number": {plainAccount}}})
	if got, want := plainProblems(t, err), []string{"query:account_number"}; !slices.Equal(got, want) {
		t.Errorf("query: plain fields %q, want %q: %v", got, want, err)
	}
	if err == nil || !strings.Contains(err.Error(), "Client.Encrypt") || strings.Contains(err.Error(), plainAccount) {
		t.Errorf("query: error %v should point to Client.Encrypt and not quote the value", err)
	}

	// Base64 that is not as long as an RSA ciphertext is plain text too.
	j := abnormalJSON("USER_BANK_CARD")
	j["bank_account"], j["real_name"] = "NjIxNDgzMDAwMDAwMTIzNA==", strings.Repeat("QUJD", 85) // 16 and 255 bytes
	_, err = abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": j, "headers": wxpay.Opts{"Wechatpay-Serial": platformSerial}})
	if got, want := plainProblems(t, err), []string{"bank_account", "real_name"}; !slices.Equal(got, want) {
		t.Errorf("short base64: plain fields %q, want %q: %v", got, want, err)
	}

	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the emulator received %d requests, want none", n)
	}
}

// TestCheckerPassesEncryptedSensitive: sensitive fields encrypted by the
// encrypt option (named or true), or by hand with Client.Encrypt and sent
// with their Wechatpay-Serial as code ported from PHP does, pass the check
// and the emulator, which decrypts them.
func TestCheckerPassesEncryptedSensitive(t *testing.T) {
	srv, c := setupChecked(t)
	abn := c.Chain(abnormalTmpl)
	for _, enc := range []any{[]string{"bank_account", "real_name"}, true} {
		if _, err := abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": enc}); err != nil {
			t.Errorf("encrypt %v: %v", enc, err)
		}
	}

	j := abnormalJSON("USER_BANK_CARD")
	var serial string
	for _, f := range []string{"bank_account", "real_name"} {
		ct, used, err := c.Encrypt(j[f].(string), "")
		if err != nil {
			t.Fatal(err)
		}
		j[f], serial = ct, used
	}
	if _, err := abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": j, "headers": wxpay.Opts{"Wechatpay-Serial": serial}}); err != nil {
		t.Errorf("encrypted by hand: %v", err)
	}
	r, _ := srv.LastRequest()
	pk := platformKey(t)
	for _, f := range []string{"bank_account", "real_name"} {
		if pt, err := rsaenc.Decrypt(pk, gjson.GetBytes(r.Body, f).Str); err != nil || pt != abnormalJSON("USER_BANK_CARD")[f] {
			t.Errorf("encrypted by hand: %s sent decrypts to %q, %v", f, pt, err)
		}
	}

	ct, serial, err := c.Encrypt(plainAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chain(searchBanks).Get(wxpay.Opts{"query": url.Values{"account_number": {ct}}, "headers": wxpay.Opts{"Wechatpay-Serial": serial}}); err != nil {
		t.Errorf("query encrypted by hand: %v", err)
	}
	if _, err := c.Chain(searchBanks).Get(wxpay.Opts{"query": url.Values{"account_number": {plainAccount}}, "encrypt": true}); err != nil {
		t.Errorf("query with encrypt true: %v", err)
	}
	if n := len(srv.Requests()); n != 5 {
		t.Errorf("the emulator received %d requests, want 5", n)
	}
}
