package wxpay_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// flakyProxy is a loopback TCP proxy to target that can be taken down (it
// refuses new connections and cuts the open ones) and brought up again.
type flakyProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *flakyProxy) url() string { return "http://" + p.ln.Addr().String() + "/" }

func (p *flakyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			p.conns[u] = true
			p.mu.Unlock()
			done := make(chan struct{}, 2)
			go func() { io.Copy(u, c); done <- struct{}{} }()
			go func() { io.Copy(c, u); done <- struct{}{} }()
			<-done
			c.Close()
			u.Close()
			<-done
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, u)
			p.mu.Unlock()
		}()
	}
}

func (p *flakyProxy) set(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *flakyProxy) close() {
	p.ln.Close()
	p.set(true)
	p.wg.Wait()
}

// lockedDiscard is a Debug writer that counts what it is given.
type lockedDiscard struct{ n atomic.Int64 }

func (w *lockedDiscard) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// TestHammerSharedClient shares one client between many goroutines making
// every kind of call at once (sync and async, downloads, media uploads,
// notifications, certificate refreshes) with retries, failover to a backup
// that goes up and down, a rate limit, a middleware and the debug log, and
// contexts cancelled at random points. No call may hang or panic, no
// request may reach the emulator more often than its call made attempts,
// and once it is over no goroutine of package wxpay may be left behind.
func TestHammerSharedClient(t *testing.T) {
	srv, _ := setup(t)
	srv.SetBillSize(64 << 10)
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.Config().BaseURL, "http://"), "/")
	primary := newFlakyProxy(t, addr)
	backup := newFlakyProxy(t, addr)

	var sends atomic.Int64
	dbg := &lockedDiscard{}
	cfg := srv.Config()
	cfg.BaseURL = primary.url()
	cfg.BackupURL = backup.url()
	cfg.FailoverFor = 20 * time.Millisecond
	cfg.Timeout = 5 * time.Second
	cfg.Retry = &wxpay.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	cfg.RateLimit = 2000
	cfg.RateBurst = 50
	cfg.Debug = dbg
	cfg.Middleware = []wxpay.Middleware{func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			sends.Add(1)
			req.AddHeader("X-Trace", "hammer")
			return next(ctx, req)
		}
	}}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var handled atomic.Int64
	notifySrv := httptest.NewServer(c.NotificationHandler(func(ctx context.Context, n *wxpay.Notification) error {
		handled.Add(1)
		return nil
	}))
	defer notifySrv.Close()

	g0 := runtime.NumGoroutine()
	w0 := len(wxpayGoroutines()) // earlier tests' calls, if any still end
	begin := time.Now()

	stop := make(chan struct{})
	var flipWG sync.WaitGroup
	flipWG.Add(1)
	go func() { // the hosts go down and up
		defer flipWG.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				primary.set(false)
				backup.set(false)
				return
			case <-time.After(time.Duration(5+r.IntN(20)) * time.Millisecond):
			}
			primary.set(r.IntN(3) == 0)
			backup.set(r.IntN(4) == 0)
		}
	}()

	type post struct {
		outNo    string
		attempts int // 0: failed
	}
	var mu sync.Mutex
	var posts []post
	var futures []*wxpay.Future
	var deliveries []*wxpaytest.Delivery
	var panics atomic.Int64

	const workers, perWorker = 32, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panics.Add(1)
					t.Errorf("worker %d panicked: %v", w, p)
				}
			}()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range perWorker {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if r.IntN(3) == 0 {
					ctx, cancel = context.WithTimeout(context.Background(), time.Duration(r.IntN(30))*time.Millisecond)
				}
				outNo := fmt.Sprintf("H-%d-%d", w, i)
				switch i % 8 {
				case 0, 1:
					resp, err := c.Chain("v3/refund/domestic/refunds").Do(ctx, http.MethodPost, wxpay.Opts{"json": applyRefundJSON(outNo)})
					n := 0
					if err == nil {
						n = resp.Attempts
					}
					mu.Lock()
					posts = append(posts, post{outNo, n})
					mu.Unlock()
				case 2:
					f := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").DoAsync(ctx, http.MethodGet, wxpay.Opts{"out_refund_no": fixtureOutNo}).
						Then(func(r *wxpay.Response) (*wxpay.Response, error) { return r, nil }).
						Otherwise(func(err error) (*wxpay.Response, error) { return nil, err })
					mu.Lock()
					futures = append(futures, f)
					mu.Unlock()
				case 3:
					if i%16 == 3 {
						c.Chain("v3/merchant/media/upload").Do(ctx, http.MethodPost, wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(fakeImage(8 << 10))}})
					} else {
						c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Do(ctx, http.MethodGet, wxpay.Opts{"out_refund_no": fixtureOutNo})
					}
				case 4:
					c.Chain("v3/bill/tradebill").Download(ctx, billQuery(), io.Discard)
				case 5:
					c.DownloadCertificates(ctx)
				case 6:
					d, err := srv.Notify(notifySrv.URL, "REFUND.SUCCESS", map[string]any{"out_refund_no": outNo})
					if err != nil {
						t.Errorf("Notify: %v", err)
					} else {
						mu.Lock()
						deliveries = append(deliveries, d)
						mu.Unlock()
					}
				case 7:
					rf := c.StartCertificateRefresher(time.Millisecond)
					if r.IntN(2) == 0 {
						runtime.Gosched()
					}
					rf.Stop()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	t.Logf("workers done in %v", time.Since(begin))
	close(stop)
	flipWG.Wait()

	// Every Future ends.
	for i, f := range futures {
		select {
		case <-f.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("future %d never ended", i)
		}
	}
	for _, d := range deliveries {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.Wait(ctx); err != nil {
			t.Errorf("delivery %s: %v (statuses %v)", d.ID, err, d.Statuses())
		}
		cancel()
	}

	t.Logf("futures and deliveries done at %v", time.Since(begin))
	// No request reached the emulator more often than its call made
	// attempts, and a call that succeeded reached it.
	seen := map[string]int{}
	uploads := 0
	for _, r := range srv.Requests() {
		if r.RequestURI == "/v3/merchant/media/upload" && r.Status == http.StatusOK {
			uploads++
		}
		if r.Method == http.MethodPost && r.RequestURI == "/v3/refund/domestic/refunds" {
			body := string(r.Body)
			if i := strings.Index(body, `"out_refund_no":"`); i >= 0 {
				rest := body[i+len(`"out_refund_no":"`):]
				seen[rest[:strings.IndexByte(rest, '"')]]++
			}
		}
	}
	ok := 0
	for _, p := range posts {
		if p.attempts == 0 {
			if seen[p.outNo] > 3 {
				t.Errorf("%s: failed call reached the emulator %d times, at most 3 attempts", p.outNo, seen[p.outNo])
			}
			continue
		}
		ok++
		if seen[p.outNo] < 1 || seen[p.outNo] > p.attempts {
			t.Errorf("%s: reached the emulator %d times in %d attempts", p.outNo, seen[p.outNo], p.attempts)
		}
	}
	t.Logf("%d refund applications, %d succeeded; %d sends through the middleware; %d notifications handled; %d debug bytes; %d futures; %d uploads answered",
		len(posts), ok, sends.Load(), handled.Load(), dbg.n.Load(), len(futures), uploads)
	if ok == 0 {
		t.Errorf("no refund application succeeded")
	}
	if handled.Load() < int64(len(deliveries)) {
		t.Errorf("%d notifications handled, %d sent", handled.Load(), len(deliveries))
	}

	// Goroutines settle back: only idle keep-alive connections may remain.
	// Idle keep-alive connections (and the proxies' and emulator's
	// goroutines serving them) may stay for MaxIdleConnDuration; no
	// goroutine of package wxpay may.
	deadline := time.Now().Add(20 * time.Second)
	var left []string
	for {
		left = wxpayGoroutines()
		if len(left) <= w0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > w0 {
		t.Errorf("%d goroutines of package wxpay left after the hammer, %d before (%d in all, %d before); first:\n%s", len(left), w0, runtime.NumGoroutine(), g0, left[0])
	}
	if panics.Load() != 0 {
		t.Errorf("%d panics", panics.Load())
	}
}

// wxpayGoroutines returns the stacks of the goroutines running code of
// package wxpay (not its tests) or started by it.
func wxpayGoroutines() []string {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/wxpay-chain/wxpay.") {
			out = append(out, g)
		}
	}
	return out
}
