package wxpay

import (
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// ErrDigestMismatch is returned (wrapped) when a downloaded file does not
// match the digest WeChat Pay announced for it. The file must not be trusted:
// it was damaged or altered on the way. The bytes have nevertheless already
// been written to the caller's writer, so write to a temporary file and keep
// it only on success, as Chain.DownloadFile does.
var ErrDigestMismatch = errors.New("wxpay: downloaded file does not match its digest")

// maxErrorBody bounds how much of a failed download's answer is read for the
// *APIError.
const maxErrorBody = 64 << 10

// Bill describes a bill file (交易账单, 资金账单): what WeChat Pay announced
// when the bill was applied for, and what the download found.
type Bill struct {
	// HashType names the digest algorithm: "SHA1" (what WeChat Pay uses) or
	// "SHA256".
	HashType string `json:"hash_type"`
	// HashValue is the hexadecimal digest of the uncompressed bill file.
	HashValue string `json:"hash_value"`
	// DownloadURL is where the file is fetched from, with a short-lived
	// token. It must be on a host the client sends signed requests to.
	DownloadURL string `json:"download_url"`
	// Gzip reports that the file is sent gzip-compressed (tar_type=GZIP);
	// it is decompressed before it is written and checked.
	Gzip bool `json:"-"`
	// Size is the number of bytes written, after decompression. It is set
	// by the download.
	Size int64 `json:"-"`
}

// Download applies for a bill with a GET to the chain's path
// (v3/bill/tradebill or v3/bill/fundflowbill, with bill_date, bill_type or
// account_type and tar_type in opts["query"]), then fetches the file it
// names and writes it to w, decompressed when tar_type is GZIP. See
// Client.DownloadBill for how the file is fetched and checked.
//
// The application is an ordinary call (signed, verified, retried as the
// client's RetryPolicy allows); the file is not, as WeChat Pay does not sign
// it. opts are the application's: its headers option goes with the
// application only, while the file's fetch gets Config.Headers and the
// debug option. If the digest does not match, the error wraps ErrDigestMismatch and
// w has already received bytes that must not be trusted; DownloadFile
// writes to a path only on success.
//
// https://pay.weixin.qq.com/doc/v3/merchant/4012556654
func (ch Chain) Download(ctx context.Context, opts Opts, w io.Writer) (*Bill, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if w == nil {
		return nil, fmt.Errorf("%w: Download needs a writer", ErrInvalidOption)
	}
	resp, err := ch.Do(ctx, http.MethodGet, opts)
	if err != nil {
		return nil, err
	}
	b := &Bill{}
	if err := resp.Unmarshal(b); err != nil || b.DownloadURL == "" {
		return nil, fmt.Errorf("wxpay: %s: answer is not a bill description (download_url, hash_type, hash_value)", ch.String())
	}
	b.Gzip, err = wantsGzip(ch, opts)
	if err != nil {
		return nil, err
	}
	if err := ch.c.downloadBill(ctx, b, w, debugOption(opts)); err != nil {
		return b, err
	}
	return b, nil
}

// DownloadFile is Download into the file at path. The bill is written to a
// temporary file in the same directory, synced to disk and renamed to path
// only when its digest matches; on any failure the temporary file is
// removed and path is left as it was. The file is created with mode 0600,
// as bills are confidential. A path that is a directory, or in a directory
// where the file cannot be made, is refused with ErrInvalidOption before
// anything is sent.
func (ch Chain) DownloadFile(ctx context.Context, opts Opts, path string) (*Bill, error) {
	return ch.DownloadFileProgress(ctx, opts, path, nil)
}

// DownloadFileProgress is DownloadFile calling progress, if not nil, after
// each write to the file with the number of bytes written so far, for a
// progress display. progress runs on the downloading goroutine: keep it
// short.
func (ch Chain) DownloadFileProgress(ctx context.Context, opts Opts, path string, progress func(written int64)) (*Bill, error) {
	if ctx == nil {
		return nil, errNilContext // before the file is made
	}
	var b *Bill
	err := writeFileAtomic(path, func(w io.Writer) error {
		if progress != nil {
			w = &progressWriter{w: w, fn: progress}
		}
		var err error
		b, err = ch.Download(ctx, opts, w)
		return err
	})
	return b, err
}

// progressWriter reports the bytes written through it.
type progressWriter struct {
	w  io.Writer
	n  int64
	fn func(int64)
}

func (pw *progressWriter) Write(p []byte) (int, error) {
	n, err := pw.w.Write(p)
	pw.n += int64(n)
	pw.fn(pw.n)
	return n, err
}

// wantsGzip reports whether the bill was asked for with tar_type=GZIP, in
// the query option or in the query of a full-URL chain.
func wantsGzip(ch Chain, opts Opts) (bool, error) {
	tar := ""
	if q, ok := opts["query"]; ok && q != nil {
		vals, err := queryValues(q)
		if err != nil {
			return false, err
		}
		tar = vals.Get("tar_type")
	}
	if _, q, ok := strings.Cut(ch.tmpl, "?"); ok && tar == "" {
		if vals, err := url.ParseQuery(q); err == nil {
			tar = vals.Get("tar_type")
		}
	}
	return strings.EqualFold(tar, "GZIP"), nil
}

// newDigest returns the hash named by a bill's hash_type and the length of
// its hexadecimal form.
func newDigest(hashType string) (hash.Hash, error) {
	switch strings.ToUpper(strings.ReplaceAll(hashType, "-", "")) {
	case "SHA1":
		return sha1.New(), nil
	case "SHA256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("wxpay: bill hash_type %q is not supported (want SHA1 or SHA256): the file could not be checked", hashType)
}

// DownloadBill fetches the file b describes (the download_url, hash_type and
// hash_value of a bill application) and writes it to w, setting b.Size.
//
// The request is signed like any other and goes only to a host the client
// sends signed requests to: a download_url on another host is refused with
// ErrHostNotAllowed before anything is sent. The answer is streamed: memory
// use stays bounded (a few tens of KiB) whatever the size of the file, and
// Config.MaxResponseBodySize does not apply. When b.Gzip is set the file is
// decompressed on the fly; a stream that expands more than 100 times (past
// its first 64 MiB), as no bill does, is stopped with an error wrapping
// ErrResponseTooLarge. The digest is computed over the uncompressed
// bytes, as WeChat Pay documents it (原始账单（gzip需要解压缩）的摘要值), and
// compared at the end: a mismatch returns an error wrapping
// ErrDigestMismatch, after w has received every byte.
//
// ctx bounds the whole download, and cancelling it stops it promptly. Each
// read from the network must also make progress within Config.Timeout; the
// download as a whole may take longer.
func (c *Client) DownloadBill(ctx context.Context, b *Bill, w io.Writer) error {
	if ctx == nil {
		return errNilContext
	}
	return c.downloadBill(ctx, b, w, nil)
}

// downloadBill is DownloadBill with opts, which may hold the debug option
// of the call that applied for the bill.
func (c *Client) downloadBill(ctx context.Context, b *Bill, w io.Writer, opts Opts) error {
	if b == nil || w == nil {
		return fmt.Errorf("%w: DownloadBill needs a bill and a writer", ErrInvalidOption)
	}
	h, err := newDigest(b.HashType)
	if err != nil {
		return err
	}
	want, err := hex.DecodeString(b.HashValue)
	if err != nil || len(want) != h.Size() {
		return fmt.Errorf("wxpay: bill hash_value %q is not a %s digest in hexadecimal: the file could not be checked", b.HashValue, strings.ToUpper(b.HashType))
	}
	ch := c.Chain(b.DownloadURL)
	if ch.err != nil {
		return ch.err
	}
	if ch.origin == "" {
		return fmt.Errorf("%w: download_url %q is not a full URL", ErrInvalidPath, redactQuery(b.DownloadURL))
	}
	body, finish, err := c.stream(ctx, ch, opts)
	if err != nil {
		return err
	}
	defer finish()

	var src io.Reader = body
	if b.Gzip {
		in := &countReader{r: body}
		gz, err := gzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("wxpay: bill %s: not gzip data: %w", redactQuery(b.DownloadURL), streamErr(ctx, err))
		}
		defer gz.Close()
		src = &expansionGuard{r: gz, in: in}
	}
	cw := &countWriter{w: w}
	_, err = io.Copy(io.MultiWriter(cw, h), src)
	b.Size = cw.n
	if err != nil {
		if cw.err != nil {
			return fmt.Errorf("wxpay: bill: write: %w", cw.err)
		}
		return fmt.Errorf("wxpay: bill %s: read after %d bytes: %w", redactQuery(b.DownloadURL), cw.n, streamErr(ctx, err))
	}
	if got := h.Sum(nil); subtle.ConstantTimeCompare(got, want) != 1 {
		return fmt.Errorf("%w: %s of the %d bytes received is %x, WeChat Pay announced %s; do not use what was written",
			ErrDigestMismatch, strings.ToUpper(b.HashType), cw.n, got, strings.ToLower(b.HashValue))
	}
	return nil
}

// A gzip bill may expand at most maxBillExpansion times the compressed
// bytes read, once past freeBillExpansion bytes. A bill is text with an id
// and an amount on every line, which gzip shrinks ten to twenty times; a
// stream that expands much more is no bill but a decompression bomb, and is
// stopped before it fills the writer's disk.
const (
	maxBillExpansion  = 100
	freeBillExpansion = 64 << 20
)

// countReader counts the bytes read from r.
type countReader struct {
	r io.Reader
	n int64
}

func (cr *countReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

// expansionGuard reads the decompressed bill from r, failing once it has
// expanded more than a bill can from the compressed bytes in has read.
type expansionGuard struct {
	r   io.Reader
	in  *countReader
	out int64
}

func (g *expansionGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.out += int64(n)
	if g.out > freeBillExpansion && g.out > maxBillExpansion*g.in.n {
		return n, fmt.Errorf("%w: the gzip bill expands more than %d times (%d bytes from %d): no bill does, it is refused", ErrResponseTooLarge, maxBillExpansion, g.out, g.in.n)
	}
	return n, err
}

// streamErr prefers the context's error to the transport error it caused.
func streamErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// countWriter counts the bytes written to w and keeps w's error apart from
// the reader's.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (cw *countWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err != nil {
		cw.err = err
	}
	return n, err
}

// stream sends a signed GET for a download and returns the body of a 2xx
// answer as a stream. finish must be called when done with it; it closes the
// connection. A non-2xx answer is returned as an *APIError. opts may hold
// the debug option, the one option a download takes. The exchange goes
// through the client's middleware, as an attempt 1 whose answer has no
// body.
func (c *Client) stream(ctx context.Context, ch Chain, opts Opts) (io.Reader, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	p, err := c.prepare(http.MethodGet, ch, opts, nil)
	if err != nil {
		return nil, nil, err
	}
	if c.limiter != nil {
		if err := c.limiter.wait(ctx); err != nil {
			return nil, nil, err
		}
	}
	target := string(p.target)
	auth, err := c.authorization(nil, nil, p.method, target, nil) // sign.go
	if err != nil {
		return nil, nil, err
	}

	conns := &connSet{idle: c.timeout}
	if dl, ok := ctx.Deadline(); ok {
		conns.deadline = dl
	}
	hc := c.streamClient(conns)
	stop := context.AfterFunc(ctx, conns.closeAll)
	// A download asks for any type, whatever its path (transport.go).
	req := c.newRequest(p, p.origin, target, auth, acceptFile)
	resp := fasthttp.AcquireResponse()
	finish := func() {
		stop()
		conns.closeAll()
		resp.CloseBodyStream()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		hc.CloseIdleConnections()
	}
	// Only the context bounds a download: its deadline, if any, is the
	// one a middleware is shown (ExchangeRequest.Deadline).
	t := &trip{hc: hc, method: p.method, origin: p.origin, target: target, deadline: conns.deadline, attempt: 1, debug: p.debug, token: true}
	send := func(ctx context.Context, added [][2]string) (*Response, error) {
		for _, h := range added {
			req.Header.Add(h[0], h[1])
		}
		r, err := c.streamHead(ctx, t, req, resp)
		if err != nil {
			finish()
		}
		return r, err
	}
	if c.middleware == nil {
		_, err = send(ctx, nil)
	} else {
		x := newExchangeRequest(t, req) // middleware.go
		var sent *Response
		var sentErr error
		x.send = func(ctx context.Context) (*Response, error) {
			r, err := send(ctx, x.added)
			sent, sentErr = r, err // read by the outcome only once exchangeSent
			if !x.state.CompareAndSwap(exchangeSending, exchangeSent) && err == nil {
				// The middleware has returned (exchangeAbandoned): nobody
				// will read the answer's body or release what the download
				// holds.
				finish()
			}
			return r, err
		}
		_, err = c.runMiddleware(ctx, t, x, finish, finish, func() (*Response, error) { return sent, sentErr })
	}
	if err != nil {
		return nil, nil, err
	}
	return resp.BodyStream(), finish, nil
}

// streamHead sends req, the request of the download t, and reads the head
// of the answer into resp: a 2xx answer's body is left to stream, and is
// nil in the Response returned; another answer is an *APIError.
func (c *Client) streamHead(ctx context.Context, t *trip, req *fasthttp.Request, resp *fasthttp.Response) (*Response, error) {
	t.debug.request(t, req) // debug.go
	start := time.Now()
	if err := t.hc.Do(req, resp); err != nil {
		err = transportError(ctx, t.method, t.origin, t.target, err)
		t.debug.failed(t, time.Since(start), err)
		return nil, err
	}
	took := time.Since(start)
	status := resp.StatusCode()
	header := make(http.Header, 12)
	for k, v := range resp.Header.All() {
		header.Add(string(k), string(v))
	}
	if status < 200 || status > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.BodyStream(), maxErrorBody))
		err := c.apiError(status, header, signatureHeaders(header), body, nil) // response.go
		t.debug.streamResponse(t, took, resp, err)
		return nil, err
	}
	t.debug.streamResponse(t, took, resp, nil)
	return &Response{StatusCode: status, Header: header}, nil
}

// streamClient returns a fasthttp client for one download: it streams the
// answer instead of buffering it, sets no cap on its size, and dials
// through conns, which bounds each read and closes the connection when the
// download is cancelled. It reuses the dialer and TLS settings of the
// client's transport.
func (c *Client) streamClient(conns *connSet) *fasthttp.Client {
	dial := c.hc.Dial
	if dial == nil {
		timeout := c.hc.DialTimeout
		dial = func(addr string) (net.Conn, error) {
			if timeout != nil {
				return timeout(addr, c.timeout)
			}
			return fasthttp.DialTimeout(addr, c.timeout)
		}
	}
	tlsConfig := c.hc.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &fasthttp.Client{
		Name:                      c.userAgent,
		WriteTimeout:              c.timeout,
		MaxIdemponentCallAttempts: 1,
		DisablePathNormalizing:    true,
		StreamResponseBody:        true,
		TLSConfig:                 tlsConfig,
		Dial: func(addr string) (net.Conn, error) {
			conn, err := dial(addr)
			if err != nil {
				return nil, err
			}
			return conns.add(conn), nil
		},
	}
}

// connSet holds the connections of one download.
type connSet struct {
	idle     time.Duration // each read must make progress within it
	deadline time.Time     // the context's deadline, if any

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// add wraps conn so that every read gets a fresh deadline, and keeps it to
// close later.
func (s *connSet) add(conn net.Conn) net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return conn
	}
	s.conns = append(s.conns, conn)
	return &idleConn{Conn: conn, set: s}
}

// closeAll closes every connection; reads in progress fail at once.
func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// idleConn replaces fasthttp's whole-exchange read deadline with one per
// read, so that a large file may take as long as it needs while a stalled
// connection still fails.
type idleConn struct {
	net.Conn
	set *connSet
}

func (c *idleConn) Read(p []byte) (int, error) {
	d := time.Now().Add(c.set.idle)
	if !c.set.deadline.IsZero() && c.set.deadline.Before(d) {
		d = c.set.deadline
	}
	if err := c.Conn.SetReadDeadline(d); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// SetReadDeadline is ignored: Read sets the deadline.
func (c *idleConn) SetReadDeadline(time.Time) error { return nil }

// SetDeadline sets only the write deadline: Read sets its own.
func (c *idleConn) SetDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(t) }

// writeFileAtomic calls fill with a temporary file next to path and, if fill
// succeeds, syncs the file and renames it to path. On failure the temporary
// file is removed and path is untouched.
func writeFileAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("%w: %q is a directory, want a file path", ErrInvalidOption, path)
	}
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: %q is a directory, want a file path", ErrInvalidOption, path)
	}
	// The temporary file is made before fill sends anything, so a path
	// that cannot take the file (a missing directory, no permission) is
	// refused with nothing sent.
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("%w: cannot write the file %q: %w", ErrInvalidOption, path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("wxpay: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("wxpay: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("wxpay: %w", err)
	}
	// Make the rename durable too; not every system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
