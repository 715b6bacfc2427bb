//go:build linux

package wxpay_test

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
)

// unresponsiveAddr returns the address of a loopback listener whose accept
// queue is full: Linux drops the handshake of a new connection to it, which
// hangs as with a host that drops packets.
func unresponsiveAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	for range 8 { // fill the queue; nothing is ever accepted
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill the accept queue")
	return ""
}

// Config.Timeout bounds the dial of a new connection too, not only the
// exchange on it.
func TestTimeoutBoundsDial(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BaseURL = "http://" + unresponsiveAddr(t) + "/"
	cfg.Timeout = 300 * time.Millisecond
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	took := time.Since(start)
	var netErr *wxpay.NetworkError
	if !errors.As(err, &netErr) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a NetworkError wrapping context.DeadlineExceeded", err)
	}
	// the dialer's own limit of 3 s applied before the fix
	if took > time.Second {
		t.Errorf("a call with Timeout 300ms to an unresponsive host took %v", took)
	}
}
