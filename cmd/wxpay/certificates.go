package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wxpay-chain/wxpay"
)

// CertificatesCommand is "wxpay certificates": it downloads the WeChat Pay
// platform certificates, verifies and decrypts them, and writes each to
// DIR/<serial>.pem.
type CertificatesCommand struct {
	m       *Main
	config  string
	baseURL string
	dir     string
	tofu    bool
}

// Run downloads the certificates.
func (c *CertificatesCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.m.Stdout, certificatesUsage)
			return errHelp
		}
		return usagef("certificates", "%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("certificates", "unexpected argument %q", fs.Arg(0))
	}
	cfg, err := c.m.loadConfig("certificates", c.config)
	if err != nil {
		return err
	}
	if c.baseURL != "" {
		cfg.BaseURL = c.baseURL
	}
	if cfg.APIv3Key == "" {
		return usagef("certificates", "the APIv3 key (apiv3_key, %s) is needed to decrypt the certificates", envAPIv3Key)
	}
	var certs []wxpay.Certificate
	tofu := false
	switch {
	case len(cfg.Certs) == 0 && !c.tofu:
		return usagef("certificates", "no WeChat Pay key is configured (certs, %s) to verify the answer with; add one, or use --tofu (trust on first use)", envCerts)
	case c.tofu:
		certs, tofu, err = wxpay.BootstrapCertificates(ctx, cfg)
	default:
		var client *wxpay.Client
		if client, err = wxpay.New(cfg); err != nil {
			return clientError("certificates", err)
		}
		certs, err = client.DownloadCertificates(ctx)
	}
	if errors.Is(err, wxpay.ErrInvalidConfig) {
		return clientError("certificates", err) // found before anything was sent
	}
	if err != nil {
		if errors.Is(err, wxpay.ErrUnknownSerial) && !c.tofu {
			fmt.Fprintln(c.m.Stderr, "wxpay certificates: the answer is signed with a key your config does not trust;")
			fmt.Fprintln(c.m.Stderr, "  add the WeChat Pay public key or a current platform certificate to certs, or use --tofu (trust on first use)")
		}
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	w := c.m.Stdout
	if len(certs) == 0 {
		fmt.Fprintln(w, "No platform certificates: this merchant is in public-key mode (PUB_KEY_ID_...).")
	}
	for _, ct := range certs {
		path := filepath.Join(c.dir, ct.Serial+".pem")
		if err := os.WriteFile(path, ct.PEM, 0o644); err != nil {
			return err
		}
		state := "valid"
		switch now := time.Now(); {
		case now.Before(ct.EffectiveTime):
			state = "not yet effective"
		case !now.Before(ct.ExpireTime):
			state = "EXPIRED"
		}
		fmt.Fprintf(w, "%s  effective %s  expires %s  (%s)  %s\n", ct.Serial,
			ct.EffectiveTime.Format(time.DateOnly), ct.ExpireTime.Format(time.DateOnly), state, path)
	}
	switch {
	case tofu:
		fmt.Fprintln(c.m.Stderr, "wxpay certificates: TRUST ON FIRST USE: no key in your config vouched for this answer.")
		fmt.Fprintln(c.m.Stderr, "  It verified only with a certificate it carries, and the certificates decrypted with your APIv3 key.")
		fmt.Fprintln(c.m.Stderr, "  Check these serials on the merchant platform (商户平台) before adding them to certs.")
	case c.tofu:
		fmt.Fprintln(c.m.Stderr, "wxpay certificates: the answer verified with a key your config already trusts (no trust on first use was needed).")
	}
	return nil
}

// flagSet returns the flags of wxpay certificates, bound to c.
func (c *CertificatesCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("certificates", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.config, "config", "", "")
	fs.StringVar(&c.baseURL, "base-url", "", "")
	fs.StringVar(&c.dir, "dir", ".", "")
	fs.BoolVar(&c.tofu, "tofu", false, "")
	return fs
}

const certificatesUsage = `wxpay certificates downloads the WeChat Pay platform certificates
(GET v3/certificates), verifies the answer, decrypts each certificate with
the APIv3 key and writes it to DIR/<serial>.pem.

Usage:

	wxpay certificates [--config FILE] [--base-url URL] [--dir DIR] [--tofu]

Flags:

	--config FILE    credentials (else the WXPAY_* environment variables);
	                 the APIv3 key is required
	--base-url URL   send to URL instead of the configured base URL
	--dir DIR        where to write the PEM files (default: the current directory)
	--tofu           trust on first use: accept an answer signed with a key the
	                 config does not trust if it verifies with one of the
	                 certificates it carries. Said clearly when it happens.

The answer must otherwise verify with a key in certs, as every answer does.

Try: wxpay certificates --config wxpay.json --dir certs
`
