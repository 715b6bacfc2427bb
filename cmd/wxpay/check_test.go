package main

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
)

// TestCheckCall: checkCall names the operation, then every problem on its
// own line, field path first; report prints it as a usage error (exit 2).
func TestCheckCall(t *testing.T) {
	const abnormal = "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	goodAbnormal := `{"out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"6214830000001234","real_name":"张三"}`
	for _, tc := range []struct {
		name, method, tmpl string
		values             map[string]string
		query              url.Values
		body               string
		encrypt            any    // the encrypt option
		want               string // the whole of stderr; "" for a call that passes
	}{
		{name: "valid refund", method: "POST", tmpl: "v3/refund/domestic/refunds",
			body: `{"out_refund_no":"R1","transaction_id":"4200000001","amount":{"refund":1,"total":1,"currency":"CNY"}}`},
		{name: "every problem, sorted", method: "POST", tmpl: "v3/refund/domestic/refunds",
			body: `{"amount":{"refund":8.88,"total":"888","currency":"CNY","from":[{"account":"AVAILABLE"}]}}`,
			want: "wxpay: POST v3/refund/domestic/refunds does not pass the catalogue's check (4 problems):\n" +
				"  amount.from.0.amount: required field is missing\n" +
				"  amount.refund: is a fraction, want an integer (amounts are in fen)\n" +
				"  amount.total: is a string, want an integer\n" +
				"  out_refund_no: required field is missing\n" +
				"Try: wxpay post -h\n"},
		{name: "body not JSON", method: "POST", tmpl: "v3/refund/domestic/refunds", body: `{"amount":`,
			want: "wxpay: POST v3/refund/domestic/refunds does not pass the catalogue's check (1 problem):\n" +
				"  body: the body is not valid JSON\nTry: wxpay post -h\n"},
		{name: "the catalogue's placeholder names", method: "POST", tmpl: abnormal,
			values: map[string]string{"refund_id": "50000000382019052709732678859"}, body: goodAbnormal, encrypt: true},
		{name: "other placeholder names match by position", method: "POST",
			tmpl: "v3/refund/domestic/refunds/{id}/apply-abnormal-refund", values: map[string]string{"id": "5000"}, body: goodAbnormal, encrypt: []string{"real_name", "bank_account"}},
		{name: "a concrete path", method: "POST", tmpl: "/v3/refund/domestic/refunds/5000/apply-abnormal-refund", body: goodAbnormal, encrypt: true},
		{name: "sensitive fields in plain text", method: "POST", tmpl: abnormal, values: map[string]string{"refund_id": "5000"},
			body: goodAbnormal, encrypt: []string{"bank_account"},
			want: "wxpay: POST " + abnormal + " does not pass the catalogue's check (1 problem):\n" +
				"  real_name: is sensitive and not encrypted (not the base64 of an RSA ciphertext)\n" +
				"fix: --encrypt bank_account,real_name (or --encrypt all)\n" +
				"Try: wxpay post -h\n"},
		{name: "a full URL", method: "POST", tmpl: "https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/5000/apply-abnormal-refund",
			body: `{"type":"TO_THE_MOON"}`,
			want: "wxpay: POST " + abnormal + " does not pass the catalogue's check (2 problems):\n" +
				"  out_refund_no: required field is missing\n" +
				"  type: \"TO_THE_MOON\" is not one of USER_BANK_CARD, MERCHANT_BANK_CARD\n" +
				"Try: wxpay post -h\n"},
		{name: "query", method: "GET", tmpl: "v3/refund/domestic/refunds/{out_refund_no}",
			values: map[string]string{"out_refund_no": "R1"}, query: url.Values{"sub_mchid": {"1900000109"}}},
		{name: "required query parameter missing", method: "GET", tmpl: "v3/bill/tradebill",
			want: "wxpay: GET v3/bill/tradebill does not pass the catalogue's check (1 problem):\n" +
				"  query:bill_date: required query parameter is missing\nTry: wxpay post -h\n"},
		{name: "unknown endpoint", method: "POST", tmpl: "v3/refund/domestik/refunds", body: `{}`,
			want: "wxpay: POST v3/refund/domestik/refunds is not in the catalogue; did you mean:\n" +
				"  POST v3/refund/domestic/refunds\nTry: wxpay post -h\n"},
		{name: "wrong method", method: "DELETE", tmpl: "v3/refund/domestic/refunds",
			want: "wxpay: DELETE v3/refund/domestic/refunds is not in the catalogue; did you mean:\n" +
				"  POST v3/refund/domestic/refunds\n  GET v3/refund/domestic/refunds/{out_refund_no}\nTry: wxpay post -h\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			err := checkCall("post", tc.method, tc.tmpl, tc.values, tc.query, body, tc.encrypt)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkCall(%s %s) = %v, want nil", tc.method, tc.tmpl, err)
				}
				return
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("checkCall(%s %s) = %v, want a usage error", tc.method, tc.tmpl, err)
			}
			var stderr bytes.Buffer
			if code := report(&stderr, err); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if diff := cmp.Diff(tc.want, stderr.String()); diff != "" {
				t.Errorf("checkCall(%s %s) printed (-want +got):\n%s", tc.method, tc.tmpl, diff)
			}
		})
	}
}

// TestCheckCallKeepsSecretsOut: a sensitive field's value, wrong or not, is
// never quoted by a failed check.
func TestCheckCallKeepsSecretsOut(t *testing.T) {
	body := `{"out_refund_no":"R1","type":"USER_BANK_CARD","bank_account":6214830000001234,"real_name":"张三丰"}`
	err := checkCall("post", "POST", "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
		map[string]string{"refund_id": "5000"}, nil, []byte(body), nil)
	if err == nil {
		t.Fatal("a number as bank_account passed the check")
	}
	for _, secret := range []string{"6214830000001234", "张三丰"} {
		if bytes.Contains([]byte(err.Error()), []byte(secret)) {
			t.Errorf("the message quotes %q: %v", secret, err)
		}
	}
}

func TestStripHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.mch.weixin.qq.com/v3/x": "/v3/x",
		"HTTP://127.0.0.1:8090/v3/x?a=b":     "/v3/x?a=b",
		"https://api.mch.weixin.qq.com":      "",
		"v3/x":                               "v3/x",
		"/v3/https://x":                      "/v3/https://x",
	} {
		if got := stripHost(in); got != want {
			t.Errorf("stripHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckOpts: the options the call command builds from its arguments
// are checked as they would be sent: placeholders, query and body.
func TestCheckOpts(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the message; "" for a call that passes
	}{
		{[]string{"get", "v3/refund/domestic/refunds/{out_refund_no}", "out_refund_no=R1", "sub_mchid=1900000109"}, ""},
		{[]string{"get", "v3.refund.domestic.refunds._id_", "id=R1"}, ""},
		{[]string{"post", abnormalTemplate, "refund_id=5000", "-d", `{"out_refund_no":"R1","type":"MERCHANT_BANK_CARD"}`}, ""},
		{[]string{"post", abnormalTemplate, "refund_id=5000", "-d", `{"type":"USER"}`, "--encrypt", "x"},
			"POST " + abnormalTemplate + " does not pass the catalogue's check (2 problems):\n" +
				"  out_refund_no: required field is missing\n" +
				"  type: \"USER\" is not one of USER_BANK_CARD, MERCHANT_BANK_CARD"},
		{[]string{"get", "v3/bill/tradebill", "tar_type=ZIP"},
			"GET v3/bill/tradebill does not pass the catalogue's check (2 problems):\n" +
				"  query:bill_date: required query parameter is missing\n" +
				"  query:tar_type: \"ZIP\" is not one of GZIP"},
	} {
		c := &CallCommand{m: &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}}
		pos, err := parseInterleaved(c.flagSet(), tc.args)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := wxpay.Chain{}.Chain(splitPath(pos[1])...).String()
		opts, err := c.options(pos[0], tmpl, pos[2:])
		if err != nil {
			t.Fatal(err)
		}
		err = checkOpts(pos[0], strings.ToUpper(pos[0]), tmpl, opts)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("wxpay %s: check = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}
