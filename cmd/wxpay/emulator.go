package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// defaultEmulatorAddr is where "wxpay emulator" listens by default.
const defaultEmulatorAddr = "127.0.0.1:8090"

// EmulatorCommand is "wxpay emulator": the WeChat Pay emulator as a
// standalone server, with its keys and a config file written to a directory.
type EmulatorCommand struct {
	m            *Main
	addr         string
	dir          string
	faults       stringList    // --fault specs, see wxpaytest.ParseFault
	certificates bool          // --platform-certificates
	rateLimit    rateLimitFlag // --rate-limit, see ratelimit.go

	// ready, when set, is called once the server is listening and the
	// files are written, with the server's base URL and the config file.
	ready func(url, config string)
}

// Run serves the emulator until ctx is done (SIGINT or SIGTERM).
func (c *EmulatorCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.m.Stdout, emulatorUsage())
			return errHelp
		}
		return usagef("emulator", "%v", err)
	}
	if fs.NArg() > 0 {
		if c.rateLimit.on {
			return usagef("emulator", "unexpected argument %q (a value of --rate-limit is written --rate-limit=VALUE)", fs.Arg(0))
		}
		return usagef("emulator", "unexpected argument %q", fs.Arg(0))
	}
	faults, err := parseFaults(c.faults)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return usagef("emulator", "--addr %q: want host:port", c.addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("emulator", "--addr %q: the emulator listens on a loopback address only (127.0.0.1, ::1 or localhost)", c.addr)
	}

	dir, temp := c.dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wxpay-emulator-"); err != nil {
			return err
		}
		temp = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if temp {
		defer os.RemoveAll(dir)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}

	srv := wxpaytest.NewUnstartedServer()
	srv.Addr = c.addr
	if c.certificates {
		srv.Platform = []wxpaytest.PlatformKey{{Serial: wxpaytest.DefaultCertificateSerial}}
	}
	reused, err := reuseKeys(srv, dir)
	if err != nil {
		return err
	}
	if reused {
		if err := checkMode(srv.Platform, dir, c.certificates); err != nil {
			return err
		}
	}
	for _, f := range faults {
		srv.Inject(f)
	}
	if err := c.rateLimit.apply(srv); err != nil {
		return err
	}
	if err := srv.StartErr(); err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.WriteFiles(dir); err != nil {
		return err
	}
	files, err := readEmulatorFiles(dir)
	if err != nil {
		return err
	}
	files.reused = reused
	c.printHowTo(srv, files, temp)
	c.rateLimit.print(c.m.Stdout)
	c.printFaults(srv, faults)
	if c.ready != nil {
		c.ready(srv.URL, files.config)
	}
	<-ctx.Done()
	fmt.Fprintf(c.m.Stderr, "wxpay emulator: stopped after %d requests\n", srv.RequestCount())
	return nil
}

// printHowTo tells the user how to point a client at the server. It prints
// paths and identities, never a key.
func (c *EmulatorCommand) printHowTo(srv *wxpaytest.Server, f *emulatorFiles, temp bool) {
	w := c.m.Stdout
	fmt.Fprintf(w, "WeChat Pay emulator listening on %s\n\n", srv.URL)
	key := "WeChat Pay key"
	if c.certificates {
		key = "certificate mode: WeChat Pay platform certificate"
	}
	fmt.Fprintf(w, "Merchant %s, certificate serial %s; %s %s.\n", srv.MchID, srv.MerchantSerial, key, strings.Join(f.serials(), ", "))
	fmt.Fprintf(w, "Keys and config written to %s", f.dir)
	switch {
	case temp:
		fmt.Fprint(w, " (removed on exit)")
	case f.reused:
		fmt.Fprint(w, " (the keys of the previous run, kept)")
	}
	fmt.Fprint(w, ".\n\nTry:\n\n")
	fmt.Fprintf(w, "\twxpay --config %s get 'v3/refund/domestic/refunds/{out_refund_no}' \\\n\t\tout_refund_no=%s sub_mchid=%s\n\n",
		shellQuote(f.config), wxpaytest.FixtureOutRefundNo, wxpaytest.FixtureSubMchID)
	if c.certificates {
		fmt.Fprint(w, "and download the platform certificate (GET v3/certificates, encrypted with the APIv3 key):\n\n")
		fmt.Fprintf(w, "\twxpay --config %s certificates --dir %s\n\n", shellQuote(f.config), shellQuote(filepath.Join(f.dir, "certs")))
	}
	fmt.Fprint(w, "or set the environment (the APIv3 key is in the config file):\n\n")
	fmt.Fprintf(w, "\texport %s=%s\n", envMchID, srv.MchID)
	fmt.Fprintf(w, "\texport %s=%s\n", envSerial, srv.MerchantSerial)
	fmt.Fprintf(w, "\texport %s=%s\n", envPrivateKey, shellQuote(f.privateKey))
	var certs []string
	for _, s := range f.serials() {
		certs = append(certs, s+"="+f.certs[s])
	}
	fmt.Fprintf(w, "\texport %s=%s\n", envCerts, shellQuote(strings.Join(certs, ",")))
	fmt.Fprintf(w, "\texport %s=%s\n\n", envBaseURL, srv.URL)
	fmt.Fprintf(w, "A refund in the ABNORMAL state is ready: refund_id %s, out_refund_no %s.\n", wxpaytest.FixtureRefundID, wxpaytest.FixtureOutRefundNo)
	fmt.Fprintf(w, "Refunds whose out_refund_no starts with %s are created ABNORMAL.\n", wxpaytest.AbnormalPrefix)
}

// printFaults lists the faults given with --fault, and how to inject more
// into the running emulator and to see the requests it received.
func (c *EmulatorCommand) printFaults(srv *wxpaytest.Server, faults []wxpaytest.Fault) {
	w := c.m.Stdout
	if len(faults) > 0 {
		fmt.Fprint(w, "\nInjected faults (each for its count of matching requests, then normal answers):\n\n")
		for _, f := range faults {
			fmt.Fprintf(w, "\t%s\n", f)
		}
	}
	base := strings.TrimSuffix(srv.URL, "/")
	fmt.Fprint(w, "\nInject faults while it runs, and read the requests received:\n\n")
	fmt.Fprintf(w, "\tcurl -d 'POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2' %s%s\n", base, wxpaytest.FaultsPath)
	fmt.Fprintf(w, "\tcurl %s%s\n\n", base, wxpaytest.InspectPath)
	fmt.Fprint(w, "Stop with Ctrl-C.\n")
}

// parseFaults parses the --fault specs.
func parseFaults(specs []string) ([]wxpaytest.Fault, error) {
	faults := make([]wxpaytest.Fault, 0, len(specs))
	for _, spec := range specs {
		f, err := wxpaytest.ParseFault(spec)
		if err != nil {
			return nil, usagef("emulator", "--fault: %s", strings.TrimPrefix(err.Error(), "wxpaytest: "))
		}
		faults = append(faults, f)
	}
	return faults, nil
}

// checkMode refuses to serve the keys of an earlier run in the other mode:
// a config written for one would not work with the other.
func checkMode(platform []wxpaytest.PlatformKey, dir string, certificates bool) error {
	publicKey := false
	for _, p := range platform {
		if strings.HasPrefix(p.Serial, "PUB_KEY_ID_") {
			publicKey = true
		}
	}
	switch {
	case certificates && publicKey:
		return usagef("emulator", "%s holds the keys of an emulator in public-key mode: give another --dir for --platform-certificates", dir)
	case !certificates && !publicKey:
		return usagef("emulator", "%s holds the keys of an emulator in certificate mode: add --platform-certificates, or give another --dir", dir)
	}
	return nil
}

// emulatorFiles are the files written for a client of the emulator.
type emulatorFiles struct {
	dir        string
	config     string            // wxpay.json
	privateKey string            // apiclient_key.pem
	certs      map[string]string // serial -> public key file
	reused     bool              // the keys were those of an earlier run
}

// reuseKeys gives srv the keys an earlier run wrote to dir, if any, so that
// clients set up then still work. A dir holding a config or merchant key
// that the emulator did not write is refused, a usage error: it may hold
// real credentials, which must not be overwritten.
func reuseKeys(srv *wxpaytest.Server, dir string) (bool, error) {
	found := false
	for _, name := range []string{wxpaytest.ConfigFile, wxpaytest.MerchantKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			found = true
		}
	}
	if !found {
		return false, nil
	}
	if err := srv.ReadFiles(dir); err != nil {
		return false, usagef("emulator", "--dir %s holds a %s or %s the emulator did not write or cannot reuse (%s); give an empty --dir: the emulator does not overwrite credentials it did not write",
			dir, wxpaytest.ConfigFile, wxpaytest.MerchantKeyFile, withoutPrefixes(err))
	}
	return true, nil
}

// withoutPrefixes is the text of an error of wxpaytest without the package
// prefixes its causes add up ("wxpaytest: rsaenc: ...").
func withoutPrefixes(err error) string {
	s := err.Error()
	for _, p := range []string{"wxpaytest: ", "rsaenc: ", "wxpay: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// readEmulatorFiles reads back the config WriteFiles wrote to dir.
func readEmulatorFiles(dir string) (*emulatorFiles, error) {
	config := filepath.Join(dir, wxpaytest.ConfigFile)
	data, err := os.ReadFile(config)
	if err != nil {
		return nil, err
	}
	var fc wxpaytest.FileConfig
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, fmt.Errorf("%s: %v", config, jsonProblem(err))
	}
	return &emulatorFiles{dir: dir, config: config, privateKey: fc.PrivateKey, certs: fc.Certs}, nil
}

func (f *emulatorFiles) serials() []string {
	s := make([]string, 0, len(f.certs))
	for k := range f.certs {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// flagSet returns the flags of wxpay emulator, bound to c.
func (c *EmulatorCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.addr, "addr", defaultEmulatorAddr, "")
	fs.StringVar(&c.dir, "dir", "", "")
	fs.Var(&c.faults, "fault", "")
	fs.BoolVar(&c.certificates, "platform-certificates", false, "")
	fs.Var(&c.rateLimit, "rate-limit", "")
	return fs
}

// emulatorUsage is the help of wxpay emulator, with the emulator's
// coverage counted.
func emulatorUsage() string {
	return fmt.Sprintf(emulatorUsageFormat, len(wxpaytest.HandWritten()), len(wxpaytest.SchemaDriven()))
}

const emulatorUsageFormat = `Usage: wxpay emulator [--addr ADDR] [--dir DIR] [--fault SPEC]... [--platform-certificates]
                      [--rate-limit[=LIMIT]]...

Serves the WeChat Pay emulator until interrupted (Ctrl-C, SIGTERM). The
emulator checks each request's signature and signs its answers, as WeChat
Pay does, for every APIv3 operation of the catalogue (package catalog) but
the notification schema (POST v3/webhooks).

%[1]d operations are hand-written and stateful: they keep refunds, bills and
uploaded media in memory and apply WeChat Pay's rules (a refund applied for
is there for the next query; a query for an unknown one is a 404):

	POST v3/refund/domestic/refunds
	GET  v3/refund/domestic/refunds/{out_refund_no}
	POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund
	POST v3/ecommerce/refunds/apply
	GET  v3/ecommerce/refunds/id/{refund_id}?sub_mchid=...
	GET  v3/ecommerce/refunds/out-refund-no/{out_refund_no}?sub_mchid=...
	POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund

and around them the bill APIs (GET v3/bill/tradebill, v3/bill/fundflowbill
and the download_url they answer), the media uploads (v3/merchant/media/upload,
v3/merchant/media/video_upload, v3/marketing/favor/media/image-upload,
v3/merchant-service/images/upload; GET v3/merchant-service/images/{media_id}
gives back what was uploaded) and GET v3/certificates; besides, the APIv2
refund (secapi/pay/refund, pay/refundquery).

The other %[2]d operations are schema-driven and stateless: the request is
checked against the catalogue (a failure is 400 PARAM_ERROR naming the
field), its sensitive fields must be encrypted for the WeChat Pay key named
by Wechatpay-Serial, and the answer, with the operation's status, is the
example of its response schema with the request's values echoed and its
sensitive fields encrypted with the merchant's public key.

GET /_wxpaytest/requests lists the requests received, for tests in any
language; /_wxpaytest/faults takes more faults while it runs (POST a SPEC
per line), lists those pending (GET) and clears them (DELETE).

The keys are written to DIR: the merchant private key (apiclient_key.pem),
the WeChat Pay public keys (<serial>.pem) and a config file (wxpay.json)
for "wxpay --config" and wxpay.LoadConfig; the command prints how to use
them. Keys are made fresh unless DIR holds those of an earlier run, which
are kept. A DIR holding credentials the emulator did not write is refused.

Flags:

	--addr ADDR   listen on ADDR, a loopback address (default 127.0.0.1:8090)
	--dir DIR     write the keys and config to DIR (default: a new temporary
	              directory, removed on exit)
	--fault SPEC  make the next matching requests fail; repeatable. SPEC is
	              [METHOD ]PATH=FAULT[*COUNT]: PATH a path prefix, COUNT a
	              number of requests (default 1) or "always", FAULT one of
	                STATUS[:CODE[:MESSAGE]]  a signed error answer (500,
	                                         429:FREQUENCY_LIMITED, ...)
	                delay:DURATION           answer after DURATION (2s)
	                reset                    close the connection unanswered
	                reset-after-apply        apply the request, then close
	                corrupt-signature        a signature that does not verify
	                skew-timestamp:DURATION  a signed timestamp DURATION off
	                unknown-serial[:SERIAL]  signed, naming an unknown key
	                probe-signature          a WECHATPAY/SIGNTEST/ signature
	                remove-header[:NAME]     without Wechatpay-Signature (NAME)
	                unsigned                 without any Wechatpay-* header
	                truncate-body            half the announced body
	                oversize-body[:BYTES]    a body padded to 17 MiB (BYTES)
	              and delay:DURATION+FAULT waits first
	--platform-certificates
	              certificate mode: sign with a platform certificate's key
	              (serial 5157F09E...) instead of a WeChat Pay public key
	              (PUB_KEY_ID_...), and serve the certificate at GET
	              v3/certificates, encrypted with the APIv3 key, for
	              "wxpay certificates"
	--rate-limit[=LIMIT]
	              answer 429 FREQUENCY_LIMITED to the requests over an
	              operation's limit in a second, without applying them: 150
	              a second for the domestic abnormal refund and 6 erroneous
	              requests a second for the domestic refund, as WeChat Pay
	              documents, 150 for the others (off by default). LIMIT is
	              N, for the others, or METHOD PATH=N for one operation (N
	              "none" for no limit), such as
	              --rate-limit='POST v3/refund/domestic/refunds=10';
	              repeatable

Try: wxpay emulator --dir /tmp/wxpay
     then, in another terminal: wxpay --config /tmp/wxpay/wxpay.json get \
       'v3/refund/domestic/refunds/{out_refund_no}' out_refund_no=1217752501201407033233368018
Or:  wxpay emulator --dir /tmp/wxpay --fault 'POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2'
     then: wxpay --config /tmp/wxpay/wxpay.json post v3/refund/domestic/refunds \
       -d @refund.json --retry 3
`
