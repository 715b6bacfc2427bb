package catalog_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// TestCheckEncryptedEveryOperation: for every operation with sensitive
// fields, CheckEncrypted refuses its example request (plain values) with
// one KindPlain problem for each sensitive body field (ExpandPaths of
// Sensitive) and query parameter it holds, which Check passes; once each
// is replaced by a ciphertext, it passes.
func TestCheckEncryptedEveryOperation(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := rsaenc.Encrypt(&k.PublicKey, "x")
	if err != nil {
		t.Fatal(err)
	}
	var ops int
	for _, op := range catalog.All() {
		path, query, body := op.ExampleRequest()
		var want []string
		for _, p := range op.Params {
			if p.In == "query" && p.Schema.Sensitive() && query.Get(p.Name) != "" {
				want = append(want, "query:"+p.Name)
				query.Set(p.Name, "6214830000001234")
			}
		}
		fields := catalog.ExpandPaths(body, op.Sensitive())
		for _, f := range fields {
			body, _ = sjson.SetBytes(body, f, "张三")
		}
		want = append(want, fields...)
		if len(want) == 0 {
			if err := op.CheckEncrypted(path, query, body); err != nil {
				t.Errorf("%v: no sensitive field, yet %v", op, err)
			}
			continue
		}
		ops++
		if err := op.Check(path, query, body); err != nil {
			t.Errorf("%v: Check refuses plain text: %v", op, err)
		}
		var ce *catalog.CheckError
		err := op.CheckEncrypted(path, query, body)
		if !errors.As(err, &ce) || !errors.Is(err, wxpay.ErrInvalidOption) {
			t.Errorf("%v: CheckEncrypted = %v, want a *CheckError", op, err)
			continue
		}
		var got []string
		for _, p := range ce.Problems {
			if p.Kind != catalog.KindPlain {
				t.Errorf("%v: problem %v, want only KindPlain", op, p)
			}
			got = append(got, p.Field)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%v: plain problems on %q, want %q", op, got, want)
		}
		if strings.Contains(err.Error(), "张三") || strings.Contains(err.Error(), "6214830000001234") {
			t.Errorf("%v: the error quotes a sensitive value: %v", op, err)
		}
		if !strings.Contains(err.Error(), `"encrypt": true`) {
			t.Errorf("%v: the error does not say how to encrypt: %v", op, err)
		}
		for _, f := range fields {
			body, _ = sjson.SetBytes(body, f, ct)
		}
		for _, w := range want {
			if name, ok := strings.CutPrefix(w, "query:"); ok {
				query.Set(name, ct)
			}
		}
		if err := op.CheckEncrypted(path, query, body); err != nil {
			t.Errorf("%v: ciphertexts refused: %v", op, err)
		}
	}
	if ops < 80 {
		t.Errorf("%d operations with sensitive fields in their example, want 80 or more", ops)
	}
}

// TestCheckEncryptedMessages: the fix the error names, for body fields, query
// parameters and both; an empty sensitive value passes.
func TestCheckEncryptedMessages(t *testing.T) {
	abnormal, _ := catalog.Lookup("POST", "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund")
	vals := map[string]string{"refund_id": "50000000382019052709732678859"}
	body := []byte(`{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD",` +
		`"bank_type":"ICBC_DEBIT","bank_account":"6214830000001234","real_name":"张三"}`)
	err := abnormal.CheckEncrypted(vals, nil, body)
	const want = `catalog: POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund: ` +
		`bank_account: is sensitive and not encrypted (not the base64 of an RSA ciphertext); ` +
		`real_name: is sensitive and not encrypted (not the base64 of an RSA ciphertext); ` +
		`fix: add "encrypt": ["bank_account", "real_name"] or "encrypt": true to the options`
	if err == nil || err.Error() != want {
		t.Errorf("CheckEncrypted(abnormal refund) = %v\nwant %s", err, want)
	}
	empty := []byte(`{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"","real_name":""}`)
	if err := abnormal.CheckEncrypted(vals, nil, empty); err != nil {
		t.Errorf("CheckEncrypted(empty sensitive values) = %v, want nil", err)
	}

	search, _ := catalog.Lookup("GET", "v3/capital/capitallhh/banks/search-banks-by-bank-account")
	err = search.CheckEncrypted(nil, url.Values{"account_number": {"6214830000001234"}}, nil)
	if err == nil || !strings.HasSuffix(err.Error(), `; fix: add "encrypt": true to the options, or send the ciphertext of Client.Encrypt as account_number`) {
		t.Errorf("CheckEncrypted(search banks) = %v", err)
	}

	qual, _ := catalog.Lookup("GET", "v3/gov/subsidy/qualification")
	_, query, _ := qual.ExampleRequest()
	query.Set("real_name", "张三")
	query.Set("id_card_number", "110101199003070000")
	query.Del("phone_number")
	err = qual.CheckEncrypted(nil, query, nil)
	if err == nil || !strings.HasSuffix(err.Error(), "or send the ciphertext of Client.Encrypt as id_card_number and real_name") {
		t.Errorf("CheckEncrypted(subsidy qualification) = %v", err)
	}

	both := &catalog.CheckError{Method: "POST", Template: "v3/x", Problems: []catalog.Problem{
		{Field: "query:card_no", Kind: catalog.KindPlain, Message: "m"},
		{Field: "payee.name", Kind: catalog.KindPlain, Message: "m"},
		{Field: "amount", Kind: catalog.KindType, Message: "m"},
	}}
	const wantBoth = `catalog: POST v3/x: query:card_no: m; payee.name: m; amount: m; ` +
		`fix: add "encrypt": true to the options (or "encrypt": ["payee.name"], with the ciphertext of Client.Encrypt as card_no)`
	if got := both.Error(); got != wantBoth {
		t.Errorf("Error() = %s\nwant %s", got, wantBoth)
	}
}
