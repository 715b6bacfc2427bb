package wxpaytest

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
)

// These tests run on the real clock: the client paces and backs off in
// real time. Their bounds are generous; they count answers, never time them.

// clientBurst makes n refund calls at once with a wxpay client made from
// cfg, out_refund_no prefix+i, and returns the calls' errors and attempts.
func clientBurst(t *testing.T, s *Server, cfg wxpay.Config, prefix string, n int) (errs []error, attempts int) {
	t.Helper()
	client, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		body := refundBody(fmt.Sprint(prefix, i), func(m map[string]any) {
			m["transaction_id"] = fmt.Sprintf("42%026d", trades.Add(1))
		})
		wg.Go(func() {
			resp, err := client.Chain("v3/refund/domestic/refunds").Do(t.Context(), http.MethodPost, wxpay.Opts{"json": body})
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
			if resp != nil {
				attempts += resp.Attempts
			}
		})
	}
	wg.Wait()
	return errs, attempts
}

// answered counts the statuses answered to the POSTs to refundsPath.
func answered(s *Server) map[int]int {
	m := map[int]int{}
	for _, q := range s.Requests() {
		if q.Method == http.MethodPost && q.RequestURI == refundsPath {
			m[q.Status]++
		}
	}
	return m
}

func TestRateLimitClientPacing(t *testing.T) {
	s := newServer(t)
	if err := s.SetRateLimit(&RateLimit{Ops: map[string]int{"POST v3/refund/domestic/refunds": 10}}); err != nil {
		t.Fatal(err)
	}
	// 21 calls: unpaced, more than two seconds' worth. At 6 a second, no
	// second of the server's clock sees more than 7 of them, 10 even if the
	// network bunched some.
	const n = 21
	cfg := s.Config()
	cfg.RateLimit, cfg.RateBurst = 6, 1
	errs, _ := clientBurst(t, s, cfg, "PACED-", n)
	for _, err := range errs {
		if err != nil {
			t.Errorf("paced call: %v", err)
		}
	}
	if diff := cmp.Diff(map[int]int{200: n}, answered(s)); diff != "" {
		t.Errorf("paced: statuses (-want +got)\n%s", diff)
	}
}

func TestRateLimitClientRetry(t *testing.T) {
	s := newServer(t)
	if err := s.SetRateLimit(&RateLimit{Ops: map[string]int{"POST v3/refund/domestic/refunds": 10}}); err != nil {
		t.Fatal(err)
	}
	before := len(s.Refunds())
	const n = 25
	cfg := s.Config()
	cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 30, MinWait: 50 * time.Millisecond, MaxWait: 400 * time.Millisecond}
	errs, attempts := clientBurst(t, s, cfg, "RETRIED-", n)
	for _, err := range errs {
		if err != nil {
			t.Errorf("call with retries: %v", err)
		}
	}
	got := answered(s)
	// 25 calls at once against 10 a second: some were limited (at most
	// 20 fit in the two seconds the first attempts could span).
	if got[http.StatusTooManyRequests] == 0 {
		t.Errorf("no 429 in a burst of %d against 10 a second: %v", n, got)
	}
	if got[http.StatusOK] != n || got[http.StatusOK]+got[http.StatusTooManyRequests] != attempts {
		t.Errorf("answers %v for %d attempts; want %d 200s and the rest 429", got, attempts, n)
	}
	if made := len(s.Refunds()) - before; made != n {
		t.Errorf("%d refunds made, want %d", made, n)
	}
	for i := range n {
		if _, ok := s.RefundByOutRefundNo(fmt.Sprint("RETRIED-", i)); !ok {
			t.Errorf("refund RETRIED-%d not made", i)
		}
	}
}

// Without a retry policy, the 429 reaches the caller as a retryable
// *wxpay.APIError.
func TestRateLimitClientError(t *testing.T) {
	s := newServer(t, withClock(newStepClock()))
	if err := s.SetRateLimit(&RateLimit{Ops: map[string]int{"POST v3/refund/domestic/refunds": 1}}); err != nil {
		t.Fatal(err)
	}
	errs, _ := clientBurst(t, s, s.Config(), "LIMITED-", 3)
	limited := 0
	for _, err := range errs {
		var apiErr *wxpay.APIError
		if errors.As(err, &apiErr) {
			if apiErr.StatusCode != 429 || apiErr.Code != CodeFrequencyLimited || !apiErr.Verified || !apiErr.Retryable() {
				t.Errorf("error %v: status %d, code %s, verified %v, retryable %v", err, apiErr.StatusCode, apiErr.Code, apiErr.Verified, apiErr.Retryable())
			}
			limited++
		} else if err != nil {
			t.Errorf("error %v, want a *wxpay.APIError", err)
		}
	}
	if limited != 2 {
		t.Errorf("%d calls limited, want 2", limited)
	}
}
