package wxpay

// This file is the one place where the attempts of a call are made, for
// APIv3 (do.go), APIv2 (v2.go) and the certificate download alike:
// withRetries paces each attempt by the rate limit (ratelimit.go), sends it
// to the primary or, during a failover, the backup, and decides on a retry
// (CheckRetry: a 429, 500 SYSTEM_ERROR or 503, a lost answer) and the wait
// before it (Backoff), all within the call's deadline. The exchange of one
// attempt is in transport.go.

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

// callDeadline returns when a call starting now must be over:
// Config.Timeout from now, or the context's deadline if it is earlier.
func (c *Client) callDeadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// callPlan says how withRetries makes the attempts of one call.
type callPlan struct {
	deadline time.Time  // the end of the call (callDeadline)
	primary  string     // scheme://host the attempts go to
	failover bool       // an attempt may go to the backup instead
	single   bool       // one attempt, whatever the RetryPolicy says
	check    CheckRetry // decides on retries when the policy has no CheckRetry
}

// withRetries makes the attempts of one call: try, given the attempt's
// origin and number (1 for the first), for each attempt the
// RetryPolicy allows (one without a policy, or with plan.single), paced by
// the rate limiter, waiting between attempts as the policy's Backoff says
// but never past the deadline, the end of the call. An attempt that failed
// on a kept-alive connection the server had closed is made again at once
// when keptAliveFailure allows, and that is not a new attempt. With
// failover, an attempt goes to the backup while a failover is in force, and
// a connection-level failure of the primary starts one, unless the primary
// was reachable (a kept-alive connection it closed) or the caller's context
// ended the attempt.
func (c *Client) withRetries(ctx context.Context, plan callPlan, try func(origin string, attempt int) (*Response, error)) (*Response, error) {
	max := c.retry.attempts()
	if plan.single {
		max = 1
	}
	attempt := 1
	var err error
	for ; ; attempt++ {
		if c.limiter != nil {
			if lerr := c.limiter.waitUntil(ctx, plan.deadline); lerr != nil {
				if attempt == 1 {
					err = lerr
				} else {
					attempt-- // not sent: the last attempt's error stands
				}
				break
			}
		}
		origin := plan.primary
		if plan.failover {
			origin = c.pickOrigin()
		}
		var resp *Response
		if resp, err = tryFresh(try, origin, attempt); err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		var netErr *NetworkError
		if plan.failover && origin == plan.primary && errors.As(err, &netErr) && !netErr.reused {
			c.failOver()
		}
		var again bool
		if attempt < max {
			again, err = c.again(ctx, plan, attempt, err)
		}
		if !again {
			break
		}
	}
	if attempt > 1 {
		return nil, &RetryError{Attempts: attempt, Err: err}
	}
	return nil, err
}

// again decides, after the failed attempt that returned err, whether
// another is made: when CheckRetry says so, after the wait Backoff asks
// for, if it ends before the deadline. It returns err, or the error
// CheckRetry returned to stop the retries.
func (c *Client) again(ctx context.Context, plan callPlan, attempt int, err error) (bool, error) {
	check := plan.check
	if c.retry != nil && c.retry.CheckRetry != nil {
		check = c.retry.CheckRetry
	}
	retry, cerr := check(ctx, attempt, err)
	switch {
	case cerr != nil:
		return false, cerr
	case !retry:
		return false, err
	}
	wait := c.retry.wait(attempt, err)
	if time.Until(plan.deadline) <= wait {
		return false, err
	}
	return sleep(ctx, wait) && time.Now().Before(plan.deadline), err
}

// tryFresh makes attempt number attempt with try, and makes it once more
// when it failed on a kept-alive connection the server had closed and
// keptAliveFailure says the request may be sent again: try signs it afresh,
// and it goes out on another connection, under the same attempt number.
func tryFresh(try func(origin string, attempt int) (*Response, error), origin string, attempt int) (*Response, error) {
	resp, err := try(origin, attempt)
	if err != nil && mayResend(err) {
		return try(origin, attempt)
	}
	return resp, err
}

func mayResend(err error) bool {
	var netErr *NetworkError
	return errors.As(err, &netErr) && netErr.resend
}

// pickOrigin returns where the next attempt goes: the backup while a
// failover is in force, else the primary.
func (c *Client) pickOrigin() string {
	if until := c.failoverUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return c.backup
	}
	return c.scheme + "://" + c.host
}

// failOver sends requests to the backup for the next FailoverFor.
func (c *Client) failOver() {
	c.failoverUntil.Store(time.Now().Add(c.failoverFor).UnixNano())
}
