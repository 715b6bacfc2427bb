package wxpaytest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/wxpay-chain/wxpay/catalog"
)

// DefaultRateLimit is the limit, in requests a second, of an operation
// whose WeChat Pay document gives no figure, when the rate limit is on and
// RateLimit.PerSecond is zero: the figure the document of the domestic
// abnormal refund gives.
const DefaultRateLimit = 150

// documentedLimits are the limits the WeChat Pay documents give, by
// operation ("METHOD template" as in the catalogue). A zero field is no
// documented figure.
var documentedLimits = map[string]opLimit{
	// "请求频率限制:150qps".
	"POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund": {all: 150},
	// "错误或无效请求频率限制：6qps": erroneous requests only.
	"POST v3/refund/domestic/refunds": {errors: 6},
}

// RateLimit sets the limits of the emulator's rate limit, which answers
// 429 FREQUENCY_LIMITED to a request over its operation's limit (see
// Server.SetRateLimit).
type RateLimit struct {
	// PerSecond is the limit, in requests a second, of each operation
	// whose limit neither Ops nor a WeChat Pay document gives. If zero,
	// DefaultRateLimit.
	PerSecond int
	// Ops sets the limits, in requests a second, of some operations, keyed
	// by method and path template, such as
	// "POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	// (the placeholders in any spelling catalog.Lookup takes). They take
	// precedence over the documented figures. A negative limit lifts the
	// operation's limits, that of its erroneous requests included.
	Ops map[string]int
}

// opLimit is the limits of one operation, in requests a second: of all
// requests, and of the erroneous ones (a 4xx answer). Zero is no limit;
// an override of -1 in all lifts both.
type opLimit struct {
	all, errors int
}

// rateLimiter counts the requests of each operation in the current second
// of the emulator's clock.
type rateLimiter struct {
	perSecond int
	ops       map[string]opLimit // the documented limits with the overrides

	mu      sync.Mutex
	windows map[string]*rateWindow // by operation
}

// rateWindow is the count of an operation's requests in one second.
type rateWindow struct {
	second int64 // Unix time
	n      int   // requests let through
	errors int   // erroneous answers let through
}

// rateTicket is a request let through, for counting its answer if it is
// an error.
type rateTicket struct {
	rl    *rateLimiter
	op    string
	limit int // of erroneous requests; 0 for none
}

// SetRateLimit turns on the rate limit, with the limits of l, or turns it
// off when l is nil. It is off on a new Server.
//
// When on, the requests to each APIv3 operation (a method and path
// template of the catalogue) are counted in each second of the emulator's
// clock (Now; each second starts a new count, so a frozen clock never does).
// A request over its operation's limit is answered 429 FREQUENCY_LIMITED,
// signed, without being applied (no refund is made); it is recorded like
// any other and not counted. The limits are those the WeChat Pay documents
// give (150 a second for POST
// v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund), else
// l.PerSecond; l.Ops overrides them. Where a document limits erroneous
// requests (6 a second for POST v3/refund/domestic/refunds), an answer that
// would be a 4xx error beyond that count in the second is a 429 instead.
// Requests answered by an injected FaultError, unauthenticated ones, and
// APIv2 requests are not limited.
//
// SetRateLimit returns an error, and leaves the limit as it was, when a key
// of l.Ops names no operation or a limit is zero. It starts the counts
// afresh and is safe for concurrent use.
func (s *Server) SetRateLimit(l *RateLimit) error {
	if l == nil {
		s.limiter.Store(nil)
		return nil
	}
	rl, err := newRateLimiter(l)
	if err != nil {
		return err
	}
	s.limiter.Store(rl)
	return nil
}

// newRateLimiter checks l and returns a limiter for it.
func newRateLimiter(l *RateLimit) (*rateLimiter, error) {
	if l.PerSecond < 0 {
		return nil, fmt.Errorf("wxpaytest: rate limit PerSecond %d: want a positive number of requests a second, or 0 for %d", l.PerSecond, DefaultRateLimit)
	}
	rl := &rateLimiter{perSecond: l.PerSecond, ops: map[string]opLimit{}, windows: map[string]*rateWindow{}}
	if rl.perSecond == 0 {
		rl.perSecond = DefaultRateLimit
	}
	for k, v := range documentedLimits {
		rl.ops[k] = v
	}
	for key, n := range l.Ops {
		op, err := lookupOperation(key)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("wxpaytest: rate limit of %q is 0: want a positive number of requests a second, or a negative one for no limit", key)
		}
		lim := rl.ops[opKey(op)]
		lim.all = n
		if n < 0 {
			lim = opLimit{all: -1}
		}
		rl.ops[opKey(op)] = lim
	}
	return rl, nil
}

// lookupOperation finds the operation of a key "METHOD template".
func lookupOperation(key string) (*catalog.Operation, error) {
	method, template, ok := strings.Cut(strings.TrimSpace(key), " ")
	if !ok {
		return nil, fmt.Errorf("wxpaytest: rate limit key %q: want METHOD and path template, such as \"POST v3/refund/domestic/refunds\"", key)
	}
	op, ok := catalog.Lookup(strings.ToUpper(method), strings.TrimSpace(template))
	if !ok {
		return nil, fmt.Errorf("wxpaytest: rate limit key %q names no operation of the catalogue", key)
	}
	return op, nil
}

func opKey(op *catalog.Operation) string { return op.Method + " " + op.Template }

// limited applies the rate limit, if on, to the request of x, which has
// been authenticated: when it is over its operation's limit, limited
// answers 429 FREQUENCY_LIMITED and reports true; otherwise it counts the
// request.
func (x *exchange) limited() bool {
	rl := x.s.limiter.Load()
	if rl == nil {
		return false
	}
	op, _, ok := catalog.Match(x.r.Method, x.r.URL.EscapedPath())
	if !ok {
		return false
	}
	key := opKey(op)
	lim := rl.ops[key]
	if lim.all < 0 {
		return false
	}
	if lim.all == 0 {
		lim.all = rl.perSecond
	}
	rl.mu.Lock()
	w := rl.window(key, x.s.now().Unix())
	over := w.n >= lim.all
	if !over {
		w.n++
	}
	rl.mu.Unlock()
	if over {
		x.fail(frequencyLimited(strconv.Itoa(lim.all)+" requests a second to "+key, ""))
		return true
	}
	if lim.errors > 0 {
		x.limit = &rateTicket{rl: rl, op: key, limit: lim.errors}
	}
	return false
}

// window returns the count of op's requests in second, a new one when the
// last is of an earlier second. rl.mu must be held.
func (rl *rateLimiter) window(op string, second int64) *rateWindow {
	w := rl.windows[op]
	if w == nil || w.second != second {
		w = &rateWindow{second: second}
		rl.windows[op] = w
	}
	return w
}

// overErrors counts e, an error answer of the request x let through, among
// its operation's erroneous requests, and returns the 429 to answer instead
// when that count is over the limit, else e.
func (x *exchange) overErrors(e *apiError) *apiError {
	t := x.limit
	if t == nil || e.status < 400 || e.status > 499 || e.status == http.StatusTooManyRequests {
		return e
	}
	x.limit = nil
	t.rl.mu.Lock()
	w := t.rl.window(t.op, x.s.now().Unix())
	over := w.errors >= t.limit
	if !over {
		w.errors++
	}
	t.rl.mu.Unlock()
	if !over {
		return e
	}
	return frequencyLimited(strconv.Itoa(t.limit)+" erroneous requests a second to "+t.op,
		" (this one would have been "+strconv.Itoa(e.status)+" "+e.Code+")")
}

// frequencyLimited returns the 429 for a request over the limit named.
func frequencyLimited(limit, note string) *apiError {
	return newError(http.StatusTooManyRequests, CodeFrequencyLimited,
		"frequency limited: more than "+limit+"; the request was not applied"+note+", retry it later at a lower rate")
}
