package wxpay

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Kept-alive connections the server has closed.
//
// A server, or a load balancer in front of it, may close a keep-alive
// connection it finds idle sooner than the client's 30 s. net/http reads
// every idle connection in the background, notices the close and never
// hands that connection out again. fasthttp has no such reader: the next
// request is written on the dead connection and fails with
// ErrConnectionClosed although the server never saw it, and nothing in the
// error says the connection was a reused one.
//
// keepAliveConn, the connection type of the default transport, brings the
// net/http guarantee back. fasthttp sets a connection's write deadline just
// before it writes each request and its read deadline once the request is
// written (transport.RoundTrip in fasthttp v1.74.0), so:
//
//   - SetReadDeadline counts the requests written on the connection. (Not
//     SetWriteDeadline: tls.Conn.Close calls that too, to send close_notify,
//     so it would count the closing of a connection as a request.)
//   - SetWriteDeadline on a connection that already carried a request
//     peeks at its socket without blocking (peerClosed). If the server has
//     closed it (end of stream, a reset, or bytes no request asked for,
//     such as a TLS close_notify alert), it fails with errIdleClosed: fasthttp
//     closes the connection and returns before writing a single byte.
//
// The transport's RetryIfErr lets fasthttp take another connection (or dial
// one) after errIdleClosed and only then: the request was never written,
// so its Authorization has not been used and no server can have acted on
// it. Any other failure is never resent by fasthttp.
//
// What is left is the race in which the server closes the connection while
// the request is on its way. The request may then have been read, so wxpay
// resends it (signed afresh) only if it is a GET, which changes nothing at
// WeChat Pay; this is net/http's rule too (shouldRetryRequest: a reused
// connection, and nothing written or a replayable request). A POST that may
// have reached WeChat Pay is never resent silently: the caller gets a
// *NetworkError, which a RetryPolicy resends with the same body, as for any
// lost answer.

// errIdleClosed is returned by a keepAliveConn's SetWriteDeadline when the
// server has closed the idle connection: the request was not written.
var errIdleClosed = errors.New("the server had closed the idle keep-alive connection; nothing was sent on it")

// keepAliveConn is a connection of the default transport; see above.
type keepAliveConn struct {
	net.Conn
	addr    connAddr
	written atomic.Int32 // requests written on the connection
	peek    peeker
}

// connAddr is the local address of a keepAliveConn. fasthttp stores it in
// the Response (Response.LocalAddr), which is how a failed exchange finds
// the connection it used.
type connAddr struct {
	net.Addr
	c *keepAliveConn
}

func newKeepAliveConn(conn net.Conn) *keepAliveConn {
	c := &keepAliveConn{Conn: conn}
	c.addr = connAddr{Addr: conn.LocalAddr(), c: c}
	if sc, ok := conn.(syscall.Conn); ok {
		c.peek.init(sc)
	}
	return c
}

// LocalAddr returns the local address, which leads back to c.
func (c *keepAliveConn) LocalAddr() net.Addr { return &c.addr }

// SetWriteDeadline is called by fasthttp before it writes a request; on a
// reused connection it first checks that the server has not closed it.
func (c *keepAliveConn) SetWriteDeadline(t time.Time) error {
	if c.written.Load() > 0 && c.peek.peerClosed() {
		return errIdleClosed
	}
	return c.Conn.SetWriteDeadline(t)
}

// SetReadDeadline is called by fasthttp once a request is written.
func (c *keepAliveConn) SetReadDeadline(t time.Time) error {
	c.written.Add(1)
	return c.Conn.SetReadDeadline(t)
}

// keepAliveDial wraps the connections dial makes in keepAliveConn.
func keepAliveDial(dial fasthttp.DialFunc) fasthttp.DialFunc {
	return func(addr string) (net.Conn, error) { return keepAlive(dial(addr)) }
}

// keepAlive wraps a connection just dialled in keepAliveConn. A connection
// that is already TLS is left alone: fasthttp would otherwise not see that
// it is.
func keepAlive(conn net.Conn, err error) (net.Conn, error) {
	if err != nil {
		return nil, err
	}
	if _, isTLS := conn.(interface{ Handshake() error }); isTLS {
		return conn, nil
	}
	return newKeepAliveConn(conn), nil
}

// retryIdleClosed is the default transport's RetryIfErr: fasthttp may take
// another connection after errIdleClosed, when nothing was written, and
// after no other error.
func retryIdleClosed(_ *fasthttp.Request, _ int, err error) (resetTimeout, retry bool) {
	return false, errors.Is(err, errIdleClosed)
}

// keptAliveFailure tells, for the failed exchange whose response is resp,
// whether it failed on a reused connection the server closed before any
// byte of the answer came back (the server was reachable moments ago, so
// it is no reason to fail over), and whether the request may therefore be
// sent again at once, signed afresh: when nothing was written, or when it
// is a GET.
func keptAliveFailure(method string, resp *fasthttp.Response, err error) (reused, resend bool) {
	if errors.Is(err, errIdleClosed) {
		return true, true
	}
	if !errors.Is(err, fasthttp.ErrConnectionClosed) {
		return false, false
	}
	a, ok := resp.LocalAddr().(*connAddr)
	if !ok || a.c.written.Load() < 2 {
		return false, false // a fresh connection: the server hung up on this request
	}
	return true, method == http.MethodGet
}
