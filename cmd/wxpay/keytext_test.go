package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// pemBody returns the base64 body of the PEM file at path, on one line.
func pemBody(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes)
}

// wrapLines breaks s into lines of n characters.
func wrapLines(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s
}

// shownMaterial returns a 40-character piece of any of material that the
// output shows, or "".
func shownMaterial(r result, material ...string) string {
	out := r.stdout + r.stderr
	for _, m := range material {
		for _, f := range strings.Fields(m) {
			for i := 0; i+40 <= len(f); i++ {
				if strings.Contains(out, f[i:i+40]) {
					return f[i : i+40]
				}
			}
		}
	}
	return ""
}

// keyMaterial is the key text of a harness in the forms the tests use.
type keyMaterial struct {
	priv, privPKCS1, pub string // base64 bodies
}

func keyBodies(t *testing.T, h *harness) keyMaterial {
	t.Helper()
	mk, _ := testKeys(t)
	return keyMaterial{
		priv:      pemBody(t, filepath.Join(h.dir, wxpaytest.MerchantKeyFile)),
		privPKCS1: base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(mk)),
		pub:       pemBody(t, filepath.Join(h.dir, wxpaytest.DefaultPlatformSerial+".pem")),
	}
}

// TestKeyTextSettings: a setting that names a key file may hold the key
// itself, PEM or the bare base64 body, in the environment, a JSON config and
// an env-style config.
func TestKeyTextSettings(t *testing.T) {
	h := setup(t)
	k := keyBodies(t, h)
	id := wxpaytest.DefaultPlatformSerial
	query := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "-q", "status"}
	with := func(kv ...string) map[string]string {
		env := maps.Clone(h.env)
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	jsonConfig := writeFile(t, h.dir, "bodies.json", `{"mchid":"`+h.srv.MchID+`","serial":"`+h.srv.MerchantSerial+
		`","private_key":"`+k.priv+`","certs":{"`+id+`":"`+k.pub+`"},"base_url":"`+h.srv.URL+`"}`)
	envConfig := writeFile(t, h.dir, "bodies.env", strings.Join([]string{
		"WXPAY_MCHID=" + h.srv.MchID,
		"WXPAY_SERIAL=" + h.srv.MerchantSerial,
		"WXPAY_PRIVATE_KEY=" + k.privPKCS1,
		"WXPAY_CERTS=" + id + "=" + k.pub,
		"WXPAY_BASE_URL=" + h.srv.URL,
	}, "\n"))
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"WXPAY_PRIVATE_KEY PKCS#8 body", with(envPrivateKey, k.priv), nil},
		{"WXPAY_PRIVATE_KEY PKCS#1 body", with(envPrivateKey, k.privPKCS1), nil},
		{"WXPAY_PRIVATE_KEY body in lines", with(envPrivateKey, wrapLines(k.priv, 64)+"\n"), nil},
		{"WXPAY_CERTS body", with(envCerts, id+"="+k.pub), nil},
		{"both bodies", with(envPrivateKey, k.priv, envCerts, id+"="+wrapLines(k.pub, 64)), nil},
		{"JSON config", nil, []string{"--config", jsonConfig}},
		{"env-style config", nil, []string{"--config", envConfig}},
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

// TestKeyTextNeverPrinted gives the key settings key material that is not
// a usable key, and checks that the command fails before sending and that
// nothing of the material is printed.
func TestKeyTextNeverPrinted(t *testing.T) {
	h := setup(t)
	k := keyBodies(t, h)
	id := wxpaytest.DefaultPlatformSerial
	query := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo}
	corrupt := k.priv[:400] + strings.Repeat("A", 24) + k.priv[424:]
	truncated := k.priv[:len(k.priv)/2]
	garbage := strings.ReplaceAll(k.priv, "A", "!")
	badPub := k.pub[:16] + strings.Repeat("B", 12) + k.pub[28:] // the algorithm
	piece := k.priv[200:500]
	material := []string{k.priv, k.privPKCS1, k.pub, corrupt, truncated, garbage, badPub, piece}
	with := func(kv ...string) map[string]string {
		env := maps.Clone(h.env)
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	config := func(privateKey, cert string) []string {
		return []string{"--config", writeFile(t, t.TempDir(), "wxpay.json", `{"mchid":"`+h.srv.MchID+`","serial":"`+h.srv.MerchantSerial+
			`","private_key":"`+privateKey+`","certs":{"`+id+`":"`+cert+`"},"base_url":"`+h.srv.URL+`"}`)}
	}
	envFile := func(lines ...string) []string {
		return []string{"--config", writeFile(t, t.TempDir(), "wxpay.env", strings.Join(lines, "\n"))}
	}
	pubFile := filepath.Join(h.dir, id+".pem")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"corrupt body in WXPAY_PRIVATE_KEY", with(envPrivateKey, corrupt), nil, "(value not shown)"},
		{"truncated body in WXPAY_PRIVATE_KEY", with(envPrivateKey, truncated), nil, "neither a readable file nor a PEM or base64 private key (value not shown)"},
		{"garbage in WXPAY_PRIVATE_KEY", with(envPrivateKey, garbage), nil, "neither a readable file nor a PEM or base64 private key (value not shown)"},
		{"piece of a body in WXPAY_PRIVATE_KEY", with(envPrivateKey, piece), nil, "(value not shown)"},
		{"public key body as WXPAY_PRIVATE_KEY", with(envPrivateKey, k.pub), nil, "(value not shown)"},
		{"corrupt body in WXPAY_CERTS", with(envCerts, id+"="+badPub), nil, "(value not shown)"},
		{"private key body in WXPAY_CERTS", with(envCerts, id+"="+k.priv), nil, "(value not shown)"},
		{"WXPAY_CERTS body without an id", with(envCerts, k.privPKCS1), nil, envCerts},
		{"WXPAY_CERTS id that is key text", with(envCerts, k.pub+"="+pubFile), nil, envCerts},
		{"corrupt body in the JSON config", nil, config(corrupt, k.pub), "(value not shown)"},
		{"garbage in the JSON config", nil, config(garbage, k.pub), "(value not shown)"},
		{"corrupt cert in the JSON config", nil, config(k.priv, badPub), "(value not shown)"},
		{"key text as a JSON certs id", nil, []string{"--config", writeFile(t, t.TempDir(), "wxpay.json", `{"mchid":"`+h.srv.MchID+
			`","serial":"`+h.srv.MerchantSerial+`","private_key":"`+k.priv+`","certs":{"`+k.pub+`":"`+pubFile+`"}}`)}, "certs"},
		{"corrupt body in an env-style config", nil, envFile("WXPAY_MCHID="+h.srv.MchID, "WXPAY_SERIAL=X", "WXPAY_PRIVATE_KEY="+corrupt, "WXPAY_CERTS="+id+"="+k.pub), "(value not shown)"},
		{"bare body line in an env-style config", nil, envFile("WXPAY_MCHID="+h.srv.MchID, k.privPKCS1), "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string(nil), query...), tc.args...)
			before := h.srv.RequestCount()
			r := h.exec(t, invocation{env: tc.env}, args...)
			if r.code == exitOK {
				t.Fatalf("exit 0, want a failure\nstdout:\n%s", r.stdout)
			}
			if s := shownMaterial(r, material...); s != "" {
				t.Errorf("the output shows key material %q:\n%s", s, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if n := h.srv.RequestCount(); n != before {
				t.Errorf("%d requests were sent", n-before)
			}
		})
	}
}

// TestMissingPublicKeyFileNamed: the WeChat Pay public key file the
// emulator writes, named after its id (PUB_KEY_ID_ and 28 digits), is
// named when it is missing: an id is no piece of a key.
func TestMissingPublicKeyFileNamed(t *testing.T) {
	config, _, _ := startEmulator(t, "--addr", "127.0.0.1:0", "--dir", t.TempDir())
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`[^"]*PUB_KEY_ID_[0-9]+\.pem`).FindString(string(b))
	if m == "" {
		t.Fatalf("no public key file in %s:\n%s", config, b)
	}
	file := filepath.Join(filepath.Dir(config), filepath.Base(m))
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, invocation{}, "--config", config, "get", "v3/refund/domestic/refunds/{out_refund_no}", "out_refund_no=1217752501201407033233368018")
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, filepath.Base(file)) || strings.Contains(r.stderr, "value not shown") {
		t.Errorf("stderr does not name the missing %s:\n%s", filepath.Base(file), r.stderr)
	}
}
