package wxpay_test

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// setupChecked is setup with the catalogue's Checker on the client.
func setupChecked(t *testing.T) (*wxpaytest.Server, *wxpay.Client) {
	t.Helper()
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.Checker = catalog.Checker()
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// platformKey is the private key of the emulator's WeChat Pay key, to read
// what the client encrypted.
func platformKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestCheckerRefusesBeforeSending: with Config.Checker set, a request the
// catalogue refuses is an error wrapping ErrInvalidOption and the
// catalogue's typed error, and the emulator receives nothing.
func TestCheckerRefusesBeforeSending(t *testing.T) {
	srv, c := setupChecked(t)
	body := applyRefundJSON("R-CHECK-1")
	delete(body, "out_refund_no")
	body["amount"] = wxpay.Opts{"refund": 1.5, "total": 888, "currency": "CNY"}
	_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": body})
	var ce *catalog.CheckError
	if !errors.Is(err, wxpay.ErrInvalidOption) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want an ErrInvalidOption and a *catalog.CheckError", err)
	}
	var fields []string
	for _, p := range ce.Problems {
		fields = append(fields, p.Field)
	}
	if want := []string{"amount.refund", "out_refund_no"}; !slices.Equal(fields, want) {
		t.Errorf("problems on %q, want %q: %v", fields, want, err)
	}

	_, err = c.Chain("v3/refund/domestic/refundz/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	var ue *catalog.UnknownEndpointError
	if !errors.Is(err, wxpay.ErrInvalidOption) || !errors.Is(err, wxpay.ErrInvalidPath) || !errors.As(err, &ue) {
		t.Fatalf("err = %v, want ErrInvalidOption, ErrInvalidPath and a *catalog.UnknownEndpointError", err)
	}
	if !slices.Contains(ue.Suggestions, "GET v3/refund/domestic/refunds/{out_refund_no}") {
		t.Errorf("suggestions %q lack the refund query", ue.Suggestions)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the emulator received %d requests, want none", n)
	}
}

// TestCheckerPassesValidCalls: calls the catalogue accepts are sent,
// however the path is written: a template, chain segments with other
// placeholder names, a path with its values, a query.
func TestCheckerPassesValidCalls(t *testing.T) {
	srv, c := setupChecked(t)
	if _, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON(fixtureOutNo + "9")}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []wxpay.Chain{
		c.Chain("v3/refund/domestic/refunds/{out_refund_no}"),
		c.Chain("V3", "Refund", "Domestic", "Refunds", "_no_"),
		c.Chain("v3/refund/domestic/refunds/" + fixtureOutNo + "9"),
	} {
		opts := wxpay.Opts{"query": url.Values{"sub_mchid": {"1900000109"}}}
		if strings.Contains(ch.String(), "{") {
			name := strings.TrimSuffix(ch.String()[strings.LastIndexByte(ch.String(), '{')+1:], "}")
			opts[name] = fixtureOutNo + "9"
		}
		resp, err := ch.Get(opts)
		if err != nil {
			t.Errorf("%s: %v", ch, err)
			continue
		}
		if got := resp.Get("out_refund_no").String(); got != fixtureOutNo+"9" {
			t.Errorf("%s: out_refund_no %q", ch, got)
		}
	}
	// A trade bill of every type the catalogue knows, the shared ones
	// (ALL, SUCCESS, REFUND) and the trade bill's own.
	for _, typ := range []string{"ALL", "RECHARGE_REFUND"} {
		if _, err := c.Chain("v3/bill/tradebill").Get(wxpay.Opts{"query": wxpay.Opts{"bill_date": srv.LatestBillDate(), "bill_type": typ}}); err != nil {
			t.Errorf("bill_type %s: %v", typ, err)
		}
	}
}

// TestEncryptAll: "encrypt": true encrypts every sensitive field the
// catalogue marks that the body holds, inside arrays too, and the
// Wechatpay-Serial is set; the emulator, which wants each one a ciphertext
// under its key, accepts the request. The path ends with the trailing
// slash _empty_ stands for, as signed and received.
func TestEncryptAll(t *testing.T) {
	srv, c := setupChecked(t)
	op, _ := catalog.Lookup("POST", "v3/applyment4sub/applyment/")
	_, _, body := op.ExampleRequest()
	item := schemaAt(t, op.Body, "subject_info.ubo_info_list").Items.Example()
	body, _ = sjson.SetRawBytes(body, "subject_info.ubo_info_list", []byte("["+string(item)+","+string(item)+"]"))
	plain := map[string]string{
		"contact_info.contact_name":                      "张三",
		"bank_account_info.account_number":               "6214830000001234",
		"subject_info.ubo_info_list.0.ubo_id_doc_name":   "李四",
		"subject_info.ubo_info_list.1.ubo_id_doc_name":   "王五",
		"subject_info.ubo_info_list.1.ubo_id_doc_number": "110101199003070000",
	}
	for p, v := range plain {
		body, _ = sjson.SetBytes(body, p, v)
	}
	sensitive := catalog.ExpandPaths(body, op.Sensitive())

	resp, err := c.Chain("V3", "Applyment4sub", "Applyment", "_empty_").Post(wxpay.Opts{"json": body, "encrypt": true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !resp.Get("applyment_id").Exists() {
		t.Errorf("answer %d %s", resp.StatusCode, resp.Body)
	}
	r, _ := srv.LastRequest()
	if r.RequestURI != "/v3/applyment4sub/applyment/" || !r.Authenticated {
		t.Errorf("request %s, authenticated %v: want the trailing slash, signed", r.RequestURI, r.Authenticated)
	}
	if got := r.Header.Get("Wechatpay-Serial"); got != platformSerial {
		t.Errorf("Wechatpay-Serial = %q, want %q", got, platformSerial)
	}
	pk := platformKey(t)
	for _, p := range sensitive {
		want := gjson.GetBytes(body, p).String()
		ct := gjson.GetBytes(r.Body, p).String()
		if got, err := rsaenc.Decrypt(pk, ct); err != nil || got != want {
			t.Errorf("%s sent as %.20q, which decrypts to %q, %v; want %q", p, ct, got, err, want)
		}
	}
	if len(sensitive) < len(plain) {
		t.Errorf("only %d sensitive fields found: %q", len(sensitive), sensitive)
	}
	for p := range plain {
		if !slices.Contains(sensitive, p) {
			t.Errorf("%s is not among the sensitive fields %q", p, sensitive)
		}
	}
	// Everything else is sent as it was.
	stripped := body
	for _, p := range sensitive {
		stripped, _ = sjson.DeleteBytes(stripped, p)
		r.Body, _ = sjson.DeleteBytes(r.Body, p)
	}
	if !bytes.Equal(stripped, r.Body) {
		t.Errorf("the other fields changed:\n%s\n%s", stripped, r.Body)
	}
}

// schemaAt returns the schema of the field at a dotted path of s.
func schemaAt(t *testing.T, s *catalog.Schema, path string) *catalog.Schema {
	t.Helper()
	for _, name := range strings.Split(path, ".") {
		i := slices.IndexFunc(s.Properties, func(p catalog.Property) bool { return p.Name == name })
		if i < 0 {
			t.Fatalf("no field %s in %s", name, path)
		}
		s = s.Properties[i].Schema
	}
	return s
}

// TestEncryptAllQueryAndDecrypt: a sensitive query parameter is encrypted
// too, and DecryptResponse decrypts the sensitive fields of the answer (the
// emulator echoes the parameter there, encrypted with the merchant key).
func TestEncryptAllQueryAndDecrypt(t *testing.T) {
	srv, c := setupChecked(t)
	const account = "6214830000001234"
	query := url.Values{"mchid": {"1900016681"}, "bal_account_no": {account}}
	resp, err := c.Chain("v3/aggracct-bc/wb-channel/bank-channel-account/rename/{application_id}").Get(wxpay.Opts{
		"application_id": "11117742499090086455469010028373",
		"query":          query,
		"encrypt":        true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if query.Get("bal_account_no") != account {
		t.Error("the caller's query was changed")
	}
	r, _ := srv.LastRequest()
	u, _ := url.ParseRequestURI(r.RequestURI)
	sent := u.Query().Get("bal_account_no")
	if got, err := rsaenc.Decrypt(platformKey(t), sent); err != nil || got != account {
		t.Errorf("bal_account_no sent as %.20q: decrypts to %q, %v", sent, got, err)
	}
	if strings.Contains(r.RequestURI, account) {
		t.Errorf("plain text sent: %s", r.RequestURI)
	}

	before := bytes.Clone(resp.Body)
	plain, err := c.DecryptResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(plain, "bal_account_no").String(); got != account {
		t.Errorf("decrypted bal_account_no = %q, want %q (the answer: %s)", got, account, resp.Body)
	}
	if name := gjson.GetBytes(plain, "new_account_name"); name.String() == "" || name.String() == resp.Get("new_account_name").String() {
		t.Errorf("new_account_name %q was not decrypted", name)
	}
	if !bytes.Equal(resp.Body, before) {
		t.Error("DecryptResponse changed resp.Body")
	}
	one, err := c.DecryptResponse(resp, "bal_account_no")
	if err != nil || gjson.GetBytes(one, "bal_account_no").String() != account || gjson.GetBytes(one, "new_account_name").String() != resp.Get("new_account_name").String() {
		t.Errorf("one path: %s, %v", one, err)
	}
}

// TestDecryptResponseArrays: the sensitive fields inside arrays of an
// answer are decrypted, every item's.
func TestDecryptResponseArrays(t *testing.T) {
	_, c := setupChecked(t)
	resp, err := c.Chain("v3/aggracct-bc/wb-channel/account/mch_archives").Get(wxpay.Opts{
		"query":   wxpay.Opts{"mchid": "1900016681", "bal_account_no": "8609cb22e1774a50a930e414cc71eca06121bc"},
		"encrypt": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	op, _ := catalog.Lookup("GET", "v3/aggracct-bc/wb-channel/account/mch_archives")
	paths := catalog.ExpandPaths(resp.Body, op.ResponseSensitive())
	if !slices.Contains(paths, "beneficial_owner.0.beneficial_owner_name") {
		t.Fatalf("the answer has no sensitive field in an array: %s", resp.Body)
	}
	plain, err := c.DecryptResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	for _, p := range paths {
		want, err := rsaenc.Decrypt(mk, resp.Get(p).String())
		if got := gjson.GetBytes(plain, p).String(); err != nil || got != want {
			t.Errorf("%s = %q, want %q (%v)", p, got, want, err)
		}
	}
}

// TestEncryptAllRules: encrypt true without a Checker is an error naming
// what to set; a sensitive field that is not a string or is empty is
// refused as an explicit path is; an absent one is not encrypted, and a
// body without any sets no Wechatpay-Serial. Nothing refused is sent.
func TestEncryptAllRules(t *testing.T) {
	srv, plainClient := setup(t)
	const tmpl = "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	_, err := plainClient.Chain(tmpl).Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": true})
	if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "Config.Checker") {
		t.Errorf("encrypt true without a Checker: %v", err)
	}
	_, c := setupChecked(t)
	for _, tc := range []struct {
		name string
		set  map[string]any
		want string
	}{
		{"number", map[string]any{"real_name": 12}, `value at "real_name" is a Number, want a string`},
		{"empty", map[string]any{"bank_account": ""}, `value at "bank_account" is empty`},
	} {
		body := abnormalJSON("USER_BANK_CARD")
		for k, v := range tc.set {
			body[k] = v
		}
		_, err := c.Chain(tmpl).Post(wxpay.Opts{"refund_id": fixtureRefund, "json": body, "encrypt": true})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an ErrInvalidOption saying %s", tc.name, err, tc.want)
		}
		_, err = c.Chain(tmpl).Post(wxpay.Opts{"refund_id": fixtureRefund, "json": body, "encrypt": []string{"bank_account", "real_name"}})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, the fields named: %v, want the same error", tc.name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	srv2, c2 := setupChecked(t)
	if _, err := c2.Chain(tmpl).Post(wxpay.Opts{"refund_id": fixtureRefund, "json": abnormalJSON("MERCHANT_BANK_CARD"), "encrypt": true}); err != nil {
		t.Fatal(err)
	}
	r, _ := srv2.LastRequest()
	if got := r.Header.Get("Wechatpay-Serial"); got != "" {
		t.Errorf("Wechatpay-Serial %q sent with nothing encrypted", got)
	}
}

// TestDecryptResponseErrors: DecryptResponse refuses what it cannot do
// and never returns a body with a field it could not decrypt.
func TestDecryptResponseErrors(t *testing.T) {
	_, plainClient := setup(t)
	_, c := setupChecked(t)
	resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.DecryptResponse(resp); err != nil || !bytes.Equal(out, resp.Body) {
		t.Errorf("an answer without sensitive fields: %s, %v; want the body as it is", out, err)
	}
	for _, tc := range []struct {
		name   string
		c      *wxpay.Client
		resp   *wxpay.Response
		paths  []string
		target error
		want   string
	}{
		{"no Checker", plainClient, resp, nil, wxpay.ErrInvalidOption, "Config.Checker"},
		{"not a call's", c, &wxpay.Response{Body: resp.Body}, nil, wxpay.ErrInvalidOption, "not the answer to a call"},
		{"nil", c, nil, nil, wxpay.ErrInvalidOption, "nil"},
		{"not JSON", c, &wxpay.Response{Body: []byte("a,b\n")}, []string{"a"}, wxpay.ErrInvalidOption, "not JSON"},
		{"absent", c, resp, []string{"user_name"}, wxpay.ErrInvalidOption, `no value at "user_name"`},
		{"gjson syntax", c, resp, []string{"amount.*"}, wxpay.ErrInvalidOption, "amount.*"},
		{"a number", c, resp, []string{"amount.refund"}, wxpay.ErrInvalidOption, "want a string"},
		{"plain text", c, resp, []string{"status"}, rsaenc.ErrDecrypt, `decrypt "status"`},
	} {
		out, err := tc.c.DecryptResponse(tc.resp, tc.paths...)
		if out != nil || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error wrapping %v that says %s", tc.name, out, err, tc.target, tc.want)
		}
	}
}

// TestRootDoesNotImportCatalog: package wxpay does not depend on package
// catalog, so that a program that does not use it pays nothing for it.
func TestRootDoesNotImportCatalog(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(goCmd, "list", "-deps", ".")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/wxpay-chain/wxpay") {
		t.Fatalf("go list -deps . does not list the package itself:\n%s", out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/wxpay-chain/wxpay/catalog") || strings.HasPrefix(d, "go.yaml.in/") {
			t.Errorf("package wxpay depends on %s", d)
		}
	}
}

// sizeProgram is a program that makes one call, with the catalogue's
// Checker or without, for TestCatalogBinaryCost.
const sizeProgram = `package main

import (
	"fmt"

	"github.com/wxpay-chain/wxpay"
	%s
)

func main() {
	var cfg wxpay.Config
	%s
	c, err := wxpay.New(cfg)
	if err == nil {
		_, err = c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": map[string]any{}})
	}
	fmt.Println(err)
}
`

// TestCatalogBinaryCost builds a program that makes a call with and
// without catalog.Checker: without it, no symbol of package catalog is in
// the binary; the growth it logs is the catalogue's size in a binary.
//
//	go test -run TestCatalogBinaryCost -v .
func TestCatalogBinaryCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	// Inside the module, in a directory that ./... patterns skip ('_').
	src, err := os.MkdirTemp(".", "_sizetest")
	if err != nil {
		t.Skipf("the module's directory is not writable: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(src) })
	out := t.TempDir()
	size, symSize := map[string]int64{}, map[string]int64{}
	for _, v := range []struct{ name, imp, set string }{
		{"plain", "", ""},
		{"checked", `"github.com/wxpay-chain/wxpay/catalog"`, "cfg.Checker = catalog.Checker()"},
	} {
		dir := filepath.Join(src, v.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(fmt.Sprintf(sizeProgram, v.imp, v.set)), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(out, v.name)
		if b, err := exec.Command(goCmd, "build", "-ldflags=-s -w", "-o", bin, "./"+filepath.ToSlash(dir)).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", v.name, err, b)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			t.Fatal(err)
		}
		size[v.name] = fi.Size()
		unstripped := bin + ".syms"
		if b, err := exec.Command(goCmd, "build", "-o", unstripped, "./"+filepath.ToSlash(dir)).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", v.name, err, b)
		}
		if fi, err := os.Stat(unstripped); err == nil {
			symSize[v.name] = fi.Size()
		}
		syms, err := exec.Command(goCmd, "tool", "nm", unstripped).Output()
		if err != nil {
			t.Fatalf("go tool nm: %v", err)
		}
		has := strings.Contains(string(syms), "github.com/wxpay-chain/wxpay/catalog.")
		if has != (v.name == "checked") {
			t.Errorf("%s: symbols of package catalog in the binary: %v", v.name, has)
		}
	}
	t.Logf("a program that makes a call: %d bytes stripped; with catalog.Checker: %d (+%d KiB; +%d KiB with symbols)",
		size["plain"], size["checked"], (size["checked"]-size["plain"])/1024, (symSize["checked"]-symSize["plain"])/1024)
	if size["checked"] <= size["plain"] {
		t.Errorf("the program with the catalogue is no larger: %v", size)
	}
}
