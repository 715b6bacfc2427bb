// Package emu runs the wxpaytest WeChat Pay emulator as a process of its
// own for the benchmarks, so that the client being measured shares neither
// its heap nor its CPU accounting with the server.
package emu

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// Serve starts the emulator on addr with the keys in dir, writes its base
// URL as one line to out, and serves until stop is closed. If dir holds no
// wxpay.json, fresh keys are generated and written there first (with
// wxpaytest's WriteFiles), so that later runs and the clients use the same
// keys.
//
// The emulator keeps a record of every request for tests to inspect; Serve
// clears it every second, so that a long benchmark does not grow the
// emulator's heap without bound.
func Serve(dir, addr string, out io.Writer, stop <-chan struct{}) error {
	srv := wxpaytest.NewUnstartedServer()
	if addr != "" {
		srv.Addr = addr
	}
	// Sign each distinct answer once a second instead of once per call, so
	// the emulator is not the bottleneck of a client benchmark (it shares
	// the machine's cores with the client). BENCH_EMU_REUSE=0 turns it off.
	srv.ReuseSignatures = os.Getenv("BENCH_EMU_REUSE") != "0"
	fresh := false
	if _, err := os.Stat(filepath.Join(dir, wxpaytest.ConfigFile)); err == nil {
		if err := srv.ReadFiles(dir); err != nil {
			return err
		}
	} else {
		fresh = true
	}
	if err := srv.StartErr(); err != nil {
		return err
	}
	defer srv.Close()
	if fresh {
		if err := srv.WriteFiles(dir); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(out, srv.URL); err != nil {
		return err
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			srv.ResetRequests()
		case <-stop:
			return nil
		}
	}
}

// StopOnStdinClose returns a channel closed when standard input reaches its
// end: the parent process closes the pipe (or exits) to stop the emulator.
func StopOnStdinClose() <-chan struct{} {
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	return stop
}
