// Command wxpay calls the WeChat Pay APIv3 from the command line, runs a
// self-contained demonstration against an in-process emulator, and serves
// that emulator on its own.
//
//	wxpay METHOD PATH [name=value ...] [flags]   sign, send and verify one call
//	wxpay demo                                   the seed calls, against the emulator
//	wxpay emulator [--addr ADDR] [--dir DIR]     a standalone WeChat Pay emulator
//	wxpay download --date D -o FILE              download and check a bill
//	wxpay certificates [--dir DIR] [--tofu]      download the platform certificates
//
// Run "wxpay -h" or "wxpay COMMAND -h" for the details.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the call failed: an API error, an untrusted answer, a network problem
	exitUsage = 2 // the command line is wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	code := report(m.Stderr, m.Run(ctx, os.Args[1:]))
	stop()
	os.Exit(code)
}

// Main is the wxpay program: its input and output streams and environment.
// The zero value is not usable; create it with NewMain, or fill every field
// (tests do).
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up an environment variable. If nil, os.Getenv is used.
	Getenv func(string) string
}

// NewMain returns a Main wired to the process's standard streams and
// environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

func (m *Main) getenv(name string) string {
	if m.Getenv == nil {
		return os.Getenv(name)
	}
	return m.Getenv(name)
}

// Run runs the command named by args (the arguments after the program
// name). It returns nil on success, errHelp when help was asked for and
// printed, a *usageError for a bad command line, and any other error for a
// failed call; report turns each into a message and an exit code.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, mainUsage)
		return &usageError{msg: "no command given", printed: true}
	}
	switch strings.ToLower(args[0]) {
	case "demo":
		return (&DemoCommand{m: m}).Run(ctx, args[1:])
	case "emulator":
		return (&EmulatorCommand{m: m}).Run(ctx, args[1:])
	case "download":
		return (&DownloadCommand{m: m}).Run(ctx, args[1:])
	case "certificates":
		return (&CertificatesCommand{m: m}).Run(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return m.Run(ctx, []string{args[1], "-h"})
		}
		fmt.Fprint(m.Stdout, mainUsage)
		return errHelp
	}
	return (&CallCommand{m: m}).Run(ctx, args)
}

// errHelp reports that help was asked for and has been printed.
var errHelp = errors.New("help printed")

// usageError is a mistake on the command line. It is reported with a hint
// to the command's help, and exit status 2.
type usageError struct {
	cmd     string // "post", "demo", ...: the command whose help the hint names
	msg     string
	printed bool // the usage text was already printed
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, a ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, a...)}
}

// report writes err to w the way a user should read it and returns the
// exit code for it.
func report(w io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "wxpay: %s\n", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(w, "Try: wxpay %s -h\n", ue.cmd)
		} else if !ue.printed {
			fmt.Fprintln(w, "Try: wxpay -h")
		}
		return exitUsage
	}
	if reportCallError(w, err) {
		return exitError
	}
	fmt.Fprintf(w, "wxpay: %v\n", err)
	return exitError
}

const mainUsage = `wxpay calls the WeChat Pay APIv3 (微信支付) from the command line: it signs
the request, sends it, verifies the signature of the answer and prints it.

Usage:

	wxpay METHOD PATH [name=value ...] [flags]
	wxpay demo [--json]
	wxpay emulator [--addr ADDR] [--dir DIR]
	wxpay download --date YYYY-MM-DD -o FILE [--fundflow] [--type T] [--gzip]
	wxpay certificates [--dir DIR] [--tofu]

Commands:

	get, post, put, patch, delete   call one endpoint (wxpay post -h for the flags)
	demo                            run the seed calls against an in-process emulator
	emulator                        serve the WeChat Pay emulator until interrupted
	download                        download a trade or fund flow bill, checking its digest
	certificates                    download and decrypt the platform certificates

Credentials come from --config FILE or from the environment variables
WXPAY_MCHID, WXPAY_SERIAL, WXPAY_PRIVATE_KEY, WXPAY_CERTS, WXPAY_APIV3_KEY
and WXPAY_BASE_URL.

Exit status: 0 on success, 1 when the call fails (an API error, an answer
whose signature does not verify, a network problem), 2 for a usage error.

Try: wxpay demo
`
