package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// demoStyleNames are the chain styles every endpoint of the demo runs in.
var demoStyleNames = []string{
	"sync, declarative", "async, declarative", "sync, pure chain", "async, pure chain", "sync, variadic", "async, variadic",
}

// demoPaths are the endpoints of the demo.
var demoPaths = []string{
	"POST v3/refund/domestic/refunds",
	"POST v3/ecommerce/refunds/apply",
	"POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
	"POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund",
	"GET v3/refund/domestic/refunds/{out_refund_no}",
	"GET v3/ecommerce/refunds/id/{refund_id}",
}

func TestDemo(t *testing.T) {
	start := time.Now()
	r := runMain(t, invocation{}, "demo")
	wantCode(t, r, exitOK, "demo")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("demo took %v", d)
	}
	calls := len(demoPaths) * len(demoStyleNames)
	if !strings.HasSuffix(r.stdout, fmt.Sprintf("\nAll %d calls succeeded and every answer's signature was verified.\n", calls)) {
		t.Errorf("demo does not end with the success line:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "FAILED") || r.stderr != "" {
		t.Errorf("demo reports a failure:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	// Every endpoint, in every style, in the order of the table.
	rest := r.stdout
	for _, path := range demoPaths {
		for i, style := range demoStyleNames {
			want := "    " + style + ": 200 OK, signature verified with " + wxpaytest.DefaultPlatformSerial
			if i == 0 {
				want = "    " + path + ", in 6 styles:\n" + want
			}
			at := strings.Index(rest, want)
			if at < 0 {
				t.Fatalf("demo output lacks %q (after the calls before it):\n%s", want, r.stdout)
			}
			rest = rest[at+len(want):]
		}
	}
	for _, want := range []string{
		"refund_id=" + wxpaytest.FixtureRefundID + "  status=PROCESSING  channel=OTHER_BANKCARD  user_received_account=工商银行借记卡0403",
		"user_received_account=" + wxpaytest.MerchantReceivedAccount,
		"out_refund_no=" + wxpaytest.FixtureOutRefundNo + "  status=PROCESSING  channel=OTHER_BANKCARD",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "signature verified with"); n != calls {
		t.Errorf("%d answers reported verified, want %d", n, calls)
	}

	r = runMain(t, invocation{}, "demo", "now")
	wantCode(t, r, exitUsage, "demo", "now")
	if !strings.Contains(r.stderr, "Try: wxpay demo -h") {
		t.Errorf("stderr lacks the hint:\n%s", r.stderr)
	}
}

// wxpay demo --json prints one JSON object per call on standard output, and
// nothing else there.
func TestDemoJSON(t *testing.T) {
	r := runMain(t, invocation{}, "demo", "--json")
	wantCode(t, r, exitOK, "demo", "--json")
	type line struct {
		Step     int             `json:"step"`
		Style    string          `json:"style"`
		Code     string          `json:"code"`
		Method   string          `json:"method"`
		Path     string          `json:"path"`
		OK       bool            `json:"ok"`
		Status   int             `json:"status"`
		Verified bool            `json:"verified"`
		Serial   string          `json:"serial"`
		Response json.RawMessage `json:"response"`
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(demoPaths)*len(demoStyleNames) {
		t.Fatalf("%d lines, want one per call (%d):\n%s", len(lines), len(demoPaths)*len(demoStyleNames), r.stdout)
	}
	for i, l := range lines {
		var got line
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		endpoint, style := i/len(demoStyleNames), i%len(demoStyleNames)
		if got.Step != endpoint+1 || got.Style != demoStyleNames[style] || got.Method+" "+got.Path != demoPaths[endpoint] {
			t.Errorf("line %d: step %d, %s %s in style %q; want step %d, %s in style %q", i+1, got.Step, got.Method, got.Path, got.Style, endpoint+1, demoPaths[endpoint], demoStyleNames[style])
		}
		if !got.OK || got.Status != 200 || !got.Verified || got.Serial != wxpaytest.DefaultPlatformSerial {
			t.Errorf("line %d: ok %v, status %d, verified %v, serial %q", i+1, got.OK, got.Status, got.Verified, got.Serial)
		}
		var answer map[string]any
		if err := json.Unmarshal(got.Response, &answer); err != nil || answer["refund_id"] == nil && answer["out_refund_no"] == nil {
			t.Errorf("line %d: response %s is not the answer", i+1, got.Response)
		}
		if !strings.HasPrefix(got.Code, "client.Chain(") {
			t.Errorf("line %d: code %q", i+1, got.Code)
		}
	}
	if !strings.Contains(lines[3], `"code":"client.Chain(\"v3\").Chain(\"refund\").Chain(\"domestic\").Chain(\"refunds\").PostAsync(opts).Then(check).Wait()"`) {
		t.Errorf("line 4 does not show the async pure chain call:\n%s", lines[3])
	}
	if !strings.Contains(r.stderr, "All 36 calls succeeded") {
		t.Errorf("stderr lacks the summary:\n%s", r.stderr)
	}
}

// startEmulator runs "wxpay emulator" with args until the test ends and
// returns its config file once it is ready.
func startEmulator(t *testing.T, args ...string) (config string, stdout *bytes.Buffer, stop func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	c := &EmulatorCommand{
		m:     &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }},
		ready: func(_, config string) { ready <- config },
	}
	go func() { done <- c.Run(ctx, args) }()
	stop = func() (string, error) {
		cancel()
		err := <-done
		return errb.String(), err
	}
	select {
	case config = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("wxpay emulator %s: %v\n%s", strings.Join(args, " "), err, out.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("wxpay emulator did not start")
	}
	t.Cleanup(func() { cancel() })
	return config, &out, stop
}

func TestEmulator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "emu")
	config, out, stop := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", dir)
	if config != filepath.Join(dir, wxpaytest.ConfigFile) {
		t.Errorf("config written to %s, want it in %s", config, dir)
	}
	printed := out.String()
	for _, want := range []string{
		"WeChat Pay emulator listening on http://127.0.0.1:",
		"wxpay --config " + config + " get 'v3/refund/domestic/refunds/{out_refund_no}'",
		"export WXPAY_MCHID=" + wxpaytest.DefaultMchID,
		"export WXPAY_PRIVATE_KEY=" + filepath.Join(dir, wxpaytest.MerchantKeyFile),
		"export WXPAY_CERTS=" + wxpaytest.DefaultPlatformSerial + "=" + filepath.Join(dir, wxpaytest.DefaultPlatformSerial+".pem"),
		"export WXPAY_BASE_URL=http://127.0.0.1:",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("emulator output lacks %q:\n%s", want, printed)
		}
	}
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var fc wxpaytest.FileConfig
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	if fc.APIv3Key == "" || strings.Contains(printed, fc.APIv3Key) || strings.Contains(printed, "-----BEGIN") {
		t.Errorf("emulator output shows a key:\n%s", printed)
	}

	// A client set up from what the command printed works, from the file
	// and from the environment.
	args := []string{"--config", config, "get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "-q", "status"}
	r := runMain(t, invocation{}, args...)
	wantCode(t, r, exitOK, args...)
	if r.stdout != "ABNORMAL\n" {
		t.Errorf("status = %q, want ABNORMAL", r.stdout)
	}
	env := map[string]string{}
	for _, line := range strings.Split(printed, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok && strings.HasPrefix(k, "WXPAY_") {
			env[k] = strings.Trim(v, "'")
		}
	}
	r = runMain(t, invocation{env: env}, args[2:]...)
	wantCode(t, r, exitOK, args[2:]...)

	stderr, err := stop()
	if err != nil {
		t.Fatalf("emulator returned %v", err)
	}
	if !strings.Contains(stderr, "stopped after 2 requests") {
		t.Errorf("stderr on stop = %q", stderr)
	}

	// A restart on the same directory keeps the keys, so clients set up
	// before still work.
	key, _ := os.ReadFile(filepath.Join(dir, wxpaytest.MerchantKeyFile))
	config, out, stop = startEmulator(t, "--addr", "127.0.0.1:0", "--dir", dir)
	if !strings.Contains(out.String(), "(the keys of the previous run, kept)") {
		t.Errorf("restart output:\n%s", out.String())
	}
	if again, _ := os.ReadFile(filepath.Join(dir, wxpaytest.MerchantKeyFile)); !bytes.Equal(key, again) {
		t.Error("the restart replaced the merchant key")
	}
	r = runMain(t, invocation{}, "--config", config, "get", queryTemplate, "out_refund_no="+wxpaytest.FixtureOutRefundNo, "-q", "status")
	wantCode(t, r, exitOK)
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorTempDir(t *testing.T) {
	config, _, stop := startEmulator(t, "--addr", "127.0.0.1:0")
	if _, err := os.Stat(config); err != nil {
		t.Fatal(err)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(config)); !os.IsNotExist(err) {
		t.Errorf("the temporary directory %s is still there (%v)", filepath.Dir(config), err)
	}
}

func TestEmulatorErrors(t *testing.T) {
	foreign := t.TempDir()
	foreignConfig := writeFile(t, foreign, wxpaytest.ConfigFile, `{"mchid":"1230000109","serial":"REAL","private_key":"/etc/real.pem","certs":{"X":"x.pem"}}`)
	badKey := t.TempDir() // a merchant key of its own, no config
	writeFile(t, badKey, wxpaytest.MerchantKeyFile, "not a key\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", "0.0.0.0:8090"}, exitUsage, "loopback address only"},
		{[]string{"--addr", "8090"}, exitUsage, "want host:port"},
		{[]string{"--port", "1"}, exitUsage, "flag provided but not defined"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
		// Credentials the emulator did not write: a usage problem, named
		// with the directory and the cause, and the Try hint.
		{[]string{"--addr", "127.0.0.1:0", "--dir", foreign}, exitUsage, "--dir " + foreign + " holds a wxpay.json or apiclient_key.pem the emulator did not write or cannot reuse (private key file " +
			strconv.Quote(filepath.Join(foreign, wxpaytest.MerchantKeyFile)) + ": no such file or directory); give an empty --dir: the emulator does not overwrite credentials it did not write\nTry: wxpay emulator -h\n"},
		{[]string{"--addr", "127.0.0.1:0", "--dir", badKey}, exitUsage, "--dir " + badKey + " holds a wxpay.json or apiclient_key.pem the emulator did not write or cannot reuse (open " +
			filepath.Join(badKey, wxpaytest.ConfigFile) + ": no such file or directory); give an empty --dir"},
	} {
		args := append([]string{"emulator"}, tc.args...)
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, tc.code, args...)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("wxpay %s: stderr lacks %q:\n%s", strings.Join(args, " "), tc.want, r.stderr)
		}
		if strings.Contains(r.stderr, "wxpaytest:") || strings.Contains(r.stderr, "rsaenc:") || strings.Count(r.stderr, "wxpay:") != 1 {
			t.Errorf("wxpay %s: stderr has package prefixes:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
	if data, _ := os.ReadFile(foreignConfig); !strings.Contains(string(data), `"serial":"REAL"`) {
		t.Errorf("the foreign config was overwritten: %s", data)
	}
	if data, _ := os.ReadFile(filepath.Join(badKey, wxpaytest.MerchantKeyFile)); string(data) != "not a key\n" {
		t.Errorf("the foreign merchant key was overwritten: %q", data)
	}
	if _, err := os.Stat(filepath.Join(foreign, wxpaytest.MerchantKeyFile)); !os.IsNotExist(err) {
		t.Errorf("a merchant key was written next to a foreign config")
	}
}
