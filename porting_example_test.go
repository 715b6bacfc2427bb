package wxpay_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// wechatpay-php's chain() takes one string, so
// $instance->chain('v3/refund/domestic/refunds') is ported as
// Chain("v3/refund/domestic/refunds"). Chain taking several arguments is a
// Go shorthand for chaining them one by one; it is not the port of
// $instance->chain('v3', 'refund', 'domestic', 'refunds'), which PHP reads
// as chain('v3').
func ExampleClient_Chain_oneString() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := srv.Client()

	fmt.Println(client.Chain("v3/refund/domestic/refunds"))
	fmt.Println(client.Chain("v3", "refund", "domestic", "refunds"))
	fmt.Println(client.Chain("v3").Chain("refund").Chain("domestic").Chain("refunds"))
	// Output:
	// v3/refund/domestic/refunds
	// v3/refund/domestic/refunds
	// v3/refund/domestic/refunds
}

// Four spellings of one placeholder, and where each comes from.
func ExampleNormalizeSegment_placeholders() {
	for _, s := range []string{
		"{out_refund_no}", // the templates of wechatpay-php and the Node SDK
		"_out_refund_no_", // wechatpay-php's ->_out_refund_no_
		"$out_refund_no$", // the Node SDK's .$out_refund_no$
		"<out_refund_no>", // this library's own
	} {
		n, _ := wxpay.NormalizeSegment(s)
		fmt.Println(s, "→", n)
	}
	// Output:
	// {out_refund_no} → {out_refund_no}
	// _out_refund_no_ → {out_refund_no}
	// $out_refund_no$ → {out_refund_no}
	// <out_refund_no> → {out_refund_no}
}

// A JSON call sends Accept: application/json; the file of a download
// endpoint (here the bill that Download fetches) is asked for with */*.
func Example_acceptHeader() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := srv.Client()

	_, err := client.Chain("v3/bill/tradebill").Download(context.Background(), wxpay.Opts{
		"query": wxpay.Opts{"bill_date": srv.LatestBillDate()},
	}, io.Discard)
	if err != nil {
		fmt.Println(err)
	}
	for _, r := range srv.Requests() {
		path, _, _ := strings.Cut(r.RequestURI, "?")
		fmt.Println(r.Method, path, "Accept:", r.Header.Get("Accept"))
	}
	// Output:
	// GET /v3/bill/tradebill Accept: application/json
	// GET /v3/billdownload/file Accept: */*
}

// What a Then callback returns is what Wait returns: an error fails the
// Future (and reaches an Otherwise after it). To get something other than a
// *Response out, set a variable the callback captures.
func ExampleFuture_Then() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := srv.Client()

	var status string
	resp, err := client.Chain("v3/refund/domestic/refunds").PostAsync(wxpay.Opts{
		"json": wxpay.Opts{
			"out_trade_no":  "T20261123003",
			"out_refund_no": "R20261123003",
			"amount":        wxpay.Opts{"refund": 50, "total": 50, "currency": "CNY"},
		},
	}).Then(func(r *wxpay.Response) (*wxpay.Response, error) {
		status = r.Get("status").String()
		if status != "SUCCESS" {
			return nil, fmt.Errorf("refund %s is %s", r.Get("out_refund_no"), status)
		}
		return r, nil
	}).Otherwise(func(err error) (*wxpay.Response, error) {
		fmt.Println("otherwise:", err)
		return nil, err
	}).Wait()
	fmt.Println(resp == nil, status)
	fmt.Println("wait:", err)
	// Output:
	// otherwise: refund R20261123003 is PROCESSING
	// true PROCESSING
	// wait: refund R20261123003 is PROCESSING
}

// wechatpay-php's typings spell a trailing slash as the segment _empty_:
// $instance->v3->applyment4sub->applyment->_empty_ is the path of the
// applyment API (特约商户进件), which ends with '/'.
func ExampleClient_Chain_emptySegment() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := srv.Client()

	fmt.Println(client.Chain("V3", "Applyment4sub", "Applyment", "_empty_"))
	fmt.Println(client.Chain("v3/applyment4sub/applyment/_empty_"))
	fmt.Println(client.Chain("v3/applyment4sub/applyment/"))
	// Output:
	// v3/applyment4sub/applyment/
	// v3/applyment4sub/applyment/
	// v3/applyment4sub/applyment/
}
