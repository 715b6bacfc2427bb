package wxpay

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// limiter is a token bucket: rate tokens a second, at most burst saved.
// Callers reserve a token and wait for it, so requests leave evenly spaced.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// wait takes a token, waiting for one if need be. It returns an error,
// without taking a token, when ctx ends first or its deadline comes before
// the token would.
func (l *limiter) wait(ctx context.Context) error {
	dl, _ := ctx.Deadline()
	return l.waitUntil(ctx, dl)
}

// waitUntil is wait with the deadline dl (none if zero) in place of the
// context's.
func (l *limiter) waitUntil(ctx context.Context, dl time.Time) error {
	l.mu.Lock()
	now := time.Now()
	l.tokens += now.Sub(l.last).Seconds() * l.rate
	if l.tokens > l.burst {
		l.tokens = l.burst
	}
	l.last = now
	l.tokens--
	var d time.Duration
	if l.tokens < 0 {
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	if !dl.IsZero() && d > 0 && now.Add(d).After(dl) {
		l.tokens++
		l.mu.Unlock()
		return fmt.Errorf("wxpay: rate limit of %g/s: no slot before the call's deadline: %w", l.rate, context.DeadlineExceeded)
	}
	l.mu.Unlock()
	if !sleep(ctx, d) {
		l.mu.Lock()
		l.tokens++
		l.mu.Unlock()
		return ctx.Err()
	}
	return nil
}
