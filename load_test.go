package wxpay_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// TestLoad runs 256 goroutines making signed, verified calls against the
// emulator: no call may fail, and the heap must not grow between the two
// halves of the run. WXPAY_LOAD_CALLS sets the number of calls (make load
// runs several thousand under -race; the default keeps CI short).
func TestLoad(t *testing.T) {
	calls := 1024
	if s := os.Getenv("WXPAY_LOAD_CALLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 512 {
			t.Fatalf("WXPAY_LOAD_CALLS=%q: want a number of at least 512", s)
		}
		calls = n
	}
	srv, c := setup(t)
	const workers = 256
	goroutinesBefore := runtime.NumGoroutine()

	run := func(phase string, n int) {
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(n) {
						return
					}
					var err error
					if i%2 == 0 {
						_, err = c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON(fmt.Sprintf("L-%s-%d", phase, i))})
					} else {
						_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": wxpaytest.FixtureOutRefundNo})
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}()
		}
		wg.Wait()
		if f := failed.Load(); f != 0 {
			t.Fatalf("%s: %d of %d calls failed; first: %v", phase, f, n, firstErr.Load())
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	start := time.Now()
	run("a", calls/2)
	mid := heap()
	srv.ResetRequests() // the emulator's request log is the test's, not the client's
	run("b", calls/2)
	srv.ResetRequests()
	end := heap()
	t.Logf("%d calls by %d goroutines in %v; heap after first half %d KiB, after second %d KiB",
		calls, workers, time.Since(start).Round(time.Millisecond), mid>>10, end>>10)
	// The emulator keeps every refund it made, about a kilobyte each: allow
	// for that, and nothing more.
	if allowed := mid + uint64(calls/2)*2048 + 4<<20; end > allowed {
		t.Errorf("heap grew from %d to %d bytes over %d calls", mid, end, calls/2)
	}
	// Goroutines settle back: only idle keep-alive connections remain.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore+2*workers+16 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutinesBefore+2*workers+16 {
		t.Errorf("%d goroutines after the load, %d before", g, goroutinesBefore)
	}
}
