package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// loggedRequest is an entry of the emulator's request log.
type loggedRequest struct {
	Method     string `json:"method"`
	RequestURI string `json:"request_uri"`
	Status     int    `json:"status"`
}

// emulatorHTTP sends a request to one of the emulator's own endpoints.
func emulatorHTTP(t *testing.T, baseURL, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(baseURL, "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// requestLog reads the emulator's request log.
func requestLog(t *testing.T, baseURL string) []loggedRequest {
	t.Helper()
	status, body := emulatorHTTP(t, baseURL, http.MethodGet, wxpaytest.InspectPath, "")
	var log []loggedRequest
	if err := json.Unmarshal([]byte(body), &log); status != 200 || err != nil {
		t.Fatalf("request log: %d %s (%v)", status, body, err)
	}
	return log
}

// emulatorURL returns the base URL of the emulator that wrote config.
func emulatorURL(t *testing.T, config string) string {
	t.Helper()
	cfg, err := wxpay.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.BaseURL
}

// TestEmulatorFaultRetry: a refund application that wxpay emulator --fault
// answers twice with SYSTEM_ERROR succeeds with --retry 3, in three
// attempts, and fails without enough attempts.
func TestEmulatorFaultRetry(t *testing.T) {
	const spec = "POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2"
	config, out, _ := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", t.TempDir(), "--fault", spec)
	if !strings.Contains(out.String(), "\tPOST /v3/refund/domestic/refunds=500:SYSTEM_ERROR*2\n") {
		t.Errorf("the emulator does not list the fault:\n%s", out)
	}
	url := emulatorURL(t, config)
	body := `{"transaction_id":"T-RETRY","out_refund_no":"R-RETRY","amount":{"refund":100,"total":888,"currency":"CNY"}}`
	args := []string{"--config", config, "post", "v3/refund/domestic/refunds", "-d", body, "--retry", "3", "-q", "out_refund_no"}
	r := runMain(t, invocation{}, args...)
	wantCode(t, r, exitOK, args...)
	if r.stdout != "R-RETRY\n" {
		t.Errorf("stdout = %q, want the refund", r.stdout)
	}
	attempt := func(status int) loggedRequest {
		return loggedRequest{Method: "POST", RequestURI: "/v3/refund/domestic/refunds", Status: status}
	}
	if diff := cmp.Diff([]loggedRequest{attempt(500), attempt(500), attempt(200)}, requestLog(t, url)); diff != "" {
		t.Errorf("request log (-want +got)\n%s", diff)
	}

	// The same fault injected into the running emulator: two attempts are
	// not enough.
	status, pending := emulatorHTTP(t, url, http.MethodPost, wxpaytest.FaultsPath, spec)
	if status != 200 || !strings.Contains(pending, "500:SYSTEM_ERROR*2") {
		t.Fatalf("POST %s: %d %s", wxpaytest.FaultsPath, status, pending)
	}
	args[5] = strings.ReplaceAll(body, "R-RETRY", "R-RETRY-2")
	args[7] = "2"
	r = runMain(t, invocation{}, args...)
	wantCode(t, r, exitError, args...)
	if !strings.Contains(r.stderr, "HTTP 500 SYSTEM_ERROR") {
		t.Errorf("stderr lacks the error:\n%s", r.stderr)
	}
	if log := requestLog(t, url); len(log) != 5 || log[3] != attempt(500) || log[4] != attempt(500) {
		t.Errorf("request log after --retry 2: %+v", log)
	}
}

func TestEmulatorFaultErrors(t *testing.T) {
	for _, tc := range []struct {
		fault, want string
	}{
		{"v3/refund/domestic/refunds", `--fault: fault "v3/refund/domestic/refunds": want [METHOD ]PATH=FAULT[*COUNT]`},
		{"GET v3/refund/domestic/refunds/{out_refund_no}=500", "not a template"},
		{"v3/=teapot", `"teapot": want an HTTP status`},
		{"v3/=500*0", `count "0"`},
	} {
		args := []string{"emulator", "--addr", "127.0.0.1:0", "--fault", "POST v3/=503", "--fault", tc.fault}
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, exitUsage, args...)
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Try: wxpay emulator -h") {
			t.Errorf("wxpay %s: stderr lacks %q:\n%s", strings.Join(args, " "), tc.want, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("wxpay %s started: %s", strings.Join(args, " "), r.stdout)
		}
	}
}

// TestEmulatorCertificateMode: wxpay emulator --platform-certificates signs
// with a platform certificate's key, and wxpay certificates downloads that
// certificate, verified with the key of the config the emulator wrote, or
// by trust on first use from a config without one.
func TestEmulatorCertificateMode(t *testing.T) {
	dir := t.TempDir()
	config, out, stop := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", dir, "--platform-certificates")
	serial := wxpaytest.DefaultCertificateSerial
	for _, want := range []string{"certificate mode: WeChat Pay platform certificate " + serial, " certificates --dir "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("emulator output lacks %q:\n%s", want, out)
		}
	}

	args := []string{"--config", config, "get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "-i"}
	r := runMain(t, invocation{}, args...)
	wantCode(t, r, exitOK, args...)
	if !strings.Contains(r.stdout, "Wechatpay-Serial: "+serial) {
		t.Errorf("the answer is not signed with the certificate's key:\n%s", r.stdout)
	}

	certs := filepath.Join(t.TempDir(), "certs")
	args = []string{"--config", config, "certificates", "--dir", certs}
	r = runMain(t, invocation{}, args...)
	wantCode(t, r, exitOK, args...)
	if !strings.HasPrefix(r.stdout, serial+"  effective ") || !strings.Contains(r.stdout, "(valid)") || r.stderr != "" {
		t.Errorf("wxpay certificates:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	cert := readCertificate(t, filepath.Join(certs, serial+".pem"))
	pub, err := rsaenc.LoadPublicKey(filepath.Join(dir, serial+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(cert.PublicKey) || cert.SerialNumber.Text(16) != strings.ToLower(serial) {
		t.Errorf("downloaded certificate %X does not hold the emulator's platform key", cert.SerialNumber)
	}

	// A merchant with no WeChat Pay key yet: trust on first use.
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	delete(fc, "certs")
	bare, _ := json.Marshal(fc)
	bareConfig := writeFile(t, t.TempDir(), "bare.json", string(bare))
	args = []string{"--config", bareConfig, "certificates", "--tofu", "--dir", certs}
	r = runMain(t, invocation{}, args...)
	wantCode(t, r, exitOK, args...)
	if !strings.Contains(r.stderr, "TRUST ON FIRST USE") || !strings.HasPrefix(r.stdout, serial) {
		t.Errorf("wxpay certificates --tofu:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}

	// The keys of one mode are not served in the other.
	args = []string{"emulator", "--addr", "127.0.0.1:0", "--dir", dir}
	r = runMain(t, invocation{}, args...)
	wantCode(t, r, exitUsage, args...)
	if !strings.Contains(r.stderr, "holds the keys of an emulator in certificate mode: add --platform-certificates") {
		t.Errorf("restart in public-key mode:\n%s", r.stderr)
	}
	pubDir := t.TempDir()
	_, _, stop = startEmulator(t, "--addr", "127.0.0.1:0", "--dir", pubDir)
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	args = []string{"emulator", "--addr", "127.0.0.1:0", "--dir", pubDir, "--platform-certificates"}
	r = runMain(t, invocation{}, args...)
	wantCode(t, r, exitUsage, args...)
	if !strings.Contains(r.stderr, "holds the keys of an emulator in public-key mode") {
		t.Errorf("restart in certificate mode:\n%s", r.stderr)
	}
}

func readCertificate(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
