package wxpay_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// A *VerifyError carries what came back, marked untrusted, for the caller
// to log: the status, the headers and the body; its message shows none of
// them.
func TestVerifyErrorCarriesTheUntrustedAnswer(t *testing.T) {
	srv, c := setupWith(t, nil)
	calls := []struct {
		name string
		call func() error
		body string // a part of the body that came back
	}{
		{"APIv3", func() error {
			_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
			return err
		}, `"out_refund_no":"` + fixtureOutNo + `"`},
		{"APIv2", func() error {
			_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
				"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
			}})
			return err
		}, "<out_refund_no_0>" + fixtureOutNo + "</out_refund_no_0>"},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature})
			err := tt.call()
			var verr *wxpay.VerifyError
			if !errors.As(err, &verr) || !errors.Is(err, wxpay.ErrBadSignature) {
				t.Fatalf("err = %v, want a *VerifyError wrapping ErrBadSignature", err)
			}
			if verr.StatusCode != 200 || !bytes.Contains(verr.UntrustedBody, []byte(tt.body)) {
				t.Errorf("StatusCode %d, UntrustedBody %q; want 200 and the body that came back", verr.StatusCode, verr.UntrustedBody)
			}
			if verr.UntrustedHeader.Get("Content-Type") == "" || verr.UntrustedHeader.Get("Date") == "" {
				t.Errorf("UntrustedHeader = %v, want the headers that came back", verr.UntrustedHeader)
			}
			if strings.Contains(err.Error(), tt.body) || strings.Contains(err.Error(), string(verr.UntrustedBody)) {
				t.Errorf("Error() shows the untrusted body: %s", err)
			}
		})
	}
}

// An answer above Config.MaxResponseBodySize is not read: the cap bounds
// what a *VerifyError can hold as it bounds every answer.
func TestVerifyErrorBodyBounded(t *testing.T) {
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.MaxResponseBodySize = 4096 })
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultOversizeBody, Size: 8192})
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	if !errors.Is(err, wxpay.ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
}
