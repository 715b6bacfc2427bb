// Command emulator serves the wxpaytest WeChat Pay emulator for the
// benchmarks in a process of its own. It prints its base URL on the first
// line of standard output and serves until standard input is closed (or it
// is interrupted).
//
//	emulator -dir /tmp/keys [-addr 127.0.0.1:0]
//
// dir receives the keys and wxpay.json on the first run (see wxpaytest's
// WriteFiles) and supplies them on later runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/wxpay-chain/wxpay/bench/emu"
)

func main() {
	dir := flag.String("dir", "", "directory for the keys and wxpay.json (required)")
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "emulator: -dir is required")
		os.Exit(2)
	}
	stop := make(chan struct{})
	stdin := emu.StopOnStdinClose()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		select {
		case <-stdin:
		case <-sig:
		}
		close(stop)
	}()
	if err := emu.Serve(*dir, *addr, os.Stdout, stop); err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}
