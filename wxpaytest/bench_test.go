package wxpaytest

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// BenchmarkOperation measures the emulator's schema-driven work for one
// request: reading and checking it (its sensitive fields decrypted) and
// building the answer (its sensitive fields encrypted), without HTTP,
// authentication or signing. SignAnswer is the RSA signature that every
// answer costs besides, for scale.
func BenchmarkOperation(b *testing.B) {
	s := newServer(b)
	for _, name := range []string{
		"GET v3/pay/transactions/id/{transaction_id}",
		"POST v3/pay/transactions/jsapi",
		"POST v3/global/profit-sharing/receivers", // a sensitive field each way
		"POST v3/applyment4sub/applyment/",        // a large body, 5 sensitive fields
	} {
		method, tmpl, _ := bytes.Cut([]byte(name), []byte(" "))
		op, ok := catalog.Lookup(string(method), string(tmpl))
		if !ok {
			b.Fatalf("%s not in the catalogue", name)
		}
		vals, query, body := op.ExampleRequest()
		for _, p := range catalog.ExpandPaths(body, op.Sensitive()) {
			plain := gjson.GetBytes(body, p).String()
			if len(plain) > 100 {
				plain = plain[:100]
			}
			ct, err := rsaenc.Encrypt(&platformKey.PublicKey, plain)
			if err != nil {
				b.Fatal(err)
			}
			body, _ = sjson.SetBytes(body, p, ct)
		}
		r := httptest.NewRequest(op.Method, "/"+fillTemplate(op.Template, vals)+"?"+query.Encode(), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(verifier.HeaderSerial, DefaultPlatformSerial)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				in, e := s.readOperation(r, op, vals, body)
				if e != nil {
					b.Fatalf("%s: %s", name, e.Message)
				}
				if s.answer(op, in) == nil && op.Response != nil {
					b.Fatal("no answer")
				}
			}
		})
	}
	b.Run("SignAnswer", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/v3/certificates", nil)
		serial, key := s.responseKey(r)
		digest := sha256.Sum256([]byte(`{"transaction_id":"1217752501201407033233368018"}`))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.signDigest(serial, key, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
