package wxpay_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// token stands for the short-lived token of a download_url.
const token = "SECRET-TOKEN-4f2a"

// failingSigner is a merchant key (an HSM handle, say) that cannot sign.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("hsm unavailable")
}

// The token of a download_url never appears in an error, however the call
// fails and however the error is printed.
func TestDownloadTokenStaysOutOfErrors(t *testing.T) {
	srv, c := setup(t)
	withRetry := func(cfg wxpay.Config) *wxpay.Client {
		t.Helper()
		cfg.Timeout = 5 * time.Second
		cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond}
		rc, err := wxpay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	retrying := withRetry(srv.Config())

	// A loopback port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	cfg := srv.Config()
	cfg.BaseURL = closed
	refused := withRetry(cfg)

	cfg = srv.Config()
	cfg.PrivateKey = failingSigner{srv.MerchantKey}
	noSign, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	signed := srv.URL + "v3/certificates?offset=0&token=" + token // a signed answer
	download := srv.URL + "v3/billdownload/file?token=" + token   // an unsigned one
	badURL := srv.URL + "v3/billdownload/../file?token=" + token  // refused by Chain
	refusedURL := closed + "v3/billdownload/file?token=" + token  // nobody listening
	other := "https://evil.example.com/v3/billdownload/file?token=" + token

	for _, tc := range []struct {
		name  string
		fault *wxpaytest.Fault
		call  func() error
	}{
		{"connection refused", nil, func() error { _, err := refused.Chain(refusedURL).Get(); return err }},
		{"bad signature", &wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature}, func() error { _, err := c.Chain(signed).Get(); return err }},
		{"unsigned answer", &wxpaytest.Fault{Kind: wxpaytest.FaultUnsigned}, func() error { _, err := c.Chain(signed).Get(); return err }},
		{"error status, retried", &wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Times: 2}, func() error { _, err := retrying.Chain(download).Get(); return err }},
		{"reset, retried", &wxpaytest.Fault{Kind: wxpaytest.FaultReset, Times: 2}, func() error { _, err := retrying.Chain(download).Get(); return err }},
		{"truncated", &wxpaytest.Fault{Kind: wxpaytest.FaultTruncateBody}, func() error { _, err := c.Chain(signed).Get(); return err }},
		{"deadline", &wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 2 * time.Second}, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := c.Chain(signed).Do(ctx, "GET", nil)
			return err
		}},
		{"sign error", nil, func() error { _, err := noSign.Chain(download).Get(); return err }},
		{"unknown option", nil, func() error { _, err := c.Chain(download).Get(wxpay.Opts{"tokn": 1}); return err }},
		{"APIv2 option", nil, func() error { _, err := c.Chain(download).Get(wxpay.Opts{"xml": wxpay.Opts{}}); return err }},
		{"malformed URL", nil, func() error { _, err := c.Chain(badURL).Get(); return err }},
		{"other host", nil, func() error { _, err := c.Chain(other).Get(); return err }},
		{"not a bill description", nil, func() error { _, err := c.Chain(download).Download(context.Background(), nil, io.Discard); return err }},
		{"bill from a closed port", nil, func() error {
			return refused.DownloadBill(context.Background(), &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("0", 40), DownloadURL: refusedURL}, io.Discard)
		}},
		{"bill with a relative download_url", nil, func() error {
			return c.DownloadBill(context.Background(), &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("0", 40), DownloadURL: "v3/billdownload/file?token=" + token}, io.Discard)
		}},
		{"relative URL with a query as a chain", nil, func() error { _, err := c.Chain("v3/billdownload/file?token=" + token).Get(); return err }},
		{"bill answered 500", &wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500}, func() error {
			return c.DownloadBill(context.Background(), &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("0", 40), DownloadURL: download}, io.Discard)
		}},
	} {
		srv.ClearFaults()
		if tc.fault != nil {
			srv.Inject(*tc.fault)
		}
		err := tc.call()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, err); strings.Contains(s, token) {
				t.Errorf("%s: %s of the error shows the token: %s", tc.name, verb, s)
			}
		}
		// Every error in the chain, the typed ones printed field by field.
		for e := err; e != nil; e = errors.Unwrap(e) {
			if s := fmt.Sprintf("%#v %+v", e, e); strings.Contains(s, token) {
				t.Errorf("%s: %T in the chain shows the token: %s", tc.name, e, s)
			}
		}
		var ne *wxpay.NetworkError
		var ve *wxpay.VerifyError
		switch {
		case errors.As(err, &ne) && !strings.Contains(ne.Path, "token="):
			t.Errorf("%s: NetworkError.Path = %q, want the parameter names kept", tc.name, ne.Path)
		case errors.As(err, &ve) && !strings.Contains(ve.Path, "token="):
			t.Errorf("%s: VerifyError.Path = %q, want the parameter names kept", tc.name, ve.Path)
		}
	}
	// Printing the chain itself shows no token either.
	ch := c.Chain(download)
	if s := fmt.Sprintf("%v %s", ch, ch.String()); strings.Contains(s, token) || !strings.Contains(s, "billdownload/file?token=") {
		t.Errorf("chain prints as %s; want the path and parameter names without the token", s)
	}
	// The request itself still carries the token, signed.
	// (The emulator does not know this token and says so.)
	srv.ClearFaults()
	var apiErr *wxpay.APIError
	if _, err := c.Chain(download).Get(); !errors.As(err, &apiErr) || strings.Contains(err.Error(), token) {
		t.Fatalf("unknown token: err = %v, want an APIError without the token", err)
	}
	if r, _ := srv.LastRequest(); !r.Authenticated || !strings.HasSuffix(r.RequestURI, "token="+token) {
		t.Errorf("request %s (authenticated %v), want the token sent as given", r.RequestURI, r.Authenticated)
	}
}
