package wxpay_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// The emulator stands in for api.mch.weixin.qq.com: with a real merchant,
// fill wxpay.Config with the merchant id, API certificate serial, private key
// and the WeChat Pay public key instead.
func Example() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := wxpay.New(srv.Config())
	if err != nil {
		log.Fatal(err)
	}

	resp, err := client.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{
		"json": wxpay.Opts{
			"out_trade_no":  "T20261123001",
			"out_refund_no": "R20261123001",
			"reason":        "商品已售完",
			"amount":        wxpay.Opts{"refund": 100, "total": 888, "currency": "CNY"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Verified, resp.Get("status"), resp.Get("amount.refund").Int())
	// Output: true PROCESSING 100
}

// Paths can be written as a template, segment by segment with
// wechatpay-php's spellings, or with several segments in one call (a Go
// shorthand for the second); all give the same template.
func ExampleClient_Chain() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	fmt.Println(client.Chain("v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"))
	fmt.Println(client.Chain("v3").Chain("ecommerce").Chain("refunds").Chain("_refund_id_").Chain("applyAbnormalRefund"))
	fmt.Println(client.Chain("v3", "ecommerce", "refunds", "_refund_id_", "applyAbnormalRefund"))
	// Output:
	// v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund
	// v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund
	// v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund
}

// The encrypt option RSA-encrypts the named fields with the WeChat Pay
// public key and sets the Wechatpay-Serial header to its id.
func ExampleChain_Post_encrypt() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	resp, err := client.Chain("v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": "50000000382019052709732678859",
		"json": wxpay.Opts{
			"sub_mchid":     "1900000109",
			"out_refund_no": "1217752501201407033233368018",
			"type":          "USER_BANK_CARD",
			"bank_type":     "ICBC_DEBIT",
			"bank_account":  "6222020200001234",
			"real_name":     "张三",
		},
		"encrypt": []string{"bank_account", "real_name"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Get("status"), resp.Get("channel"))
	// Output: PROCESSING OTHER_BANKCARD
}

// PostAsync mirrors wechatpay-php's postAsync()->then()->wait().
func ExampleChain_PostAsync() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	_, err := client.Chain("v3").Chain("refund").Chain("domestic").Chain("refunds").PostAsync(wxpay.Opts{
		"json": wxpay.Opts{
			"out_trade_no":  "T20261123002",
			"out_refund_no": "R20261123002",
			"amount":        wxpay.Opts{"refund": 50, "total": 50, "currency": "CNY"},
		},
	}).Then(func(r *wxpay.Response) (*wxpay.Response, error) {
		fmt.Println("refunded", r.Get("amount.refund").Int(), r.Get("amount.currency"))
		return r, nil
	}).Wait()
	if err != nil {
		log.Fatal(err)
	}
	// Output: refunded 50 CNY
}

// A non-2xx answer is an *APIError carrying WeChat Pay's code and message.
func ExampleAPIError() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	_, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": "NO-SUCH-REFUND",
	})
	var apiErr *wxpay.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Verified, apiErr.Retryable())
	}
	// Output: 404 RESOURCE_NOT_EXISTS true false
}

// Mistakes are caught before anything is sent.
func ExampleOpts() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	_, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_num": "R1",
	})
	fmt.Println(errors.Is(err, wxpay.ErrInvalidOption))
	fmt.Println(err)
	// Output:
	// true
	// wxpay: invalid option: unknown key "out_refund_num": not a placeholder of v3/refund/domestic/refunds/{out_refund_no} (placeholders: out_refund_no) nor an option (json, query, headers, body, encrypt, file, debug)
}

func ExampleNormalizeSegment() {
	for _, s := range []string{"applyAbnormalRefund", "WeChatPay", "complaintsV2", "_refund_id_", "$out_trade_no$", "<sub_mchid>", "video_upload"} {
		n, _ := wxpay.NormalizeSegment(s)
		fmt.Println(s, "→", n)
	}
	// Output:
	// applyAbnormalRefund → apply-abnormal-refund
	// WeChatPay → we-chat-pay
	// complaintsV2 → complaints-v2
	// _refund_id_ → {refund_id}
	// $out_trade_no$ → {out_trade_no}
	// <sub_mchid> → {sub_mchid}
	// video_upload → video_upload
}

// With the catalogue's Checker, every request is checked against its
// operation before it is signed: a mistake is an error naming every
// problem, and nothing is sent.
func ExampleConfig_checker() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	cfg := srv.Config()
	cfg.Checker = catalog.Checker()
	client, _ := wxpay.New(cfg)

	_, err := client.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{
		"json": wxpay.Opts{
			"transaction_id": "4200000000000000000000000001",
			"amount":         wxpay.Opts{"refund": 1.5, "total": 888, "currency": "CNY"},
		},
	})
	var ce *catalog.CheckError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Println(p)
		}
	}
	fmt.Println(errors.Is(err, wxpay.ErrInvalidOption), srv.RequestCount())
	// Output:
	// amount.refund: is a fraction, want an integer (amounts are in fen)
	// out_refund_no: required field is missing
	// true 0
}

// "encrypt": true encrypts every sensitive field (and query parameter) the
// catalogue marks; DecryptResponse decrypts those of the answer, which
// WeChat Pay encrypts with the merchant's key.
func ExampleClient_DecryptResponse() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	cfg := srv.Config()
	cfg.Checker = catalog.Checker()
	client, _ := wxpay.New(cfg)

	resp, err := client.Chain("v3/aggracct-bc/wb-channel/bank-channel-account/rename/{application_id}").Get(wxpay.Opts{
		"application_id": "11117742499090086455469010028373",
		"query":          wxpay.Opts{"mchid": "1900016681", "bal_account_no": "6214830000001234"},
		"encrypt":        true, // bal_account_no is sent encrypted
	})
	if err != nil {
		log.Fatal(err)
	}
	plain, err := client.DecryptResponse(resp) // every sensitive field of the answer
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(resp.Get("bal_account_no").String()) > 300, gjson.GetBytes(plain, "bal_account_no"))
	// Output: true 6214830000001234
}
