package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCommand runs a command that Main.Run does not dispatch to yet, the way
// runMain runs the others.
func runCommand(t *testing.T, h *harness, run func(m *Main) error) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := report(&stderr, run(m))
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	h.checkNoSecrets(t, r, nil)
	return r
}

func TestCertificatesCommand(t *testing.T) {
	h := setup(t)
	dir := t.TempDir()
	r := runCommand(t, h, func(m *Main) error {
		return (&CertificatesCommand{m: m}).Run(context.Background(), []string{"--config", h.config, "--dir", dir, "--tofu"})
	})
	if r.code != exitOK || !strings.Contains(r.stdout, "public-key mode") || !strings.Contains(r.stderr, "no trust on first use was needed") {
		t.Errorf("code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runCommand(t, h, func(m *Main) error {
		return (&CertificatesCommand{m: m}).Run(context.Background(), []string{"extra"})
	})
	if r.code != exitUsage {
		t.Errorf("extra argument: code %d", r.code)
	}
}

func TestDownloadCommand(t *testing.T) {
	h := setup(t)
	out := filepath.Join(t.TempDir(), "bill.csv")
	r := runCommand(t, h, func(m *Main) error {
		return (&DownloadCommand{m: m}).Run(context.Background(), []string{"--config", h.config, "--date", h.srv.LatestBillDate(), "--gzip", "-o", out})
	})
	if r.code != exitOK {
		t.Fatalf("code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(data)
	if !strings.Contains(r.stdout, hex.EncodeToString(sum[:])) {
		t.Errorf("output %q does not show the digest of the file", r.stdout)
	}
	h.srv.CorruptBills(1)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	r = runCommand(t, h, func(m *Main) error {
		return (&DownloadCommand{m: m}).Run(context.Background(), []string{"--config", h.config, "--date", h.srv.LatestBillDate(), "--fundflow", "-o", bad})
	})
	if _, err := os.Stat(bad); r.code != exitError || err == nil || !strings.Contains(r.stderr, "not kept") {
		t.Errorf("corrupted bill: code %d, file kept %v, stderr %s", r.code, err == nil, r.stderr)
	}
	for _, args := range [][]string{{"--date", "22/11/2026", "-o", out}, {"--date", "2026-11-22"}} {
		r = runCommand(t, h, func(m *Main) error { return (&DownloadCommand{m: m}).Run(context.Background(), args) })
		if r.code != exitUsage {
			t.Errorf("%v: code %d", args, r.code)
		}
	}
}

// TestDownloadOutChecked: an --out that cannot be the bill's file is refused
// before the bill is applied for, naming the flag.
func TestDownloadOutChecked(t *testing.T) {
	h := setup(t)
	dir := t.TempDir()
	for _, tc := range []struct{ out, want string }{
		{dir, "is a directory"},
		{filepath.Join(dir, "no", "such", "bill.csv"), "no such file or directory"},
		{filepath.Join(h.config, "bill.csv"), "not a directory"},
	} {
		args := []string{"--config", h.config, "download", "--date", h.srv.LatestBillDate(), "-o", tc.out}
		r := h.run(t, args...)
		wantCode(t, r, exitUsage, args...)
		if want := "--out " + tc.out; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Try: wxpay download -h") {
			t.Errorf("wxpay %s: stderr lacks %q and %q:\n%s", strings.Join(args, " "), want, tc.want, r.stderr)
		}
	}
	if n := h.srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
