package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"maps"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// TestConfigProblemsAreUsageErrors: a configuration problem found before
// anything is sent exits 2 with the command's Try hint, under one "wxpay:"
// prefix, for every command that loads credentials.
func TestConfigProblemsAreUsageErrors(t *testing.T) {
	h := setup(t)
	id := wxpaytest.DefaultPlatformSerial
	with := func(k, v string) map[string]string {
		env := maps.Clone(h.env)
		env[k] = v
		return env
	}
	jsonWith := func(extra string) string {
		return writeFile(t, t.TempDir(), "wxpay.json", `{"mchid":"`+h.srv.MchID+`","serial":"`+h.srv.MerchantSerial+
			`","private_key":"`+filepath.Join(h.dir, wxpaytest.MerchantKeyFile)+`","certs":{"`+id+`":"`+
			filepath.Join(h.dir, id+".pem")+`"},"base_url":"`+h.srv.URL+`"`+extra+`}`)
	}
	missing := filepath.Join(h.dir, "missing.json")
	commands := map[string][]string{
		"get":          {"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo},
		"download":     {"download", "--date", billDate(), "-o", filepath.Join(t.TempDir(), "bill.csv")},
		"certificates": {"certificates", "--dir", t.TempDir()},
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string // after the command's
		want []string
	}{
		{"missing config file", nil, []string{"--config", missing}, []string{missing, "no such file or directory"}},
		{"config file is a directory", nil, []string{"--config", h.dir}, []string{"is a directory"}},
		{"missing key file", with(envPrivateKey, filepath.Join(h.dir, "nope.pem")), nil, []string{"WXPAY_PRIVATE_KEY", "nope.pem"}},
		{"unreadable key file", with(envPrivateKey, h.dir), nil, []string{"WXPAY_PRIVATE_KEY", "is a directory"}},
		{"short APIv3 key", with(envAPIv3Key, "too-short-secret-value"), nil, []string{"WXPAY_APIV3_KEY is 22 bytes, want 32"}},
		{"merchant id not digits", with(envMchID, "abc"), nil, []string{"MchID"}},
		{"plain http to a remote host", with(envBaseURL, "http://api.example.com/"), nil, []string{"BaseURL"}},
		{"unknown JSON key with a suggestion", nil, []string{"--config", jsonWith(`,"apiV3Key":"x"`)},
			[]string{`unknown key "apiV3Key"`, `did you mean "apiv3_key"?`, "mchid, serial, private_key, certs, apiv3_key, base_url"}},
		{"unknown JSON key", nil, []string{"--config", jsonWith(`,"frobnicate":1`)},
			[]string{`unknown key "frobnicate"`, "mchid, serial, private_key, certs, apiv3_key, base_url"}},
		{"broken JSON", nil, []string{"--config", writeFile(t, t.TempDir(), "c.json", `{"mchid": 1900000109`)}, []string{"not a wxpay JSON config"}},
		{"unknown env-style setting", nil, []string{"--config", writeFile(t, t.TempDir(), "c.env", "WXPAY_MCHID=1\nWXPAY_APIV3KEY=x\n")},
			[]string{`line 2: unknown setting "WXPAY_APIV3KEY"`, `did you mean "WXPAY_APIV3_KEY"?`}},
	} {
		for cmd, base := range commands {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				before := h.srv.RequestCount()
				args := append(append([]string(nil), base...), tc.args...)
				r := h.exec(t, invocation{env: tc.env}, args...)
				wantCode(t, r, exitUsage, args...)
				for _, w := range append([]string{"Try: wxpay " + cmd + " -h"}, tc.want...) {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
					}
				}
				if n := strings.Count(r.stderr, "wxpay:"); n != 1 || !strings.HasPrefix(r.stderr, "wxpay: ") {
					t.Errorf("stderr has %d \"wxpay:\" prefixes, want one at the start:\n%s", n, r.stderr)
				}
				if strings.Contains(r.stderr, "too-short-secret-value") {
					t.Errorf("stderr shows the APIv3 key:\n%s", r.stderr)
				}
				if n := h.srv.RequestCount(); n != before {
					t.Errorf("%d requests were sent", n-before)
				}
			})
		}
	}
}

// TestConfigIsAKeyFile: a --config naming a key or certificate file (the
// merchant key, a WeChat Pay public key, a certificate, a bare base64 body)
// is reported as such, not as a config line that lacks "=", for the
// commands that read the config through wxpay.LoadConfig and the one that
// reads it itself; nothing of the key is shown, nothing is sent.
func TestConfigIsAKeyFile(t *testing.T) {
	h := setup(t)
	k := keyBodies(t, h)
	mk, _ := testKeys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &mk.PublicKey, mk)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	certBody := base64.StdEncoding.EncodeToString(der)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(mk)}))
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"merchant key", filepath.Join(h.dir, wxpaytest.MerchantKeyFile), "looks like a PEM private key, not a config file"},
		{"PKCS#1 key", writeFile(t, dir, "pkcs1.pem", pkcs1), "looks like a PEM private key, not a config file"},
		{"key after text", writeFile(t, dir, "bag.pem", "Bag Attributes\n    localKeyID: 01 00 00 00\n"+pkcs1), "looks like a PEM private key, not a config file"},
		{"WeChat Pay public key", filepath.Join(h.dir, wxpaytest.DefaultPlatformSerial+".pem"), "looks like a PEM public key, not a config file"},
		{"certificate", writeFile(t, dir, "apiclient_cert.pem", certPEM), "looks like a PEM certificate, not a config file"},
		{"base64 body", writeFile(t, dir, "key.txt", wrapLines(k.priv, 64)+"\n"), "looks like a key or certificate in base64, not a config file"},
	} {
		for _, cmd := range [][]string{
			{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo},
			{"certificates", "--dir", t.TempDir()},
		} {
			t.Run(tc.name+"/"+cmd[0], func(t *testing.T) {
				args := append(append([]string(nil), cmd...), "--config", tc.file)
				r := h.run(t, args...)
				wantCode(t, r, exitUsage, args...)
				for _, w := range []string{"config " + tc.file + ": the file " + tc.want, "Try: wxpay " + cmd[0] + " -h"} {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
					}
				}
				if strings.Contains(r.stderr, "KEY=VALUE\n") || strings.Contains(r.stderr, "BEGIN") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
				if s := shownMaterial(r, k.priv, k.privPKCS1, k.pub, certBody); s != "" {
					t.Errorf("the output shows key material %q:\n%s", s, r.stderr)
				}
				if n := h.srv.RequestCount(); n != 0 {
					t.Errorf("%d requests were sent", n)
				}
			})
		}
	}
}
