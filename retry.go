package wxpay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says when and how a failed call is sent again. Retries are off
// unless Config.Retry is set; &wxpay.RetryPolicy{} turns them on with the
// defaults below.
//
// Every attempt is signed afresh (new nonce and timestamp) over the very
// same body bytes, so the idempotency key in the body (out_refund_no,
// out_trade_no, ...) is the same and WeChat Pay applies the request at most
// once, as its documents ask ("retry SYSTEM_ERROR with the same
// out_refund_no"). Config.Timeout, or the context's deadline when it is
// earlier, bounds the whole call, waits included: no wait starts that
// would end past it.
//
// Without a policy too, a request that finds its kept-alive connection
// closed by the server is sent again at once on another connection, signed
// afresh, when that is certain to be safe: nothing of it had been written,
// or it is a GET. That resend is not an attempt (Response.Attempts and
// MaxAttempts do not count it).
type RetryPolicy struct {
	// MaxAttempts is the most attempts a call makes, the first included.
	// If zero, DefaultMaxAttempts is used.
	MaxAttempts int
	// CheckRetry decides whether a failed attempt is retried. If nil,
	// DefaultCheckRetry is used.
	CheckRetry CheckRetry
	// Backoff says how long to wait before the next attempt. If nil,
	// DefaultBackoff is used.
	Backoff Backoff
	// MinWait and MaxWait bound the waits Backoff returns. If zero, 100 ms
	// and 5 s.
	MinWait, MaxWait time.Duration
}

// DefaultMaxAttempts is the number of attempts when RetryPolicy.MaxAttempts
// is zero.
const DefaultMaxAttempts = 3

// CheckRetry reports whether the attempt that returned err (never nil) may be
// retried. A non-nil error returned stops the retries and is returned to the
// caller instead.
type CheckRetry func(ctx context.Context, attempt int, err error) (bool, error)

// Backoff returns how long to wait after the given failed attempt (1 for the
// first), between min and max.
type Backoff func(min, max time.Duration, attempt int, err error) time.Duration

// DefaultCheckRetry retries what WeChat Pay says may be sent again: an
// *APIError whose Retryable is true (500 SYSTEM_ERROR, 429
// FREQUENCY_LIMITED, 503), and a *NetworkError (no response came back). It
// never retries another 4xx, a response that failed verification, or a call
// whose context is done.
//
// A response that failed verification is a *VerifyError, or an *APIError
// that carried signature headers which did not verify (errors.Is(err,
// ErrBadSignature) and the like hold for it): something between the client
// and WeChat Pay is wrong, and resending would hide it. An error answer
// with no signature header at all is retried as its status says: WeChat
// Pay's gateways answer some errors unsigned (a 503 from a load balancer),
// and resending the same request is safe whoever answered; its content is
// never trusted (APIError.Verified is false).
func DefaultCheckRetry(ctx context.Context, attempt int, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.verifyErr == nil && apiErr.Retryable(), nil
	}
	var netErr *NetworkError
	if errors.As(err, &netErr) {
		return true, nil
	}
	return false, nil
}

// DefaultBackoff waits min·2^(attempt-1), capped at max, with full jitter
// (a uniform draw between half of that and all of it). For a 429 or 503
// answer with a Retry-After header in seconds, it waits that long instead
// (capped at max).
func DefaultBackoff(min, max time.Duration, attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable) && apiErr.Header != nil {
		if s, e := strconv.Atoi(apiErr.Header.Get("Retry-After")); e == nil && s >= 0 {
			d := time.Duration(s) * time.Second
			if d > max {
				d = max
			}
			if d < min {
				d = min
			}
			return d
		}
	}
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (p *RetryPolicy) attempts() int {
	if p == nil {
		return 1
	}
	if p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

func (p *RetryPolicy) wait(attempt int, err error) time.Duration {
	min, max := p.MinWait, p.MaxWait
	if min <= 0 {
		min = 100 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	if max < min {
		max = min
	}
	if p.Backoff != nil {
		return p.Backoff(min, max, attempt, err)
	}
	return DefaultBackoff(min, max, attempt, err)
}

// NetworkError reports an attempt that got no response: the connection
// could not be made, was reset, or timed out (Config.Timeout). The request
// may or may not have reached WeChat Pay, so it must only ever be resent
// unchanged. A call ended by its context's deadline or cancellation is not a
// NetworkError: its error wraps the context's error.
type NetworkError struct {
	Method string
	Path   string // path and query, each query value shown as "…"
	Host   string // scheme://host the attempt went to
	Err    error

	// reused: the attempt failed on a kept-alive connection the server
	// closed before answering, so the server was reachable and this starts
	// no failover; resend: it may be sent again at once (conn.go).
	reused, resend bool
}

// Error describes the NetworkError.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("wxpay: %s %s%s: %v", e.Method, e.Host, e.Path, e.Err)
}

// Unwrap returns the transport error (context.DeadlineExceeded for a
// timeout).
func (e *NetworkError) Unwrap() error { return e.Err }

// RetryError is returned when a call with a RetryPolicy failed after more
// than one attempt; Err is the last attempt's error (an *APIError,
// *NetworkError, ...), reachable with errors.As and errors.Is.
type RetryError struct {
	Attempts int
	Err      error
}

// Error describes the RetryError.
func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (after %d attempts)", e.Err, e.Attempts)
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// sleep waits d or until ctx is done; it reports whether the whole wait
// happened.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
