package wxpay_test

// Tests of the encrypt option: which fields it can encrypt, and with which
// WeChat Pay key.

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// sensitiveBody holds the same card number in several places, so that a
// path that reads it but does not write it would send it in plain text.
const sensitiveBody = `{"sub_mchid":"1900000109","out_refund_no":"` + fixtureOutNo + `","type":"USER_BANK_CARD",` +
	`"bank_type":"ICBC_DEBIT","bank_account":"6222020200001234","real_name":"张三",` +
	`"payee":{"account":"6222020200001234"},"list":[{"acct":"6222020200001234"},{"acct":"6222020200005678"}]}`

// A gjson path that reads a value but that the client cannot write back
// (a modifier, a pipe, a query, a wildcard...) is refused, naming the path,
// and nothing is sent: the plain value never leaves the machine.
func TestEncryptRefusesPathsItCannotWrite(t *testing.T) {
	srv, c := setup(t)
	abn := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund")
	for _, path := range []string{
		"@this.bank_account",
		"payee|account",
		"bank_account.@reverse",
		"bank_account|@this",
		"bank_acc*",
		"bank_accoun?",
		`list.#(acct=="6222020200001234").acct`,
		`list.#(acct%"6222*").acct`,
		"list.#.acct",
		"list.#",
		`payee\.account`,
		"..bank_account",
		"{bank_account}",
		"[bank_account]",
		`!"6222020200001234"`,
		"bank_account.",
		".bank_account",
		"payee..account",
		"list.-1",
		"list.00.acct",
		"list.+0.acct",
		"bank_account:x",
		"bank account",
	} {
		_, err := abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": sensitiveBody, "encrypt": []string{"real_name", path}})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), strconv.Quote(path)) {
			t.Errorf("encrypt %q: err = %v; want ErrInvalidOption naming the path", path, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		r, _ := srv.LastRequest()
		t.Errorf("%d requests sent; the last one: %s", n, r.Body)
	}
}

// Two paths naming one field would encrypt its ciphertext again, and WeChat
// Pay would store the first ciphertext as the card number.
func TestEncryptRefusesAFieldNamedTwice(t *testing.T) {
	srv, c := setup(t)
	abn := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund")
	for _, paths := range [][]string{
		{"bank_account", "real_name", "bank_account"},
		{"list.0.acct", "list.0.acct"},
	} {
		_, err := abn.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": sensitiveBody, "encrypt": paths})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("encrypt %q: err = %v; want ErrInvalidOption about a field named twice", paths, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Fields inside nested objects and array elements are encrypted in place:
// every one holds a ciphertext of its plain value under the key named in
// Wechatpay-Serial, and the plain values appear nowhere in the body sent.
func TestEncryptNestedAndArrayFields(t *testing.T) {
	srv, c := setup(t)
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"bank_account", "real_name", "payee.account", "list.0.acct", "list.1.acct"}
	// The emulator knows no v3/x: it answers 404 after recording the request.
	_, err = c.Chain("v3/x").Post(wxpay.Opts{"json": sensitiveBody, "encrypt": paths})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("err = %v, want the emulator's 404", err)
	}
	r, _ := srv.LastRequest()
	if got := r.Header.Get("Wechatpay-Serial"); got != platformSerial {
		t.Errorf("Wechatpay-Serial = %q, want %s", got, platformSerial)
	}
	for _, plain := range []string{"6222020200001234", "6222020200005678", "张三"} {
		if strings.Contains(string(r.Body), plain) {
			t.Errorf("%s sent in plain text: %s", plain, r.Body)
		}
	}
	for _, p := range paths {
		want := gjson.Get(sensitiveBody, p).Str
		got, err := rsaenc.Decrypt(pk, gjson.GetBytes(r.Body, p).Str)
		if err != nil || got != want {
			t.Errorf("%s decrypts to %q, %v; want %q", p, got, err, want)
		}
	}
	// Everything else is sent as given.
	for _, p := range []string{"sub_mchid", "out_refund_no", "type", "bank_type"} {
		if got, want := gjson.GetBytes(r.Body, p).Raw, gjson.Get(sensitiveBody, p).Raw; got != want {
			t.Errorf("%s = %s, want %s", p, got, want)
		}
	}
}

// A value already encrypted by hand (PHP code calls Rsa::encrypt itself)
// and named in encrypt too would be encrypted twice: refused, saying so,
// with nothing sent.
func TestEncryptRefusesACiphertext(t *testing.T) {
	srv, c := setup(t)
	ct, _, err := c.Encrypt("6222020200001234", "")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(sensitiveBody, `"bank_account":"6222020200001234"`, `"bank_account":"`+ct+`"`, 1)
	_, err = c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": fixtureRefund, "json": body, "encrypt": []string{"bank_account", "real_name"},
	})
	if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), `"bank_account"`) || !strings.Contains(err.Error(), "already") {
		t.Errorf("err = %v; want ErrInvalidOption saying bank_account is already encrypted", err)
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
