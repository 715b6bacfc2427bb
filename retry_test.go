package wxpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// retryClient returns a client of srv with a fast retry policy.
func retryClient(t *testing.T, srv *wxpaytest.Server, edit func(*wxpay.Config)) *wxpay.Client {
	t.Helper()
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countRefunds(srv *wxpaytest.Server, outRefundNo string) int {
	n := 0
	for _, r := range srv.Refunds() {
		if r.OutRefundNo == outRefundNo {
			n++
		}
	}
	return n
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	srv, _ := setup(t)
	c := retryClient(t, srv, nil)
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR", Times: -1})
	_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-give-up")})
	var re *wxpay.RetryError
	var apiErr *wxpay.APIError
	if !errors.As(err, &re) || re.Attempts != 3 || !errors.As(err, &apiErr) || apiErr.Code != "SYSTEM_ERROR" {
		t.Fatalf("err = %v; want a RetryError of 3 attempts over SYSTEM_ERROR", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests sent, want exactly 3", len(reqs))
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if !bytes.Equal(r.Body, reqs[0].Body) {
			t.Errorf("attempt bodies differ:\n%s\n%s", r.Body, reqs[0].Body)
		}
		if !r.Authenticated {
			t.Error("an attempt was not authenticated")
		}
		a := r.Header.Get("Authorization")
		if seen[a] {
			t.Error("two attempts share an Authorization: not re-signed")
		}
		seen[a] = true
	}
	if n := countRefunds(srv, "R-give-up"); n != 0 {
		t.Errorf("%d refunds made, want 0 (every attempt was refused)", n)
	}
}

func TestRetryAppliesOnce(t *testing.T) {
	for _, fault := range []wxpaytest.Fault{
		{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"},
		{Kind: wxpaytest.FaultError, Status: 503},
		{Kind: wxpaytest.FaultError, Status: 429},
		{Kind: wxpaytest.FaultReset},
		{Kind: wxpaytest.FaultResetAfterApply}, // applied, answer lost: the retry must not apply it again
	} {
		t.Run(fault.Kind.String()+"/"+fault.Code, func(t *testing.T) {
			srv, _ := setup(t)
			c := retryClient(t, srv, nil)
			srv.Inject(fault)
			resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-once")})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Attempts != 2 {
				t.Errorf("Attempts = %d, want 2", resp.Attempts)
			}
			if n := countRefunds(srv, "R-once"); n != 1 {
				t.Errorf("%d refunds with the same out_refund_no, want 1", n)
			}
			if n := srv.RequestCount(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

func TestNoRetryFor(t *testing.T) {
	for _, fault := range []wxpaytest.Fault{
		{Kind: wxpaytest.FaultError, Status: 400, Code: "PARAM_ERROR"},
		{Kind: wxpaytest.FaultError, Status: 400, Code: "INVALID_REQUEST"},
		{Kind: wxpaytest.FaultError, Status: 401, Code: "SIGN_ERROR"},
		{Kind: wxpaytest.FaultError, Status: 404, Code: "RESOURCE_NOT_EXISTS"},
		{Kind: wxpaytest.FaultCorruptSignature},
	} {
		srv, _ := setup(t)
		c := retryClient(t, srv, nil)
		srv.Inject(fault)
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-no-retry")})
		var re *wxpay.RetryError
		if err == nil || errors.As(err, &re) {
			t.Errorf("%v %s: err = %v; want a single failed attempt", fault.Kind, fault.Code, err)
		}
		if n := srv.RequestCount(); n != 1 {
			t.Errorf("%v %s: %d requests, want 1", fault.Kind, fault.Code, n)
		}
	}
}

func TestRetryBoundedByContext(t *testing.T) {
	srv, _ := setup(t)
	c := retryClient(t, srv, func(cfg *wxpay.Config) {
		cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 10, Backoff: func(min, max time.Duration, attempt int, err error) time.Duration {
			return 150 * time.Millisecond
		}}
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Times: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := c.Chain("v3/refund/domestic/refunds").Do(ctx, "POST", wxpay.Opts{"json": applyRefundJSON("R-ctx")})
	if err == nil {
		t.Fatal("no error")
	}
	if n := srv.RequestCount(); n < 2 || n > 3 {
		t.Errorf("%d attempts within a 400 ms deadline and 150 ms waits, want 2 or 3", n)
	}
	if ctx.Err() != nil {
		t.Errorf("the call returned after its deadline (it should stop when the next wait cannot fit)")
	}
}

func TestCheckRetryCanStop(t *testing.T) {
	srv, _ := setup(t)
	stop := errors.New("stop here")
	c := retryClient(t, srv, func(cfg *wxpay.Config) {
		cfg.Retry.CheckRetry = func(ctx context.Context, attempt int, err error) (bool, error) { return false, stop }
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500})
	_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-stop")})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the CheckRetry error", err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for range 20 {
			got := wxpay.DefaultBackoff(100*time.Millisecond, time.Second, attempt, errors.New("x"))
			if got < want/2 || got > want {
				t.Errorf("attempt %d: wait %v, want within [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
	e := &wxpay.APIError{StatusCode: 429, Header: map[string][]string{"Retry-After": {"2"}}}
	if got := wxpay.DefaultBackoff(100*time.Millisecond, 5*time.Second, 1, e); got != 2*time.Second {
		t.Errorf("Retry-After 2: wait %v, want 2s", got)
	}
}

// deadAddr returns a loopback URL nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

func TestFailoverToBackupAndBack(t *testing.T) {
	srv, _ := setup(t)
	c := retryClient(t, srv, func(cfg *wxpay.Config) {
		cfg.BackupURL = cfg.BaseURL
		cfg.BaseURL = deadAddr(t)
		cfg.FailoverFor = 300 * time.Millisecond
	})
	query := func() (*wxpay.Response, error) {
		return c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	}
	resp, err := query()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 {
		t.Errorf("first call: Attempts = %d, want 2 (primary refused, then backup)", resp.Attempts)
	}
	resp, err = query()
	if err != nil || resp.Attempts != 1 {
		t.Errorf("second call: %v, attempts %d; want straight to the backup", err, resp.Attempts)
	}
	time.Sleep(350 * time.Millisecond)
	resp, err = query()
	if err != nil || resp.Attempts != 2 {
		t.Errorf("after FailoverFor: %v, attempts %d; want the primary tried again first", err, resp.Attempts)
	}
	if n := srv.RequestCount(); n != 3 {
		t.Errorf("backup saw %d requests, want 3", n)
	}
}

func TestFailoverWithoutRetry(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BackupURL = cfg.BaseURL
	cfg.BaseURL = deadAddr(t)
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	var netErr *wxpay.NetworkError
	if !errors.As(err, &netErr) {
		t.Fatalf("err = %v, want a NetworkError", err)
	}
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Errorf("the next call did not go to the backup: %v", err)
	}
}

func TestFailoverConfig(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BackupURL = cfg.BaseURL + "prefix/"
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Errorf("backup with another path: %v", err)
	}
	cfg.BackupURL = cfg.BaseURL
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Errorf("backup equal to base: %v", err)
	}
}

func TestRateLimitSpacesRequests(t *testing.T) {
	srv, _ := setup(t)
	c := retryClient(t, srv, func(cfg *wxpay.Config) { cfg.RateLimit = 25; cfg.RateBurst = 1 })
	for range 6 {
		if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	for i := 1; i < len(reqs); i++ {
		// 25/s is one every 40 ms; allow for timer slack below that
		if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap < 30*time.Millisecond {
			t.Errorf("requests %d and %d only %v apart at 25/s", i-1, i, gap)
		}
	}
	c = retryClient(t, srv, func(cfg *wxpay.Config) { cfg.RateLimit = 0.5 })
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Fatal(err)
	}
	before := srv.RequestCount()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Do(ctx, "GET", wxpay.Opts{"out_refund_no": fixtureOutNo})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no slot before the deadline: err = %v", err)
	}
	if srv.RequestCount() != before {
		t.Error("a request was sent although the limiter had no slot")
	}
}

// slowSigner is a remote signer whose first signature takes longer than
// the call may.
type slowSigner struct {
	key   *rsa.PrivateKey
	delay time.Duration
	n     atomic.Int64
}

func (s *slowSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *slowSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.n.Add(1) == 1 {
		time.Sleep(s.delay)
	}
	return s.key.Sign(r, digest, opts)
}

// When the call's time runs out before its request is sent (a slow
// remote signer, a slow middleware), nothing is sent, the error says the
// deadline passed and is no *NetworkError (no answer was lost: none was
// asked for), and the primary, never reached, is not left for the backup.
func TestDeadlinePassedBeforeSending(t *testing.T) {
	slowMiddleware := func(next wxpay.Exchange) wxpay.Exchange {
		var n atomic.Int64
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			if n.Add(1) == 1 {
				time.Sleep(400 * time.Millisecond)
			}
			return next(ctx, req)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(*wxpay.Config)
	}{
		{"slow signer", func(cfg *wxpay.Config) {
			cfg.PrivateKey = &slowSigner{key: cfg.PrivateKey.(*rsa.PrivateKey), delay: 400 * time.Millisecond}
		}},
		{"slow middleware", func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{slowMiddleware} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary, _ := setup(t)
			backup, _ := setup(t)
			c := retryClient(t, primary, func(cfg *wxpay.Config) {
				cfg.BackupURL = backup.URL
				cfg.Timeout = 200 * time.Millisecond
				tc.edit(cfg)
			})
			query := func() error {
				_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
				return err
			}
			err := query()
			var netErr *wxpay.NetworkError
			if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) {
				t.Errorf("err = %v (%T), want context.DeadlineExceeded and no *NetworkError", err, err)
			}
			if n := primary.RequestCount() + backup.RequestCount(); n != 0 {
				t.Errorf("%d requests sent after the deadline, want 0", n)
			}
			if err := query(); err != nil {
				t.Fatal(err)
			}
			if p, b := primary.RequestCount(), backup.RequestCount(); p != 1 || b != 0 {
				t.Errorf("the next call reached the primary %d times and the backup %d times, want 1 and 0", p, b)
			}
		})
	}
}
