package catalog

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/catalog/internal/wire"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// Seed bodies: the refund endpoints of the seeds, as a merchant sends them.
var (
	refundBody = []byte(`{"transaction_id":"1217752501201407033233368018","out_refund_no":"1217752501201407033233368018",` +
		`"reason":"商品已售完","notify_url":"https://weixin.qq.com","funds_account":"AVAILABLE",` +
		`"amount":{"refund":888,"from":[{"account":"AVAILABLE","amount":444},{"account":"UNAVAILABLE","amount":444}],"total":888,"currency":"CNY"},` +
		`"goods_detail":[{"merchant_goods_id":"1217752501201407033233368018","wechatpay_goods_id":"1001","goods_name":"iPhone6s 16G","unit_price":528800,"refund_amount":528800,"refund_quantity":1}]}`)
	ecommerceRefundBody = []byte(`{"sub_mchid":"1900000109","sp_appid":"wx8888888888888888","transaction_id":"4208450740201411110007820472","combine_transaction_id":"4208450740201411110007820472","funds_account":"AVAILABLE",` +
		`"out_refund_no":"1217752501201407033233368018","reason":"商品已售完","amount":{"refund":888,"total":888,"currency":"CNY"},` +
		`"notify_url":"https://weixin.qq.com"}`)
	abnormalBody = []byte(`{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD",` +
		`"bank_type":"ICBC_DEBIT","bank_account":"d+xT+MQCvrLHUVDWv/8MR/dB7TkXLVfSrUxMPZy6jWWYzpRrEEaYQE8ZRGYoeorwC+w==","real_name":"UPgQcZSdq3zOayJwZ5XLrHY2dZU1W2Cd"}`)
)

// BenchmarkCheck is the cost the check adds to a call: the top-level Check
// (match the path, then check path, query and body).
func BenchmarkCheck(b *testing.B) {
	get()
	cases := []struct {
		name, method, path string
		body               []byte
	}{
		{"refund", "POST", "/v3/refund/domestic/refunds", refundBody},
		{"ecommerce-refund", "POST", "/v3/ecommerce/refunds/apply", ecommerceRefundBody},
		{"abnormal-refund", "POST", "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund", abnormalBody},
		{"query-refund", "GET", "/v3/refund/domestic/refunds/1217752501201407033233368018?sub_mchid=1900000109", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if err := Check(c.method, c.path, nil, c.body); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Check(c.method, c.path, nil, c.body)
			}
		})
	}
}

// BenchmarkOperationCheck is the check alone, the operation known.
func BenchmarkOperationCheck(b *testing.B) {
	op, ok := Lookup("POST", "v3/refund/domestic/refunds")
	if !ok {
		b.Fatal("no refund operation")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = op.Check(nil, url.Values(nil), refundBody)
	}
}

// BenchmarkLoad is the first-use cost: gunzip, decode and index the data.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeWire: the fast decoder reads what encoding/json reads.
func TestDecodeWire(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var want wire.File
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got, err := decodeWire(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("decodeWire (-encoding/json +got):\n%.2000s", diff)
	}
	for _, bad := range []string{`{`, `{"schemas":[{"zz":1}]}`, `{"ops":[{"zz":1}]}`} {
		if _, err := decodeWire([]byte(bad)); err == nil {
			t.Errorf("decodeWire(%s) = nil error", bad)
		}
	}
	if _, err := load([]byte("not gzip")); err == nil {
		t.Error("load(not gzip) = nil error")
	}
}

// BenchmarkUnknownEndpoint is the cost of the "did you mean" of an unknown
// endpoint, the slow path.
func BenchmarkUnknownEndpoint(b *testing.B) {
	get()
	b.ReportAllocs()
	for b.Loop() {
		_ = Check("POST", "/v3/refund/domestic/refund", nil, nil)
	}
}

// BenchmarkChecker is what Checker's CheckRequest adds to a call of a
// client: the abnormal refund of BenchmarkPost (in the root package),
// found by its template and checked; to a merchant's bank card (no
// sensitive field, as BenchmarkPost sends it), and to a user's, its
// bank_account and real_name 2048-bit RSA ciphertexts, as the encrypt
// option leaves them.
func BenchmarkChecker(b *testing.B) {
	get()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	account, err1 := rsaenc.Encrypt(&k.PublicKey, "6214830000001234")
	name, err2 := rsaenc.Encrypt(&k.PublicKey, "张三")
	if err := errors.Join(err1, err2); err != nil {
		b.Fatal(err)
	}
	c := Checker()
	const tmpl = "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	const target = "v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund"
	for _, bc := range []struct{ name, body string }{
		{"merchant-card", `{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"MERCHANT_BANK_CARD"}`},
		{"user-card-ciphertexts", `{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD",` +
			`"bank_type":"ICBC_DEBIT","bank_account":"` + account + `","real_name":"` + name + `"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			if err := c.CheckRequest("POST", tmpl, target, body); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = c.CheckRequest("POST", tmpl, target, body)
			}
		})
	}
}
