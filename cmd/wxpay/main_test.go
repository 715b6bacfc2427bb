package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// Keys are generated once for the whole test binary: RSA-2048 generation is
// slow, and more so under -race.
var (
	keysOnce              sync.Once
	merchantKey, platform *rsa.PrivateKey
	keysErr               error
)

func testKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		if merchantKey, keysErr = wxpaytest.GenerateKey(); keysErr != nil {
			return
		}
		platform, keysErr = wxpaytest.GenerateKey()
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return merchantKey, platform
}

// harness is an emulator with its client files written to a temporary
// directory, and the secrets no output may show.
type harness struct {
	srv    *wxpaytest.Server
	dir    string
	config string            // the JSON config file
	env    map[string]string // the same settings as environment variables
	// secrets must never appear in the output of a command.
	secrets []string
}

// setup starts an emulator for one test and writes its files.
func setup(t *testing.T) *harness {
	t.Helper()
	mk, pk := testKeys(t)
	srv := wxpaytest.NewUnstartedServer()
	srv.MerchantKey = mk
	srv.Platform = []wxpaytest.PlatformKey{{Serial: wxpaytest.DefaultPlatformSerial, Key: pk}}
	if err := srv.StartErr(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := srv.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	h := &harness{srv: srv, dir: dir, config: filepath.Join(dir, wxpaytest.ConfigFile)}
	h.env = map[string]string{
		envMchID:      srv.MchID,
		envSerial:     srv.MerchantSerial,
		envPrivateKey: filepath.Join(dir, wxpaytest.MerchantKeyFile),
		envCerts:      wxpaytest.DefaultPlatformSerial + "=" + filepath.Join(dir, wxpaytest.DefaultPlatformSerial+".pem"),
		envAPIv3Key:   srv.APIv3Key,
		envBaseURL:    srv.URL,
	}
	pemText, err := os.ReadFile(filepath.Join(dir, wxpaytest.MerchantKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	h.secrets = append(h.secrets, srv.APIv3Key, "-----BEGIN", "WECHATPAY2-SHA256-RSA2048")
	for _, line := range strings.Split(string(pemText), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			h.secrets = append(h.secrets, line)
		}
	}
	return h
}

// result is what a command printed and its exit code.
type result struct {
	code           int
	stdout, stderr string
}

// invocation is the environment and stdin of a command; the zero value is
// an empty environment and stdin.
type invocation struct {
	env   map[string]string
	stdin string
}

// run runs wxpay with args as main would, with no environment.
func (h *harness) run(t *testing.T, args ...string) result {
	t.Helper()
	return h.exec(t, invocation{}, args...)
}

// exec runs wxpay with args and checks no secret was printed.
func (h *harness) exec(t *testing.T, in invocation, args ...string) result {
	t.Helper()
	r := runMain(t, in, args...)
	if h != nil {
		h.checkNoSecrets(t, r, args)
	}
	return r
}

func runMain(t *testing.T, in invocation, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{
		Stdin:  strings.NewReader(in.stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return in.env[k] },
	}
	code := report(&stderr, m.Run(context.Background(), args))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// checkNoSecrets fails the test if the output holds a secret.
func (h *harness) checkNoSecrets(t *testing.T, r result, args []string) {
	t.Helper()
	for _, s := range h.leaks(r) {
		t.Errorf("wxpay %s: output shows a secret (%.12s...)", strings.Join(args, " "), s)
	}
}

// leaks returns the secrets found in the output: a key, the APIv3 key, or
// an Authorization header the emulator received.
func (h *harness) leaks(r result) []string {
	secrets := append([]string(nil), h.secrets...)
	for _, req := range h.srv.Requests() {
		if a := req.Header.Get("Authorization"); a != "" {
			secrets = append(secrets, a)
			if _, sig, ok := strings.Cut(a, `signature="`); ok && len(sig) > 40 {
				secrets = append(secrets, sig[:40])
			}
		}
	}
	var found []string
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
			found = append(found, s)
		}
	}
	return found
}

// wantCode fails the test unless the command exited with code.
func wantCode(t *testing.T, r result, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("wxpay %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"get", "-h"}, {"POST", "--help"}, {"help", "post"}, {"--config", "x.json", "delete", "-h"},
		{"demo", "-h"}, {"emulator", "--help"},
		{"endpoints", "-h"}, {"endpoints", "退款", "--help"}, {"describe", "-h"}, {"help", "describe"},
		{"describe", "post", "v3/refund/domestic/refunds", "-h"},
	} {
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, exitOK, args...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Try: ") {
			t.Errorf("wxpay %s: help lacks Usage or a Try hint:\n%s", strings.Join(args, " "), r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("wxpay %s: help wrote to stderr: %q", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestEmulatorHelpCounts(t *testing.T) {
	r := runMain(t, invocation{}, "emulator", "--help")
	wantCode(t, r, exitOK, "emulator", "--help")
	hand, schema := len(wxpaytest.HandWritten()), len(wxpaytest.SchemaDriven())
	for _, want := range []string{
		fmt.Sprintf("%d operations are hand-written and stateful", hand),
		fmt.Sprintf("The other %d operations are schema-driven", schema),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("wxpay emulator --help lacks %q:\n%s", want, r.stdout)
		}
	}
	if hand == 0 || schema == 0 {
		t.Errorf("counts %d hand-written, %d schema-driven", hand, schema)
	}
}
