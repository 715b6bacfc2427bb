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
				f.resp, f.err = nil, fmt.Errorf("wxpay: callback panicked: %v", p)
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
// arrives. If the call failed, onFulfilled is skipped and the new Future holds
// the same error. A panic in onFulfilled becomes the new Future's error.
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
// failed; it may recover by returning a response. A successful result passes
// through untouched.
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
