package wxpay

import (
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

func FuzzNormalizeSegment(f *testing.F) {
	for _, s := range []string{"v3", "WeChatPay", "applyAbnormalRefund", "_refund_id_", "$x$", "{+p}", "<id>", "__x__", "..", "a b", "%zz", "{id}.jpg", "complaintsV2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		got, err := NormalizeSegment(seg)
		if err != nil {
			return
		}
		if got == "" || got == "." || got == ".." || strings.ContainsAny(got, "/?# \\") {
			t.Fatalf("NormalizeSegment(%q) = %q: not a valid segment", seg, got)
		}
		for i := 0; i < len(got); i++ {
			pct := (i >= 1 && got[i-1] == '%') || (i >= 2 && got[i-2] == '%')
			if c := got[i]; c >= 'A' && c <= 'Z' && !pct && !inPlaceholder(got, i) {
				t.Fatalf("NormalizeSegment(%q) = %q keeps a capital outside a placeholder", seg, got)
			}
		}
		again, err := NormalizeSegment(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeSegment(%q) = %q, but again gives %q, %v", seg, got, again, err)
		}
	})
}

func inPlaceholder(s string, i int) bool {
	open := strings.LastIndexByte(s[:i], '{')
	return open >= 0 && !strings.Contains(s[open:i], "}")
}

func FuzzExpand(f *testing.F) {
	f.Add("a b/c", false)
	f.Add("退款", false)
	f.Add("x/y/z", true)
	f.Add("..", false)
	f.Add("%2F", true)
	f.Fuzz(func(t *testing.T, v string, reserved bool) {
		tmpl := "v3/x/{id}/y"
		if reserved {
			tmpl = "v3/x/{+id}/y"
		}
		got, err := expand(nil, tmpl, Opts{"id": v})
		if err != nil {
			return
		}
		path := string(got)
		seg := strings.TrimSuffix(strings.TrimPrefix(path, "v3/x/"), "/y")
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(isUnreserved(c) || c == '%' || (reserved && c == '/')) {
				t.Fatalf("expand(%q) = %q holds %q", v, path, c)
			}
		}
		for _, part := range strings.Split(seg, "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("expand(%q) = %q makes an empty or dot segment", v, path)
			}
		}
		if !reserved && strings.Contains(seg, "/") {
			t.Fatalf("simple expansion of %q kept a '/': %q", v, path)
		}
		back, err := url.PathUnescape(seg)
		if err != nil || back != v {
			t.Fatalf("expand(%q) = %q, which unescapes to %q, %v", v, path, back, err)
		}
	})
}

func fuzzClient(t testing.TB) *Client {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rsaenc.LoadPublicKey("testdata/platform_pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{MchID: "1900000109", Serial: "S1", PrivateKey: mk, Certs: map[string]*rsa.PublicKey{"PUB_KEY_ID_1": pk}, BaseURL: "http://127.0.0.1:9/"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzPrepare throws arbitrary option keys and values at the request
// builder: it must never panic, and what it accepts must be well-formed.
func FuzzPrepare(f *testing.F) {
	f.Add("v3/refund/domestic/refunds/{out_refund_no}", "out_refund_no", "R1", `{"a":1}`, "bank_account")
	f.Add("v3/x", "jsno", "x", `{}`, "")
	f.Add("v3/{+p}", "p", "a/../b", `[1,2]`, "0")
	f.Add("https://evil.example/v3", "q", "", `nope`, "a.b")
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, path, key, val, jsonBody, enc string) {
		ch := c.Chain(path)
		opts := Opts{key: val, "json": jsonBody}
		if enc != "" {
			opts["encrypt"] = enc
		}
		p, err := c.prepare("POST", ch, opts, nil)
		if err != nil {
			return
		}
		if len(p.target) == 0 || p.target[0] != '/' {
			t.Fatalf("target %q does not start with '/'", p.target)
		}
		for _, b := range p.target {
			if b <= ' ' || b >= 0x7f || b == '#' {
				t.Fatalf("target %q holds %q", p.target, b)
			}
		}
		if strings.Contains("/"+string(p.target)+"/", "/../") {
			t.Fatalf("target %q has a dot-dot segment", p.target)
		}
	})
}
