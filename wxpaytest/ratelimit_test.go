package wxpaytest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stepClock is a clock that moves only when told to.
type stepClock struct{ ns atomic.Int64 }

func newStepClock() *stepClock {
	c := &stepClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *stepClock) now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *stepClock) add(d time.Duration)   { c.ns.Add(int64(d)) }
func withClock(c *stepClock) func(*Server) { return func(s *Server) { s.Now = c.now } }

// trades numbers the trades refunded by burst.
var trades atomic.Int64

// burst sends n refund applications at once, out_refund_no prefix+i, and
// returns the answers by out_refund_no.
func burst(t *testing.T, c *tclient, prefix string, n int) map[string]*resp {
	t.Helper()
	var mu sync.Mutex
	got := map[string]*resp{}
	var wg sync.WaitGroup
	for i := range n {
		no := fmt.Sprint(prefix, i)
		body := jsonBody(t, refundBody(no, func(m map[string]any) {
			m["transaction_id"] = fmt.Sprintf("42%026d", trades.Add(1)) // a trade of its own
		}))
		wg.Go(func() {
			r, err := c.send(req{method: http.MethodPost, target: refundsPath, body: body})
			if err != nil {
				t.Errorf("%s: %v", no, err)
				return
			}
			mu.Lock()
			got[no] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

func statusCounts(rs map[string]*resp) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}

func TestRateLimitBurst(t *testing.T) {
	clock := newStepClock() // frozen: one window for the whole burst
	s := newServer(t, withClock(clock))
	c := newClient(t, s)
	if err := s.SetRateLimit(&RateLimit{Ops: map[string]int{"POST v3/refund/domestic/refunds": 5}}); err != nil {
		t.Fatal(err)
	}
	before := len(s.Refunds())
	got := burst(t, c, "RL-", 12)
	if diff := cmp.Diff(map[int]int{200: 5, 429: 7}, statusCounts(got)); diff != "" {
		t.Fatalf("statuses (-want +got)\n%s", diff)
	}
	for no, r := range got {
		_, made := s.RefundByOutRefundNo(no)
		if made != (r.status == http.StatusOK) {
			t.Errorf("%s answered %d, refund made: %v", no, r.status, made)
		}
		if r.status != http.StatusTooManyRequests {
			continue
		}
		if diff := cmp.Diff(errorSummary{Status: 429, Code: CodeFrequencyLimited}, r.summary(t)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", no, diff)
		}
		if err := r.verify(s); err != nil {
			t.Errorf("%s: 429 not signed: %v", no, err)
		}
		if msg, _ := r.json(t)["message"].(string); !strings.Contains(msg, "more than 5 requests a second to POST v3/refund/domestic/refunds") {
			t.Errorf("%s: message %q does not name the limit", no, msg)
		}
	}
	if n := len(s.Refunds()) - before; n != 5 {
		t.Errorf("%d refunds made, want 5", n)
	}
	recorded := map[int]int{}
	for _, q := range s.Requests() {
		recorded[q.Status]++
	}
	if diff := cmp.Diff(map[int]int{200: 5, 429: 7}, recorded); diff != "" {
		t.Errorf("recorded statuses (-want +got)\n%s", diff)
	}

	// Another operation has a count of its own.
	if r := c.get(refundsPath + "/" + FixtureOutRefundNo); r.status != http.StatusOK {
		t.Errorf("query after the burst: %d %s", r.status, r.body)
	}
	// The next second starts a new count.
	clock.add(time.Second)
	if diff := cmp.Diff(map[int]int{200: 5, 429: 1}, statusCounts(burst(t, c, "RL2-", 6))); diff != "" {
		t.Errorf("next second: statuses (-want +got)\n%s", diff)
	}
}

func TestRateLimitOff(t *testing.T) {
	clock := newStepClock()
	s := newServer(t, withClock(clock))
	c := newClient(t, s)
	if diff := cmp.Diff(map[int]int{200: 20}, statusCounts(burst(t, c, "OFF-", 20))); diff != "" {
		t.Errorf("new server: statuses (-want +got)\n%s", diff)
	}
	// On, then off again.
	if err := s.SetRateLimit(&RateLimit{PerSecond: 2}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]int{200: 2, 429: 3}, statusCounts(burst(t, c, "ON-", 5))); diff != "" {
		t.Errorf("on: statuses (-want +got)\n%s", diff)
	}
	if err := s.SetRateLimit(nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]int{200: 20}, statusCounts(burst(t, c, "OFF2-", 20))); diff != "" {
		t.Errorf("off again: statuses (-want +got)\n%s", diff)
	}
}

// The domestic refund document limits erroneous requests to 6 a second.
func TestRateLimitErroneousRequests(t *testing.T) {
	s := newServer(t, withClock(newStepClock()))
	c := newClient(t, s)
	if err := s.SetRateLimit(&RateLimit{}); err != nil {
		t.Fatal(err)
	}
	bad := refundBody("BAD-1", func(m map[string]any) { delete(m, "amount") })
	var got []int
	for range 9 {
		got = append(got, c.post(refundsPath, bad).status)
	}
	if diff := cmp.Diff([]int{400, 400, 400, 400, 400, 400, 429, 429, 429}, got); diff != "" {
		t.Fatalf("erroneous requests: (-want +got)\n%s", diff)
	}
	r := c.post(refundsPath, bad)
	if msg, _ := r.json(t)["message"].(string); !strings.Contains(msg, "6 erroneous requests a second") || !strings.Contains(msg, "400 PARAM_ERROR") {
		t.Errorf("message %q does not name the limit and the error", msg)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("429 not signed: %v", err)
	}
	// A valid request is within the operation's limit for all requests.
	if r := c.post(refundsPath, refundBody("GOOD-1")); r.status != http.StatusOK {
		t.Errorf("valid request after the erroneous ones: %d %s", r.status, r.body)
	}
	// A negative limit lifts both.
	if err := s.SetRateLimit(&RateLimit{Ops: map[string]int{"post /v3/refund/domestic/refunds": -1}}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if r := c.post(refundsPath, bad); r.status != http.StatusBadRequest {
			t.Fatalf("no limit: erroneous request %d answered %d", i, r.status)
		}
	}
}

// The domestic abnormal refund document limits it to 150 a second.
func TestRateLimitDocumented(t *testing.T) {
	s := newServer(t, withClock(newStepClock()))
	c := newClient(t, s)
	if err := s.SetRateLimit(&RateLimit{PerSecond: 1}); err != nil {
		t.Fatal(err)
	}
	path := "/v3/refund/domestic/refunds/50000000000000000000000000001/apply-abnormal-refund" // none such: 404
	body := jsonBody(t, abnormalBody(t, platformKey, "6214830000000000"))
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 38 { // 152 in all
				r, err := c.send(req{method: http.MethodPost, target: path, body: body, header: map[string]string{"Wechatpay-Serial": DefaultPlatformSerial}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[r.status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff(map[int]int{404: 150, 429: 2}, counts); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
	// PerSecond applies to an operation without a documented figure.
	ecom := "/v3/ecommerce/refunds/out-refund-no/NONE?sub_mchid=" + FixtureSubMchID
	if got := []int{c.get(ecom).status, c.get(ecom).status}; !cmp.Equal(got, []int{404, 429}) {
		t.Errorf("PerSecond 1: statuses %v, want [404 429]", got)
	}
}

func TestSetRateLimitErrors(t *testing.T) {
	s := newServer(t, withClock(newStepClock()))
	if err := s.SetRateLimit(&RateLimit{PerSecond: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		l    RateLimit
		want string
	}{
		{RateLimit{PerSecond: -1}, "PerSecond -1"},
		{RateLimit{Ops: map[string]int{"POST v3/no/such/api": 5}}, `"POST v3/no/such/api" names no operation`},
		{RateLimit{Ops: map[string]int{"v3/refund/domestic/refunds": 5}}, "want METHOD and path template"},
		{RateLimit{Ops: map[string]int{"POST v3/refund/domestic/refunds": 0}}, "is 0"},
	} {
		err := s.SetRateLimit(&tc.l)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetRateLimit(%+v) = %v, want an error with %q", tc.l, err, tc.want)
		}
	}
	// The limit set before stays.
	c := newClient(t, s)
	if diff := cmp.Diff(map[int]int{200: 1, 429: 1}, statusCounts(burst(t, c, "KEEP-", 2))); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
}

func TestDocumentedLimitsAreOperations(t *testing.T) {
	for key := range documentedLimits {
		op, err := lookupOperation(key)
		if err != nil || opKey(op) != key {
			t.Errorf("%q: %v, %v", key, op, err)
		}
	}
}
