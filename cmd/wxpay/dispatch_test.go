package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// billDate is the day before yesterday in China: its trade and fund flow
// bills exist at any time of day (yesterday's appear at 08:00 and 10:00),
// and it is well within the last three months.
func billDate() string {
	return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -2).Format(time.DateOnly)
}

// TestCommandAfterFlags: the global flags may come before the command, as
// in "wxpay --config F download --date D". A flag that takes a value keeps
// it even when the value is a command name.
func TestCommandAfterFlags(t *testing.T) {
	h := setup(t)
	date := billDate()

	t.Run("download", func(t *testing.T) {
		for _, pre := range [][]string{{"--config", h.config}, {"--config=" + h.config}, {"-config", h.config}} {
			out := filepath.Join(t.TempDir(), "bill.csv")
			args := append(append([]string(nil), pre...), "download", "--date", date, "-o", out)
			r := h.run(t, args...)
			wantCode(t, r, exitOK, args...)
			if _, err := os.Stat(out); err != nil {
				t.Errorf("wxpay %s: no bill written: %v", strings.Join(args, " "), err)
			}
		}
	})
	t.Run("certificates", func(t *testing.T) {
		dir := t.TempDir()
		args := []string{"--config", h.config, "certificates", "--dir", dir, "--tofu"}
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		if !strings.Contains(r.stdout, "public-key mode") {
			t.Errorf("stdout = %q", r.stdout)
		}
	})
	t.Run("help", func(t *testing.T) {
		args := []string{"--config", h.config, "help", "download"}
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		if !strings.Contains(r.stdout, "wxpay download applies for a bill") {
			t.Errorf("help download printed:\n%s", r.stdout)
		}
	})
	t.Run("value flag named like a command", func(t *testing.T) {
		before := h.srv.RequestCount()
		args := []string{"--config", h.config, "-q", "download", "get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo}
		r := h.run(t, args...)
		// The call is made; the answer has no "download" field.
		wantCode(t, r, exitError, args...)
		if !strings.Contains(r.stderr, `no value at "download"`) || h.srv.RequestCount() != before+1 {
			t.Errorf("wxpay %s: not run as a GET:\n%s", strings.Join(args, " "), r.stderr)
		}
	})

	// A command refuses the flags it does not take, with its own hint.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--config", h.config, "demo"}, []string{"-config", "Try: wxpay demo -h"}},
		{[]string{"--config", h.config, "emulator"}, []string{"-config", "Try: wxpay emulator -h"}},
		{[]string{"--raw", "download", "--date", date, "-o", "x.csv"}, []string{"-raw", "Try: wxpay download -h"}},
		{[]string{"-i", "--config", h.config, "certificates"}, []string{"-i", "Try: wxpay certificates -h"}},
		// After "--" nothing is a flag: the command's own flags included.
		{[]string{"--config", h.config, "--", "download", "--date", date}, []string{`unexpected argument "--date"`, "Try: wxpay download -h"}},
		{[]string{"--config", h.config, "refund", "v3/x"}, []string{`unknown command or method "refund"`,
			"get", "post", "put", "patch", "delete", "demo", "emulator", "download", "certificates", "endpoints", "describe", "Try: wxpay -h"}},
		// A flag no command takes, before the command: the hint still
		// names that command's help, not another's.
		{[]string{"--bogus", "demo"}, []string{"-bogus", "Try: wxpay demo -h"}},
		{[]string{"--config", h.config, "--bogus", "download", "--date", date}, []string{"-bogus", "Try: wxpay download -h"}},
		{[]string{"--bogus", "get", queryTemplate}, []string{"-bogus", "Try: wxpay get -h"}},
		{[]string{"--nope", "DELETE", "v3/x"}, []string{"-nope", "Try: wxpay delete -h"}},
		// help for a command that does not exist is no help.
		{[]string{"help", "refund"}, []string{`unknown command or method "refund"`, "Try: wxpay -h"}},
	} {
		r := h.run(t, tc.args...)
		wantCode(t, r, exitUsage, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("wxpay %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), w, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "unknown command") != strings.Contains(strings.Join(tc.want, " "), "unknown command") {
			t.Errorf("wxpay %s: the command was not found:\n%s", strings.Join(tc.args, " "), r.stderr)
		}
	}
}

// TestFlagKinds: a flag name means the same kind of flag (boolean or with a
// value) in every command, so the command can be found after any of them.
func TestFlagKinds(t *testing.T) {
	kinds, err := globalFlagKinds()
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]bool{"config": true, "base-url": true, "d": true, "q": true, "raw": false,
		"i": false, "date": true, "o": true, "tofu": false, "json": false, "dir": true, "addr": true, "h": false, "help": false} {
		if got, ok := kinds[name]; !ok || got != value {
			t.Errorf("flag -%s: takes a value %v (known %v), want %v", name, got, ok, value)
		}
	}
}
