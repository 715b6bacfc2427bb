package wxpay_test

import (
	"errors"
	"fmt"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// An APIv2 refund (secapi/pay/refund, which needs the merchant's TLS client
// certificate) and its query, against the emulator started on TLS. In
// production the Config would hold the real APIv2 key and the merchant API
// certificate:
//
//	cert, err := tls.LoadX509KeyPair("apiclient_cert.pem", "apiclient_key.pem")
//	cfg.APIv2Secret, cfg.TLSCertificate = apiv2Key, &cert
func Example_apiv2Refund() {
	srv := wxpaytest.NewUnstartedServer()
	srv.StartTLS()
	defer srv.Close()
	client, err := wxpay.New(srv.Config())
	if err != nil {
		panic(err)
	}

	resp, err := client.Chain("v2/secapi/pay/refund").Post(wxpay.Opts{
		"xml": wxpay.Opts{
			"appid":         "wxd678efh567hg6787",
			"mch_id":        client.MchID(),
			"out_trade_no":  "1217752501201407033233368042",
			"out_refund_no": "1217752501201407033233368099",
			"total_fee":     888,
			"refund_fee":    100,
		},
		"security": true,
	})
	if err != nil {
		panic(err)
	}
	refund := resp.XML()
	fmt.Println(refund["result_code"], refund["out_refund_no"], refund["refund_fee"], resp.Verified)

	resp, err = client.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": map[string]string{
		"appid":         "wxd678efh567hg6787",
		"mch_id":        client.MchID(),
		"out_refund_no": "1217752501201407033233368099",
		"sign_type":     "HMAC-SHA256",
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.XML()["refund_status_0"])

	// A business failure is a *wxpay.V2Error.
	_, err = client.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": map[string]string{
		"mch_id":        client.MchID(),
		"out_refund_no": "no-such-refund",
	}})
	var v2Err *wxpay.V2Error
	if errors.As(err, &v2Err) {
		fmt.Println(v2Err.ResultCode, v2Err.ErrCode)
	}
	// Output:
	// SUCCESS 1217752501201407033233368099 100 true
	// PROCESSING
	// FAIL REFUNDNOTEXIST
}
