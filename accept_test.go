package wxpay_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// sentAccept lists the requests srv received as "METHOD path Accept",
// without the query (a download token changes from call to call).
func sentAccept(srv *wxpaytest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		path, _, _ := strings.Cut(r.RequestURI, "?")
		out = append(out, r.Method+" "+path+" "+strings.Join(r.Header.Values("Accept"), " | "))
	}
	return out
}

// Each kind of call sends the Accept header its endpoint asks for: JSON for
// the API calls (bill applications and uploads included), */* for the files
// of the unsigned download endpoints, whether fetched by Download or by a
// plain Get, and the caller's own value when headers sets one.
func TestAcceptHeader(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	billURL := func(t *testing.T) string {
		t.Helper()
		resp, err := c.Chain("v3/bill/tradebill").Get(billQuery())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Get("download_url").String()
	}
	tests := []struct {
		name string
		call func(t *testing.T) error
		want []string
	}{
		{"JSON call", func(*testing.T) error {
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-accept-1")})
			return err
		}, []string{"POST /v3/refund/domestic/refunds application/json"}},
		{"upload", func(*testing.T) error {
			_, err := c.Chain("v3/merchant/media/upload").Post(wxpay.Opts{
				"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader([]byte("\x89PNG\r\n\x1a\n"))},
			})
			return err
		}, []string{"POST /v3/merchant/media/upload application/json"}},
		{"Download", func(*testing.T) error {
			_, err := c.Chain("v3/bill/tradebill").Download(ctx, billQuery(), &bytes.Buffer{})
			return err
		}, []string{"GET /v3/bill/tradebill application/json", "GET /v3/billdownload/file */*"}},
		{"bill file by Get", func(t *testing.T) error {
			resp, err := c.Chain(billURL(t)).Get()
			if err == nil && (resp.Verified || len(resp.Body) == 0) {
				t.Errorf("bill file: Verified = %v, %d bytes; want the unsigned file", resp.Verified, len(resp.Body))
			}
			return err
		}, []string{"GET /v3/bill/tradebill application/json", "GET /v3/billdownload/file */*"}},
		{"media download", func(*testing.T) error {
			// The emulator does not serve media files: its 404 is enough
			// to see what was sent.
			_, err := c.Chain("v3/merchant-service/images/{media_id}").Get(wxpay.Opts{"media_id": "ChsyMDAwMDAwMjAy"})
			return notFound(err)
		}, []string{"GET /v3/merchant-service/images/ChsyMDAwMDAwMjAy */*"}},
		{"caller's Accept", func(*testing.T) error {
			_, err := c.Chain("v3/merchant-service/images/{media_id}").Get(wxpay.Opts{
				"media_id": "ChsyMDAwMDAwMjAy",
				"headers":  wxpay.Opts{"Accept": "image/jpeg"},
			})
			return notFound(err)
		}, []string{"GET /v3/merchant-service/images/ChsyMDAwMDAwMjAy image/jpeg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			if err := tt.call(t); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sentAccept(srv)); diff != "" {
				t.Errorf("requests sent (-want +got):\n%s", diff)
			}
		})
	}
}

// notFound returns nil for the emulator's 404 and err otherwise.
func notFound(err error) error {
	var apiErr *wxpay.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == 404 {
		return nil
	}
	if err == nil {
		return errors.New("answered, want the emulator's 404")
	}
	return err
}

// APIv2 calls ask for XML, plain text or a gzip bill.
func TestAcceptHeaderV2(t *testing.T) {
	srv, c := setupV2(t, false)
	_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
		"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /pay/refundquery text/xml, text/plain, application/x-gzip"}
	if diff := cmp.Diff(want, sentAccept(srv)); diff != "" {
		t.Errorf("requests sent (-want +got):\n%s", diff)
	}
}
