package wxpay_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// ExampleLoadConfig loads the config file an emulator wrote, as `wxpay
// emulator` does, and calls the emulator with it.
func ExampleLoadConfig() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "wxpay-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := srv.WriteFiles(dir); err != nil { // wxpay.json and the keys it names
		log.Fatal(err)
	}

	cfg, err := wxpay.LoadConfig(filepath.Join(dir, "wxpay.json"))
	if err != nil {
		log.Fatal(err)
	}
	client, err := wxpay.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": wxpaytest.FixtureOutRefundNo,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Get("status").String(), resp.Verified)
	// Output: ABNORMAL true
}

// writeConfigFiles starts an emulator with the test keys and writes its
// files to a new directory.
func writeConfigFiles(t *testing.T) (*wxpaytest.Server, string) {
	t.Helper()
	srv, _ := setup(t)
	dir := t.TempDir()
	if err := srv.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return srv, dir
}

func TestLoadConfigForms(t *testing.T) {
	srv, dir := writeConfigFiles(t)
	pemText, err := os.ReadFile(filepath.Join(dir, wxpaytest.MerchantKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub := wxpaytest.DefaultPlatformSerial + ".pem"
	// The same settings, with relative key paths, the key inline, in env
	// style: each must give a client the emulator accepts.
	inline := strings.ReplaceAll(strings.TrimSpace(string(pemText)), "\n", `\n`)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"relative.json": `{"mchid":"` + srv.MchID + `","serial":"` + srv.MerchantSerial + `","private_key":"apiclient_key.pem",` +
			`"certs":{"` + wxpaytest.DefaultPlatformSerial + `":"` + pub + `"},"apiv3_key":"` + srv.APIv3Key + `","base_url":"` + srv.URL + `"}`,
		"sub/up.json": `{"mchid":"` + srv.MchID + `","serial":"` + srv.MerchantSerial + `","private_key":"../apiclient_key.pem",` +
			`"certs":{"` + wxpaytest.DefaultPlatformSerial + `":"../` + pub + `"},"base_url":"` + srv.URL + `"}`,
		"inline.json": `{"MchID":"` + srv.MchID + `","serial":"` + srv.MerchantSerial + `","private_key":"` + inline + `",` +
			`"certs":{"` + wxpaytest.DefaultPlatformSerial + `":"` + pub + `"},"base_url":"` + srv.URL + `"}`,
		"wxpay.env": "# env style\nexport WXPAY_MCHID=" + srv.MchID + "\nWXPAY_SERIAL='" + srv.MerchantSerial +
			"'\nWXPAY_PRIVATE_KEY=apiclient_key.pem\nWXPAY_CERTS=" + wxpaytest.DefaultPlatformSerial + "=" + pub +
			"\nWXPAY_APIV3_KEY=\"" + srv.APIv3Key + "\"\nWXPAY_BASE_URL=" + srv.URL + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			// From another working directory: key paths resolve against
			// the config file's directory.
			t.Chdir(t.TempDir())
			cfg, err := wxpay.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MchID != srv.MchID || cfg.Serial != srv.MerchantSerial || cfg.BaseURL != srv.URL || len(cfg.Certs) != 1 {
				t.Errorf("LoadConfig(%s) = %v", name, cfg)
			}
			client, err := wxpay.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Get("status").String(); got != "ABNORMAL" || !resp.Verified {
				t.Errorf("status %q, verified %v", got, resp.Verified)
			}
		})
	}
	cfg, err := wxpay.LoadConfig(filepath.Join(dir, wxpaytest.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIv3Key != srv.APIv3Key {
		t.Error("the APIv3 key of the emulator's wxpay.json was not loaded")
	}
}

func TestLoadConfigErrors(t *testing.T) {
	srv, dir := writeConfigFiles(t)
	key := filepath.Join(dir, wxpaytest.MerchantKeyFile)
	pub := filepath.Join(dir, wxpaytest.DefaultPlatformSerial+".pem")
	pemText, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	brokenPEM := strings.ReplaceAll(strings.Replace(string(pemText), "MII", "MIX", 1), "\n", `\n`)
	json := func(privateKey, extra string) string {
		return `{"mchid":"` + srv.MchID + `","serial":"` + srv.MerchantSerial + `","private_key":"` + privateKey +
			`","certs":{"` + wxpaytest.DefaultPlatformSerial + `":"` + pub + `"}` + extra + `}`
	}
	for _, tc := range []struct {
		name, content string
		want          []string
		notExist      bool // errors.Is(err, fs.ErrNotExist)
	}{
		{"missing file", "", []string{"config file ", "missing-file", "no such file or directory"}, true},
		{"unknown key", json(key, `,"apiV3Key":"0123456789abcdef0123456789abcdef"`),
			[]string{`unknown key "apiV3Key" (did you mean "apiv3_key"?); the keys are mchid, serial, private_key, certs, apiv3_key, base_url`}, false},
		{"unknown setting", "WXPAY_MCHID=1\nWXPAY_PRIVATEKEY=k.pem\n", []string{`line 2: unknown setting "WXPAY_PRIVATEKEY" (did you mean "WXPAY_PRIVATE_KEY"?)`}, false},
		{"not JSON", `{"mchid": 1900000109`, []string{"not a wxpay JSON config: syntax error"}, false},
		{"wrong JSON type", `{"mchid": 1900000109}`, []string{"not a wxpay JSON config: mchid is a JSON number, want string"}, false},
		{"incomplete", `{"mchid":"1900000109"}`, []string{"lacks serial (WXPAY_SERIAL), private_key (WXPAY_PRIVATE_KEY), certs (WXPAY_CERTS)"}, false},
		{"short APIv3 key", json(key, `,"apiv3_key":"secret-apiv3-value"`), []string{"apiv3_key is 18 bytes, want 32"}, false},
		{"missing key file", json(filepath.Join(dir, "nope.pem"), ""), []string{"private_key: private key file", "nope.pem", "no such file or directory"}, true},
		{"public key as private key", json(pub, ""), []string{"private_key: private key file", "want a private key PEM block"}, false},
		{"broken inline key", json(brokenPEM, ""), []string{"private_key: the value is PEM text without a usable private key (value not shown)"}, false},
		{"bad key id", `{"mchid":"1","serial":"S","private_key":"` + key + `","certs":{"not an id":"` + pub + `"}}`,
			[]string{"certs: an id is not a WeChat Pay public-key id"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), strings.ReplaceAll(tc.name, " ", "-"))
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := wxpay.LoadConfig(path)
			if err == nil {
				t.Fatalf("LoadConfig = %v, want an error", cfg)
			}
			if !errors.Is(err, wxpay.ErrInvalidConfig) {
				t.Errorf("error %q does not match ErrInvalidConfig", err)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tc.notExist)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "wxpay: config") {
				t.Errorf("error %q does not start with \"wxpay: config\"", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, secret := range []string{"secret-apiv3-value", "0123456789abcdef", "-----BEGIN", "MII", "MIX"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows %q: %s", secret, msg)
				}
			}
		})
	}
}

// TestLoadConfigNeverReadsEnvironment: the WXPAY_* variables are the wxpay
// command's; a program gets what its file says.
func TestLoadConfigNeverReadsEnvironment(t *testing.T) {
	_, dir := writeConfigFiles(t)
	t.Setenv("WXPAY_BASE_URL", "http://127.0.0.1:1/")
	t.Setenv("WXPAY_MCHID", "1230000109")
	cfg, err := wxpay.LoadConfig(filepath.Join(dir, wxpaytest.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MchID != wxpaytest.DefaultMchID || cfg.BaseURL == "http://127.0.0.1:1/" {
		t.Errorf("LoadConfig took the environment: %v", cfg)
	}
}

// TestLoadConfigCertificateSerial: a platform certificate serial is 40
// hexadecimal digits, as WeChat Pay's are; a config naming its certificate
// by it loads.
func TestLoadConfigCertificateSerial(t *testing.T) {
	srv, dir := writeConfigFiles(t)
	pub := filepath.Join(dir, wxpaytest.DefaultPlatformSerial+".pem")
	path := filepath.Join(dir, "certmode.json")
	for _, serial := range []string{wxpaytest.DefaultCertificateSerial, "7132d72a03e93cddf8c03bbd1f37eedf"} {
		content := `{"mchid":"` + srv.MchID + `","serial":"` + srv.MerchantSerial + `","private_key":"apiclient_key.pem",` +
			`"certs":{"` + serial + `":"` + pub + `"}}`
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := wxpay.LoadConfig(path)
		if err != nil {
			t.Fatalf("serial %s: %v", serial, err)
		}
		if cfg.Certs[serial] == nil {
			t.Errorf("serial %s: Certs = %v", serial, cfg)
		}
	}
}
