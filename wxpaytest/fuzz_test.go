package wxpaytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/verifier"
)

// FuzzEndpoints feeds arbitrary bodies to every POST endpoint behind
// authentication: each must answer 200 or a JSON error, never panic.
func FuzzEndpoints(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `null`, `{"amount":null}`, `{"amount":{"from":[null,1,{}]}}`,
		`{"out_refund_no":"x","transaction_id":"1","amount":{"refund":1,"total":1,"currency":"CNY"}}`,
		`{"out_refund_no":"x","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"AAAA","real_name":"` + strings.Repeat("A", 2000) + `"}`,
		`{"amount":{"refund":1e400,"total":-1}}`, `{"goods_detail":[{"unit_price":"1"}]}`,
	} {
		f.Add(seed)
	}
	testKeys(f)
	s := NewUnstartedServer()
	s.MerchantKey = merchantKey
	s.Platform = []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	if err := s.StartErr(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	paths := []string{
		refundsPath, ecommerceApplyPath, partnerAbnormalPath, ecommerceAbnormalPath,
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range paths {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(verifier.HeaderSerial, DefaultPlatformSerial)
			c := &call{r: r}
			ep, params, _ := match(r)
			if ep == nil {
				t.Fatalf("match %s: no route", path)
			}
			c.params = params
			obj, e := decodeBody(r, []byte(body))
			if e != nil {
				if e.status != 400 {
					t.Fatalf("decode: status %d", e.status)
				}
				continue
			}
			c.json = obj
			if _, e := ep(s, c); e != nil && (e.status < 400 || e.Code == "" || e.Message == "") {
				t.Fatalf("%s: bad error answer %+v", path, e)
			}
		}
	})
}

// FuzzOperation feeds arbitrary bodies and queries to schema-driven
// operations: each must be answered or refused with a 4xx naming a
// problem, never panic.
func FuzzOperation(f *testing.F) {
	for _, seed := range [][2]string{
		{`{}`, ``}, {`[]`, `a=1`}, {`null`, `mchid=%zz`}, {`{"amount":{"total":1.5}}`, `mchid=1`},
		{`{"name":"AAAA","type":"MERCHANT_ID","account":"1","sub_mchid":"1"}`, ``},
		{`{"payer":{"openid":"o","identity":{"name":"x","number":"y"}}}`, `offset=-1&limit=99999`},
		{`{"receivers":[null,1,{"name":7}]}`, ``},
	} {
		f.Add(seed[0], seed[1])
	}
	testKeys(f)
	s := NewUnstartedServer()
	s.MerchantKey = merchantKey
	s.Platform = []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	if err := s.StartErr(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	targets := []string{
		"POST /v3/pay/transactions/jsapi", "POST /v3/global/profit-sharing/receivers",
		"POST /v3/profitsharing/orders", "GET /v3/merchant-service/complaints-v2",
	}
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, tg := range targets {
			method, path, _ := strings.Cut(tg, " ")
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.URL.RawQuery = query
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(verifier.HeaderSerial, DefaultPlatformSerial)
			op, vals, ok := matchOperation(method, path)
			if !ok {
				t.Fatalf("%s: no operation", tg)
			}
			in, e := s.readOperation(r, op, vals, []byte(body))
			if e != nil {
				if e.status != 400 || e.Code == "" || e.Message == "" {
					t.Fatalf("%s: bad error answer %+v", tg, e)
				}
				continue
			}
			if ans := s.answer(op, in); op.Response != nil && !json.Valid(ans) {
				t.Fatalf("%s: answer is not JSON: %s", tg, ans)
			}
		}
	})
}
