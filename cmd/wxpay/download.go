package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay"
)

// DownloadCommand is "wxpay download": it applies for a trade or fund flow
// bill and downloads it to a file, checking its digest.
type DownloadCommand struct {
	m        *Main
	config   string
	baseURL  string
	date     string
	fundflow bool
	typ      string
	gzip     bool
	out      string
}

// Run downloads the bill.
func (c *DownloadCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.m.Stdout, downloadUsage)
			return errHelp
		}
		return usagef("download", "%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("download", "unexpected argument %q", fs.Arg(0))
	}
	if _, err := time.Parse(time.DateOnly, c.date); err != nil {
		return usagef("download", "--date %q: want the bill date as YYYY-MM-DD", c.date)
	}
	bill, err := c.bill(typeSet(fs))
	if err != nil {
		return err
	}
	if c.out == "" || c.out == "-" {
		return usagef("download", "--out FILE is required: the bill is kept only once its digest matches")
	}
	if err := checkOut(c.out); err != nil {
		return usagef("download", "--out %s: %v", c.out, err)
	}
	cfg, err := c.m.loadConfig("download", c.config)
	if err != nil {
		return err
	}
	if c.baseURL != "" {
		cfg.BaseURL = c.baseURL
	}
	cfg.Timeout = 5 * time.Minute // each read; the file may be large
	client, err := wxpay.New(cfg)
	if err != nil {
		return clientError("download", err)
	}
	q := wxpay.Opts{"bill_date": c.date}
	if c.typ != "" {
		q[bill.param] = strings.ToUpper(c.typ)
	}
	if c.gzip {
		q["tar_type"] = "GZIP"
	}
	start := time.Now()
	bar := newProgress(c.m.Stderr, start)
	file, err := client.Chain(bill.path).DownloadFileProgress(ctx, wxpay.Opts{"query": q}, c.out, bar.update)
	bar.done()
	if err != nil {
		if errors.Is(err, wxpay.ErrDigestMismatch) {
			fmt.Fprintf(c.m.Stderr, "wxpay download: the bill does not match its digest and was not kept; download it again\n")
		}
		return err
	}
	fmt.Fprintf(c.m.Stdout, "%s: %d bytes, %s %s verified, in %v\n", c.out, file.Size, file.HashType, file.HashValue, time.Since(start).Round(time.Millisecond))
	return nil
}

// billTypes is what --type selects for one bill endpoint: the query
// parameter and the values it takes (those the catalogue lists; a test
// holds them equal).
type billTypes struct {
	path   string // the endpoint that applies for the bill
	param  string // the query parameter --type sets
	what   string // what the parameter is, for messages
	values []string
}

var (
	tradeBill = billTypes{path: "v3/bill/tradebill", param: "bill_type", what: "a trade bill type",
		values: []string{"ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND", "ALL_SPECIAL", "SUC_SPECIAL", "REF_SPECIAL"}}
	fundFlowBill = billTypes{path: "v3/bill/fundflowbill", param: "account_type", what: "a fund flow account type",
		values: []string{"BASIC", "OPERATION", "FEES"}}
)

// bill returns the bill --fundflow chooses, after checking a --type given
// (typeGiven, even empty) against the values it takes.
func (c *DownloadCommand) bill(typeGiven bool) (billTypes, error) {
	bill := tradeBill
	if c.fundflow {
		bill = fundFlowBill
	}
	if !typeGiven {
		return bill, nil
	}
	err := bill.check(c.typ)
	switch {
	case err != nil && c.typ == "":
		return bill, usagef("download", "--type is empty: %v", err)
	case err != nil:
		return bill, usagef("download", "--type %s: %v", quoteArg(c.typ), err)
	}
	return bill, nil
}

// check reports why typ (in any case) is not one of the values b takes,
// naming them; a value of the other bill says which flag to change.
func (b billTypes) check(typ string) error {
	typ = strings.ToUpper(typ)
	if slices.Contains(b.values, typ) {
		return nil
	}
	msg := fmt.Sprintf("want %s (%s): %s", b.what, b.param, strings.Join(b.values, ", "))
	switch {
	case b.param == tradeBill.param && slices.Contains(fundFlowBill.values, typ):
		msg += fmt.Sprintf("; %s is %s: add --fundflow", typ, fundFlowBill.what)
	case b.param == fundFlowBill.param && slices.Contains(tradeBill.values, typ):
		msg += fmt.Sprintf("; %s is %s: drop --fundflow", typ, tradeBill.what)
	}
	return errors.New(msg)
}

// typeSet reports whether --type was given, even empty.
func typeSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "type" })
	return set
}

// checkOut reports why out cannot be the bill's file, before the bill is
// applied for: a directory, or a file in a directory that does not exist.
func checkOut(out string) error {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return errors.New("is a directory: give the name of the file to write the bill to")
	}
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("directory %s: %v", dir, pathless(err))
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// flagSet returns the flags of wxpay download, bound to c.
func (c *DownloadCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("download", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.config, "config", "", "")
	fs.StringVar(&c.baseURL, "base-url", "", "")
	fs.StringVar(&c.date, "date", "", "")
	fs.BoolVar(&c.fundflow, "fundflow", false, "")
	fs.StringVar(&c.typ, "type", "", "")
	fs.BoolVar(&c.gzip, "gzip", false, "")
	fs.StringVar(&c.out, "o", "", "")
	fs.StringVar(&c.out, "out", "", "")
	return fs
}

const downloadUsage = `wxpay download applies for a bill (v3/bill/tradebill, or v3/bill/fundflowbill
with --fundflow) and downloads it to a file. The file is streamed, checked
against the digest WeChat Pay announced, and kept only if it matches.

Usage:

	wxpay download --date YYYY-MM-DD --out FILE [--fundflow] [--type TYPE] [--gzip]
	               [--config FILE] [--base-url URL]

Flags:

	--date DATE      the bill date (within the last three months)
	--out, -o FILE   where to write the bill (written to a temporary file first)
	--fundflow       the fund flow bill (资金账单) instead of the trade bill
	--type TYPE      bill_type: ALL, SUCCESS, REFUND, RECHARGE_REFUND,
	                 ALL_SPECIAL, SUC_SPECIAL or REF_SPECIAL; with --fundflow,
	                 account_type: BASIC, OPERATION or FEES (any case; another
	                 value is refused before anything is sent)
	--gzip           have the bill sent compressed (tar_type=GZIP); it is
	                 written decompressed
	--config FILE    credentials (else the WXPAY_* environment variables)
	--base-url URL   send to URL instead of the configured base URL

Try: wxpay download --config wxpay.json --date 2026-11-22 --gzip -o bill.csv
`

// progress draws a one-line progress display on stderr when stderr is a
// terminal, and nothing when it is piped or redirected.
type progress struct {
	w       io.Writer
	on      bool
	start   time.Time
	last    time.Time
	written int64
}

func newProgress(w io.Writer, start time.Time) *progress {
	p := &progress{w: w, start: start}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

// update records n bytes written; it redraws at most every 100 ms.
func (p *progress) update(n int64) {
	p.written = n
	if !p.on {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.written) / secs / (1 << 20)
	}
	fmt.Fprintf(p.w, "\r  %s written, %.1f MiB/s   ", humanBytes(p.written), rate)
}

// done draws the final state and ends the line.
func (p *progress) done() {
	if p.on {
		p.draw(time.Now())
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
