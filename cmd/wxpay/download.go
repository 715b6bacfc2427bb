package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	if c.out == "" || c.out == "-" {
		return usagef("download", "--out FILE is required: the bill is kept only once its digest matches")
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
		return err
	}
	path, typeParam := "v3/bill/tradebill", "bill_type"
	if c.fundflow {
		path, typeParam = "v3/bill/fundflowbill", "account_type"
	}
	q := wxpay.Opts{"bill_date": c.date}
	if c.typ != "" {
		q[typeParam] = strings.ToUpper(c.typ)
	}
	if c.gzip {
		q["tar_type"] = "GZIP"
	}
	start := time.Now()
	bill, err := client.Chain(path).DownloadFile(ctx, wxpay.Opts{"query": q}, c.out)
	if err != nil {
		if errors.Is(err, wxpay.ErrDigestMismatch) {
			fmt.Fprintf(c.m.Stderr, "wxpay download: the bill does not match its digest and was not kept; download it again\n")
		}
		return err
	}
	fmt.Fprintf(c.m.Stdout, "%s: %d bytes, %s %s verified, in %v\n", c.out, bill.Size, bill.HashType, bill.HashValue, time.Since(start).Round(time.Millisecond))
	return nil
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
	--type TYPE      bill_type (ALL, SUCCESS, REFUND, ...) or, with --fundflow,
	                 account_type (BASIC, OPERATION, FEES)
	--gzip           have the bill sent compressed (tar_type=GZIP); it is
	                 written decompressed
	--config FILE    credentials (else the WXPAY_* environment variables)
	--base-url URL   send to URL instead of the configured base URL

Try: wxpay download --config wxpay.json --date 2026-11-22 --gzip -o bill.csv
`
