package wxpay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http/httptest"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// Keys of 3072 and 4096 bits work end to end, in every place a signature
// is made or checked: the merchant's request signature (checked by the
// emulator), WeChat Pay's answer signature, a notification's signature and
// a field encrypted for WeChat Pay.
func TestLargerKeysEndToEnd(t *testing.T) {
	k3072, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	k4096, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name               string
		merchant, platform *rsa.PrivateKey
	}{
		{"4096-bit platform key", k3072, k4096},
		{"4096-bit merchant key", k4096, k3072},
	} {
		srv := wxpaytest.NewUnstartedServer()
		srv.MerchantKey = tc.merchant
		srv.Platform = []wxpaytest.PlatformKey{{Serial: platformSerial, Key: tc.platform}}
		srv.NotifyAttempts = 1
		srv.Start()
		defer srv.Close()
		c, err := wxpay.New(srv.Config())
		if err != nil {
			t.Fatalf("%s: New: %v", tc.name, err)
		}

		resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
		if err != nil || !resp.Verified {
			t.Errorf("%s: query: %v", tc.name, err)
		}
		if r, _ := srv.LastRequest(); !r.Authenticated {
			t.Errorf("%s: the emulator did not accept the merchant's signature", tc.name)
		}

		if _, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
			"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"bank_account", "real_name"},
		}); err != nil {
			t.Errorf("%s: abnormal refund with encrypted fields: %v", tc.name, err)
		}

		got := newReceived()
		hs := httptest.NewServer(c.NotificationHandler(got.fn))
		defer hs.Close()
		d, err := srv.Notify(hs.URL, "TRANSACTION.SUCCESS", wxpay.Opts{"out_trade_no": "T-big-key"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err = d.Wait(ctx)
		cancel()
		if err != nil {
			t.Errorf("%s: notification refused: %v (statuses %v)", tc.name, err, d.Statuses())
			continue
		}
		if n := got.next(t); n.Resource.Get("out_trade_no").String() != "T-big-key" {
			t.Errorf("%s: notification resource %s", tc.name, n.Resource.Raw)
		}
	}
}
