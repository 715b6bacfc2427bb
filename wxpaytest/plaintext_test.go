package wxpaytest

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// TestPlainSensitiveField: a sensitive field or query parameter that is
// not in the form of a ciphertext (rsaenc.IsCiphertext, the rule of
// catalog.Checker) is answered 400 saying it is in plain text, with or
// without a Wechatpay-Serial, on the hand-written abnormal refund and on a
// catalogued operation; a ciphertext under another key does not decrypt.
func TestPlainSensitiveField(t *testing.T) {
	s := newServer(t)
	client, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := rsaenc.Encrypt(&strangerKey.PublicKey, "6214830000001234")
	if err != nil {
		t.Fatal(err)
	}
	abnormal := func(account string, serial bool) error {
		opts := wxpay.Opts{"refund_id": "50000000382019052709732678859", "json": wxpay.Opts{
			"sub_mchid": "1900000109", "out_refund_no": "1217752501201407033233368018", "type": "USER_BANK_CARD",
			"bank_type": "ICBC_DEBIT", "bank_account": account, "real_name": stranger,
		}}
		if serial {
			opts["headers"] = wxpay.Opts{"Wechatpay-Serial": DefaultPlatformSerial}
		}
		_, err := client.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(opts)
		return err
	}
	search := func(account string, serial bool) error {
		opts := wxpay.Opts{"query": url.Values{"account_number": {account}}}
		if serial {
			opts["headers"] = wxpay.Opts{"Wechatpay-Serial": DefaultPlatformSerial}
		}
		_, err := client.Chain("v3/capital/capitallhh/banks/search-banks-by-bank-account").Get(opts)
		return err
	}
	for _, tc := range []struct {
		name    string
		call    func(string, bool) error
		field   string
		account string
		serial  bool
		want    string
	}{
		{"abnormal, plain, no serial", abnormal, "/bank_account", "6214830000001234", false, "in plain text"},
		{"abnormal, plain, serial", abnormal, "/bank_account", "6214830000001234", true, "in plain text"},
		{"abnormal, short base64", abnormal, "/bank_account", "NjIxNDgzMDAwMDAwMTIzNA==", true, "in plain text"},
		{"abnormal, another key", abnormal, "/bank_account", stranger, true, "does not decrypt with the WeChat Pay key"},
		{"query, plain, no serial", search, "account_number", "6214830000001234", false, "in plain text"},
		{"query, plain, serial", search, "account_number", "6214830000001234", true, "in plain text"},
		{"query, another key", search, "account_number", stranger, true, "does not decrypt with the WeChat Pay key"},
	} {
		var ae *wxpay.APIError
		if err := tc.call(tc.account, tc.serial); !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != CodeParamError {
			t.Errorf("%s: %v, want 400 %s", tc.name, err, CodeParamError)
			continue
		}
		if !strings.Contains(ae.Message, tc.want) || !strings.Contains(string(ae.Detail), tc.field) {
			t.Errorf("%s: %s %s, want %q about %s", tc.name, ae.Message, ae.Detail, tc.want, tc.field)
		}
	}
}
