package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

func TestConfigSources(t *testing.T) {
	h := setup(t)
	query := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "-q", "status"}

	// The same settings as the JSON file, in env style with relative
	// paths, comments, quotes and export.
	envFile := writeFile(t, h.dir, "wxpay.env", strings.Join([]string{
		"# the emulator's merchant",
		"export WXPAY_MCHID=" + h.srv.MchID,
		`WXPAY_SERIAL="` + h.srv.MerchantSerial + `"`,
		"WXPAY_PRIVATE_KEY = apiclient_key.pem",
		"",
		"WXPAY_CERTS='" + wxpaytest.DefaultPlatformSerial + "=" + wxpaytest.DefaultPlatformSerial + ".pem'",
		"WXPAY_APIV3_KEY=" + h.srv.APIv3Key,
		"WXPAY_BASE_URL=" + h.srv.URL,
	}, "\n"))
	relJSON := writeFile(t, h.dir, "relative.json", `{"mchid":"`+h.srv.MchID+`","serial":"`+h.srv.MerchantSerial+
		`","private_key":"apiclient_key.pem","certs":{"`+wxpaytest.DefaultPlatformSerial+`":"`+wxpaytest.DefaultPlatformSerial+
		`.pem"},"base_url":"`+h.srv.URL+`"}`)
	noBase := maps.Clone(h.env)
	delete(noBase, envBaseURL)
	// Saved by an editor that starts UTF-8 with a byte order mark, as
	// Windows Notepad long did.
	jsonText, err := os.ReadFile(h.config)
	if err != nil {
		t.Fatal(err)
	}
	bomJSON := writeFile(t, h.dir, "bom.json", "\uFEFF"+string(jsonText))
	envText, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	bomEnv := writeFile(t, h.dir, "bom.env", "\uFEFF"+strings.ReplaceAll(string(envText), "\n", "\r\n"))

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"JSON file", nil, []string{"--config", h.config}},
		{"JSON file with relative paths", nil, []string{"--config", relJSON}},
		{"env-style file", nil, []string{"--config", envFile}},
		{"JSON file with a byte order mark", nil, []string{"--config", bomJSON}},
		{"env-style file with a byte order mark and CRLF", nil, []string{"--config", bomEnv}},
		{"environment", h.env, nil},
		{"environment and --base-url", noBase, []string{"--base-url", h.srv.URL}},
		// --config wins over the environment entirely.
		{"file over environment", map[string]string{envMchID: "123"}, []string{"--config", h.config}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string(nil), query...), tc.args...)
			r := h.exec(t, invocation{env: tc.env}, args...)
			wantCode(t, r, exitOK, args...)
			if r.stdout != "ABNORMAL\n" {
				t.Errorf("stdout = %q, want ABNORMAL", r.stdout)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	h := setup(t)
	query := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo}
	pub := filepath.Join(h.dir, wxpaytest.DefaultPlatformSerial+".pem")
	with := func(k, v string) map[string]string {
		env := maps.Clone(h.env)
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string // config file content, if any
		code int
		want string
	}{
		{"no serial", with(envSerial, ""), "", exitUsage, "lacks serial (WXPAY_SERIAL)"},
		{"no certs in file", nil, `{"mchid":"1900000109","serial":"X","private_key":"k.pem"}`, exitUsage, "lacks certs (WXPAY_CERTS)"},
		{"unknown env-style setting", nil, "WXPAY_MCHID=1\nWXPAY_SECRET=x\n", exitUsage, `line 2: unknown setting "WXPAY_SECRET"`},
		{"line without =", nil, "WXPAY_MCHID\n", exitUsage, "line 1: want KEY=VALUE"},
		{"broken JSON", nil, `{"mchid": 1900000109`, exitUsage, "not a wxpay JSON config"},
		{"JSON array", nil, `[{"mchid": "1900000109"}]`, exitUsage, "a JSON config is one object, {...}"},
		{"missing key file", with(envPrivateKey, filepath.Join(h.dir, "nope.pem")), "", exitUsage, "WXPAY_PRIVATE_KEY: private key file \"" + filepath.Join(h.dir, "nope.pem") + "\": no such file or directory"},
		{"public key as private key", with(envPrivateKey, pub), "", exitUsage, "want a private key PEM block"},
		{"private key as cert", with(envCerts, "K="+filepath.Join(h.dir, wxpaytest.MerchantKeyFile)), "", exitUsage, "WXPAY_CERTS K: public key file"},
		{"malformed WXPAY_CERTS", with(envCerts, "just-a-path.pem"), "", exitUsage, "want id=path pairs"},
		{"short APIv3 key", with(envAPIv3Key, "too-short-secret-value"), "", exitUsage, "WXPAY_APIV3_KEY is 22 bytes, want 32"},
		{"merchant id not digits", with(envMchID, "abc"), "", exitUsage, "MchID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string(nil), query...)
			if tc.file != "" {
				args = append(args, "--config", writeFile(t, t.TempDir(), "cfg", tc.file))
			}
			r := h.exec(t, invocation{env: tc.env}, args...)
			wantCode(t, r, tc.code, args...)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "too-short-secret-value") {
				t.Errorf("stderr shows the APIv3 key:\n%s", r.stderr)
			}
		})
	}
	if _, err := os.Stat(h.config); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string(nil), query...), "--config", filepath.Join(h.dir, "missing.json"))
	r := h.run(t, args...)
	wantCode(t, r, exitUsage, args...)
	if !strings.Contains(r.stderr, "missing.json") {
		t.Errorf("stderr does not name the missing config file:\n%s", r.stderr)
	}
}

// TestNoSecretsPrinted runs every kind of output once and checks that the
// secret check itself catches a leak.
func TestNoSecretsPrinted(t *testing.T) {
	h := setup(t)
	base := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo}
	for _, extra := range [][]string{{"-i"}, {"--raw"}, {"-i", "-q", "amount"}} {
		h.exec(t, invocation{env: h.env}, append(append([]string(nil), base...), extra...)...)
	}
	h.srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature})
	h.exec(t, invocation{env: h.env}, base...)
	h.exec(t, invocation{env: h.env}, "get", queryTemplate, "out_refund_no=nope", "-i")

	// The check must be able to fail.
	if h.srv.RequestCount() == 0 || len(h.leaks(result{stderr: "key " + h.srv.APIv3Key})) == 0 {
		t.Fatal("the secret check does not see the APIv3 key")
	}
	req, _ := h.srv.LastRequest()
	if len(h.leaks(result{stdout: req.Header.Get("Authorization")})) == 0 {
		t.Fatal("the secret check does not see an Authorization header")
	}
}
