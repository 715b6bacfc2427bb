package wxpay_test

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/v2xml"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// v2Secret is the fixed APIv2 key of these tests.
const v2Secret = "0123456789abcdefghijklmnopqrstuv"

// setupV2 starts an emulator with the fixed test keys and APIv2 key, on
// TLS (StartTLS) when useTLS, and returns it with a client made by adjust
// from its Config. Both are closed by t.Cleanup.
func setupV2(t testing.TB, useTLS bool, adjust ...func(*wxpay.Config)) (*wxpaytest.Server, *wxpay.Client) {
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
	srv.APIv2Secret = v2Secret
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func refundXML(outRefundNo string, fee int) wxpay.Opts {
	return wxpay.Opts{
		"appid":           "wxd678efh567hg6787",
		"mch_id":          wxpaytest.DefaultMchID,
		"out_trade_no":    "T" + outRefundNo,
		"out_refund_no":   outRefundNo,
		"total_fee":       100,
		"refund_fee":      fee,
		"refund_fee_type": "CNY",
		"refund_desc":     "商品已售完 <&> ]]> done",
	}
}

// A whole v2 refund through the chain, over mutual TLS on loopback, then
// its query with HMAC-SHA256.
func TestV2RefundOverMutualTLS(t *testing.T) {
	srv, c := setupV2(t, true)
	resp, err := c.Chain("v2/secapi/pay/refund").Post(wxpay.Opts{
		"xml":      refundXML("R-mtls-1", 60),
		"security": true,
	})
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if !resp.Verified || resp.StatusCode != http.StatusOK || resp.Attempts != 1 {
		t.Errorf("response: verified %v, status %d, attempts %d", resp.Verified, resp.StatusCode, resp.Attempts)
	}
	got := resp.XML()
	stored, ok := srv.RefundByOutRefundNo("R-mtls-1")
	if !ok {
		t.Fatal("the emulator holds no refund R-mtls-1")
	}
	want := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "refund_id": stored.RefundID, "refund_fee": "60", "total_fee": "100", "out_refund_no": "R-mtls-1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("answer %s = %q, want %q", k, got[k], v)
		}
	}
	if stored.Reason != "商品已售完 <&> ]]> done" {
		t.Errorf("stored reason %q: the XML encoding changed it", stored.Reason)
	}

	// What went on the wire.
	rec, _ := srv.LastRequest()
	if rec.RequestURI != "/secapi/pay/refund" || rec.Method != http.MethodPost || !rec.Authenticated {
		t.Errorf("request %s %s (authenticated %v), want POST /secapi/pay/refund", rec.Method, rec.RequestURI, rec.Authenticated)
	}
	if ct := rec.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Header.Get("Authorization") != "" {
		t.Error("an APIv2 request carries an Authorization header")
	}
	sent, err := v2xml.Decode(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent["nonce_str"]) != 32 || sent["total_fee"] != "100" || len(sent["sign"]) != 32 {
		t.Errorf("sent %v: want a 32-character nonce_str and an MD5 sign", sent)
	}
	if err := v2xml.Verify(sent, "MD5", v2Secret); err != nil {
		t.Errorf("sent sign: %v", err)
	}

	// Query it, spelled the PHP way, with HMAC-SHA256.
	resp, err = c.Chain("V2", "pay", "refundquery").Post(wxpay.Opts{"xml": map[string]string{
		"mch_id": wxpaytest.DefaultMchID, "out_refund_no": "R-mtls-1", "sign_type": "HMAC-SHA256",
	}})
	if err != nil {
		t.Fatalf("refundquery: %v", err)
	}
	q := resp.XML()
	if q["refund_id_0"] != stored.RefundID || q["refund_status_0"] != "PROCESSING" || len(q["sign"]) != 64 {
		t.Errorf("refundquery answer %v", q)
	}
	if rec, _ := srv.LastRequest(); rec.RequestURI != "/pay/refundquery" {
		t.Errorf("query sent to %s", rec.RequestURI)
	}
}

// The request the client writes, byte for byte, with a sign computed apart
// (see the golden constants of wxpaytest/v2_test.go):
//
//	printf '%s' 'appid=wxd678efh567hg6787&mch_id=1900000109&nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&out_refund_no=1217752501201407033233368018&key=0123456789abcdefghijklmnopqrstuv' | openssl dgst -md5
func TestV2GoldenRequest(t *testing.T) {
	srv, c := setupV2(t, false)
	_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
		"appid":         "wxd678efh567hg6787",
		"mch_id":        1900000109,
		"nonce_str":     "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
		"out_refund_no": fixtureOutNo,
		"sign":          "a stale sign is replaced",
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := srv.LastRequest()
	want := "<xml><appid><![CDATA[wxd678efh567hg6787]]></appid><mch_id>1900000109</mch_id>" +
		"<nonce_str><![CDATA[5K8264ILTKCH16CQ2502SI8ZNMTM67VS]]></nonce_str>" +
		"<out_refund_no>1217752501201407033233368018</out_refund_no>" +
		"<sign><![CDATA[E8F0FD1094C2F78DC21A5B8320863163]]></sign></xml>"
	if got := string(rec.Body); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

// Mistakes are caught before anything is sent.
func TestV2RefusedBeforeSending(t *testing.T) {
	srv, c := setupV2(t, true)
	_, noCert := setupV2(t, true, func(cfg *wxpay.Config) { cfg.TLSCertificate = nil })
	_, noSecret := setupV2(t, true, func(cfg *wxpay.Config) { cfg.APIv2Secret = "" })
	plainSrv, plain := setupV2(t, false)
	good := func() wxpay.Opts { return refundXML("R-refused", 1) }
	with := func(k string, v any) wxpay.Opts {
		x := good()
		if v == nil {
			delete(x, k)
		} else {
			x[k] = v
		}
		return x
	}
	for _, tc := range []struct {
		name   string
		c      *wxpay.Client
		method string
		path   string
		opts   wxpay.Opts
		want   error
		msg    string
	}{
		{"secapi without security", c, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good()}, wxpay.ErrInvalidOption, `"security": true`},
		{"security false", c, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good(), "security": false}, wxpay.ErrInvalidOption, "security"},
		{"no certificate", noCert, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good(), "security": true}, wxpay.ErrInvalidConfig, "TLSCertificate"},
		{"security over http", plain, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good(), "security": true}, wxpay.ErrInvalidConfig, "https"},
		{"no APIv2 key", noSecret, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": good()}, wxpay.ErrNoAPIv2Secret, "APIv2Secret"},
		{"other mch_id", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("mch_id", "1900000110")}, wxpay.ErrInvalidOption, "1900000110"},
		{"other mchid", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("mchid", "1900000110")}, wxpay.ErrInvalidOption, "mchid"},
		{"no mch_id", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("mch_id", nil)}, wxpay.ErrInvalidOption, "no mch_id"},
		{"nested value", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("detail", wxpay.Opts{"a": 1})}, wxpay.ErrInvalidOption, `"detail"`},
		{"slice value", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("ids", []string{"a"})}, wxpay.ErrInvalidOption, `"ids"`},
		{"bad key", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("a b", "x")}, wxpay.ErrInvalidOption, "XML name"},
		{"control character", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("attach", "\x00")}, wxpay.ErrInvalidOption, "attach"},
		{"sign_type", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": with("sign_type", "SHA1")}, wxpay.ErrInvalidOption, "sign_type"},
		{"xml missing", c, "POST", "v2/pay/refundquery", wxpay.Opts{}, wxpay.ErrInvalidOption, "xml option"},
		{"xml a string", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": "<xml/>"}, wxpay.ErrInvalidOption, "xml is string"},
		{"json given", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": good(), "json": "{}"}, wxpay.ErrInvalidOption, "not an APIv2 option"},
		{"typo", c, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good(), "securty": true}, wxpay.ErrInvalidOption, `did you mean "security"`},
		{"security not bool", c, "POST", "v2/secapi/pay/refund", wxpay.Opts{"xml": good(), "security": "true"}, wxpay.ErrInvalidOption, "want a bool"},
		{"nonceless not bool", c, "POST", "v2/pay/refundquery", wxpay.Opts{"xml": good(), "nonceless": 1}, wxpay.ErrInvalidOption, "want a bool"},
		{"GET", c, "GET", "v2/pay/refundquery", wxpay.Opts{"xml": good()}, wxpay.ErrInvalidOption, "POST"},
		{"no endpoint", c, "POST", "v2", wxpay.Opts{"xml": good()}, wxpay.ErrInvalidPath, "no APIv2 endpoint"},
		{"xml on a v3 path", c, "POST", "v3/refund/domestic/refunds", wxpay.Opts{"xml": good()}, wxpay.ErrInvalidOption, "APIv2 option"},
		{"security on a v3 path", c, "POST", "v3/refund/domestic/refunds", wxpay.Opts{"json": "{}", "security": true}, wxpay.ErrInvalidOption, "APIv2 option"},
	} {
		before := srv.RequestCount() + plainSrv.RequestCount()
		_, err := tc.c.Chain(tc.path).Do(context.Background(), tc.method, tc.opts)
		if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.msg) {
			t.Errorf("%s: error %v; want %v mentioning %q", tc.name, err, tc.want, tc.msg)
		}
		if strings.Contains(fmt.Sprint(err), v2Secret) {
			t.Errorf("%s: the error holds the APIv2 key", tc.name)
		}
		if n := srv.RequestCount() + plainSrv.RequestCount() - before; n != 0 {
			t.Errorf("%s: %d requests sent", tc.name, n)
		}
	}
}

// Answers that report a failure map to *V2Error.
func TestV2Errors(t *testing.T) {
	srv, c := setupV2(t, true)
	ch := c.Chain("v2/secapi/pay/refund")
	if _, err := ch.Post(wxpay.Opts{"xml": refundXML("R-err-1", 60), "security": true}); err != nil {
		t.Fatal(err)
	}

	// result_code FAIL: signed, so Verified.
	x := refundXML("R-err-2", 41)
	x["out_trade_no"] = "TR-err-1" // the order of R-err-1, 40 fen left
	_, err := ch.Post(wxpay.Opts{"xml": x, "security": true})
	var v2Err *wxpay.V2Error
	if !errors.As(err, &v2Err) {
		t.Fatalf("over-refund: error %v, want a *V2Error", err)
	}
	if v2Err.ReturnCode != "SUCCESS" || v2Err.ResultCode != "FAIL" || v2Err.ErrCode != "INVALID_REQUEST" || !v2Err.Verified || v2Err.Retryable() {
		t.Errorf("over-refund: %+v", v2Err)
	}
	if v2Err.Path != "/secapi/pay/refund" || v2Err.Fields["err_code"] != "INVALID_REQUEST" || len(v2Err.Body) == 0 {
		t.Errorf("over-refund: path %q, fields %v", v2Err.Path, v2Err.Fields)
	}
	if !strings.Contains(err.Error(), "result_code FAIL INVALID_REQUEST") {
		t.Errorf("message %q", err)
	}

	// return_code FAIL: unsigned. A request without nonce_str is one.
	_, err = c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{"mch_id": wxpaytest.DefaultMchID, "out_refund_no": "R-err-1"}, "nonceless": true})
	if !errors.As(err, &v2Err) || v2Err.ReturnCode != "FAIL" || v2Err.Verified || !strings.Contains(v2Err.ReturnMsg, "nonce_str") {
		t.Fatalf("nonceless: error %v (%+v), want an unverified return_code FAIL about nonce_str", err, v2Err)
	}
	if !strings.Contains(err.Error(), "[unsigned]") {
		t.Errorf("message %q does not say it is unsigned", err)
	}
	// nonceless with a nonce given keeps it.
	if _, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{"mch_id": wxpaytest.DefaultMchID, "out_refund_no": "R-err-1", "nonce_str": "mine"}, "nonceless": true}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := srv.LastRequest(); !strings.Contains(string(rec.Body), "<nonce_str><![CDATA[mine]]></nonce_str>") {
		t.Errorf("nonce_str not kept: %s", rec.Body)
	}

	// SYSTEMERROR is retryable, and retried with a RetryPolicy, with the
	// same bytes.
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, PathPrefix: "/secapi/"})
	_, err = ch.Post(wxpay.Opts{"xml": refundXML("R-err-3", 10), "security": true})
	if !errors.As(err, &v2Err) || v2Err.ErrCode != "SYSTEMERROR" || !v2Err.Retryable() {
		t.Fatalf("SYSTEMERROR: %v", err)
	}
}

func TestV2Retry(t *testing.T) {
	srv, c := setupV2(t, true, func(cfg *wxpay.Config) {
		cfg.Retry = &wxpay.RetryPolicy{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, PathPrefix: "/secapi/"})
	resp, err := c.Chain("v2/secapi/pay/refund").Post(wxpay.Opts{"xml": refundXML("R-retry", 10), "security": true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 || resp.XML()["out_refund_no"] != "R-retry" {
		t.Errorf("attempts %d, answer %v", resp.Attempts, resp.XML())
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Errorf("%d requests; the retry must resend the same bytes", len(reqs))
	}
}

// Answers whose sign is wrong or missing are refused.
func TestV2BadSignRefused(t *testing.T) {
	srv, c := setupV2(t, false)
	q := wxpay.Opts{"xml": wxpay.Opts{"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo}}
	for _, kind := range []wxpaytest.FaultKind{wxpaytest.FaultCorruptSignature, wxpaytest.FaultUnsigned} {
		srv.Inject(wxpaytest.Fault{Kind: kind})
		resp, err := c.Chain("v2/pay/refundquery").Post(q)
		var verr *wxpay.VerifyError
		if resp != nil || !errors.Is(err, wxpay.ErrBadSignature) || !errors.As(err, &verr) || verr.Path != "/pay/refundquery" {
			t.Errorf("%v: %v, %v; want a *VerifyError with ErrBadSignature", kind, resp, err)
		}
	}
	// The wrong key on the client's side.
	_, other := setupV2(t, false, func(cfg *wxpay.Config) { cfg.APIv2Secret = strings.Repeat("k", 32) })
	_, err := other.Chain("v2/pay/refundquery").Post(q)
	var v2Err *wxpay.V2Error
	if !errors.As(err, &v2Err) || !strings.Contains(v2Err.ReturnMsg, "签名错误") {
		t.Errorf("wrong key: %v, want the emulator's return_code FAIL 签名错误", err)
	}
}

// fakeV2 is a loopback server answering every request with the body and
// status answer returns.
func fakeV2(t *testing.T, answer func(r *http.Request, req map[string]string) (int, string)) *wxpay.Client {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, _ := v2xml.Decode(b)
		status, body := answer(r, req)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(hs.Close)
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rsaenc.LoadPublicKey("testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := wxpay.New(wxpay.Config{
		MchID: wxpaytest.DefaultMchID, Serial: "S1", PrivateKey: mk,
		Certs: map[string]*rsa.PublicKey{platformSerial: pk}, BaseURL: hs.URL + "/",
		APIv2Secret: v2Secret, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func signedXML(t *testing.T, m map[string]string, signType string) string {
	t.Helper()
	s, err := v2xml.Sign(m, signType, v2Secret)
	if err != nil {
		t.Fatal(err)
	}
	m["sign"] = s
	b, err := v2xml.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestV2ResponseChecks(t *testing.T) {
	ok := func() map[string]string {
		return map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": wxpaytest.DefaultMchID, "nonce_str": "x"}
	}
	const bomb = `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><return_code>&b;</return_code></xml>`
	for _, tc := range []struct {
		name     string
		path     string
		signType string // of the request
		status   int
		body     func(t *testing.T) string
		check    func(resp *wxpay.Response, err error) bool
	}{
		{"md5 answer", "v2/pay/orderquery", "", 200, func(t *testing.T) string { return signedXML(t, ok(), "MD5") },
			func(r *wxpay.Response, err error) bool { return err == nil && r.Verified }},
		{"hmac answer to md5 request", "v2/pay/orderquery", "", 200, func(t *testing.T) string { return signedXML(t, ok(), "HMAC-SHA256") },
			func(r *wxpay.Response, err error) bool { return err == nil && r.Verified }},
		{"md5 answer to hmac request", "v2/pay/orderquery", "HMAC-SHA256", 200, func(t *testing.T) string { return signedXML(t, ok(), "MD5") },
			func(r *wxpay.Response, err error) bool { return errors.Is(err, wxpay.ErrBadSignature) }},
		{"tampered", "v2/pay/orderquery", "", 200, func(t *testing.T) string {
			return strings.Replace(signedXML(t, ok(), "MD5"), "<nonce_str><![CDATA[x]]>", "<nonce_str><![CDATA[y]]>", 1)
		}, func(r *wxpay.Response, err error) bool { return errors.Is(err, wxpay.ErrBadSignature) }},
		{"not XML", "v2/pay/orderquery", "", 200, func(*testing.T) string { return `{"code":"OK"}` },
			func(r *wxpay.Response, err error) bool { return errors.Is(err, wxpay.ErrMalformedV2Response) }},
		{"XML bomb", "v2/pay/orderquery", "", 200, func(*testing.T) string { return bomb },
			func(r *wxpay.Response, err error) bool {
				return errors.Is(err, wxpay.ErrMalformedV2Response) && strings.Contains(err.Error(), "declarations")
			}},
		{"external entity", "v2/pay/orderquery", "", 200, func(*testing.T) string {
			return `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code></xml>`
		}, func(r *wxpay.Response, err error) bool { return errors.Is(err, wxpay.ErrMalformedV2Response) }},
		{"no return_code", "v2/pay/orderquery", "", 200, func(*testing.T) string { return `<xml><a>1</a></xml>` },
			func(r *wxpay.Response, err error) bool { return errors.Is(err, wxpay.ErrMalformedV2Response) }},
		{"gateway error", "v2/pay/orderquery", "", 502, func(*testing.T) string { return `bad gateway` },
			func(r *wxpay.Response, err error) bool {
				var a *wxpay.APIError
				return errors.As(err, &a) && a.StatusCode == 502
			}},
		{"bill", "v2/pay/downloadbill", "", 200, func(*testing.T) string { return "交易时间,公众账号ID\n`2024-01-01,`wx1\n" },
			func(r *wxpay.Response, err error) bool {
				return err == nil && !r.Verified && strings.HasPrefix(r.String(), "交易时间") && r.XML() == nil
			}},
		{"bill refused", "v2/pay/downloadbill", "", 200, func(*testing.T) string {
			return `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg></xml>`
		}, func(r *wxpay.Response, err error) bool {
			var e *wxpay.V2Error
			return errors.As(err, &e) && e.ReturnMsg == "No Bill Exist" && !e.Verified
		}},
		{"sandbox key unsigned", "v2/sandboxnew/pay/getsignkey", "", 200, func(*testing.T) string {
			return `<xml><return_code>SUCCESS</return_code><sandbox_signkey>k</sandbox_signkey></xml>`
		}, func(r *wxpay.Response, err error) bool {
			return err == nil && !r.Verified && r.XML()["sandbox_signkey"] == "k"
		}},
		{"unsigned endpoint, result FAIL", "v2/sandboxnew/pay/getsignkey", "", 200, func(*testing.T) string {
			return `<xml><return_code>SUCCESS</return_code><result_code>FAIL</result_code><err_code>NO_AUTH</err_code></xml>`
		}, func(r *wxpay.Response, err error) bool {
			var e *wxpay.V2Error
			return errors.As(err, &e) && e.ErrCode == "NO_AUTH" && !e.Verified
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body(t)
			c := fakeV2(t, func(*http.Request, map[string]string) (int, string) { return tc.status, body })
			xml := wxpay.Opts{"mch_id": wxpaytest.DefaultMchID}
			if tc.signType != "" {
				xml["sign_type"] = tc.signType
			}
			opts := wxpay.Opts{"xml": xml}
			resp, err := c.Chain(tc.path).Post(opts)
			if !tc.check(resp, err) {
				t.Errorf("got %v, %v", resp, err)
			}
		})
	}
}

// The context bounds an APIv2 call; an option given twice is refused.
func TestV2Context(t *testing.T) {
	var calls atomic.Int32
	c := fakeV2(t, func(r *http.Request, _ map[string]string) (int, string) {
		calls.Add(1)
		<-r.Context().Done()
		return 200, ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Chain("v2/pay/orderquery").Do(ctx, "POST", wxpay.Opts{"xml": wxpay.Opts{"mch_id": wxpaytest.DefaultMchID}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.Chain("v2/pay/orderquery").Post(wxpay.Opts{"xml": wxpay.Opts{}}, wxpay.Opts{"xml": wxpay.Opts{}}); !errors.Is(err, wxpay.ErrInvalidOption) {
		t.Errorf("xml twice: %v", err)
	}
}

func TestV2Config(t *testing.T) {
	srv, _ := setupV2(t, true)
	base := srv.Config()
	otherCert := srv.ClientCertificate()
	otherCert.PrivateKey = mustKey(t, "testdata/platform_key.pem")
	for _, tc := range []struct {
		name   string
		adjust func(*wxpay.Config)
		msg    string
	}{
		{"short key", func(c *wxpay.Config) { c.APIv2Secret = "secret-123" }, "APIv2Secret is 10 bytes"},
		{"no certificate", func(c *wxpay.Config) { c.TLSCertificate = &tls.Certificate{PrivateKey: base.PrivateKey} }, "no certificate"},
		{"no key", func(c *wxpay.Config) {
			cert := srv.ClientCertificate()
			cert.PrivateKey = nil
			c.TLSCertificate = &cert
		}, "no PrivateKey"},
		{"garbage", func(c *wxpay.Config) {
			c.TLSCertificate = &tls.Certificate{Certificate: [][]byte{[]byte("x")}, PrivateKey: base.PrivateKey}
		}, "does not parse"},
		{"key mismatch", func(c *wxpay.Config) { c.TLSCertificate = &otherCert }, "not the key of the certificate"},
	} {
		cfg := base
		tc.adjust(&cfg)
		_, err := wxpay.New(cfg)
		if !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(fmt.Sprint(err), tc.msg) {
			t.Errorf("%s: %v, want ErrInvalidConfig mentioning %q", tc.name, err, tc.msg)
		}
		if strings.Contains(fmt.Sprint(err), "secret-123") {
			t.Errorf("%s: the error holds the key", tc.name)
		}
	}
}

func mustKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsaenc.LoadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The documented acknowledgement, byte for byte.
const v2OK = `<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`

func TestV2Notifications(t *testing.T) {
	_, c := setupV2(t, false)
	_, noSecret := setupV2(t, false, func(cfg *wxpay.Config) { cfg.APIv2Secret = "" })
	info := map[string]string{"out_refund_no": "R-n-1", "refund_status": "SUCCESS", "settlement_refund_fee": "60"}
	reqInfo, err := v2xml.EncryptReqInfo(info, v2Secret)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := v2xml.EncryptReqInfo(info, strings.Repeat("k", 32))
	refund := func(ri string) string {
		b, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "appid": "wx1", "mch_id": wxpaytest.DefaultMchID, "nonce_str": "n", "req_info": ri})
		return string(b)
	}
	payment := func(signType string) map[string]string {
		m := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": wxpaytest.DefaultMchID, "nonce_str": "n", "out_trade_no": "T1", "total_fee": "1"}
		if signType != "" {
			m["sign_type"] = signType
		}
		return m
	}
	otherMch := payment("")
	otherMch["mch_id"] = "1900000110"
	for _, tc := range []struct {
		name string
		c    *wxpay.Client
		body string
		want error
	}{
		{"refund", c, refund(reqInfo), nil},
		{"payment md5", c, signedXML(t, payment(""), "MD5"), nil},
		{"payment hmac", c, signedXML(t, payment("HMAC-SHA256"), "HMAC-SHA256"), nil},
		{"payment tampered", c, strings.Replace(signedXML(t, payment(""), "MD5"), "<total_fee>1<", "<total_fee>100<", 1), wxpay.ErrBadSignature},
		{"payment unsigned", c, func() string { b, _ := v2xml.Encode(payment("")); return string(b) }(), wxpay.ErrBadSignature},
		{"hmac named, md5 given", c, func() string {
			m := payment("HMAC-SHA256")
			s := signedXML(t, m, "MD5")
			return s
		}(), wxpay.ErrBadSignature},
		{"refund, wrong sign", c, strings.Replace(refund(reqInfo), "</xml>", "<sign>0123456789ABCDEF0123456789ABCDEF</sign></xml>", 1), wxpay.ErrBadSignature},
		{"refund, wrong key", c, refund(wrongKey), wxpay.ErrDecryptFailed},
		{"refund, not base64", c, refund("!!"), wxpay.ErrDecryptFailed},
		{"other merchant", c, signedXML(t, otherMch, "MD5"), wxpay.ErrMalformedNotification},
		{"return_code FAIL", c, `<xml><return_code>FAIL</return_code></xml>`, wxpay.ErrMalformedNotification},
		{"bomb", c, billionLaughsV2, wxpay.ErrMalformedNotification},
		{"no key", noSecret, refund(reqInfo), wxpay.ErrNoAPIv2Secret},
	} {
		n, err := tc.c.ParseV2Notification([]byte(tc.body))
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) || n != nil {
			t.Errorf("%s: %v, %v; want %v", tc.name, n, err, tc.want)
		}
	}
	n, err := c.ParseV2Notification([]byte(refund(reqInfo)))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(info, n.ReqInfo); d != "" || n.Signed || n.Fields != nil || n.Unverified["appid"] != "wx1" {
		t.Errorf("refund notification: signed %v, Fields %v, Unverified %v, ReqInfo (-want +got):\n%s", n.Signed, n.Fields, n.Unverified, d)
	}
	// A body with both a sign and a req_info: the sign covers every element.
	signedRefund := map[string]string{"return_code": "SUCCESS", "appid": "wx1", "mch_id": wxpaytest.DefaultMchID, "nonce_str": "n", "req_info": reqInfo}
	n, err = c.ParseV2Notification([]byte(signedXML(t, signedRefund, "MD5")))
	if err != nil || !n.Signed || n.Fields["appid"] != "wx1" || n.Unverified != nil || cmp.Diff(info, n.ReqInfo) != "" {
		t.Errorf("signed refund notification: %+v, %v", n, err)
	}
	n, err = c.ParseV2Notification([]byte(signedXML(t, payment(""), "MD5")))
	if err != nil || !n.Signed || n.ReqInfo != nil || n.Unverified != nil || n.Fields["out_trade_no"] != "T1" {
		t.Errorf("payment notification: %+v, %v", n, err)
	}
}

// A refund notification carries no sign; only its req_info is protected
// (encrypted with the APIv2 key). Payment-shaped elements put around a
// req_info replayed from an earlier refund notification must never reach a
// handler as notification data, even one that forgets to check Signed.
func TestV2NotificationUnsignedOuterFieldsNotTrusted(t *testing.T) {
	_, c := setupV2(t, false)
	info := map[string]string{"out_refund_no": "R-replayed", "out_trade_no": "T-old", "refund_status": "SUCCESS", "total_fee": "1", "refund_fee": "1"}
	reqInfo, err := v2xml.EncryptReqInfo(info, v2Secret)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := v2xml.Encode(map[string]string{
		"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx1", "mch_id": wxpaytest.DefaultMchID,
		"nonce_str": "n", "out_trade_no": "T-forged", "transaction_id": "4200000000000000000000000001",
		"total_fee": "100000", "cash_fee": "100000", "trade_type": "JSAPI", "req_info": reqInfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.ParseV2Notification(forged)
	if err == nil {
		for _, k := range []string{"result_code", "out_trade_no", "total_fee", "transaction_id"} {
			if v, ok := n.Fields[k]; ok {
				t.Errorf("ParseV2Notification: unsigned outer %s=%q handed back in Fields", k, v)
			}
		}
		if d := cmp.Diff(info, n.ReqInfo); d != "" {
			t.Errorf("ReqInfo (-want +got):\n%s", d)
		}
		if n.Signed || n.Unverified["total_fee"] != "100000" {
			t.Errorf("Signed %v, Unverified %v: want the outer elements in Unverified", n.Signed, n.Unverified)
		}
	}

	// A careless payment handler, served over loopback: it never checks
	// Signed, yet it must not see a paid order.
	var paid atomic.Value
	h := c.V2NotificationHandler(func(_ context.Context, n *wxpay.V2Notification) error {
		if n.Fields["result_code"] == "SUCCESS" && n.Fields["out_trade_no"] != "" {
			paid.Store(n.Fields["out_trade_no"] + " " + n.Fields["total_fee"])
		}
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/xml", strings.NewReader(string(forged)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := paid.Load(); p != nil {
		t.Errorf("V2NotificationHandler (status %d): the handler saw a paid order %q from an unsigned body", resp.StatusCode, p)
	}
}

const billionLaughsV2 = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><return_code>&lol3;</return_code></xml>`

func TestV2NotificationHandler(t *testing.T) {
	_, c := setupV2(t, false)
	reqInfo, _ := v2xml.EncryptReqInfo(map[string]string{"out_refund_no": "R-h-1"}, v2Secret)
	good, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "mch_id": wxpaytest.DefaultMchID, "req_info": reqInfo})
	var seen atomic.Value
	fail := errors.New("database down")
	h := c.V2NotificationHandler(func(ctx context.Context, n *wxpay.V2Notification) error {
		switch n.ReqInfo["out_refund_no"] {
		case "R-h-1":
			seen.Store(n.ReqInfo["out_refund_no"])
			return nil
		case "R-h-fail":
			return fail
		}
		panic("boom")
	})
	failing, _ := v2xml.EncryptReqInfo(map[string]string{"out_refund_no": "R-h-fail"}, v2Secret)
	failBody, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "req_info": failing})
	panicking, _ := v2xml.EncryptReqInfo(map[string]string{"out_refund_no": "R-h-panic"}, v2Secret)
	panicBody, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "req_info": panicking})
	unsigned, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "out_trade_no": "T1"})
	for _, tc := range []struct {
		name, method, body string
		status             int
	}{
		{"ok", "POST", string(good), 200},
		{"GET", "GET", "", 405},
		{"unsigned", "POST", string(unsigned), 401},
		{"not XML", "POST", "{}", 400},
		{"bomb", "POST", billionLaughsV2, 400},
		{"fn fails", "POST", string(failBody), 500},
		{"fn panics", "POST", string(panicBody), 500},
		{"too large", "POST", strings.Repeat("x", wxpay.MaxNotificationSize+1), 413},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, "/notify", strings.NewReader(tc.body)))
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.status)
		}
		m, err := v2xml.Decode(rec.Body.Bytes())
		if err != nil {
			t.Errorf("%s: answer %q: %v", tc.name, rec.Body, err)
			continue
		}
		wantCode := "FAIL"
		if tc.status == 200 {
			wantCode = "SUCCESS"
			if rec.Body.String() != v2OK {
				t.Errorf("%s: answer %s, want %s", tc.name, rec.Body, v2OK)
			}
		}
		if m["return_code"] != wantCode || strings.Contains(m["return_msg"], "database") {
			t.Errorf("%s: answer %v", tc.name, m)
		}
	}
	if seen.Load() != "R-h-1" {
		t.Error("fn did not see the refund")
	}
	if got := string(wxpay.V2Answer("SUCCESS", "OK")); got != v2OK {
		t.Errorf("V2Answer = %s", got)
	}
}

func FuzzV2Notification(f *testing.F) {
	f.Add([]byte(v2OK))
	f.Add([]byte(billionLaughsV2))
	f.Add([]byte(`<xml><return_code>SUCCESS</return_code><req_info>AAAAAAAAAAAAAAAAAAAAAA==</req_info></xml>`))
	f.Add([]byte(`<xml><return_code>SUCCESS</return_code><sign>00</sign></xml>`))
	_, c := setupV2(f, false)
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := c.ParseV2Notification(body)
		if err != nil {
			if n != nil {
				t.Fatal("a notification with an error")
			}
			return
		}
		if !n.Signed && n.ReqInfo == nil {
			t.Fatalf("accepted %q with neither a sign nor a req_info", body)
		}
		if !n.Signed && n.Fields != nil {
			t.Fatalf("unsigned %q: elements handed back in Fields", body)
		}
	})
}

// Config.OnNotificationError hears every refusal of V2NotificationHandler,
// with its reason, as it does from the APIv3 handlers, and nothing when the
// notification is accepted.
func TestV2OnNotificationError(t *testing.T) {
	var got []error
	var mu sync.Mutex
	_, c := setupV2(t, false, func(cfg *wxpay.Config) {
		cfg.OnNotificationError = func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }
	})
	fail := errors.New("database down")
	h := c.V2NotificationHandler(func(ctx context.Context, n *wxpay.V2Notification) error {
		switch n.ReqInfo["out_refund_no"] {
		case "R-e-fail":
			return fail
		case "R-e-panic":
			panic("boom")
		}
		return nil
	})
	refund := func(outRefundNo string) string {
		ri, err := v2xml.EncryptReqInfo(map[string]string{"out_refund_no": outRefundNo}, v2Secret)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "mch_id": wxpaytest.DefaultMchID, "req_info": ri})
		return string(b)
	}
	unsigned, _ := v2xml.Encode(map[string]string{"return_code": "SUCCESS", "out_trade_no": "T1"})
	for _, tc := range []struct {
		name, method, body string
		status             int
		want               error // nil: accepted, nothing reported
		wantText           string
	}{
		{"ok", "POST", refund("R-e-ok"), 200, nil, ""},
		{"GET", "GET", "", 405, wxpay.ErrMalformedNotification, "GET"},
		{"unsigned", "POST", string(unsigned), 401, wxpay.ErrBadSignature, ""},
		{"not XML", "POST", "{}", 400, wxpay.ErrMalformedNotification, ""},
		{"too large", "POST", strings.Repeat("x", wxpay.MaxNotificationSize+1), 413, wxpay.ErrMalformedNotification, ""},
		{"fn fails", "POST", refund("R-e-fail"), 500, fail, "R-e-fail"},
		{"fn panics", "POST", refund("R-e-panic"), 500, nil, "boom"},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, "/notify", strings.NewReader(tc.body)))
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.status)
		}
		mu.Lock()
		switch {
		case tc.status == 200 && len(got) != 0:
			t.Errorf("%s: accepted, yet OnNotificationError got %v", tc.name, got)
		case tc.status != 200 && len(got) != 1:
			t.Errorf("%s: refused with %d, OnNotificationError got %v; want one error", tc.name, tc.status, got)
		case len(got) == 1 && tc.want != nil && !errors.Is(got[0], tc.want):
			t.Errorf("%s: OnNotificationError got %v, want %v", tc.name, got[0], tc.want)
		case len(got) == 1 && !strings.Contains(got[0].Error(), tc.wantText):
			t.Errorf("%s: OnNotificationError got %q, want it to say %q", tc.name, got[0], tc.wantText)
		}
		for _, e := range got {
			if strings.Contains(e.Error(), v2Secret) {
				t.Errorf("%s: error holds the APIv2 key: %v", tc.name, e)
			}
		}
		mu.Unlock()
	}

	// A client without the APIv2 key refuses every notification, and says
	// why.
	_, nokey := setupV2(t, false, func(cfg *wxpay.Config) {
		cfg.APIv2Secret = ""
		cfg.OnNotificationError = func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }
	})
	got = nil
	rec := httptest.NewRecorder()
	nokey.V2NotificationHandler(func(context.Context, *wxpay.V2Notification) error { return nil }).
		ServeHTTP(rec, httptest.NewRequest("POST", "/notify", strings.NewReader(refund("R-e-nokey"))))
	if rec.Code != 500 || len(got) != 1 || !errors.Is(got[0], wxpay.ErrNoAPIv2Secret) {
		t.Errorf("no APIv2 key: status %d, OnNotificationError got %v; want 500 and ErrNoAPIv2Secret", rec.Code, got)
	}
}
