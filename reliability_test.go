package wxpay_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

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
