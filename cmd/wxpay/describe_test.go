package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	pngenc "image/png"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// tryCommand returns the command describe printed under "Try it", its
// continuation lines included.
func tryCommand(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "\nTry it (")
	if !ok {
		t.Fatalf("no Try it section in\n%s", out)
	}
	_, cmd, _ := strings.Cut(after, "\n")
	var b strings.Builder
	for _, l := range strings.SplitAfter(cmd, "\n") {
		b.WriteString(l)
		if !strings.HasSuffix(l, "\\\n") {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// shellWords splits a command line as a POSIX shell does, for the subset
// describe prints: words of safe characters, single-quoted strings, a
// backslash escaping the next character or joining lines. Any character a
// shell would interpret is an error.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("backslash at the end")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				in = true
			}
		case c == ' ' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case shellQuote(string(c)) == string(c):
			cur.WriteByte(c)
			in = true
		default:
			return nil, fmt.Errorf("character %q outside quotes", c)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	for in, want := range map[string][]string{
		`wxpay post 'v3/{x}' \` + "\n" + `    a=1 'b=it'\''s' -d '{"k":"张三"}'`: {"wxpay", "post", "v3/{x}", "a=1", "b=it's", "-d", `{"k":"张三"}`},
		`a\ b`: {"a b"},
	} {
		got, err := shellWords(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a {x}`, `a $HOME`, `a "b"`, `a;b`, `a\`} {
		if got, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) = %q, want an error", bad, got)
		}
	}
}

// TestDescribeSeedsRun: the command describe prints for each seed endpoint
// runs as printed (with --config for the emulator), and succeeds.
func TestDescribeSeedsRun(t *testing.T) {
	for _, tc := range []struct {
		template string
		want     []string // lines the description holds, columns separated by one space
	}{
		{"v3/refund/domestic/refunds", []string{
			"amount object required",
			"amount.refund integer required",
			"amount.from.#.account string required",
		}},
		{"v3/ecommerce/refunds/apply", []string{"Roles: 电商平台"}},
		{abnormalTemplate, []string{"Roles: 直连商户, 服务商"}},
		{"v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund", []string{"Roles: 电商平台"}},
	} {
		t.Run(tc.template, func(t *testing.T) {
			h := setup(t)
			r := runMain(t, invocation{}, "describe", "post", tc.template)
			wantCode(t, r, exitOK, "describe", "post", tc.template)
			var got []string
			for _, l := range lines(r.stdout) {
				got = append(got, columns(l))
			}
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("the description lacks the line %q:\n%s", w, r.stdout)
				}
			}
			cmd := tryCommand(t, r.stdout)
			words, err := shellWords(cmd)
			if err != nil || len(words) < 3 || words[0] != "wxpay" {
				t.Fatalf("the command does not parse (%v): %q", err, cmd)
			}
			args := append(words[1:], "--config", h.config)
			res := h.run(t, args...)
			wantCode(t, res, exitOK, args...)
			sent := lastRequest(t, h)
			outRefundNo := gjson.GetBytes(sent.Body, "out_refund_no").String()
			if got := gjson.Get(res.stdout, "out_refund_no").String(); outRefundNo == "" || got != outRefundNo {
				t.Errorf("the answer's out_refund_no is %q, the request's %q:\n%s", got, outRefundNo, res.stdout)
			}
			if strings.Contains(cmd, "--encrypt") {
				checkEncrypted(t, h, sent, map[string]string{"bank_account": "6214830000001234", "real_name": "张三"})
			}
		})
	}
}

// checkEncrypted fails unless each field of the request body is the
// RSA-OAEP encryption of its plain value, as the emulator checked.
func checkEncrypted(t *testing.T, h *harness, req wxpaytest.Request, plain map[string]string) {
	t.Helper()
	_, pk := testKeys(t)
	for field, want := range plain {
		ct := gjson.GetBytes(req.Body, field).String()
		if got, err := rsaenc.Decrypt(pk, ct); err != nil || got != want {
			t.Errorf("%s decrypts to %q, %v; want %q", field, got, err, want)
		}
	}
	if got := req.Header.Get("Wechatpay-Serial"); got != wxpaytest.DefaultPlatformSerial {
		t.Errorf("Wechatpay-Serial = %q, want %q", got, wxpaytest.DefaultPlatformSerial)
	}
	if ref, ok := h.srv.Refund(wxpaytest.FixtureRefundID); !ok || ref.Status != wxpaytest.StatusProcessing {
		t.Errorf("emulator refund = %+v, want PROCESSING after the abnormal refund", ref)
	}
}

// TestDescribeAbnormalRefund: the exact description of the sections that
// matter most, the sensitive fields above all.
func TestDescribeAbnormalRefund(t *testing.T) {
	r := runMain(t, invocation{}, "describe", "POST", abnormalTemplate)
	wantCode(t, r, exitOK, "describe", "POST", abnormalTemplate)
	want := `POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund
发起异常退款
Roles: 直连商户, 服务商
Group: 基础支付∙退款

Path parameters:
  refund_id  string  required

Headers:
  Wechatpay-Serial  string  required  --encrypt sets it

Body (JSON, required):
  sub_mchid      string
  out_refund_no  string  required
  type           string  required  one of USER_BANK_CARD, MERCHANT_BANK_CARD
  bank_type      string            one of CMB_DEBIT, COMM_DEBIT, ABC_DEBIT, CCB_DEBIT, ICBC_DEBIT, BOC_DEBIT, PAB_DEBIT, SPDB_DEBIT, CITIC_DEBIT, CEB_DEBIT, CMBC_DEBIT, CIB_DEBIT, GDB_DEBIT, PSBC_DEBIT, NBCB_DEBIT
  bank_account   string            sensitive
  real_name      string            sensitive

Sensitive fields (write them in plain text: --encrypt encrypts them with the WeChat Pay public key):
  bank_account
  real_name

Answer (HTTP 200, JSON):
`
	if got, _, _ := strings.Cut(r.stdout, "\nAnswer (HTTP 200, JSON):\n"); got+"\nAnswer (HTTP 200, JSON):\n" != want {
		t.Errorf("the description begins (-want +got):\n%s", cmp.Diff(want, got+"\nAnswer (HTTP 200, JSON):\n"))
	}
	wantTry := `wxpay post 'v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund' \
    refund_id=50000000382019052709732678859 \
    -d '{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD","bank_account":"6214830000001234","real_name":"张三","bank_type":"CMB_DEBIT"}' \
    --encrypt bank_account,real_name`
	if diff := cmp.Diff(wantTry, tryCommand(t, r.stdout)); diff != "" {
		t.Errorf("the command (-want +got):\n%s", diff)
	}
	for _, l := range []string{
		"  amount.from.#.account                         string           required",
		"  promotion_detail.#.goods_detail.#.merchant_goods_id\n                                                string           required",
	} {
		if !strings.Contains(r.stdout, "\n"+l+"\n") {
			t.Errorf("the answer lacks %q:\n%s", l, r.stdout)
		}
	}
}

// TestDescribeSpellings: PATH in any chain spelling, or a concrete path
// whose values and query the command takes.
func TestDescribeSpellings(t *testing.T) {
	const ecom = "POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"
	for _, tc := range []struct {
		method, path string
		first, args  string // the first line; the name=value line of the command
	}{
		{"post", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund", ecom, "refund_id=50000000382019052709732678859"},
		{"POST", "V3/Ecommerce/Refunds/_refund_id_/ApplyAbnormalRefund", ecom, "refund_id=50000000382019052709732678859"},
		{"Post", "v3.ecommerce.refunds.$id$.applyAbnormalRefund", ecom, "refund_id=50000000382019052709732678859"},
		{"post", "/v3/ecommerce/refunds/<refund_id>/apply-abnormal-refund", ecom, "refund_id=50000000382019052709732678859"},
		{"post", "https://api.mch.weixin.qq.com/v3/ecommerce/refunds/123/apply-abnormal-refund", ecom, "refund_id=123"},
		{"get", "/v3/refund/domestic/refunds/R%201?sub_mchid=1900000110", "GET v3/refund/domestic/refunds/{out_refund_no}",
			"'out_refund_no=R 1' sub_mchid=1900000110"},
		{"get", "v3/refund/domestic/refunds/{id}", "GET v3/refund/domestic/refunds/{out_refund_no}",
			"out_refund_no=sdk12345678920210326144648 sub_mchid=1900000109"},
	} {
		r := runMain(t, invocation{}, "describe", tc.method, tc.path)
		wantCode(t, r, exitOK, "describe", tc.method, tc.path)
		if first, _, _ := strings.Cut(r.stdout, "\n"); first != tc.first {
			t.Errorf("describe %s %s: first line %q, want %q", tc.method, tc.path, first, tc.first)
		}
		cmd := strings.Split(tryCommand(t, r.stdout), " \\\n    ")
		if len(cmd) < 2 || cmd[1] != tc.args {
			t.Errorf("describe %s %s: the command's arguments are %q, want %q", tc.method, tc.path, cmd, tc.args)
		}
	}
}

func TestDescribeErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"post", "v3/refund/domestik/refunds"},
			"wxpay: POST v3/refund/domestik/refunds is not in the catalogue; did you mean:\n  POST v3/refund/domestic/refunds\nTry: wxpay describe -h\n"},
		{[]string{"get", "v3/refund/domestic/refunds"},
			"wxpay: GET v3/refund/domestic/refunds is not in the catalogue; did you mean:\n  POST v3/refund/domestic/refunds\n  GET v3/refund/domestic/refunds/{out_refund_no}\nTry: wxpay describe -h\n"},
		{[]string{"fetch", "v3/refund/domestic/refunds"},
			"wxpay: METHOD \"fetch\": want get, post, put, patch or delete\nTry: wxpay describe -h\n"},
		{[]string{"post"}, "wxpay: want METHOD PATH, got 1 argument\nTry: wxpay describe -h\n"},
		{[]string{}, "wxpay: want METHOD PATH, got 0 arguments\nTry: wxpay describe -h\n"},
		{[]string{"post", ""}, "wxpay: PATH is empty: want a path template such as v3/refund/domestic/refunds\nTry: wxpay describe -h\n"},
		{[]string{"post", " "}, "wxpay: PATH is empty: want a path template such as v3/refund/domestic/refunds\nTry: wxpay describe -h\n"},
		{[]string{"post", "v3/a", "v3/b"}, "wxpay: want METHOD PATH, got 3 arguments\nTry: wxpay describe -h\n"},
		{[]string{"post", "v3/a?%zz"}, "wxpay: PATH \"v3/a?%zz\": the query: invalid URL escape \"%zz\"\nTry: wxpay describe -h\n"},
		{[]string{"--json", "post", "v3/a"}, "wxpay: flag provided but not defined: -json\nTry: wxpay describe -h\n"},
	} {
		args := append([]string{"describe"}, tc.args...)
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, exitUsage, args...)
		if r.stdout != "" || r.stderr != tc.stderr {
			t.Errorf("wxpay %s:\nstdout %q\nstderr %q\nwant   %q", strings.Join(args, " "), r.stdout, r.stderr, tc.stderr)
		}
	}
}

// TestDescribeNoCommand: the notification schema and the uploads are
// described, without a command.
func TestDescribeNoCommand(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"post", "v3/webhooks", "\nNot an endpoint to call: this is the notification WeChat Pay POSTs to your notify_url.\n"},
		{"post", "v3/webhooks", "\nNo command: verify and decrypt a notification with the library (docs/files-and-certificates.md#callbacks).\n"},
		{"post", "v3/merchant/media/upload", "\nForm parts (multipart/form-data):\n  file  file    required\n  meta  string  required\n"},
		{"post", "v3/merchant/media/upload", "\nNo command: wxpay METHOD PATH does not send uploads; the library's \"file\" option does (docs/files-and-certificates.md#uploads).\n"},
	} {
		r := runMain(t, invocation{}, "describe", tc.method, tc.path)
		wantCode(t, r, exitOK, "describe", tc.method, tc.path)
		if !strings.Contains(r.stdout, tc.want) || strings.Contains(r.stdout, "Try it") {
			t.Errorf("describe %s %s lacks %q, or has a command:\n%s", tc.method, tc.path, tc.want, r.stdout)
		}
	}
}

// TestDescribeEveryOperation: for every operation, describe succeeds, and
// the command it prints is one the call command takes as it is: it parses,
// names this very operation, passes the catalogue's check (checkCall),
// and encrypts exactly the sensitive fields of its body.
func TestDescribeEveryOperation(t *testing.T) {
	commands, passed := 0, 0
	for _, op := range catalog.All() {
		r := runMain(t, invocation{}, "describe", op.Method, op.Template)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, op.String()+"\n") {
			t.Errorf("describe %s: exit %d\n%s%s", op, r.code, r.stdout, r.stderr)
			continue
		}
		for _, p := range op.Sensitive() {
			if !strings.Contains(r.stdout, "\n  "+p+"\n") {
				t.Errorf("describe %s: the sensitive field %s is not listed", op, p)
			}
		}
		if op.Multipart || isNotification(op) {
			continue
		}
		commands++
		if err := runsAsCall(op, tryCommand(t, r.stdout)); err != nil {
			t.Errorf("describe %s: %v", op, err)
			continue
		}
		passed++
	}
	t.Logf("%d of %d operations' commands pass", passed, commands)
	if commands < 900 {
		t.Errorf("only %d commands checked", commands)
	}
}

// runsAsCall parses a command as the call command does and checks it
// against op.
func runsAsCall(op *catalog.Operation, cmd string) error {
	words, err := shellWords(cmd)
	if err != nil {
		return fmt.Errorf("%v: %q", err, cmd)
	}
	if len(words) < 3 || words[0] != "wxpay" || words[1] != strings.ToLower(op.Method) {
		return fmt.Errorf("not a wxpay %s command: %q", strings.ToLower(op.Method), cmd)
	}
	c := &CallCommand{m: &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}}
	pos, err := parseInterleaved(c.flagSet(), words[1:])
	if err != nil {
		return err
	}
	probe := wxpay.Chain{}.Chain(splitPath(pos[1])...)
	opts, err := c.options(words[1], probe.String(), pos[2:])
	if err != nil {
		return err
	}
	values := map[string]string{}
	for k, v := range opts {
		if s, ok := v.(string); ok {
			values[k] = s
		}
	}
	if got, _, _ := resolveCall(op.Method, probe.String(), values); got != op {
		return fmt.Errorf("the command calls %v", got)
	}
	if err := checkOpts("describe", op.Method, probe.String(), opts); err != nil {
		return fmt.Errorf("%v\n%s", err, cmd)
	}
	body, _ := opts["json"].(json.RawMessage)
	if opts["encrypt"] == true {
		// --encrypt all: for a sensitive query parameter, and the body's.
		q, _ := opts["query"].(url.Values)
		if !slices.ContainsFunc(sensitiveQuery(op), q.Has) {
			return fmt.Errorf("--encrypt all without a sensitive query parameter: %q", cmd)
		}
		return nil
	}
	enc, _ := opts["encrypt"].([]string)
	if want := catalog.ExpandPaths(body, op.Sensitive()); !slices.Equal(enc, want) {
		return fmt.Errorf("--encrypt %q, want %q", enc, want)
	}
	for _, p := range enc {
		if v := gjson.GetBytes(body, p); v.Type != gjson.String || v.Str == "" {
			return fmt.Errorf("--encrypt %s: not a string in the body", p)
		}
	}
	if op.BaseURL != "" && c.baseURL != op.BaseURL {
		return fmt.Errorf("--base-url %q, want %q", c.baseURL, op.BaseURL)
	}
	return nil
}

// TestDescribedCommandsRun: for every operation but the uploads and the
// notification schema, the command describe prints runs as printed
// (--config added, --base-url pointed at the emulator) against the
// emulator, passing the catalogue's check, and succeeds.
func TestDescribedCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("calls every operation")
	}
	h := setup(t)
	ran, ok := 0, 0
	for _, op := range catalog.All() {
		if op.Multipart || isNotification(op) {
			continue
		}
		path := op.Template
		if concrete, ok := stateful[op.String()]; ok {
			path = concrete(t, h) // values of the emulator's state
		}
		r := runMain(t, invocation{}, "describe", op.Method, path)
		words, err := shellWords(tryCommand(t, r.stdout))
		if err != nil {
			t.Errorf("%v: %v", op, err)
			continue
		}
		args := append(emulatorArgs(h, words[1:]), "--config", h.config)
		if err := h.srv.SetRefundStatus(wxpaytest.FixtureRefundID, "ABNORMAL"); err != nil {
			t.Fatal(err)
		}
		ran++
		res := h.run(t, args...)
		if res.code != exitOK {
			t.Errorf("%v: exit %d\n%s\n%s", op, res.code, strings.Join(words, " "), res.stderr)
			continue
		}
		ok++
	}
	t.Logf("%d of %d operations' commands ran successfully against the emulator (uploads and the notification schema left out)", ok, ran)
	if ran < 950 {
		t.Errorf("only %d commands ran", ran)
	}
}

// stateful gives, for the operations the emulator answers from its state,
// a concrete path whose values it holds; describe puts them in the
// command.
var stateful = map[string]func(*testing.T, *harness) string{
	"GET v3/bill/tradebill": func(t *testing.T, h *harness) string {
		return "v3/bill/tradebill?bill_date=" + h.srv.LatestBillDate()
	},
	"GET v3/bill/fundflowbill": func(t *testing.T, h *harness) string {
		return "v3/bill/fundflowbill?bill_date=" + h.srv.LatestBillDate()
	},
	"GET v3/billdownload/file": func(t *testing.T, h *harness) string {
		r := libraryCall(t, h, "v3/bill/tradebill", wxpay.Opts{"query": wxpay.Opts{"bill_date": h.srv.LatestBillDate()}})
		return r.Get("download_url").String()
	},
	"GET v3/merchant-service/images/{media_id}": func(t *testing.T, h *harness) string {
		var png bytes.Buffer
		if err := pngenc.Encode(&png, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
			t.Fatal(err)
		}
		r := libraryCall(t, h, "v3/merchant-service/images/upload", wxpay.Opts{"file": wxpay.File{Name: "proof.png", Reader: &png}})
		return "v3/merchant-service/images/" + r.Get("media_id").String()
	},
	"GET v3/refund/domestic/refunds/{out_refund_no}": func(t *testing.T, h *harness) string {
		return "v3/refund/domestic/refunds/" + wxpaytest.FixtureOutRefundNo
	},
}

// libraryCall makes a call with the library to the emulator of h: a GET,
// or a POST when opts has a file.
func libraryCall(t *testing.T, h *harness, path string, opts wxpay.Opts) *wxpay.Response {
	t.Helper()
	c, err := h.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	method := "GET"
	if _, ok := opts["file"]; ok {
		method = "POST"
	}
	r, err := c.Chain(path).Do(context.Background(), method, opts)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// emulatorArgs returns the arguments of a described command with the
// --base-url of an operation on another host replaced by the emulator's.
func emulatorArgs(h *harness, args []string) []string {
	out := slices.Clone(args)
	for i := range out {
		if out[i] == "--base-url" && i+1 < len(out) {
			out[i+1] = h.srv.URL
		}
	}
	return out
}
