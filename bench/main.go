// Command bench compares the cost of one signed and verified WeChat Pay
// APIv3 call across Go SDKs: wxpay (with its OpenSSL and its crypto/rsa
// backend), the official wechatpay-go, and gopay, next to the two pure
// crypto floors (sign + verify with libcrypto and with crypto/rsa, no HTTP).
//
// Every client makes the same POST
// /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund to the
// wxpaytest emulator, which runs in a separate process on loopback and
// checks each request's signature; each client verifies each response's
// signature. Each client runs in a child process of its own so that its
// CPU time (getrusage) and allocation counts (runtime.MemStats) are its own.
//
// Run without -client, bench is the driver: it starts the emulator and the
// child processes in turn and prints a Markdown report on standard output
// (progress goes to standard error):
//
//	go run . -d 3s                      # the full matrix (a few minutes)
//	go run . -d 3s -conc 16 -body 100   # the main table only
//
// The report starts, before the runs, with a machine line: CPU model, core
// count, the libcrypto the OpenSSL backend loads and the openssl CLI's
// version, whether OpenSSL uses AVX-512 IFMA (the CPU flag, and
// OPENSSL_ia32cap, which can mask it), the Go version, the RSA-2048 sign
// time from `openssl speed -seconds 1 rsa2048` and as measured in process
// with libcrypto and crypto/rsa, the date and the git commit. Then come the
// tables, and the run's conclusions, each a ratio of two figures of the
// same run.
//
// With -gobench-md CMD, bench instead reads the output of the go test
// benchmark command CMD on standard input and prints it as a Markdown table
// (make bench-compare does so for the library's 1 GiB bill download).
//
// A child run can also be made by hand against a running emulator (see
// cmd/emulator):
//
//	bench -client wxpay-openssl -dir KEYS -url http://127.0.0.1:PORT/ -c 16 -d 5s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wxpay-chain/wxpay/bench/emu"
)

// Client names accepted by -client, in the order of the tables.
var clientNames = []string{"wxpay-openssl", "wxpay-go", "wechatpay-go", "gopay", "floor-openssl", "floor-go"}

func main() {
	var (
		role    = flag.String("role", "", `"emulator" to serve the emulator (used by the driver)`)
		client  = flag.String("client", "", "run one client and print its result as JSON: "+fmt.Sprint(clientNames))
		dir     = flag.String("dir", "", "keys directory written by the emulator (child, emulator)")
		url     = flag.String("url", "", "emulator base URL (child)")
		conc    = flag.String("c", "16", "goroutines making calls (child); driver: see -conc")
		d       = flag.Duration("d", 3*time.Second, "measured time per client and configuration")
		warm    = flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up before each measurement")
		body    = flag.Int("body-size", baseBodySize, "request body size in bytes (child)")
		emuPID  = flag.Int("emu-pid", 0, "emulator process id, to measure its CPU (child)")
		clients = flag.String("clients", "", "driver: comma-separated clients to run (default all)")
		concs   = flag.String("conc", "1,16,256", "driver: concurrencies for the scaling table")
		bodies  = flag.String("body", "100,4096,65536", "driver: body sizes for the scaling table")
		mainC   = flag.Int("main-c", 16, "driver: concurrency of the main table and of the body-size table")
		rounds  = flag.Int("rounds", 1, "driver: run everything this many times and report each figure's median run (by calls/s)")
		jsonOut = flag.String("json", "", "driver: also write every result as JSON to this file")
		gobench = flag.String("gobench-md", "", "read the output of this `go test -bench` command on standard input, echo it to standard error, and print its results as Markdown")
	)
	flag.Parse()
	switch {
	case *gobench != "":
		if err := formatGoBench(os.Stdin, os.Stdout, os.Stderr, *gobench); err != nil {
			fail(err)
		}
	case *role == "emulator":
		if *dir == "" {
			fail(fmt.Errorf("-dir is required"))
		}
		if err := emu.Serve(*dir, "127.0.0.1:0", os.Stdout, emu.StopOnStdinClose()); err != nil {
			fail(err)
		}
	case *role != "":
		fail(fmt.Errorf("unknown -role %q", *role))
	case *client != "":
		var c int
		if _, err := fmt.Sscan(*conc, &c); err != nil || c < 1 {
			fail(fmt.Errorf("-c %q: want a positive number", *conc))
		}
		r, err := runChild(*client, *dir, *url, c, *body, *warm, *d, *emuPID)
		if err != nil {
			fail(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
			fail(err)
		}
	default:
		cfg := driverConfig{d: *d, warm: *warm, mainC: *mainC, mainBody: baseBodySize, rounds: max(1, *rounds), jsonOut: *jsonOut, args: os.Args[1:]}
		var err error
		if cfg.clients, err = parseNames(*clients); err != nil {
			fail(err)
		}
		if cfg.concs, err = parseInts(*concs); err != nil {
			fail(fmt.Errorf("-conc: %w", err))
		}
		if cfg.bodies, err = parseInts(*bodies); err != nil {
			fail(fmt.Errorf("-body: %w", err))
		}
		if err := drive(cfg); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
