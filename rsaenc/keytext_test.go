package rsaenc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

// pemBody returns the base64 body of the first PEM block of a testdata
// file, without the BEGIN and END lines, on one line.
func pemBody(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes)
}

// wrap breaks s into lines of n characters, as PEM bodies are written.
func wrap(s string, n int, sep string) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + sep)
		s = s[n:]
	}
	return b.String() + s
}

// shownKey returns a 40-character piece of key material that msg holds, or
// "" if it holds none. material is split at whitespace, so that a body
// broken into lines is checked line by line.
func shownKey(msg string, material ...string) string {
	for _, m := range material {
		for _, f := range strings.Fields(m) {
			for i := 0; i+40 <= len(f); i++ {
				if strings.Contains(msg, f[i:i+40]) {
					return f[i : i+40]
				}
			}
		}
	}
	return ""
}

// TestLoadKeyText checks that every loader takes the key itself where it
// takes a file name: PEM text, and the bare base64 body of the DER, on one
// line or broken into lines, as .env files and Java configs keep keys.
func TestLoadKeyText(t *testing.T) {
	wantPriv, err := rsaenc.LoadPrivateKey("../testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	wantPub, err := rsaenc.LoadPublicKey("../testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, pkcs1 := pemBody(t, "merchant_key.pem"), pemBody(t, "merchant_key_pkcs1.pem")
	spki, cert := pemBody(t, "platform_pub.pem"), pemBody(t, "platform_cert.pem")
	pubPEM, _ := os.ReadFile("../testdata/platform_pub.pem")
	rsaPub := base64.StdEncoding.EncodeToString(x509PKCS1Public(t, wantPub))

	privForms := map[string]string{
		"PKCS#8 body":                 pkcs8,
		"PKCS#1 body":                 pkcs1,
		"PKCS#8 body in 64-col lines": wrap(pkcs8, 64, "\n"),
		"PKCS#1 body with CRLF":       wrap(pkcs1, 76, "\r\n") + "\r\n",
		"PKCS#8 body with spaces":     "  " + wrap(pkcs8, 50, " ") + "\n",
		"PKCS#8 body without padding": strings.TrimRight(pkcs8, "="),
		"PEM with literal \\n":        "-----BEGIN PRIVATE KEY-----\\n" + wrap(pkcs8, 64, `\n`) + "\\n-----END PRIVATE KEY-----\\n",
	}
	for name, v := range privForms {
		k, err := rsaenc.LoadPrivateKey(v)
		if err != nil {
			t.Errorf("LoadPrivateKey(%s): %v", name, err)
		} else if !k.Equal(wantPriv) {
			t.Errorf("LoadPrivateKey(%s) gave another key", name)
		}
		k, err = rsaenc.ParsePrivateKey([]byte(v))
		if err != nil || !k.Equal(wantPriv) {
			t.Errorf("ParsePrivateKey(%s): %v", name, err)
		}
	}
	pubForms := map[string]string{
		"SPKI body":             spki,
		"SPKI body in lines":    wrap(spki, 64, "\n"),
		"PKCS#1 public body":    rsaPub,
		"certificate body":      cert,
		"certificate in lines":  wrap(cert, 64, "\n"),
		"SPKI PEM text":         string(pubPEM),
		"certificate with tabs": "\t" + wrap(cert, 64, "\n\t"),
	}
	for name, v := range pubForms {
		k, err := rsaenc.LoadPublicKey(v)
		if err != nil {
			t.Errorf("LoadPublicKey(%s): %v", name, err)
		} else if !k.Equal(wantPub) {
			t.Errorf("LoadPublicKey(%s) gave another key", name)
		}
	}
	c, serial, err := rsaenc.LoadCertificate(cert)
	if err != nil || serial != "3775B6A45ACD588826D15E583A95F5DD12345678" || !c.PublicKey.(*rsa.PublicKey).Equal(wantPub) {
		t.Errorf("LoadCertificate(body) = %v, %q, %v", c != nil, serial, err)
	}

	// A file that holds only the base64 body loads too.
	f := filepath.Join(t.TempDir(), "apiclient_key.txt")
	if err := os.WriteFile(f, []byte(wrap(pkcs8, 64, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := rsaenc.LoadPrivateKey(f); err != nil || !k.Equal(wantPriv) {
		t.Errorf("LoadPrivateKey(file of a base64 body): %v", err)
	}
}

// TestLoadNeverShowsKeyText gives the loaders values that hold key material
// but no usable key, and values that may be file names, and checks that no
// error shows 40 characters of key material, that the kind of problem is
// named, and that a missing file is still fs.ErrNotExist.
func TestLoadNeverShowsKeyText(t *testing.T) {
	pkcs8, spki := pemBody(t, "merchant_key.pem"), pemBody(t, "platform_pub.pem")
	cert := pemBody(t, "platform_cert.pem")
	privPEM, _ := os.ReadFile("../testdata/merchant_key.pem")
	pubPEM, _ := os.ReadFile("../testdata/platform_pub.pem")
	// Garbage that looks like a key: a real body with bytes changed in the
	// middle, a truncated body, and base64 of random-looking bytes.
	corrupt := pkcs8[:300] + "AAAAAAAAAAAAAAAA" + pkcs8[316:]
	truncated := pkcs8[:len(pkcs8)/2]
	short := pkcs8[100:420] // 320 characters of key: fewer than 512
	garbage := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x30\x82not a key at all, but long enough to be one ", 12)))
	bangs := strings.ReplaceAll(pkcs8, "A", "!")
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecBody := base64.StdEncoding.EncodeToString(ecDER)
	dir := t.TempDir()
	garbageFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(garbageFile, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}

	type loader struct {
		name string
		load func(string) error
	}
	loaders := []loader{
		{"LoadPrivateKey", func(s string) error { _, err := rsaenc.LoadPrivateKey(s); return err }},
		{"LoadPublicKey", func(s string) error { _, err := rsaenc.LoadPublicKey(s); return err }},
		{"LoadCertificate", func(s string) error { _, _, err := rsaenc.LoadCertificate(s); return err }},
	}
	material := []string{pkcs8, spki, cert, corrupt, truncated, short, garbage, bangs, ecBody, string(privPEM), string(pubPEM)}
	for _, tc := range []struct {
		name    string
		value   string
		loaders []loader
		want    string // in the message
	}{
		{"corrupt body", corrupt, loaders, "(value not shown)"},
		{"corrupt body in lines", wrap(corrupt, 64, "\n"), loaders, "(value not shown)"},
		{"truncated body", truncated, loaders, "(value not shown)"},
		{"base64 of garbage", garbage, loaders, "(value not shown)"},
		{"not base64", bangs, loaders, "neither a readable file nor a PEM or base64"},
		{"public key body as private", spki, loaders[:1], "(value not shown)"},
		{"private key body as public", pkcs8, loaders[1:], "(value not shown)"},
		{"certificate body as private", cert, loaders[:1], "(value not shown)"},
		{"EC key body", ecBody, loaders[:1], "want an RSA key"},
		{"public PEM as private", string(pubPEM), loaders[:1], "found PUBLIC KEY"},
		{"private PEM as public", string(privPEM), loaders[1:], "found PRIVATE KEY"},
		{"file of garbage", garbageFile, loaders, garbageFile},
	} {
		for _, l := range tc.loaders {
			err := l.load(tc.value)
			if err == nil {
				t.Errorf("%s(%s) succeeded", l.name, tc.name)
				continue
			}
			if s := shownKey(err.Error(), material...); s != "" {
				t.Errorf("%s(%s): error shows key material %q: %v", l.name, tc.name, s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%s): error %q lacks %q", l.name, tc.name, err, tc.want)
			}
			if strings.Contains(err.Error(), "open ") || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s(%s): key text was opened as a file: %v", l.name, tc.name, err)
			}
		}
	}

	// A missing file named by an ordinary path: the path is shown and the
	// error is still fs.ErrNotExist.
	missing := filepath.Join(dir, "apiclient_key.pem")
	for _, l := range loaders {
		err := l.load(missing)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("%s(missing file): error %v: want fs.ErrNotExist naming %s", l.name, err, missing)
		}
	}
	// A missing "file" whose name could be a piece of a key is not shown:
	// short enough to be taken for a file name, it is not opened as key text.
	for _, piece := range []string{"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIB/x", short} {
		for _, l := range loaders {
			err := l.load(piece)
			if !errors.Is(err, fs.ErrNotExist) || shownKey(err.Error(), piece) != "" || !strings.Contains(err.Error(), "(value not shown)") {
				t.Errorf("%s(piece of key as a file name): error %v: want fs.ErrNotExist, value not shown", l.name, err)
			}
		}
	}
	// A directory is not readable as a key file.
	if _, err := rsaenc.LoadPrivateKey(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("LoadPrivateKey(directory): error %v, want one naming it", err)
	}
}

func x509PKCS1Public(t *testing.T, k *rsa.PublicKey) []byte {
	t.Helper()
	return x509.MarshalPKCS1PublicKey(k)
}
