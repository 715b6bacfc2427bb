package wxpay

// This file is the debug log, the Go form of Guzzle's debug option: for a
// call given the debug option, or every call of a client with
// Config.Debug, what each attempt sends and receives is written out, with
// what is derived from a key elided.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// debugBodyMax is how much of a body the debug log shows.
const debugBodyMax = 64 << 10

// debugLog is where the attempts of one call are logged.
type debugLog struct {
	w    io.Writer
	mu   *sync.Mutex // the client's: one block is written at a time
	call uint64      // the call's number in the client's log
}

// debugFor returns the log of a call made with opts, nil if the call is
// not logged. The debug option decides: true logs to Config.Debug, or
// os.Stderr if it is not set; an io.Writer logs to it; false logs
// nothing. Without the option, a call is logged to Config.Debug if set.
func (c *Client) debugFor(opts Opts) (*debugLog, error) {
	w := c.debugW
	if v, ok := option(opts, "debug"); ok {
		switch d := v.(type) {
		case bool:
			w = nil
			if d {
				w = c.debugW
				if w == nil {
					w = os.Stderr
				}
			}
		case io.Writer:
			if isTypedNil(d) {
				return nil, fmt.Errorf("%w: debug is a nil %T", ErrInvalidOption, d)
			}
			w = d
		default:
			return nil, fmt.Errorf("%w: debug is %T, want a bool or an io.Writer", ErrInvalidOption, v)
		}
	}
	if w == nil {
		return nil, nil
	}
	return &debugLog{w: w, mu: &c.debugMu, call: c.debugSeq.Add(1)}, nil
}

// debugOption returns Opts holding only the debug option of opts, nil
// without one: what a download takes of the options of the call that
// applied for it.
func debugOption(opts Opts) Opts {
	if v, ok := option(opts, "debug"); ok {
		return Opts{"debug": v}
	}
	return nil
}

// write writes one block of the log.
func (d *debugLog) write(b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w.Write(b) // a failing log must not fail the call
}

// head starts a block about attempt t.
func (d *debugLog) head(b *bytes.Buffer, t *trip, format string, a ...any) {
	fmt.Fprintf(b, "wxpay debug: call %d, attempt %d: ", d.call, t.attempt)
	fmt.Fprintf(b, format, a...)
	b.WriteByte('\n')
}

// request logs the request of attempt t, as it goes on the wire: the
// request line, the headers with the Authorization signature elided, and
// the body (an APIv2 body with its sign elided). The query of a download
// URL is shown as errors show it.
func (d *debugLog) request(t *trip, req *fasthttp.Request) {
	if d == nil {
		return
	}
	var b bytes.Buffer
	d.head(&b, t, "request")
	target := t.target
	if t.token {
		target = redactQuery(target)
	}
	fmt.Fprintf(&b, "%s %s%s\n", t.method, t.origin, target)
	for k, v := range req.Header.All() {
		fmt.Fprintf(&b, "%s: %s\n", k, shownHeader(k, v)) // middleware.go
	}
	writeDebugBody(&b, req.Body(), t.v2)
	d.write(b.Bytes())
}

// response logs the answer of attempt t, received after took: what the
// check made of it (err, or the answer r), the status, the headers and
// the body (an APIv2 body with its sign elided).
func (d *debugLog) response(t *trip, took time.Duration, resp *fasthttp.Response, r *Response, err error) {
	if d == nil {
		return
	}
	var b bytes.Buffer
	d.head(&b, t, "response after %v: %s", took.Round(time.Microsecond), outcome(t, r, err))
	d.status(&b, resp)
	writeDebugBody(&b, resp.Body(), t.v2)
	d.write(b.Bytes())
}

// streamResponse logs the head of a streamed download's answer, whose
// body goes to the caller's writer and is not shown; the body of an
// *APIError, which was read, is.
func (d *debugLog) streamResponse(t *trip, took time.Duration, resp *fasthttp.Response, err error) {
	if d == nil {
		return
	}
	var b bytes.Buffer
	d.head(&b, t, "response after %v: %s", took.Round(time.Microsecond), outcome(t, nil, err))
	d.status(&b, resp)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		writeDebugBody(&b, apiErr.Body, false)
	} else {
		b.WriteString("\n[the body is streamed to the caller's writer, not shown]\n")
	}
	d.write(b.Bytes())
}

// status writes the status line and the headers of resp.
func (d *debugLog) status(b *bytes.Buffer, resp *fasthttp.Response) {
	fmt.Fprintf(b, "%d %s\n", resp.StatusCode(), http.StatusText(resp.StatusCode()))
	for k, v := range resp.Header.All() {
		fmt.Fprintf(b, "%s: %s\n", k, v)
	}
}

// outcome says what the check of the answer to attempt t found.
func outcome(t *trip, r *Response, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case r == nil:
		return "not signed (a download): the body is streamed"
	case r.Verified:
		return "signature valid"
	case t.v2:
		return "not signed (an APIv2 answer without sign), not verified"
	}
	return "not signed by WeChat Pay (a download), not verified"
}

// failed logs an attempt t that got no answer, after took.
func (d *debugLog) failed(t *trip, took time.Duration, err error) {
	if d == nil {
		return
	}
	var b bytes.Buffer
	d.head(&b, t, "no answer after %v: %v", took.Round(time.Microsecond), err)
	d.write(b.Bytes())
}

// notSent logs an attempt t that a middleware ended before it was sent.
func (d *debugLog) notSent(t *trip, err error) {
	if d == nil {
		return
	}
	var b bytes.Buffer
	d.head(&b, t, "not sent: %v", err)
	d.write(b.Bytes())
}

// writeDebugBody writes a blank line and body: text up to debugBodyMax
// bytes, a note for binary data. What viewBody takes out of a body (an
// APIv2 sign, a download_url's token) is taken out.
func writeDebugBody(b *bytes.Buffer, body []byte, v2 bool) {
	b.WriteByte('\n')
	switch {
	case len(body) == 0:
		b.WriteString("[no body]\n")
		return
	case !isText(body):
		fmt.Fprintf(b, "[%d bytes, not text]\n", len(body))
		return
	}
	body = viewBody(body, v2) // middleware.go
	more := 0
	if len(body) > debugBodyMax {
		more = len(body) - debugBodyMax
		body = body[:debugBodyMax]
	}
	b.Write(body)
	if more > 0 {
		fmt.Fprintf(b, "\n[%d more bytes not shown]", more)
	}
	b.WriteByte('\n')
}

// isText reports whether body is UTF-8 text without control characters
// but tabs and line breaks.
func isText(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for _, c := range body {
		if c < ' ' && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}
