package wxpay_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// idleClosingProxy starts a reverse proxy to upstream that closes every
// keep-alive connection left idle for idle, as a load balancer or a server
// with a short keep-alive timeout does. It returns the proxy's base URL, a
// count of the connections it accepted, and, with useTLS, the pool that
// trusts its certificate.
func idleClosingProxy(t *testing.T, upstream string, useTLS bool, idle time.Duration) (string, *atomic.Int64, *x509.CertPool) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	ts := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u))
	ts.Config.IdleTimeout = idle
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	var pool *x509.CertPool
	if useTLS {
		ts.StartTLS()
		pool = x509.NewCertPool()
		pool.AddCert(ts.Certificate())
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts.URL + "/", &conns, pool
}

// A server (or a proxy in front of it) that closes idle keep-alive
// connections sooner than the client must not make calls fail, nor move
// them to the backup: a request that finds its pooled connection closed is
// sent again, signed afresh, on another connection, and WeChat Pay sees it
// once.
func TestStaleKeepAliveConnections(t *testing.T) {
	const idle, gap = 50 * time.Millisecond, 200 * time.Millisecond
	for _, tc := range []struct {
		name   string
		useTLS bool
		retry  *wxpay.RetryPolicy
	}{
		{"http/no-retry-policy", false, nil},
		{"https/retry-policy", true, &wxpay.RetryPolicy{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := setupV2(t, false)
			backup := wxpaytest.NewServer()
			t.Cleanup(backup.Close)
			base, conns, pool := idleClosingProxy(t, srv.URL, tc.useTLS, idle)
			cfg := srv.Config()
			cfg.Timeout = 5 * time.Second
			cfg.BaseURL = base
			cfg.BackupURL = backup.URL
			cfg.Retry = tc.retry
			if pool != nil {
				cfg.RootCAs = pool
			}
			c, err := wxpay.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			calls := []struct {
				name string
				do   func(i int) (*wxpay.Response, error)
			}{
				{"v3 POST refund", func(i int) (*wxpay.Response, error) {
					return c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON(fmt.Sprintf("R-stale-%d", i))})
				}},
				{"v3 GET query", func(int) (*wxpay.Response, error) {
					return c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
				}},
				{"v2 POST refundquery", func(int) (*wxpay.Response, error) {
					return c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
						"appid": "wxd678efh567hg6787", "mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
					}})
				}},
				{"DownloadCertificates", func(int) (*wxpay.Response, error) {
					_, err := c.DownloadCertificates(ctx)
					return nil, err
				}},
				{"DownloadCertificatesTOFU", func(int) (*wxpay.Response, error) {
					_, _, err := c.DownloadCertificatesTOFU(ctx)
					return nil, err
				}},
			}
			n := 0
			for round := range 2 {
				for _, call := range calls {
					time.Sleep(gap) // past the proxy's idle timeout: the pooled connection is closed
					resp, err := call.do(round)
					n++
					if err != nil {
						t.Errorf("round %d, %s: %v", round, call.name, err)
						continue
					}
					if resp != nil && resp.Attempts != 1 {
						t.Errorf("round %d, %s: Attempts = %d, want 1 (a resend on a fresh connection is not an attempt)", round, call.name, resp.Attempts)
					}
				}
			}
			// several connections in the pool, all closed by the proxy
			// during the pause: each call finds them closed
			const burst = 6
			srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 100 * time.Millisecond, Times: burst})
			errs := make(chan error, burst)
			for range burst {
				go func() { _, err := calls[1].do(0); errs <- err }()
			}
			for range burst {
				if err := <-errs; err != nil {
					t.Errorf("burst: %v", err)
				}
			}
			n += burst
			time.Sleep(gap)
			for i := range burst {
				go func() { _, err := calls[i%2].do(100 + i); errs <- err }()
			}
			for range burst {
				if err := <-errs; err != nil {
					t.Errorf("after the burst: %v", err)
				}
			}
			n += burst
			// one more, right away: the client must still be on the primary
			if _, err := calls[1].do(0); err != nil {
				t.Errorf("last call: %v", err)
			}
			n++
			if got := backup.RequestCount(); got != 0 {
				t.Errorf("the backup got %d requests, want 0 (no failover)", got)
			}
			if got := srv.RequestCount(); got != n {
				t.Errorf("the primary got %d requests for %d calls, want exactly one each", got, n)
			}
			if got, spaced := conns.Load(), int64(2*len(calls)); got < spaced {
				t.Errorf("the proxy accepted %d connections for %d spaced calls: it did not close idle ones, the test proves nothing", got, spaced)
			}
		})
	}
}

// The caller's own deadline ending a call on a slow but healthy primary is
// not a failure of the primary: no failover, and the error wraps
// context.DeadlineExceeded.
func TestCallerDeadlineDoesNotFailOver(t *testing.T) {
	srv, _ := setup(t)
	backup := wxpaytest.NewServer()
	t.Cleanup(backup.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.BackupURL = backup.URL
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Chain("v3/refund/domestic/refunds/{out_refund_no}")
	query := wxpay.Opts{"out_refund_no": fixtureOutNo}
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 300 * time.Millisecond, Times: -1})
	for i := range 30 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := ch.Do(ctx, http.MethodGet, query)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("call %d: err = %v, want one wrapping context.DeadlineExceeded", i, err)
		}
	}
	if got := backup.RequestCount(); got != 0 {
		t.Errorf("the backup got %d requests after 30 calls ended by their own deadline, want 0", got)
	}
	srv.ClearFaults()
	before := srv.RequestCount()
	if _, err := ch.Get(query); err != nil {
		t.Fatal(err)
	}
	if srv.RequestCount() != before+1 || backup.RequestCount() != 0 {
		t.Error("the next call did not go to the primary")
	}
}

// Config.Timeout bounds the whole call: every attempt and the waits between
// them.
func TestTimeoutBoundsWholeCall(t *testing.T) {
	const timeout = 400 * time.Millisecond
	t.Run("slow answers", func(t *testing.T) {
		srv, _ := setup(t)
		c := retryClient(t, srv, func(cfg *wxpay.Config) {
			cfg.Timeout = timeout
			cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: time.Millisecond}
			cfg.DisableFailover = true
		})
		srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 2 * time.Second, Times: -1})
		start := time.Now()
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
		took := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want one wrapping context.DeadlineExceeded", err)
		}
		// 4 attempts of 400 ms each took 1.6 s before the fix
		if took > timeout+500*time.Millisecond {
			t.Errorf("a call with Timeout %v took %v", timeout, took)
		}
	})
	t.Run("waits between attempts", func(t *testing.T) {
		srv, _ := setup(t)
		c := retryClient(t, srv, func(cfg *wxpay.Config) {
			cfg.Timeout = timeout
			cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 10, Backoff: func(min, max time.Duration, attempt int, err error) time.Duration {
				return 250 * time.Millisecond
			}}
		})
		srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Times: -1})
		start := time.Now()
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-timeout")})
		took := time.Since(start)
		var apiErr *wxpay.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "SYSTEM_ERROR" {
			t.Errorf("err = %v, want the last SYSTEM_ERROR", err)
		}
		// 10 attempts and 9 waits of 250 ms took 2.25 s before the fix;
		// within 400 ms only the first wait fits
		if n := srv.RequestCount(); n != 2 {
			t.Errorf("%d attempts within a Timeout of %v and 250 ms waits, want 2", n, timeout)
		}
		if took > timeout+300*time.Millisecond {
			t.Errorf("a call with Timeout %v took %v", timeout, took)
		}
	})
}

// signedErrorServer answers every request with 500 SYSTEM_ERROR. With sign
// it signs the answer with the test platform key, then, with corrupt, flips
// a bit of the signature; without sign it sends no Wechatpay-* header, as a
// gateway in front of WeChat Pay may.
func signedErrorServer(t *testing.T, sign, corrupt bool) (string, *atomic.Int64) {
	t.Helper()
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body := []byte(`{"code":"SYSTEM_ERROR","message":"系统错误"}`)
		if sign {
			stamp := strconv.FormatInt(time.Now().Unix(), 10)
			nonce := "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
			digest := sha256.Sum256(verifier.AppendMessage(nil, stamp, nonce, body))
			sig, err := rsa.SignPKCS1v15(nil, pk, crypto.SHA256, digest[:])
			if err != nil {
				panic(err)
			}
			if corrupt {
				sig[len(sig)/2] ^= 1
			}
			w.Header().Set(verifier.HeaderTimestamp, stamp)
			w.Header().Set(verifier.HeaderNonce, nonce)
			w.Header().Set(verifier.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
			w.Header().Set(verifier.HeaderSerial, platformSerial)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/", &hits
}

// DefaultCheckRetry never retries an error answer whose signature failed
// verification; an error answer that carries no signature at all is
// retried as its status says.
func TestRetryOfUnverifiedErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name          string
		sign, corrupt bool
		wantRequests  int64
		wantVerified  bool
		wantBadSigErr bool
	}{
		{"corrupt signature", true, true, 1, false, true},
		{"good signature", true, false, 3, true, false},
		{"no signature headers", false, false, 3, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := setup(t)
			base, hits := signedErrorServer(t, tc.sign, tc.corrupt)
			c := retryClient(t, srv, func(cfg *wxpay.Config) { cfg.BaseURL = base })
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-unverified")})
			var apiErr *wxpay.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != "SYSTEM_ERROR" {
				t.Fatalf("err = %v, want a SYSTEM_ERROR APIError", err)
			}
			if apiErr.Verified != tc.wantVerified {
				t.Errorf("Verified = %v, want %v", apiErr.Verified, tc.wantVerified)
			}
			if got := errors.Is(err, wxpay.ErrBadSignature); got != tc.wantBadSigErr {
				t.Errorf("errors.Is(err, ErrBadSignature) = %v, want %v", got, tc.wantBadSigErr)
			}
			if got := hits.Load(); got != tc.wantRequests {
				t.Errorf("sent %d times, want %d", got, tc.wantRequests)
			}
		})
	}
}

// A reset after the request went out on a kept-alive connection: the server
// may have read it. A GET, which changes nothing, is resent once; a POST is
// not resent (it may have been applied), but the failure starts no
// failover, since the server was reachable.
func TestResetOnKeptAliveConnection(t *testing.T) {
	srv, _ := setup(t)
	backup := wxpaytest.NewServer()
	t.Cleanup(backup.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.BackupURL = backup.URL
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	query := func() (*wxpay.Response, error) {
		return c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	}
	count := func(f func()) int {
		before := srv.RequestCount()
		f()
		return srv.RequestCount() - before
	}
	if _, err := query(); err != nil { // a kept-alive connection for the next call
		t.Fatal(err)
	}

	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultReset})
	if n := count(func() {
		if resp, err := query(); err != nil || resp.Attempts != 1 {
			t.Errorf("GET after one reset: %v; want it resent once and answered", err)
		}
	}); n != 2 {
		t.Errorf("GET after one reset: %d requests, want 2", n)
	}

	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultResetAfterApply})
	if n := count(func() {
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-kept-alive")})
		var netErr *wxpay.NetworkError
		if !errors.As(err, &netErr) {
			t.Errorf("POST reset after it was applied: err = %v, want a NetworkError", err)
		}
	}); n != 1 {
		t.Errorf("POST reset after it was applied: %d requests, want 1 (never resent silently)", n)
	}
	if n := countRefunds(srv, "R-kept-alive"); n != 1 {
		t.Errorf("%d refunds, want 1", n)
	}
	if _, err := query(); err != nil {
		t.Errorf("after the resets: %v", err)
	}
	if n := backup.RequestCount(); n != 0 {
		t.Errorf("the backup got %d requests, want 0: a reset kept-alive connection is no reason to fail over", n)
	}

	// the resend goes out on a fresh connection; reset there too, the GET
	// fails (and the primary hanging up on a fresh connection does start a
	// failover)
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultReset, Times: -1})
	if n := count(func() {
		var netErr *wxpay.NetworkError
		if _, err := query(); !errors.As(err, &netErr) {
			t.Errorf("GET with resets: err = %v, want a NetworkError", err)
		}
	}); n != 2 {
		t.Errorf("GET with resets: %d requests, want 2 (resent once only)", n)
	}
}
