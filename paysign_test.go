package wxpay_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/internal/rsabackend"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// countingSigner stands for a remote signer (a KMS or HSM): a
// crypto.Signer that is not an *rsa.PrivateKey, counting its signatures.
type countingSigner struct {
	key *rsa.PrivateKey
	n   atomic.Int64
}

func (s *countingSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *countingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.key.Sign(rand, digest, opts)
}

// jsapiOrder places a JSAPI order with the emulator and returns its
// prepay_id.
func jsapiOrder(t *testing.T, c *wxpay.Client, path string) string {
	t.Helper()
	body := wxpay.Opts{
		"appid":        "wxd678efh567hg6787",
		"mchid":        "1900000109",
		"description":  "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": "1217752501201407033233368018",
		"notify_url":   "https://www.weixin.qq.com/wxpay/pay.php",
		"amount":       wxpay.Opts{"total": 100, "currency": "CNY"},
	}
	if strings.HasSuffix(path, "jsapi") {
		body["payer"] = wxpay.Opts{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
	}
	resp, err := c.Chain(path).Post(wxpay.Opts{"json": body})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Get("prepay_id").String()
	if id == "" {
		t.Fatalf("no prepay_id in %s", resp.Body)
	}
	return id
}

// verifyPaySign checks sig, base64, over msg with the merchant public key:
// with crypto/rsa, against a signature made here with the private key
// (PKCS#1 v1.5 is deterministic), and with the openssl CLI when installed.
func verifyPaySign(t *testing.T, msg, sig string) {
	t.Helper()
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatalf("signature %q is not base64: %v", sig, err)
	}
	digest := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&mk.PublicKey, crypto.SHA256, digest[:], raw); err != nil {
		t.Errorf("signature does not verify over %q: %v", msg, err)
	}
	want, err := rsa.SignPKCS1v15(nil, mk, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(want); got != sig {
		t.Errorf("signature %s, want %s", sig, got)
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not installed: checked with crypto/rsa only")
		return
	}
	dir := t.TempDir()
	msgFile, sigFile := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", "testdata/merchant_pub.pem", "-signature", sigFile, msgFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Errorf("openssl dgst -verify: %v: %s", err, out)
	}
}

// JSAPIPayParams signs "appId\ntimeStamp\nnonceStr\npackage\n" with the
// merchant key, with each crypto backend, and encodes to the object
// wx.requestPayment takes.
func TestJSAPIPayParams(t *testing.T) {
	_, c := setup(t)
	prepayID := jsapiOrder(t, c, "v3/pay/transactions/jsapi")
	for _, be := range signBackends() {
		t.Run(be, func(t *testing.T) {
			useSignBackend(t, be)
			before := time.Now().Unix()
			p, err := c.JSAPIPayParams("wxd678efh567hg6787", prepayID)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := strconv.ParseInt(p.TimeStamp, 10, 64)
			if err != nil || ts < before || ts > time.Now().Unix() {
				t.Errorf("TimeStamp %q, want the current time in seconds", p.TimeStamp)
			}
			if len(p.NonceStr) != 32 || p.Package != "prepay_id="+prepayID || p.SignType != "RSA" || p.AppID != "wxd678efh567hg6787" {
				t.Errorf("params %+v", p)
			}
			verifyPaySign(t, p.AppID+"\n"+p.TimeStamp+"\n"+p.NonceStr+"\n"+p.Package+"\n", p.PaySign)

			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]any
			if err := json.Unmarshal(b, &fields); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"appId": p.AppID, "timeStamp": p.TimeStamp, "nonceStr": p.NonceStr,
				"package": p.Package, "signType": "RSA", "paySign": p.PaySign}
			if diff := cmp.Diff(want, fields); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
}

// AppPayParams signs "appid\ntimestamp\nnoncestr\nprepayid\n" and encodes
// to the fields of the APP SDK's PayReq.
func TestAppPayParams(t *testing.T) {
	_, c := setup(t)
	prepayID := jsapiOrder(t, c, "v3/pay/transactions/app")
	p, err := c.AppPayParams("wxd678efh567hg6787", prepayID)
	if err != nil {
		t.Fatal(err)
	}
	if p.PartnerID != c.MchID() || p.PrepayID != prepayID || p.Package != "Sign=WXPay" || len(p.NonceStr) != 32 {
		t.Errorf("params %+v", p)
	}
	verifyPaySign(t, p.AppID+"\n"+p.Timestamp+"\n"+p.NonceStr+"\n"+p.PrepayID+"\n", p.Sign)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"appid": p.AppID, "partnerid": p.PartnerID, "prepayid": prepayID, "package": "Sign=WXPay",
		"noncestr": p.NonceStr, "timestamp": p.Timestamp, "sign": p.Sign}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// A remote signer in Config.PrivateKey makes the pay sign too.
func TestPayParamsRemoteSigner(t *testing.T) {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	remote := &countingSigner{key: mk}
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.PrivateKey = remote })
	p, err := c.JSAPIPayParams("wxd678efh567hg6787", "wx201410272009395522657a690389285100")
	if err != nil {
		t.Fatal(err)
	}
	if n := remote.n.Load(); n != 1 {
		t.Errorf("the remote signer signed %d times, want 1", n)
	}
	verifyPaySign(t, p.AppID+"\n"+p.TimeStamp+"\n"+p.NonceStr+"\n"+p.Package+"\n", p.PaySign)
}

// Values that would change the signed lines, or are not ids, are refused.
func TestPayParamsRefused(t *testing.T) {
	_, c := setup(t)
	for _, tt := range []struct{ appID, prepayID, want string }{
		{"", "wx1", "appID is empty"},
		{"wx1", "", "prepayID is empty"},
		{"wx1\nwx2", "wx1", "control character"},
		{"wx1", "wx1\n", "control character"},
		{"wx1", "prepay_id=wx1", "without \"prepay_id=\""},
		{"wx1", strings.Repeat("x", 65), "at most 64"},
	} {
		_, err := c.JSAPIPayParams(tt.appID, tt.prepayID)
		_, appErr := c.AppPayParams(tt.appID, tt.prepayID)
		for _, err := range []error{err, appErr} {
			if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("(%q, %q): err = %v, want ErrInvalidOption with %q", tt.appID, tt.prepayID, err, tt.want)
			}
		}
	}
}

// signBackends returns the crypto backends to sign with: always "go", and
// "openssl" when libcrypto can be loaded.
func signBackends() []string {
	if rsabackend.Available() == nil {
		return []string{rsabackend.OpenSSL, rsabackend.Go}
	}
	return []string{rsabackend.Go}
}

// useSignBackend switches the crypto backend for the rest of tb.
func useSignBackend(tb testing.TB, name string) {
	tb.Helper()
	if err := rsabackend.Use(name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		restore := strings.ToLower(strings.TrimSpace(os.Getenv(rsabackend.EnvVar)))
		if restore == "" || rsabackend.Use(restore) != nil {
			_ = rsabackend.Use(rsabackend.Auto)
		}
	})
}
