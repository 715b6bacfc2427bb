package wxpay_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

const (
	platformSerial = wxpaytest.DefaultPlatformSerial
	fixtureRefund  = "50000000382019052709732678859"
	fixtureOutNo   = "1217752501201407033233368018"
)

// setup starts an emulator with the fixed test keys and returns it with a
// client that talks to it. Both are closed by t.Cleanup.
func setup(t testing.TB) (*wxpaytest.Server, *wxpay.Client) {
	t.Helper()
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	srv := wxpaytest.NewUnstartedServer()
	srv.MerchantKey = mk
	srv.Platform = []wxpaytest.PlatformKey{{Serial: platformSerial, Key: pk}}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func applyRefundJSON(outRefundNo string) wxpay.Opts {
	return wxpay.Opts{
		"transaction_id": "T" + outRefundNo, // a fresh order for each refund
		"out_refund_no":  outRefundNo,
		"reason":         "商品已售完",
		"notify_url":     "https://weixin.qq.com/notify?a=1&b=2",
		"amount":         wxpay.Opts{"refund": 100, "total": 888, "currency": "CNY"},
	}
}

func abnormalJSON(refundType string) wxpay.Opts {
	j := wxpay.Opts{
		"sub_mchid":     "1900000109",
		"out_refund_no": fixtureOutNo,
		"type":          refundType,
	}
	if refundType == "USER_BANK_CARD" {
		j["bank_type"] = "ICBC_DEBIT"
		j["bank_account"] = "6222020200001234"
		j["real_name"] = "张三"
	}
	return j
}

func lastURI(t *testing.T, srv *wxpaytest.Server) string {
	t.Helper()
	r, ok := srv.LastRequest()
	if !ok {
		t.Fatal("the emulator received no request")
	}
	if !r.Authenticated {
		t.Errorf("the emulator did not authenticate %s %s", r.Method, r.RequestURI)
	}
	return r.RequestURI
}

// Every style the seeds show reaches the same path and is verified.
func TestSeedStylesReachTheSamePath(t *testing.T) {
	srv, c := setup(t)
	const want = "/v3/refund/domestic/refunds/" + fixtureRefund + "/apply-abnormal-refund"
	styles := map[string]wxpay.Chain{
		"declarative":       c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"),
		"pure chain":        c.Chain("v3").Chain("refund").Chain("domestic").Chain("refunds").Chain("_refund_id_").Chain("applyAbnormalRefund"),
		"variadic":          c.Chain("v3", "refund", "domestic", "refunds", "_refund_id_", "applyAbnormalRefund"),
		"dollar":            c.Chain("v3", "refund", "domestic", "refunds", "$refund_id$", "apply-abnormal-refund"),
		"design card":       c.Chain("/v3/refund/domestic/refunds/<refund_id>/apply-abnormal-refund"),
		"capitalised chain": c.Chain("V3").Chain("Refund", "Domestic", "Refunds").Chain("{refund_id}", "applyAbnormalRefund"),
	}
	for name, ch := range styles {
		t.Run(name, func(t *testing.T) {
			if got := ch.String(); got != "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund" {
				t.Errorf("String() = %q", got)
			}
			resp, err := ch.Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("MERCHANT_BANK_CARD")})
			if err != nil {
				t.Fatal(err)
			}
			if !resp.Verified || resp.Serial != platformSerial {
				t.Errorf("Verified = %v, Serial = %q", resp.Verified, resp.Serial)
			}
			if got := lastURI(t, srv); got != want {
				t.Errorf("request URI = %q, want %q", got, want)
			}
			if got := resp.Get("refund_id").String(); got != fixtureRefund {
				t.Errorf("refund_id = %q", got)
			}
			if got := resp.Get("status").String(); got != "PROCESSING" {
				t.Errorf("status = %q, want PROCESSING", got)
			}
		})
	}
}

func TestApplyRefundThenQuery(t *testing.T) {
	srv, c := setup(t)
	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R20261123001")})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := srv.LastRequest()
	if !ok {
		t.Fatal("no request recorded")
	}
	// encoded once, without HTML escaping of & in notify_url
	if !strings.Contains(string(r.Body), `"notify_url":"https://weixin.qq.com/notify?a=1&b=2"`) {
		t.Errorf("body %s: notify_url was escaped", r.Body)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	id := resp.Get("refund_id").String()
	if id == "" || resp.Get("amount.refund").Int() != 100 || resp.Get("amount.currency").String() != "CNY" {
		t.Fatalf("unexpected response %s", resp.Body)
	}
	var typed struct {
		RefundID string `json:"refund_id"`
		Amount   struct {
			Refund int64 `json:"refund"`
			Total  int64 `json:"total"`
		} `json:"amount"`
	}
	if err := resp.Unmarshal(&typed); err != nil {
		t.Fatal(err)
	}
	if typed.RefundID != id || typed.Amount.Total != 888 {
		t.Errorf("Unmarshal = %+v", typed)
	}

	q, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "R20261123001",
		"query":         wxpay.Opts{"sub_mchid": "1900000109"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := lastURI(t, srv); got != "/v3/refund/domestic/refunds/R20261123001?sub_mchid=1900000109" {
		t.Errorf("query URI = %q", got)
	}
	if q.Get("refund_id").String() != id {
		t.Errorf("query gave refund %q, want %q", q.Get("refund_id").String(), id)
	}
}

func TestEcommerceRefundAsyncStyles(t *testing.T) {
	srv, c := setup(t)
	body := func(no string) wxpay.Opts {
		return wxpay.Opts{
			"sub_mchid":              "1900000109",
			"sp_appid":               "wx8888888888888888",
			"sub_appid":              "wx8888888888888888",
			"combine_transaction_id": "1217752501201407033233368018",
			"transaction_id":         "4200000000" + no,
			"out_refund_no":          no,
			"reason":                 "商品已售完",
			"amount":                 wxpay.Opts{"refund": 88, "from": []wxpay.Opts{{"account": "AVAILABLE", "amount": 44}, {"account": "UNAVAILABLE", "amount": 44}}, "total": 888, "currency": "CNY"},
			"notify_url":             "https://weixin.qq.com",
			"refund_account":         "REFUND_SOURCE_SUB_MERCHANT",
			"funds_account":          "AVAILABLE",
		}
	}
	var mu sync.Mutex
	var got []string
	futures := []*wxpay.Future{
		c.Chain("v3").Chain("ecommerce").Chain("refunds").Chain("apply").PostAsync(wxpay.Opts{"json": body("E1")}),
		c.Chain("v3/ecommerce/refunds/apply").PostAsync(wxpay.Opts{"json": body("E2")}),
		c.Chain("v3", "ecommerce", "refunds", "apply").DoAsync(context.Background(), "post", wxpay.Opts{"json": body("E3")}),
	}
	for _, f := range futures {
		r, err := f.Then(func(r *wxpay.Response) (*wxpay.Response, error) {
			mu.Lock()
			got = append(got, r.Get("out_refund_no").String())
			mu.Unlock()
			return r, nil
		}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if !r.Verified || r.Get("amount.refund").Int() != 88 {
			t.Errorf("response %s verified=%v", r.Body, r.Verified)
		}
	}
	if diff := cmp.Diff([]string{"E1", "E2", "E3"}, got); diff != "" {
		t.Errorf("Then saw (-want +got):\n%s", diff)
	}
	if n := srv.RequestCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestFutureRejections(t *testing.T) {
	_, c := setup(t)
	called := false
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").GetAsync(wxpay.Opts{"out_refund_no": "NOPE"}).
		Then(func(r *wxpay.Response) (*wxpay.Response, error) { called = true; return r, nil }).
		Wait()
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "RESOURCE_NOT_EXISTS" || called {
		t.Fatalf("err = %v, then called = %v; want RESOURCE_NOT_EXISTS and no call", err, called)
	}
	recovered, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").GetAsync(wxpay.Opts{"out_refund_no": "NOPE"}).
		Otherwise(func(err error) (*wxpay.Response, error) { return &wxpay.Response{StatusCode: 299}, nil }).
		Wait()
	if err != nil || recovered.StatusCode != 299 {
		t.Errorf("Otherwise: %v, %v", recovered, err)
	}
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").GetAsync(wxpay.Opts{"out_refund_no": fixtureOutNo}).
		Then(func(r *wxpay.Response) (*wxpay.Response, error) { panic("boom") }).
		Wait()
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a panicking callback gave %v, want an error naming the panic", err)
	}
}

func TestEncryptOption(t *testing.T) {
	srv, c := setup(t)
	for _, endpoint := range []string{
		"v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
		"v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund",
	} {
		if err := srv.SetRefundStatus(fixtureRefund, "ABNORMAL"); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Chain(endpoint).Post(wxpay.Opts{
			"refund_id": fixtureRefund,
			"json":      abnormalJSON("USER_BANK_CARD"),
			"encrypt":   []string{"bank_account", "real_name"},
		})
		if err != nil {
			t.Fatalf("%s: %v", endpoint, err)
		}
		r, _ := srv.LastRequest()
		if got := r.Header.Get("Wechatpay-Serial"); got != platformSerial {
			t.Errorf("Wechatpay-Serial = %q, want %q", got, platformSerial)
		}
		if strings.Contains(string(r.Body), "6222020200001234") || strings.Contains(string(r.Body), "张三") {
			t.Errorf("plaintext sent: %s", r.Body)
		}
		if got := resp.Get("user_received_account").String(); !strings.Contains(got, "1234") {
			t.Errorf("user_received_account = %q, want the card's last digits (the emulator decrypted it)", got)
		}
	}
}

// The seed's literal values are ciphertexts made with some other key: the
// emulator must refuse them, and the refusal must be a verified APIError.
func TestSeedLiteralCiphertextIsRefused(t *testing.T) {
	_, c := setup(t)
	_, err := c.Chain("v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": fixtureRefund,
		"json": wxpay.Opts{
			"sub_mchid":          "1900000109",
			"individual_auth_id": "1900000109",
			"out_refund_no":      fixtureOutNo,
			"type":               "USER_BANK_CARD",
			"bank_type":          "ICBC_DEBIT",
			"bank_account":       "d+xT+MQCvrLHUVDWv/8MR/dB7TkXLVfSrUxMPZy6jWWYzpRrEEaYQE8ZRGYoeorwC+w==",
			"real_name":          "UPgQcZSdq3zOayJwZ5XLrHY2dZU1W2Cd",
		},
		"headers": wxpay.Opts{"Wechatpay-Serial": platformSerial},
	})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Code != "PARAM_ERROR" || !apiErr.Verified || apiErr.RequestID == "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if apiErr.Retryable() {
		t.Error("PARAM_ERROR reported as retryable")
	}
}

func TestRawJSONSentByteForByte(t *testing.T) {
	srv, c := setup(t)
	raw := `{ "out_refund_no" : "R-raw-1", "transaction_id":"T-raw-1",` +
		`"amount":{"refund":1,"total":888,"currency":"CNY"} }`
	for _, v := range []any{raw, []byte(raw), json.RawMessage(raw)} {
		if _, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": v}); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		r, _ := srv.LastRequest()
		if string(r.Body) != raw {
			t.Errorf("%T: body sent = %q, want %q", v, r.Body, raw)
		}
	}
	// encrypt on a raw []byte must not edit the caller's slice
	rawAbnormal := []byte(`{"sub_mchid":"1900000109","out_refund_no":"` + fixtureOutNo + `","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"6222020200001234","real_name":"李四"}`)
	orig := string(rawAbnormal)
	if _, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": fixtureRefund, "json": rawAbnormal, "encrypt": "bank_account",
	}); err == nil {
		t.Error("real_name left in plain text was accepted by the emulator")
	}
	if string(rawAbnormal) != orig {
		t.Error("encrypt edited the caller's []byte")
	}
}

func TestPlaceholderEncodingIsSignedAsSent(t *testing.T) {
	srv, c := setup(t)
	for _, tc := range []struct {
		val, want string
	}{
		{"A B/C?D", "/v3/refund/domestic/refunds/A%20B%2FC%3FD"},
		{"退款", "/v3/refund/domestic/refunds/%E9%80%80%E6%AC%BE"},
		{"a%2Fb", "/v3/refund/domestic/refunds/a%252Fb"},
	} {
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": tc.val})
		var apiErr *wxpay.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "RESOURCE_NOT_EXISTS" {
			t.Errorf("%q: err = %v, want RESOURCE_NOT_EXISTS (signature accepted)", tc.val, err)
		}
		if got := lastURI(t, srv); got != tc.want {
			t.Errorf("%q: URI = %q, want %q", tc.val, got, tc.want)
		}
	}
	// integers and Stringers fill placeholders too
	_, _ = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": 1234567})
	if got := lastURI(t, srv); got != "/v3/refund/domestic/refunds/1234567" {
		t.Errorf("int placeholder: URI = %q", got)
	}
	// a query with characters that need escaping
	_, _ = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "X", "query": url.Values{"b": {"1 2"}, "a": {"&"}}})
	if got := lastURI(t, srv); got != "/v3/refund/domestic/refunds/X?a=%26&b=1+2" {
		t.Errorf("query URI = %q", got)
	}
}

// Every mistake is reported before anything is sent.
func TestOptionErrorsSendNothing(t *testing.T) {
	srv, c := setup(t)
	abn := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund")
	tests := []struct {
		name string
		call func() error
		want error
		text string
	}{
		{"typo in json", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "jsno": wxpay.Opts{}}); return err }, wxpay.ErrInvalidOption, `did you mean "json"`},
		{"typo in placeholder", func() error { _, err := abn.Post(wxpay.Opts{"refundid": "1"}); return err }, wxpay.ErrInvalidOption, "refund_id"},
		{"missing placeholder", func() error { _, err := abn.Post(wxpay.Opts{"json": wxpay.Opts{}}); return err }, wxpay.ErrMissingParam, "{refund_id}"},
		{"empty placeholder", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": ""}); return err }, wxpay.ErrMissingParam, "{refund_id}"},
		{"nil placeholder", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": nil}); return err }, wxpay.ErrMissingParam, "{refund_id}"},
		{"float placeholder", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": 1.5}); return err }, wxpay.ErrInvalidOption, "float64"},
		{"dot-dot placeholder", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": ".."}); return err }, wxpay.ErrInvalidOption, "dot segment"},
		{"json and body", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": "{}", "body": "x", "headers": wxpay.Opts{"Content-Type": "text/plain"}})
			return err
		}, wxpay.ErrInvalidOption, "not both"},
		{"body without content type", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "body": "x"}); return err }, wxpay.ErrInvalidOption, "Content-Type"},
		{"GET with json", func() error { _, err := abn.Get(wxpay.Opts{"refund_id": "1", "json": wxpay.Opts{}}); return err }, wxpay.ErrInvalidOption, "GET"},
		{"invalid raw json", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": `{"a":`}); return err }, wxpay.ErrInvalidOption, "not valid JSON"},
		{"unencodable json", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": wxpay.Opts{"f": func() {}}})
			return err
		}, wxpay.ErrInvalidOption, "json"},
		{"authorization header", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "headers": map[string]string{"authorization": "x"}})
			return err
		}, wxpay.ErrInvalidOption, "Authorization"},
		{"header with newline", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "headers": wxpay.Opts{"X-A": "a\r\nX-B: b"}})
			return err
		}, wxpay.ErrInvalidOption, "line break"},
		{"headers wrong type", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "headers": []string{"a"}}); return err }, wxpay.ErrInvalidOption, "headers is []string"},
		{"query wrong type", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "query": 3}); return err }, wxpay.ErrInvalidOption, "query is int"},
		{"encrypt missing path", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"bank_acount"}})
			return err
		}, wxpay.ErrInvalidOption, `"bank_acount"`},
		{"encrypt non-string", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": wxpay.Opts{"n": 5}, "encrypt": []string{"n"}})
			return err
		}, wxpay.ErrInvalidOption, "want a string"},
		{"encrypt without json", func() error { _, err := abn.Post(wxpay.Opts{"refund_id": "1", "encrypt": "x"}); return err }, wxpay.ErrInvalidOption, "json body"},
		{"encrypt unknown serial", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1", "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"real_name"}, "headers": wxpay.Opts{"Wechatpay-Serial": "PUB_KEY_ID_NOPE"}})
			return err
		}, wxpay.ErrInvalidOption, "PUB_KEY_ID_NOPE"},
		{"bad method", func() error {
			_, err := abn.Do(context.Background(), "TRACE", wxpay.Opts{"refund_id": "1"})
			return err
		}, wxpay.ErrInvalidOption, "TRACE"},
		{"two Opts with one key", func() error {
			_, err := abn.Post(wxpay.Opts{"refund_id": "1"}, wxpay.Opts{"refund_id": "2"})
			return err
		}, wxpay.ErrInvalidOption, "refund_id"},
		{"bad segment", func() error { _, err := c.Chain("v3", "../etc").Get(); return err }, wxpay.ErrInvalidPath, ".."},
		{"empty middle segment", func() error { _, err := c.Chain("v3//refund").Get(); return err }, wxpay.ErrInvalidPath, "empty"},
		{"empty chain", func() error { _, err := c.Chain().Get(); return err }, wxpay.ErrInvalidPath, "empty"},
		{"other host", func() error {
			_, err := c.Chain("https://evil.example.com/v3/billdownload/file?token=x").Get()
			return err
		}, wxpay.ErrHostNotAllowed, "evil.example.com"},
		{"production host from an emulator client", func() error {
			_, err := c.Chain("https://api.mch.weixin.qq.com/v3/certificates").Get()
			return err
		}, wxpay.ErrHostNotAllowed, "api.mch.weixin.qq.com"},
		{"URL with fragment", func() error { _, err := c.Chain(srv.URL + "v3/x#frag").Get(); return err }, wxpay.ErrInvalidPath, "fragment"},
		{"cancelled context", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := abn.Do(ctx, "POST", wxpay.Opts{"refund_id": "1"})
			return err
		}, context.Canceled, "canceled"},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: err = %v; want %v mentioning %q", tt.name, err, tt.want, tt.text)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests reached the emulator; want none", n)
	}
}

func TestFullURLToTheConfiguredHost(t *testing.T) {
	srv, c := setup(t)
	_, err := c.Chain(srv.URL + "v3/refund/domestic/refunds/" + fixtureOutNo + "?sub_mchid=1900000109").Get()
	if err != nil {
		t.Fatal(err)
	}
	if got := lastURI(t, srv); got != "/v3/refund/domestic/refunds/"+fixtureOutNo+"?sub_mchid=1900000109" {
		t.Errorf("URI = %q", got)
	}
	ch := c.Chain(srv.URL + "v3/x?a=1").Chain("more")
	if !errors.Is(ch.Err(), wxpay.ErrInvalidPath) {
		t.Errorf("appending to a URL with a query: Err() = %v", ch.Err())
	}
}

func TestChainIsImmutable(t *testing.T) {
	_, c := setup(t)
	base := c.Chain("v3", "refund")
	var wg sync.WaitGroup
	results := make([]string, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = base.Chain(fmt.Sprintf("seg%d", i)).Chain("tail").String()
		}()
	}
	wg.Wait()
	for i, got := range results {
		if want := fmt.Sprintf("v3/refund/seg%d/tail", i); got != want {
			t.Errorf("chain %d = %q, want %q", i, got, want)
		}
	}
	if base.String() != "v3/refund" {
		t.Errorf("base changed to %q", base.String())
	}
}

func TestResponseVerificationFaults(t *testing.T) {
	srv, c := setup(t)
	query := func() error {
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
		return err
	}
	for _, tc := range []struct {
		fault wxpaytest.Fault
		want  error
	}{
		{wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature}, wxpay.ErrBadSignature},
		{wxpaytest.Fault{Kind: wxpaytest.FaultSkewTimestamp, Skew: 301 * time.Second}, wxpay.ErrClockSkew},
		{wxpaytest.Fault{Kind: wxpaytest.FaultSkewTimestamp, Skew: -10 * time.Minute}, wxpay.ErrClockSkew},
		{wxpaytest.Fault{Kind: wxpaytest.FaultUnknownSerial}, wxpay.ErrUnknownSerial},
		{wxpaytest.Fault{Kind: wxpaytest.FaultProbeSignature}, wxpay.ErrSignatureProbe},
		{wxpaytest.Fault{Kind: wxpaytest.FaultRemoveHeader, Header: "Wechatpay-Nonce"}, wxpay.ErrMissingHeader},
		{wxpaytest.Fault{Kind: wxpaytest.FaultUnsigned}, wxpay.ErrMissingHeader},
	} {
		srv.Inject(tc.fault)
		err := query()
		var ve *wxpay.VerifyError
		if !errors.Is(err, tc.want) || !errors.As(err, &ve) || ve.StatusCode != 200 {
			t.Errorf("%v: err = %v, want a *VerifyError wrapping %v", tc.fault.Kind, err, tc.want)
		}
	}
	if err := query(); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

func TestAPIErrors(t *testing.T) {
	srv, c := setup(t)
	apply := func(no string) error {
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON(no)})
		return err
	}
	for _, tc := range []struct {
		fault     wxpaytest.Fault
		status    int
		code      string
		retryable bool
		verified  bool
		sigErr    error
	}{
		{wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"}, 500, "SYSTEM_ERROR", true, true, nil},
		{wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 429}, 429, "FREQUENCY_LIMITED", true, true, nil},
		{wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 400, Code: "INVALID_REQUEST"}, 400, "INVALID_REQUEST", false, true, nil},
		// a forged error: its signature does not verify
		{wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 404, Code: "RESOURCE_NOT_EXISTS", Times: 1}, 404, "RESOURCE_NOT_EXISTS", false, true, nil},
	} {
		srv.Inject(tc.fault)
		err := apply("R-err-" + tc.code)
		var apiErr *wxpay.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s: err = %v", tc.code, err)
		}
		if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Retryable() != tc.retryable || apiErr.Verified != tc.verified {
			t.Errorf("%s: got status %d code %s retryable %v verified %v", tc.code, apiErr.StatusCode, apiErr.Code, apiErr.Retryable(), apiErr.Verified)
		}
		if apiErr.Message == "" || apiErr.RequestID == "" || len(apiErr.Body) == 0 {
			t.Errorf("%s: empty fields in %+v", tc.code, apiErr)
		}
	}
	// an error answer with a corrupt signature is not WeChat Pay's word
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature})
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "NOPE"})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.Verified || !errors.Is(err, wxpay.ErrBadSignature) {
		t.Errorf("forged 404: err = %v (verified %v); want an unverified APIError wrapping ErrBadSignature", err, apiErr != nil && apiErr.Verified)
	}
	// an error answer without signature headers is not verified either
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultUnsigned})
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "NOPE"})
	if !errors.As(err, &apiErr) || apiErr.Verified || apiErr.Code != "RESOURCE_NOT_EXISTS" {
		t.Errorf("unsigned 404: err = %v; want an unverified RESOURCE_NOT_EXISTS", err)
	}
}

func TestSystemErrorRetriedWithSameOutRefundNoAppliesOnce(t *testing.T) {
	srv, c := setup(t)
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"})
	opts := wxpay.Opts{"json": applyRefundJSON("R-retry-1")}
	_, err := c.Chain("v3/refund/domestic/refunds").Post(opts)
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || !apiErr.Retryable() {
		t.Fatalf("first attempt: %v", err)
	}
	first, err := c.Chain("v3/refund/domestic/refunds").Post(opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Chain("v3/refund/domestic/refunds").Post(opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Get("refund_id").String() != again.Get("refund_id").String() {
		t.Errorf("the same out_refund_no made two refunds: %s and %s", first.Get("refund_id"), again.Get("refund_id"))
	}
	n := 0
	for _, r := range srv.Refunds() {
		if r.OutRefundNo == "R-retry-1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d refunds with out_refund_no R-retry-1, want 1", n)
	}
	// the two successful attempts were signed with different nonces
	reqs := srv.Requests()
	a1, a2 := reqs[len(reqs)-1].Header.Get("Authorization"), reqs[len(reqs)-2].Header.Get("Authorization")
	if a1 == a2 {
		t.Error("two attempts carried the same Authorization")
	}
}

func TestTransportFailures(t *testing.T) {
	srv, c := setup(t)
	query := wxpay.Opts{"out_refund_no": fixtureOutNo}
	ch := c.Chain("v3/refund/domestic/refunds/{out_refund_no}")

	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ch.Do(ctx, "GET", query)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("deadline of 100ms honoured after %v", d)
	}

	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultReset})
	if _, err := ch.Get(query); err == nil {
		t.Error("reset connection: no error")
	}

	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultTruncateBody})
	if _, err := ch.Get(query); err == nil {
		t.Error("truncated body: no error")
	}

	cfg := srv.Config()
	cfg.MaxResponseBodySize = 64 << 10
	small, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultOversizeBody, Size: 1 << 20})
	if _, err := small.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(query); !errors.Is(err, wxpay.ErrResponseTooLarge) || !strings.Contains(err.Error(), "MaxResponseBodySize") {
		t.Errorf("oversized body: err = %v, want ErrResponseTooLarge naming MaxResponseBodySize", err)
	}
	if _, err := ch.Get(query); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	srv, c := setup(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON(fmt.Sprintf("R-conc-%d", i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.RequestCount(); got != n {
		t.Errorf("%d requests, want %d", got, n)
	}
}

func TestNewConfigErrors(t *testing.T) {
	srv, _ := setup(t)
	good := srv.Config()
	mk, _ := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	for _, tc := range []struct {
		name string
		edit func(*wxpay.Config)
		text string
	}{
		{"no mchid", func(c *wxpay.Config) { c.MchID = "" }, "MchID is empty"},
		{"letters in mchid", func(c *wxpay.Config) { c.MchID = "19000x" }, "MchID"},
		{"no serial", func(c *wxpay.Config) { c.Serial = "" }, "Serial"},
		{"no key", func(c *wxpay.Config) { c.PrivateKey = nil }, "PrivateKey is nil"},
		{"no certs", func(c *wxpay.Config) { c.Certs = nil }, "Certs is empty"},
		{"serial among certs", func(c *wxpay.Config) { c.Certs = map[string]*rsa.PublicKey{c.Serial: c.Certs[platformSerial]} }, "also in Certs"},
		{"merchant key as cert", func(c *wxpay.Config) { c.Certs = map[string]*rsa.PublicKey{"X": &mk.PublicKey} }, "merchant's own public key"},
		{"nil cert", func(c *wxpay.Config) { c.Certs = map[string]*rsa.PublicKey{"X": nil} }, "nil key"},
		{"cert without modulus", func(c *wxpay.Config) { c.Certs = map[string]*rsa.PublicKey{"X": {E: 65537}} }, "nil key for serial X"},
		{"short apiv3 key", func(c *wxpay.Config) { c.APIv3Key = "0123456789" }, "APIv3Key is 10 bytes"},
		{"http to a remote host", func(c *wxpay.Config) { c.BaseURL = "http://api.mch.weixin.qq.com/" }, "loopback"},
		{"ftp", func(c *wxpay.Config) { c.BaseURL = "ftp://127.0.0.1/" }, "scheme"},
		{"query in base", func(c *wxpay.Config) { c.BaseURL = "https://api.mch.weixin.qq.com/?x=1" }, "query"},
		{"negative timeout", func(c *wxpay.Config) { c.Timeout = -1 }, "Timeout"},
	} {
		cfg := good
		cfg.PrivateKey = mk
		tc.edit(&cfg)
		_, err := wxpay.New(cfg)
		if !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: New error = %v, want ErrInvalidConfig mentioning %q", tc.name, err, tc.text)
		}
		if err != nil && (strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), good.APIv3Key)) {
			t.Errorf("%s: error leaks a secret: %v", tc.name, err)
		}
	}
	if _, err := wxpay.New(good); err != nil {
		t.Errorf("New(good) = %v", err)
	}
}

// No error string carries key material or an Authorization value.
func TestErrorsCarryNoSecrets(t *testing.T) {
	srv, c := setup(t)
	var errs []error
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature})
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	errs = append(errs, err)
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 401, Code: "SIGN_ERROR"})
	_, err = c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-secret")})
	errs = append(errs, err)
	_, err = c.Chain("v3/x").Post(wxpay.Opts{"headers": wxpay.Opts{"Authorization": "WECHATPAY2-SHA256-RSA2048 secret"}})
	errs = append(errs, err)
	reqs := srv.Requests()
	cfg := srv.Config()
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		s := err.Error()
		if strings.Contains(s, "WECHATPAY2-SHA256-RSA2048") || strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, cfg.APIv3Key) {
			t.Errorf("error leaks a secret: %s", s)
		}
		for _, r := range reqs {
			if a := r.Header.Get("Authorization"); a != "" && strings.Contains(s, a[40:80]) {
				t.Errorf("error holds part of an Authorization header: %s", s)
			}
		}
	}
}

// Schemes are case-insensitive: HTTP:// and Https:// start a URL chain as
// http:// and https:// do.
func TestUpperCaseSchemeIsAURL(t *testing.T) {
	srv, c := setup(t)
	rest := strings.TrimPrefix(srv.URL, "http://") + "v3/refund/domestic/refunds/" + fixtureOutNo
	for _, scheme := range []string{"HTTP://", "Http://", "hTtP://"} {
		ch := c.Chain(scheme + rest)
		if err := ch.Err(); err != nil {
			t.Errorf("%s: Err() = %v", scheme, err)
			continue
		}
		if got := ch.String(); got != "http://"+rest {
			t.Errorf("%s: String() = %q, want %q", scheme, got, "http://"+rest)
		}
		if _, err := ch.Get(); err != nil {
			t.Errorf("%s: Get: %v", scheme, err)
		}
	}
	for _, u := range []string{"HTTPS://evil.example.com/v3/certificates", "Https://evil.example.com/v3/certificates"} {
		if _, err := c.Chain(u).Get(); !errors.Is(err, wxpay.ErrHostNotAllowed) {
			t.Errorf("%s: err = %v, want ErrHostNotAllowed (a URL to another host)", u, err)
		}
	}
	// A bill whose download_url has an upper-case scheme downloads too.
	b := &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("0", 40), DownloadURL: "HTTP://" + strings.TrimPrefix(srv.URL, "http://") + "v3/billdownload/file?token=x"}
	if err := c.DownloadBill(context.Background(), b, io.Discard); errors.Is(err, wxpay.ErrInvalidPath) {
		t.Errorf("DownloadBill: %v, want the URL taken as one", err)
	}
}

// nullMarshaler encodes to JSON null.
type nullMarshaler struct{}

func (nullMarshaler) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// A json value that is a typed nil, or that encodes to null or to anything
// but an object, is refused before anything is sent: every WeChat Pay APIv3
// request body is a JSON object, and a signed POST of "null" would only come
// back as PARAM_ERROR, or worse.
func TestJSONMustBeAnObject(t *testing.T) {
	srv, c := setup(t)
	var nilMap map[string]any
	for _, v := range []any{
		(*struct{ A int })(nil),
		map[string]any(nil),
		wxpay.Opts(nil),
		[]any(nil),
		[]byte(nil),
		json.RawMessage(nil),
		json.RawMessage("null"),
		[]byte(" null "),
		"null",
		&nilMap,
		nullMarshaler{},
		5,
		"5",
		`"a string"`,
		true,
		[]wxpay.Opts{},
		"[]",
		json.RawMessage(` [{"a":1}]`),
	} {
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": v})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "json") {
			t.Errorf("json %T %v: err = %v; want ErrInvalidOption naming json", v, v, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		r, _ := srv.LastRequest()
		t.Errorf("%d requests sent; the last one's body: %q", n, r.Body)
	}
	// nil itself, with no type, means no body, as when json is left out.
	c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": nil})
	if r, _ := srv.LastRequest(); len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
		t.Errorf("json nil: body %q, Content-Type %q; want none", r.Body, r.Header.Get("Content-Type"))
	}
}

// A raw json body with a name twice in one object is refused before
// sending: which of the two amounts WeChat Pay would read is not certain
// (the emulator, like many parsers, takes the last).
func TestRawJSONDuplicateNameRefused(t *testing.T) {
	srv, c := setup(t)
	for _, v := range []any{
		`{"out_refund_no":"DUP1","amount":{"refund":1,"total":100,"currency":"CNY","refund":99}}`,
		[]byte(`{"out_refund_no":"DUP1","out_refund_no":"DUP2"}`),
		json.RawMessage(`{"list":[{"a":1},{"b":1,"b":2}]}`),
	} {
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": v})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("json %s: err = %v; want ErrInvalidOption about a name given twice", v, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
