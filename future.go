package wxpay

import (
	"context"
	"fmt"
	"net/http"
)

// Future is the pending result of an asynchronous call, the Go form of the
// promise wechatpay-php's postAsync() returns:
//
//	client.Chain("v3/refund/domestic/refunds").PostAsync(opts).
//		Then(func(r *wxpay.Response) (*wxpay.Response, error) { ...; return r, nil }).
//		Wait()
//
// A Future is safe for concurrent use; Wait may be called any number of
// times.
type Future struct {
	done chan struct{}
	resp *Response
	err  error
}

func newFuture(fn func() (*Response, error)) *Future {
	f := &Future{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer func() {
			if p := recover(); p != nil {
				f.resp, f.err = nil, fmt.Errorf("wxpay: panic in an asynchronous call or its callback: %v", p)
			}
		}()
		f.resp, f.err = fn()
	}()
	return f
}

// Wait blocks until the call (and every callback before it) is done and
// returns its result.
func (f *Future) Wait() (*Response, error) {
	<-f.done
	return f.resp, f.err
}

// Done returns a channel closed when the result is ready.
func (f *Future) Done() <-chan struct{} { return f.done }

// Then returns a Future for onFulfilled applied to the response once it
// arrives. What onFulfilled returns is what the new Future's Wait returns:
//
//   - (r, nil) passes the response on, or replaces it with another one;
//   - (nil, err) fails the new Future: Wait returns err, and an Otherwise
//     chained after it is called with err;
//   - (nil, nil) makes Wait return a nil response and a nil error, which a
//     caller that checks only the error does not expect: return one or the
//     other.
//
// If the call failed, onFulfilled is not called and the new Future holds
// the same error; a nil onFulfilled passes the result through. A panic in
// onFulfilled becomes the new Future's error. The result stays a *Response:
// to get another type (a decoded struct, say), decode after Wait or set a
// variable the callback captures.
func (f *Future) Then(onFulfilled func(*Response) (*Response, error)) *Future {
	return newFuture(func() (*Response, error) {
		r, err := f.Wait()
		if err != nil || onFulfilled == nil {
			return r, err
		}
		return onFulfilled(r)
	})
}

// Otherwise returns a Future for onRejected applied to the error if the call
// (or a Then before it) failed. What onRejected returns is what the new
// Future's Wait returns: (r, nil) recovers with the response r, and
// (nil, err) keeps the Future failed, with err (the same error or another).
// A successful result passes through untouched, and so does a failure when
// onRejected is nil. A panic in onRejected becomes the new Future's error.
func (f *Future) Otherwise(onRejected func(error) (*Response, error)) *Future {
	return newFuture(func() (*Response, error) {
		r, err := f.Wait()
		if err == nil || onRejected == nil {
			return r, err
		}
		return onRejected(err)
	})
}

// DoAsync starts Do in its own goroutine and returns its Future.
func (ch Chain) DoAsync(ctx context.Context, method string, opts Opts) *Future {
	return newFuture(func() (*Response, error) { return ch.Do(ctx, method, opts) })
}

func (ch Chain) async(method string, opts []Opts) *Future {
	return newFuture(func() (*Response, error) { return ch.doVariadic(method, opts) })
}

// GetAsync is Get in its own goroutine.
func (ch Chain) GetAsync(opts ...Opts) *Future { return ch.async(http.MethodGet, opts) }

// PostAsync is Post in its own goroutine.
func (ch Chain) PostAsync(opts ...Opts) *Future { return ch.async(http.MethodPost, opts) }

// PutAsync is Put in its own goroutine.
func (ch Chain) PutAsync(opts ...Opts) *Future { return ch.async(http.MethodPut, opts) }

// PatchAsync is Patch in its own goroutine.
func (ch Chain) PatchAsync(opts ...Opts) *Future { return ch.async(http.MethodPatch, opts) }

// DeleteAsync is Delete in its own goroutine.
func (ch Chain) DeleteAsync(opts ...Opts) *Future { return ch.async(http.MethodDelete, opts) }
