package wxpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// seen is what a recording middleware saw of one attempt.
type seen struct {
	attempt int
	method  string
	url     string
	header  http.Header
	body    []byte
	status  int
	err     error
}

// recorder returns a middleware that records every attempt it sees.
func recorder(mu *sync.Mutex, log *[]seen) wxpay.Middleware {
	return func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			s := seen{attempt: req.Attempt(), method: req.Method(), url: req.URL(), header: req.Header(), body: req.Body()}
			resp, err := next(ctx, req)
			s.err = err
			if resp != nil {
				s.status = resp.StatusCode()
			}
			mu.Lock()
			*log = append(*log, s)
			mu.Unlock()
			return resp, err
		}
	}
}

// A middleware sees every attempt of a retried call, numbered, as signed
// and sent, with the Authorization signature elided, and each answer or
// error.
func TestMiddlewareSeesEachAttempt(t *testing.T) {
	var mu sync.Mutex
	var log []seen
	srv, c := setupWith(t, func(cfg *wxpay.Config) {
		cfg.Middleware = []wxpay.Middleware{recorder(&mu, &log)}
		cfg.Retry = &wxpay.RetryPolicy{MinWait: 1, MaxWait: 1}
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"})
	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-mw-1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("the middleware saw %d attempts, want 2", len(log))
	}
	sent := srv.Requests()
	for i, s := range log {
		if s.attempt != i+1 {
			t.Errorf("attempt %d: Attempt() = %d", i+1, s.attempt)
		}
		if want := strings.TrimSuffix(srv.URL, "/") + sent[i].RequestURI; s.method != "POST" || s.url != want {
			t.Errorf("attempt %d: %s %s, want POST %s", i+1, s.method, s.url, want)
		}
		if !bytes.Equal(s.body, sent[i].Body) {
			t.Errorf("attempt %d: Body() = %s, want the body sent %s", i+1, s.body, sent[i].Body)
		}
		a, err := signer.ParseAuthorization(sent[i].Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(sent[i].Header.Get("Authorization"), a.Signature, "[elided]", 1)
		if got := s.header.Get("Authorization"); got != want {
			t.Errorf("attempt %d: Authorization seen %q, want %q", i+1, got, want)
		}
		if s.header.Get("Content-Type") != "application/json" || s.header.Get("Accept") != "application/json" {
			t.Errorf("attempt %d: headers seen %v", i+1, s.header)
		}
	}
	var apiErr *wxpay.APIError
	if !errors.As(log[0].err, &apiErr) || apiErr.Code != "SYSTEM_ERROR" {
		t.Errorf("attempt 1: the middleware saw err %v, want the 500 SYSTEM_ERROR", log[0].err)
	}
	if log[1].err != nil || log[1].status != resp.StatusCode {
		t.Errorf("attempt 2: the middleware saw status %d, err %v; the call got %d", log[1].status, log[1].err, resp.StatusCode)
	}
}

// A middleware may add unsigned headers, such as a trace id, which go out
// with a request that still verifies; it cannot add or replace the headers
// the call sets, and changing what it is shown changes nothing.
func TestMiddlewareAddHeader(t *testing.T) {
	var refused []string
	tracer := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			if err := req.AddHeader("X-Trace-Id", fmt.Sprintf("trace-%d", req.Attempt())); err != nil {
				return nil, err
			}
			for _, h := range []string{"Authorization", "content-type", "Wechatpay-Serial", "Accept", "User-Agent", "Host", "x-trace-id", "Bad Name"} {
				if err := req.AddHeader(h, "x"); !errors.Is(err, wxpay.ErrInvalidOption) {
					return nil, fmt.Errorf("AddHeader(%q) = %v, want ErrInvalidOption", h, err)
				}
				refused = append(refused, h)
			}
			// Copies: changing them changes nothing.
			req.Header().Set("X-Sneaky", "1")
			if b := req.Body(); len(b) > 0 {
				b[0] = '['
			}
			resp, err := next(ctx, req)
			if e := req.AddHeader("X-Late", "1"); !errors.Is(e, wxpay.ErrInvalidOption) {
				return nil, fmt.Errorf("AddHeader after next = %v, want ErrInvalidOption", e)
			}
			if resp != nil {
				resp.Header().Set("X-Sneaky", "1")
				resp.Body()[0] = '['
			}
			return resp, err
		}
	}
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{tracer} })
	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-mw-2")})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := srv.LastRequest()
	if !r.Authenticated || r.Header.Get("X-Trace-Id") != "trace-1" || r.Header.Get("X-Sneaky") != "" || r.Body[0] != '{' {
		t.Errorf("sent: authenticated %v, X-Trace-Id %q, X-Sneaky %q, body %.20s", r.Authenticated, r.Header.Get("X-Trace-Id"), r.Header.Get("X-Sneaky"), r.Body)
	}
	if resp.Header.Get("X-Sneaky") != "" || resp.Body[0] != '{' || !resp.Verified {
		t.Errorf("the caller got an answer a middleware changed: %v %.20s", resp.Header, resp.Body)
	}
	if len(refused) != 8 {
		t.Errorf("refused %v", refused)
	}
}

// The first middleware is the outermost.
func TestMiddlewareOrder(t *testing.T) {
	var order []string
	named := func(name string) wxpay.Middleware {
		return func(next wxpay.Exchange) wxpay.Exchange {
			return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
				order = append(order, name+" before")
				resp, err := next(ctx, req)
				order = append(order, name+" after")
				return resp, err
			}
		}
	}
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{named("a"), named("b")} })
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a before", "b before", "b after", "a after"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// A middleware ends an attempt with an error, before or after next; it
// cannot make a failed attempt succeed, answer without sending, nor send
// twice.
func TestMiddlewareCannotBreakTheCall(t *testing.T) {
	errStop := errors.New("stopped by policy")
	tests := []struct {
		name    string
		mw      wxpay.Middleware
		missing bool // query a refund the emulator does not hold: a 404
		sent    int
		check   func(error) bool
	}{
		{"error before next", func(next wxpay.Exchange) wxpay.Exchange {
			return func(context.Context, *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) { return nil, errStop }
		}, false, 0, func(err error) bool { return errors.Is(err, errStop) }},
		{"error after next", func(next wxpay.Exchange) wxpay.Exchange {
			return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
				next(ctx, req)
				return nil, errStop
			}
		}, false, 1, func(err error) bool { return errors.Is(err, errStop) }},
		{"neither next nor error", func(next wxpay.Exchange) wxpay.Exchange {
			return func(context.Context, *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) { return nil, nil }
		}, false, 0, func(err error) bool { return errors.Is(err, wxpay.ErrInvalidConfig) }},
		{"swallows the error", func(next wxpay.Exchange) wxpay.Exchange {
			return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
				next(ctx, req)
				return nil, nil
			}
		}, true, 1, func(err error) bool { return notFound(err) == nil && err != nil }},
		{"next twice", func(next wxpay.Exchange) wxpay.Exchange {
			return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
				next(ctx, req)
				return next(ctx, req)
			}
		}, false, 1, func(err error) bool { return errors.Is(err, wxpay.ErrInvalidConfig) }},
		{"a request of its own", func(next wxpay.Exchange) wxpay.Exchange {
			return func(ctx context.Context, _ *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
				return next(ctx, &wxpay.ExchangeRequest{})
			}
		}, false, 0, func(err error) bool { return errors.Is(err, wxpay.ErrInvalidConfig) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{tt.mw} })
			outNo := fixtureOutNo
			if tt.missing {
				outNo = "no-such-refund"
			}
			resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": outNo})
			if resp != nil || !tt.check(err) {
				t.Errorf("got %v, %v", resp, err)
			}
			if n := len(srv.Requests()); n != tt.sent {
				t.Errorf("%d requests sent, want %d", n, tt.sent)
			}
		})
	}
}

// New refuses a nil middleware, or one that returns no Exchange.
func TestMiddlewareRefused(t *testing.T) {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	for _, mw := range [][]wxpay.Middleware{
		{nil},
		{func(wxpay.Exchange) wxpay.Exchange { return nil }},
	} {
		cfg := srv.Config()
		cfg.Middleware = mw
		if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "Middleware[0]") {
			t.Errorf("err = %v, want ErrInvalidConfig naming Middleware[0]", err)
		}
	}
}

// The middleware wraps APIv2 calls, with the sign elided from what it
// sees, and the streamed downloads, with the token of the URL redacted and
// no body.
func TestMiddlewareV2AndDownload(t *testing.T) {
	var mu sync.Mutex
	var log []seen
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{recorder(&mu, &log)} })
	_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
		"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
	}})
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if _, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), &file); err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("the middleware saw %d exchanges, want 3 (APIv2, bill application, bill file)", len(log))
	}
	if v2 := string(log[0].body); !strings.Contains(v2, "<sign>[elided]</sign>") || log[0].url != strings.TrimSuffix(srv.URL, "/")+"/pay/refundquery" {
		t.Errorf("APIv2: saw %s %s", log[0].url, v2)
	}
	dl := log[2]
	if !strings.HasSuffix(dl.url, "/v3/billdownload/file?token=…") || dl.status != 200 || dl.err != nil || dl.header.Get("Accept") != "*/*" {
		t.Errorf("download: saw %s, status %d, err %v, headers %v", dl.url, dl.status, dl.err, dl.header)
	}
	if file.Len() == 0 {
		t.Error("the bill was not written")
	}
}

// A remote signer in Config.PrivateKey signs every attempt, and its
// requests verify.
func TestRemoteSigner(t *testing.T) {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	remote := &countingSigner{key: mk}
	srv, c := setupWith(t, func(cfg *wxpay.Config) {
		cfg.PrivateKey = remote
		cfg.Retry = &wxpay.RetryPolicy{MinWait: 1, MaxWait: 1}
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 503})
	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-remote-1")})
	if err != nil {
		t.Fatal(err)
	}
	if n := remote.n.Load(); n != 2 || resp.Attempts != 2 {
		t.Errorf("the remote signer signed %d times for %d attempts, want 2 and 2", n, resp.Attempts)
	}
	for _, r := range srv.Requests() {
		if !r.Authenticated {
			t.Errorf("%s %s: the signature did not verify", r.Method, r.RequestURI)
		}
	}
}

// A middleware that returns while the next it started runs on another
// goroutine fails the attempt instead of racing with it.
func TestMiddlewareAsyncNext(t *testing.T) {
	done := make(chan error, 1)
	async := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			go func() {
				_, err := next(ctx, req)
				done <- err
			}()
			return nil, nil
		}
	}
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{async} })
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	if !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Errorf("err = %v, want ErrInvalidConfig", err)
	}
	<-done // whatever it got, it must not race (go test -race)
}

// A middleware that returns while the next it started on another goroutine
// is still waiting for a download's answer does not leave that download's
// connection open: once the answer comes, the client closes it (before the
// fix the emulator kept writing the bill to a connection nobody read).
func TestMiddlewareAsyncNextDownload(t *testing.T) {
	var srv *wxpaytest.Server
	done := make(chan error, 1)
	async := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			if !strings.Contains(req.URL(), "/v3/billdownload/") {
				return next(ctx, req)
			}
			n := srv.RequestCount()
			go func() {
				_, err := next(ctx, req)
				done <- err
			}()
			// Return once the download has reached the emulator, which
			// answers it only later (the fault's delay).
			for srv.RequestCount() == n {
				time.Sleep(time.Millisecond)
			}
			return nil, nil
		}
	}
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{async} })
	srv.SetBillSize(16 << 20) // more than the socket buffers hold
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultDelay, PathPrefix: "/v3/billdownload/", Delay: 200 * time.Millisecond})
	_, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), io.Discard)
	if !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Errorf("err = %v, want ErrInvalidConfig", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("next: %v, want the answer's head", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for servingBill() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if servingBill() {
		t.Errorf("the emulator is still sending the bill 10 s after the download was abandoned: its connection was left open")
	}
}

// servingBill reports whether an emulator is sending a bill file.
func servingBill() bool {
	buf := make([]byte, 4<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "wxpaytest.(*Server).serveBillFile")
}

// A middleware that calls next but drops its answer, returning neither it
// nor an error, fails the attempt: the caller never gets a silent nil.
func TestMiddlewareDropsAnswer(t *testing.T) {
	drop := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			_, _ = next(ctx, req)
			return nil, nil
		}
	}
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{drop} })
	resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	if !errors.Is(err, wxpay.ErrInvalidConfig) || resp != nil {
		t.Errorf("resp, err = %v, %v; want nil and ErrInvalidConfig", resp, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
}

// badSigner is a remote signer that answers without an error but with
// something that is not the PKCS#1 v1.5 signature of the digest: nothing,
// junk, a PSS signature (a KMS key set up for the other scheme), or the
// signature of the digest hashed once more (a KMS asked to sign a message
// where it was given a digest).
type badSigner struct {
	key  *rsa.PrivateKey
	kind string
}

func (s badSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s badSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch s.kind {
	case "empty":
		return nil, nil
	case "junk":
		return []byte("not a signature"), nil
	case "pss":
		return rsa.SignPSS(r, s.key, crypto.SHA256, digest, nil)
	}
	again := sha256.Sum256(digest)
	return rsa.SignPKCS1v15(r, s.key, crypto.SHA256, again[:])
}

// A remote signer whose signature does not verify with its own public key
// fails the call before anything is sent, and JSAPIPayParams and
// AppPayParams with an error, instead of sending a request WeChat Pay
// refuses with SIGN_ERROR or handing a page a paySign that cannot work.
func TestRemoteSignerBadSignature(t *testing.T) {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"empty", "junk", "pss", "hashed twice"} {
		t.Run(kind, func(t *testing.T) {
			srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.PrivateKey = badSigner{key: mk, kind: kind} })
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-badsig-1")})
			if err == nil || !strings.Contains(err.Error(), "does not verify") {
				t.Errorf("call: err = %v, want a signature that does not verify", err)
			}
			if n := srv.RequestCount(); n != 0 {
				t.Errorf("%d requests sent with a bad signature, want 0", n)
			}
			if p, err := c.JSAPIPayParams("wxd678efh567hg6787", "wx201410272009395522657a690389285100"); err == nil {
				t.Errorf("JSAPIPayParams = %+v, nil; want an error", p)
			}
			if p, err := c.AppPayParams("wxd678efh567hg6787", "wx201410272009395522657a690389285100"); err == nil {
				t.Errorf("AppPayParams = %+v, nil; want an error", p)
			}
		})
	}
}

// With a remote signer the client holds no private key to decrypt with:
// Decrypt and DecryptResponse say so with an error wrapping
// ErrInvalidConfig, as every other use of the client that its Config
// cannot serve does.
func TestRemoteSignerCannotDecrypt(t *testing.T) {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.PrivateKey = &countingSigner{key: mk} })
	ct, err := rsaenc.Encrypt(&mk.PublicKey, "6222020200001234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ct); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "PrivateKey") {
		t.Errorf("Decrypt: err = %v, want ErrInvalidConfig naming PrivateKey", err)
	}
	resp := &wxpay.Response{Body: []byte(`{"account":"` + ct + `"}`)}
	if _, err := c.DecryptResponse(resp, "account"); !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Errorf("DecryptResponse: err = %v, want ErrInvalidConfig", err)
	}
}

// A middleware learns the call's deadline from the request even when the
// caller's context has none and Config.Timeout bounds the call.
func TestMiddlewareDeadline(t *testing.T) {
	var got time.Time
	look := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			got = req.Deadline()
			return next(ctx, req)
		}
	}
	_, c := setupWith(t, func(cfg *wxpay.Config) {
		cfg.Timeout = time.Hour
		cfg.Middleware = []wxpay.Middleware{look}
	})
	start := time.Now()
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Fatal(err)
	}
	if got.Before(start.Add(time.Hour)) || got.After(time.Now().Add(time.Hour)) {
		t.Errorf("Deadline() = %v, want Config.Timeout (1h) from the call's start %v", got, start)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, _ := ctx.Deadline()
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Do(ctx, "GET", wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Errorf("Deadline() = %v, want the caller's earlier deadline %v", got, want)
	}
}

// A streamed download, which Config.Timeout does not bound, shows the
// middleware its context's deadline, and the zero time when the context
// has none: never a deadline that has passed although the call has time.
func TestMiddlewareDeadlineDownload(t *testing.T) {
	var mu sync.Mutex
	var got []time.Time
	look := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			mu.Lock()
			got = append(got, req.Deadline())
			mu.Unlock()
			return next(ctx, req)
		}
	}
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{look} })
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	want, _ := ctx.Deadline()
	var file bytes.Buffer
	if _, err := c.Chain("v3/bill/tradebill").Download(ctx, billQuery(), &file); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].IsZero() || got[0].After(want) || !got[1].Equal(want) {
		t.Errorf("Deadline() of the application and the file = %v, want Config.Timeout's and the context's %v", got, want)
	}

	got = nil
	file.Reset()
	if _, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), &file); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].IsZero() || !got[1].IsZero() {
		t.Errorf("without a context deadline: Deadline() of the application and the file = %v, want Config.Timeout's and the zero time", got)
	}
}

// A panic in a middleware during an asynchronous call becomes the
// Future's error, which says where it came from.
func TestMiddlewarePanicAsync(t *testing.T) {
	boom := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			panic("middleware bug")
		}
	}
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Middleware = []wxpay.Middleware{boom} })
	_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").GetAsync(wxpay.Opts{"out_refund_no": fixtureOutNo}).Wait()
	if err == nil || !strings.Contains(err.Error(), "panic in an asynchronous call") || !strings.Contains(err.Error(), "middleware bug") {
		t.Errorf("err = %v, want the panic reported as one in the asynchronous call", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
