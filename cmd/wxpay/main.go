// Command wxpay calls the WeChat Pay APIv3 from the command line, runs a
// self-contained demonstration against an in-process emulator, and serves
// that emulator on its own.
//
//	wxpay METHOD PATH [name=value ...] [flags]   sign, send and verify one call
//	wxpay demo                                   the seed calls, against the emulator
//	wxpay emulator [--dir DIR] [flags]           a standalone WeChat Pay emulator
//	wxpay download --date D -o FILE              download and check a bill
//	wxpay certificates [--dir DIR] [--tofu]      download the platform certificates
//	wxpay endpoints [WORDS...] [--json]          find APIv3 operations in the catalogue
//	wxpay describe METHOD PATH                   one operation: fields, and a command to call it
//
// Run "wxpay -h" or "wxpay COMMAND -h" for the details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/wxpay-chain/wxpay"
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
// name). The command may follow flags ("wxpay --config F download ..."):
// they are handed to it. Run returns nil on success, errHelp when help was
// asked for and printed, a *usageError for a bad command line, and any
// other error for a failed call; report turns each into a message and an
// exit code.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, mainUsage)
		return &usageError{msg: "no command given", printed: true}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, mainUsage)
		return errHelp
	}
	kinds, err := globalFlagKinds()
	if err != nil {
		return err // a programming error, which TestFlagKinds catches
	}
	i := commandIndex(args, kinds)
	if i < 0 {
		return (&CallCommand{m: m}).Run(ctx, args)
	}
	rest := slices.Concat(args[:i], args[i+1:])
	switch strings.ToLower(args[i]) {
	case "demo":
		return (&DemoCommand{m: m}).Run(ctx, rest)
	case "emulator":
		return (&EmulatorCommand{m: m}).Run(ctx, rest)
	case "download":
		return (&DownloadCommand{m: m}).Run(ctx, rest)
	case "certificates":
		return (&CertificatesCommand{m: m}).Run(ctx, rest)
	case "endpoints":
		return (&EndpointsCommand{m: m}).Run(ctx, rest)
	case "describe":
		return (&DescribeCommand{m: m}).Run(ctx, rest)
	case "help":
		if i+1 < len(args) {
			if !isCommand(args[i+1]) {
				return unknownCommand(args[i+1])
			}
			return m.Run(ctx, []string{args[i+1], "-h"})
		}
		fmt.Fprint(m.Stdout, mainUsage)
		return errHelp
	}
	return (&CallCommand{m: m}).Run(ctx, args)
}

// commandNames are the commands besides the HTTP methods.
var commandNames = []string{"demo", "emulator", "download", "certificates", "endpoints", "describe", "help"}

// isCommand reports whether word names a command or a METHOD.
func isCommand(word string) bool {
	_, method := methodName(word)
	return method || slices.Contains(commandNames, strings.ToLower(word))
}

// unknownCommand is the usage error for a word that is neither a command
// nor a method.
func unknownCommand(word string) error {
	return &usageError{msg: fmt.Sprintf("unknown command or method %s: want a method (get, post, put, patch, delete) or a command (%s)",
		quoteArg(word), strings.Join(commandNames, ", "))}
}

// guessCommand returns the command (or method, in lower case) args name
// even where commandIndex cannot tell, after a flag no command takes: the
// first word that is one, "" for none. It only chooses the help a usage
// error points to.
func guessCommand(args []string) string {
	for _, a := range args {
		if a == "--" {
			return ""
		}
		if isCommand(a) {
			return strings.ToLower(a)
		}
	}
	return ""
}

// commandIndex returns the index in args of the command (or METHOD): the
// first argument that is not a flag or a flag's value, "--" ending the
// flags. kinds tells which flags take a value. It returns -1 when there is
// none, or when an unknown flag makes it impossible to tell; the call
// command then reports the problem.
func commandIndex(args []string, kinds map[string]bool) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		}
		if len(a) < 2 || a[0] != '-' {
			return i
		}
		name := strings.TrimPrefix(a[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			return -1
		}
		if strings.Contains(name, "=") {
			continue
		}
		value, ok := kinds[name]
		if !ok {
			return -1
		}
		if value {
			i++ // the flag's value, whatever it looks like
		}
	}
	return -1
}

// globalFlagKinds returns, for the flags of every command, whether each
// takes a value. It fails if a name is a boolean flag in one command and
// takes a value in another: the command could not be found after it.
func globalFlagKinds() (map[string]bool, error) {
	kinds := map[string]bool{"h": false, "help": false} // the flag package's own
	sets := []*flag.FlagSet{
		(&CallCommand{}).flagSet(), (&DemoCommand{}).flagSet(), (&EmulatorCommand{}).flagSet(),
		(&DownloadCommand{}).flagSet(), (&CertificatesCommand{}).flagSet(),
		(&EndpointsCommand{}).flagSet(), (&DescribeCommand{}).flagSet(),
	}
	var err error
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			bf, ok := f.Value.(interface{ IsBoolFlag() bool })
			value := !ok || !bf.IsBoolFlag()
			if k, seen := kinds[f.Name]; seen && k != value && err == nil {
				err = fmt.Errorf("flag -%s is boolean in one command and takes a value in another", f.Name)
			}
			kinds[f.Name] = value
		})
	}
	return kinds, err
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

// asUsage makes err, a problem found before anything was sent, a usage
// error of cmd.
func asUsage(cmd string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.cmd == "" && !ue.printed {
			ue.cmd = cmd
		}
		return ue
	}
	return &usageError{cmd: cmd, msg: message(err)}
}

// clientError makes an error of wxpay.New, or of a call refused for the
// config before it was sent, a usage error of cmd.
func clientError(cmd string, err error) error {
	if errors.Is(err, wxpay.ErrInvalidConfig) {
		return asUsage(cmd, err)
	}
	return err
}

// message is the text of err without the package prefix report adds back.
func message(err error) string {
	s := err.Error()
	for _, p := range []string{"wxpay: ", "rsaenc: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
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
	fmt.Fprintf(w, "wxpay: %s\n", message(err))
	return exitError
}

const mainUsage = `wxpay calls the WeChat Pay APIv3 (微信支付) from the command line: it signs
the request, sends it, verifies the signature of the answer and prints it.

Usage:

	wxpay METHOD PATH [name=value ...] [flags]
	wxpay demo [--json]
	wxpay emulator [--addr ADDR] [--dir DIR] [--fault SPEC] [--platform-certificates] [--rate-limit[=LIMIT]]
	wxpay download --date YYYY-MM-DD -o FILE [--fundflow] [--type T] [--gzip]
	wxpay certificates [--dir DIR] [--tofu]
	wxpay endpoints [WORDS...] [--json]
	wxpay describe METHOD PATH

Commands:

	get, post, put, patch, delete   call one endpoint (wxpay post -h for the flags)
	demo                            run the seed calls against an in-process emulator
	emulator                        serve the WeChat Pay emulator until interrupted
	download                        download a trade or fund flow bill, checking its digest
	certificates                    download and decrypt the platform certificates
	endpoints                       list the APIv3 operations whose name or path has WORDS
	describe                        an operation's parameters, body, sensitive fields and
	                                answer, and a wxpay command that calls it

Flags may come before the command too (wxpay --config FILE download ...);
a command refuses the flags it does not take.

Credentials come from --config FILE or from the environment variables
WXPAY_MCHID, WXPAY_SERIAL, WXPAY_PRIVATE_KEY, WXPAY_CERTS, WXPAY_APIV3_KEY
and WXPAY_BASE_URL.

Exit status: 0 on success, 1 when the call fails (an API error, an answer
whose signature does not verify, a network problem), 2 for a usage error
or a configuration problem (nothing was sent).

Try: wxpay demo, or wxpay endpoints 退款
`
