//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package wxpay

import (
	"sync"
	"syscall"
)

// peeker looks at a socket without reading from it or blocking.
type peeker struct {
	mu   sync.Mutex
	raw  syscall.RawConn // nil when the socket cannot be reached
	fn   func(fd uintptr) bool
	gone bool
	buf  [1]byte
}

func (p *peeker) init(sc syscall.Conn) {
	if raw, err := sc.SyscallConn(); err == nil {
		p.raw = raw
		p.fn = p.peekFD // bound once: no allocation per request
	}
}

// peerClosed reports whether the connection can no longer carry a request:
// the server closed or reset it, or sent bytes no request asked for (on an
// idle HTTP/1.1 connection, only a TLS close_notify or a farewell answer
// such as a 408). An open, silent connection is not closed.
func (p *peeker) peerClosed() bool {
	if p.raw == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone = false
	if err := p.raw.Read(p.fn); err != nil {
		return true // closed on our side
	}
	return p.gone
}

// peekFD is the RawConn.Read callback: one non-blocking MSG_PEEK of a byte.
// It always returns true, so that RawConn.Read never waits.
func (p *peeker) peekFD(fd uintptr) bool {
	for {
		n, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EINTR {
			continue
		}
		idle := n <= 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK) // nothing to read: open and silent
		p.gone = !idle
		return true
	}
}
