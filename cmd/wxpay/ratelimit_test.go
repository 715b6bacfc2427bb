package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// TestEmulatorRateLimit: wxpay emulator --rate-limit answers 429
// FREQUENCY_LIMITED to a burst over an operation's limit.
func TestEmulatorRateLimit(t *testing.T) {
	config, out, _ := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", t.TempDir(),
		"--rate-limit", "--rate-limit=POST v3/refund/domestic/refunds=1", "--rate-limit=GET v3/certificates=none")
	for _, want := range []string{
		"Rate limit on: ",
		"\t1 a second for POST v3/refund/domestic/refunds\n",
		"\tnone for GET v3/certificates\n",
		"\t150 a second for every other operation\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("emulator output lacks %q:\n%s", want, out)
		}
	}
	cfg, err := wxpay.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	client, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Six at once against 1 a second: unless they spread over six
	// seconds, some are limited.
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok, limited := 0, 0
	for i := range 6 {
		wg.Go(func() {
			_, err := client.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": wxpay.Opts{
				"transaction_id": fmt.Sprintf("42%026d", i),
				"out_refund_no":  fmt.Sprint("R-LIMIT-", i),
				"amount":         wxpay.Opts{"refund": 1, "total": 1, "currency": "CNY"},
			}})
			mu.Lock()
			defer mu.Unlock()
			var apiErr *wxpay.APIError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests && apiErr.Code == wxpaytest.CodeFrequencyLimited && apiErr.Verified:
				limited++
			default:
				t.Errorf("refund %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok == 0 || limited == 0 || ok+limited != 6 {
		t.Errorf("%d refunds made, %d limited; want some of each", ok, limited)
	}
}

func TestEmulatorRateLimitErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate-limit=0"}, "want a positive number of requests a second"},
		{[]string{"--rate-limit=fast"}, "want a positive number"},
		{[]string{"--rate-limit=v3/refund/domestic/refunds=5"}, "want N, or METHOD PATH=N"},
		{[]string{"--rate-limit=POST v3/refund/domestic/refunds=-2"}, "want a positive number"},
		{[]string{"--rate-limit=POST v3/no/such=5"}, `--rate-limit: rate limit key "POST v3/no/such" names no operation`},
		{[]string{"--rate-limit", "20"}, "--rate-limit=VALUE"},
	} {
		args := append([]string{"emulator", "--addr", "127.0.0.1:0"}, tc.args...)
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, exitUsage, args...)
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Try: wxpay emulator -h") {
			t.Errorf("wxpay %s: stderr lacks %q:\n%s", strings.Join(args, " "), tc.want, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("wxpay %s started: %s", strings.Join(args, " "), r.stdout)
		}
	}
}

// TestEmulatorRateLimitOverridePrinted: a --rate-limit that overrides a
// documented figure (in any spelling of the template) replaces it in what
// the emulator prints, rather than being listed next to it.
func TestEmulatorRateLimitOverridePrinted(t *testing.T) {
	_, out, _ := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", t.TempDir(),
		"--rate-limit=POST v3/refund/domestic/refunds/_id_/apply-abnormal-refund=none",
		"--rate-limit=POST v3/refund/domestic/refunds=none")
	for _, gone := range []string{
		"150 a second for POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
		"6 erroneous requests a second for POST v3/refund/domestic/refunds",
	} {
		if strings.Contains(out.String(), gone) {
			t.Errorf("emulator output says %q, lifted by --rate-limit:\n%s", gone, out)
		}
	}
	for _, want := range []string{
		"\tnone for POST v3/refund/domestic/refunds/_id_/apply-abnormal-refund\n",
		"\tnone for POST v3/refund/domestic/refunds\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("emulator output lacks %q:\n%s", want, out)
		}
	}

	_, out, _ = startEmulator(t, "--addr", "127.0.0.1:0", "--dir", t.TempDir(),
		"--rate-limit=post v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund=3",
		"--rate-limit=POST v3/refund/domestic/refunds=10")
	if s := "150 a second for POST"; strings.Contains(out.String(), s) {
		t.Errorf("emulator output says %q, overridden by --rate-limit:\n%s", s, out)
	}
	// A limit of all requests leaves the documented one of erroneous ones.
	if s := "\t6 erroneous requests a second for POST v3/refund/domestic/refunds\n"; !strings.Contains(out.String(), s) {
		t.Errorf("emulator output lacks %q:\n%s", s, out)
	}
}
