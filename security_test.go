package wxpay_test

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// A redirect is answered as an error; the Authorization header never
// follows it to the other host.
func TestRedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()

	mk, _ := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	pk, _ := rsaenc.LoadPublicKey("testdata/platform_pub.pem")
	c, err := wxpay.New(wxpay.Config{
		MchID: "1900000109", Serial: "S1", PrivateKey: mk,
		Certs:   map[string]*rsa.PublicKey{"PUB_KEY_ID_1": pk},
		BaseURL: redirector.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chain("v3/certificates").Get()
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusFound || apiErr.Verified {
		t.Errorf("err = %v; want an unverified 302 APIError", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// Faults of every kind leave no goroutine or connection behind, and every
// failure is a typed error.
func TestFaultsLeakNothing(t *testing.T) {
	srv, c := setup(t)
	query := wxpay.Opts{"out_refund_no": wxpaytest.FixtureOutRefundNo}
	ch := c.Chain("v3/refund/domestic/refunds/{out_refund_no}")
	// warm up the connection pool
	if _, err := ch.Get(query); err != nil {
		t.Fatal(err)
	}
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	faults := []wxpaytest.Fault{
		// on the kept-alive connection the previous call left, a GET
		// that meets a reset is resent once: reset both
		{Kind: wxpaytest.FaultReset, Times: 2},
		{Kind: wxpaytest.FaultResetAfterApply},
		{Kind: wxpaytest.FaultTruncateBody},
		{Kind: wxpaytest.FaultOversizeBody},
		{Kind: wxpaytest.FaultError, Status: 500},
		{Kind: wxpaytest.FaultError, Status: 503},
		{Kind: wxpaytest.FaultError, Status: 429},
		{Kind: wxpaytest.FaultCorruptSignature},
		{Kind: wxpaytest.FaultUnsigned},
	}
	for round := 0; round < 5; round++ {
		for _, f := range faults {
			srv.Inject(f)
			_, err := ch.Get(query)
			var apiErr *wxpay.APIError
			var netErr *wxpay.NetworkError
			var verr *wxpay.VerifyError
			if err == nil {
				t.Fatalf("%v: no error", f.Kind)
			}
			if !errors.As(err, &apiErr) && !errors.As(err, &netErr) && !errors.As(err, &verr) && !errors.Is(err, wxpay.ErrResponseTooLarge) {
				t.Errorf("%v: untyped error %T: %v", f.Kind, err, err)
			}
		}
	}
	if _, err := ch.Get(query); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (runtime.NumGoroutine() > g0+4 || openFDs(t) > fd0+4) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > g0+4 {
		t.Errorf("goroutines: %d before the faults, %d after", g0, g)
	}
	if fd := openFDs(t); fd > fd0+4 {
		t.Errorf("open files: %d before the faults, %d after", fd0, fd)
	}
}

// The Error of an *APIError from a broken or hostile server is one short
// line whatever the answer holds: a megabyte-long message, line breaks
// that would forge log lines, terminal escapes. The fields keep the answer
// as received.
func TestAPIErrorTextBounded(t *testing.T) {
	long := strings.Repeat("界", 100_000)
	msg := "refused\n2026-11-26 ERROR forged log line \x1b[2J" + long
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"code": "PARAM_ERROR\r\nX: y" + long, "message": msg})
	}))
	defer hostile.Close()
	mk, _ := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	pk, _ := rsaenc.LoadPublicKey("testdata/platform_pub.pem")
	c, err := wxpay.New(wxpay.Config{
		MchID: "1900000109", Serial: "S1", PrivateKey: mk,
		Certs:   map[string]*rsa.PublicKey{"PUB_KEY_ID_1": pk},
		BaseURL: hostile.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "1217752501201407033233368018"})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	text := err.Error()
	if n := utf8.RuneCountInString(text); n > 600 {
		t.Errorf("Error is %d characters long, want a short line", n)
	}
	if i := strings.IndexFunc(text, unicode.IsControl); i >= 0 {
		t.Errorf("Error holds the control character %q: %q", text[i], text[:min(len(text), 200)])
	}
	if !strings.Contains(text, "refused") || !strings.Contains(text, "PARAM_ERROR") {
		t.Errorf("Error %q lost the start of the code and message", text[:min(len(text), 200)])
	}
	if apiErr.Message != msg {
		t.Error("APIError.Message is not the message as received")
	}
}
