package wxpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/verifier"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// After a JSAPI or mini-program order, JSAPIPayParams signs the parameters
// the page passes to wx.requestPayment; encoding/json gives them the JS
// field names.
func ExampleClient_JSAPIPayParams() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	order, err := client.Chain("v3/pay/transactions/jsapi").Post(wxpay.Opts{"json": wxpay.Opts{
		"appid":        "wxd678efh567hg6787",
		"mchid":        client.MchID(),
		"description":  "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": "1217752501201407033233368018",
		"notify_url":   "https://www.weixin.qq.com/wxpay/pay.php",
		"amount":       wxpay.Opts{"total": 100, "currency": "CNY"},
		"payer":        wxpay.Opts{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	params, err := client.JSAPIPayParams("wxd678efh567hg6787", order.Get("prepay_id").String())
	if err != nil {
		log.Fatal(err)
	}
	page, _ := json.Marshal(params)
	var fields map[string]string
	_ = json.Unmarshal(page, &fields)
	fmt.Println(len(fields), fields["appId"], fields["signType"], strings.HasPrefix(fields["package"], "prepay_id="))

	// What WeChat Pay checks: the merchant's signature over four lines.
	msg := params.AppID + "\n" + params.TimeStamp + "\n" + params.NonceStr + "\n" + params.Package + "\n"
	fmt.Println(verifier.VerifySignature(&srv.MerchantKey.PublicKey, []byte(msg), params.PaySign))

	_, err = client.JSAPIPayParams("wxd678efh567hg6787", "prepay_id=wx2014...")
	fmt.Println(err != nil) // the prepay_id alone, not the package
	// Output:
	// 6 wxd678efh567hg6787 RSA true
	// <nil>
	// true
}

// The debug option writes a transcript of one call; the request's
// signature is elided, never shown.
func ExampleOpts_debug() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	var transcript bytes.Buffer // "debug": true writes to Config.Debug, or os.Stderr
	_, err = client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "1217752501201407033233368018",
		"debug":         &transcript,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(transcript.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "wxpay debug:"):
			fmt.Println(strings.SplitN(line, " after ", 2)[0]) // the exchange's duration cut
		case strings.HasPrefix(line, "GET "):
			fmt.Println("GET", line[strings.Index(line, "/v3/"):]) // the emulator's address cut
		case strings.HasPrefix(line, "Authorization:"):
			fmt.Println(strings.Contains(line, `signature="[elided]"`))
		}
	}
	// Output:
	// wxpay debug: call 1, attempt 1: request
	// GET /v3/refund/domestic/refunds/1217752501201407033233368018
	// true
	// wxpay debug: call 1, attempt 1: response
}

// A middleware sees every attempt, after signing: here it adds an unsigned
// trace header and counts the answers by status.
func ExampleMiddleware() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	cfg := srv.Config()
	cfg.Retry = &wxpay.RetryPolicy{}
	statuses := map[string]int{}
	cfg.Middleware = []wxpay.Middleware{func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			if err := req.AddHeader("X-Trace-Id", "trace-42"); err != nil {
				return nil, err
			}
			resp, err := next(ctx, req)
			var apiErr *wxpay.APIError
			switch {
			case resp != nil:
				statuses[fmt.Sprint(resp.StatusCode())]++
			case errors.As(err, &apiErr):
				statuses[fmt.Sprint(apiErr.StatusCode)]++
			}
			return resp, err
		}
	}}
	client, err := wxpay.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"})
	_, err = client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "1217752501201407033233368018",
	})
	r, _ := srv.LastRequest()
	fmt.Println(err, statuses, r.Header.Get("X-Trace-Id"))
	// Output: <nil> map[200:1 500:1] trace-42
}

// Config.Headers are sent with every request, under a call's own headers.
func ExampleConfig_headers() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	cfg := srv.Config()
	cfg.Headers = http.Header{"Accept-Language": {"zh-CN"}, "X-Shop": {"s1"}}
	client, err := wxpay.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "1217752501201407033233368018",
		"headers":       wxpay.Opts{"accept-language": "en", "X-Tag": []string{"a", "b"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	r, _ := srv.LastRequest()
	fmt.Println(r.Header["Accept-Language"], r.Header["X-Shop"], r.Header["X-Tag"])
	// Output: [en] [s1] [a b]
}

// A *VerifyError carries the answer that failed verification, marked
// untrusted: log it as data, act on none of it.
func ExampleVerifyError() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature})
	_, err = client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "1217752501201407033233368018",
	})
	var verifyErr *wxpay.VerifyError
	if errors.As(err, &verifyErr) {
		fmt.Println(errors.Is(err, wxpay.ErrBadSignature), verifyErr.StatusCode,
			bytes.Contains(verifyErr.UntrustedBody, []byte("1217752501201407033233368018")),
			verifyErr.UntrustedHeader.Get("Request-Id") != "")
	}
	// Output: true 200 true true
}
