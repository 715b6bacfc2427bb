package wxpaytest

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// setupClient starts a server and returns it with a wxpay.Client for it.
func setupClient(t *testing.T) (*Server, *wxpay.Client) {
	t.Helper()
	s := newServer(t)
	client, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	return s, client
}

func TestOperationEchoesRequest(t *testing.T) {
	_, client := setupClient(t)
	resp, err := client.Chain("v3/profitsharing/orders").Post(wxpay.Opts{"json": map[string]any{
		"sub_mchid": "1900000999", "appid": "wx8888888888888888",
		"transaction_id": "4200000000000000000000000001", "out_order_no": "P-echo-1",
		"unfreeze_unsplit": true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range []string{"sub_mchid", "transaction_id", "out_order_no", "order_id", "state"} {
		got[k] = resp.Get(k).String()
	}
	want := map[string]string{
		"sub_mchid": "1900000999", "transaction_id": "4200000000000000000000000001", "out_order_no": "P-echo-1",
		// Not in the request: the description's examples.
		"order_id": "3008450740201411110007820472", "state": "FINISHED",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got)\n%s", diff)
	}

	// A path value names the resource: it is echoed, as a query value is.
	resp, err = client.Chain("v3/pay/transactions/id/{transaction_id}").Get(wxpay.Opts{
		"transaction_id": "4200000000000000000000000002",
		"query":          map[string]string{"mchid": "1900000888"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id, mchid := resp.Get("transaction_id").String(), resp.Get("mchid").String(); id != "4200000000000000000000000002" || mchid != "1900000888" {
		t.Errorf("answer transaction_id %q mchid %q, want the request's", id, mchid)
	}
}

func TestOperationEncryptsSensitiveAnswer(t *testing.T) {
	_, client := setupClient(t)
	// name is sensitive in the request (for WeChat Pay's key) and in the
	// answer (for the merchant's).
	resp, err := client.Chain("v3/global/profit-sharing/receivers").Post(wxpay.Opts{
		"json":    map[string]any{"sub_mchid": "1900000109", "type": "MERCHANT_ID", "account": "86693852", "name": "深圳腾大"},
		"encrypt": "name",
	})
	if err != nil {
		t.Fatal(err)
	}
	ct := resp.Get("name").String()
	if ct == "深圳腾大" {
		t.Fatal("sensitive answer field in plain text")
	}
	pt, err := rsaenc.Decrypt(merchantKey, ct)
	if err != nil || pt != "深圳腾大" {
		t.Errorf("answer's name decrypts to %q, %v; want the name sent", pt, err)
	}
}

func TestOperationNoContent(t *testing.T) {
	s, _ := setupClient(t)
	c := newClient(t, s)
	r := c.post("/v3/global/transactions/id/4200000000000000000000000003/close", map[string]any{"mchid": "1230000109"})
	if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
		t.Errorf("answer %d, Content-Type %q, %d bytes; want 204, none, none", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if err := r.verify(s); err != nil {
		t.Errorf("204 answer not signed: %v", err)
	}
}

func TestOperationFiles(t *testing.T) {
	_, client := setupClient(t)
	tests := []struct {
		path  string
		opts  wxpay.Opts
		ctype string
		start string
	}{
		{"v3/transferdownload/signfile", wxpay.Opts{"query": map[string]string{"token": "X8Uk3sD4a4eZVPTBvqNDoUqcYMlZ9uuD"}}, "application/pdf", "%PDF-1."},
		{"v3/global/statements", wxpay.Opts{"query": map[string]string{"date": "20240601"}}, "text/plain; charset=utf-8", "date,"},
		{"v3/global/merchant-service/images/{media_id}", wxpay.Opts{"media_id": "unknown", "query": map[string]string{"complaint_id": "200000020220101000000000001"}}, "image/png", "\x89PNG"},
	}
	for _, tt := range tests {
		resp, err := client.Chain(tt.path).Get(tt.opts)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tt.ctype || !bytes.HasPrefix(resp.Body, []byte(tt.start)) {
			t.Errorf("%s: Content-Type %q, body %.20q; want %q, %q...", tt.path, ct, resp.Body, tt.ctype, tt.start)
		}
	}
	if pdf := placeholderPDF(); !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Errorf("PDF ends %q", pdf[len(pdf)-10:])
	}

	// An image uploaded comes back from the (hand-written) download; an
	// unknown one is not found.
	up, err := client.Chain("v3/merchant-service/images/upload").Post(wxpay.Opts{
		"file": wxpay.File{Name: "proof.png", Reader: bytes.NewReader(placeholderPNG())},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Chain("v3/merchant-service/images/{media_id}").Get(wxpay.Opts{"media_id": up.Get("media_id").String()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, placeholderPNG()) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("download of the uploaded image: %q, %d bytes", resp.Header.Get("Content-Type"), len(resp.Body))
	}
	_, err = client.Chain("v3/merchant-service/images/{media_id}").Get(wxpay.Opts{"media_id": "unknown"})
	var ae *wxpay.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Code != CodeResourceNotExists {
		t.Errorf("download of an unknown image: %v, want 404 %s", err, CodeResourceNotExists)
	}
}

func TestOperationFaults(t *testing.T) {
	s, client := setupClient(t)
	s.Inject(Fault{Kind: FaultError, PathPrefix: "/v3/pay/transactions/", Status: 500})
	_, err := client.Chain("v3/pay/transactions/id/{transaction_id}").Get(wxpay.Opts{
		"transaction_id": "4200000000000000000000000004", "query": map[string]string{"mchid": "1900000888"},
	})
	var ae *wxpay.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || ae.Code != CodeSystemError {
		t.Errorf("with FaultError: %v, want 500 %s", err, CodeSystemError)
	}
	s.Inject(Fault{Kind: FaultCorruptSignature, PathPrefix: "/v3/pay/transactions/"})
	_, err = client.Chain("v3/pay/transactions/id/{transaction_id}").Get(wxpay.Opts{
		"transaction_id": "4200000000000000000000000004", "query": map[string]string{"mchid": "1900000888"},
	})
	if !errors.Is(err, wxpay.ErrBadSignature) {
		t.Errorf("with FaultCorruptSignature: %v, want ErrBadSignature", err)
	}
}

func TestOperationHeaders(t *testing.T) {
	s, _ := setupClient(t)
	c := newClient(t, s)
	r := c.do(req{method: http.MethodGet, target: "/v3/pay/transactions/id/4200000000000000000000000005?mchid=1900000888"})
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("Request-ID") == "" {
		t.Errorf("answer %d, Content-Type %q, Request-ID %q", r.status, r.header.Get("Content-Type"), r.header.Get("Request-ID"))
	}
	if serial := r.header.Get(verifier.HeaderSerial); serial != DefaultPlatformSerial {
		t.Errorf("answer signed with %q", serial)
	}
}
