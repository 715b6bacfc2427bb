package wxpay_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay"
)

// A nil context, against Go's convention but easy to pass by mistake, is
// an error naming it at every entry point that takes one, never a panic,
// and nothing is sent (net/http's NewRequestWithContext refuses it too).
func TestNilContextRefused(t *testing.T) {
	srv, c := setup(t)
	var nilCtx context.Context // a nil interface, as a forgotten variable is
	query := c.Chain("v3/refund/domestic/refunds/{out_refund_no}")
	calls := map[string]func() error{
		"Do": func() error {
			_, err := query.Do(nilCtx, "GET", wxpay.Opts{"out_refund_no": fixtureOutNo})
			return err
		},
		"DoAsync": func() error {
			_, err := query.DoAsync(nilCtx, "GET", wxpay.Opts{"out_refund_no": fixtureOutNo}).Wait()
			return err
		},
		"Download": func() error {
			_, err := c.Chain("v3/bill/tradebill").Download(nilCtx, billQuery(), io.Discard)
			return err
		},
		"DownloadFile": func() error {
			_, err := c.Chain("v3/bill/tradebill").DownloadFile(nilCtx, billQuery(), filepath.Join(t.TempDir(), "bill.csv"))
			return err
		},
		"DownloadBill": func() error {
			return c.DownloadBill(nilCtx, &wxpay.Bill{HashType: "SHA1", HashValue: "0000000000000000000000000000000000000000", DownloadURL: srv.URL + "v3/billdownload/file?token=x"}, io.Discard)
		},
		"DownloadCertificates": func() error {
			_, err := c.DownloadCertificates(nilCtx)
			return err
		},
		"DownloadCertificatesTOFU": func() error {
			_, _, err := c.DownloadCertificatesTOFU(nilCtx)
			return err
		},
		"BootstrapCertificates": func() error {
			_, _, err := wxpay.BootstrapCertificates(nilCtx, srv.Config())
			return err
		},
		"Refresh": func() error {
			r := c.StartCertificateRefresher(0)
			defer r.Stop()
			_, err := r.Refresh(nilCtx)
			return err
		},
	}
	for name, call := range calls {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s(nil context) panicked: %v", name, p)
				}
			}()
			if err := call(); !errors.Is(err, wxpay.ErrInvalidOption) {
				t.Errorf("%s(nil context): err = %v, want ErrInvalidOption", name, err)
			}
		}()
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.RequestURI, "/v3/certificates") { // the refresher's own first refresh
			t.Errorf("sent %s %s", r.Method, r.RequestURI)
		}
	}
}
