package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

const (
	queryTemplate    = "v3/refund/domestic/refunds/{out_refund_no}"
	abnormalTemplate = "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
	fixtureQueryURI  = "/v3/refund/domestic/refunds/" + wxpaytest.FixtureOutRefundNo
)

// lastRequest returns what the emulator last received.
func lastRequest(t *testing.T, h *harness) wxpaytest.Request {
	t.Helper()
	req, ok := h.srv.LastRequest()
	if !ok {
		t.Fatal("the emulator received no request")
	}
	return req
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPostAbnormalRefundEncrypted(t *testing.T) {
	h := setup(t)
	body := writeFile(t, t.TempDir(), "abnormal.json", `{
  "sub_mchid": "1900000109",
  "out_refund_no": "1217752501201407033233368018",
  "type": "USER_BANK_CARD",
  "bank_type": "ICBC_DEBIT",
  "bank_account": "6214830000001234",
  "real_name": "李四"
}`)
	args := []string{"post", abnormalTemplate, "refund_id=" + wxpaytest.FixtureRefundID,
		"-d", "@" + body, "--encrypt", "bank_account, real_name", "--config", h.config}
	r := h.run(t, args...)
	wantCode(t, r, exitOK, args...)

	if !json.Valid([]byte(r.stdout)) || !strings.HasPrefix(r.stdout, "{\n  \"refund_id\": ") {
		t.Errorf("stdout is not the indented answer:\n%s", r.stdout)
	}
	for _, want := range []string{`"status": "PROCESSING"`, `"channel": "OTHER_BANKCARD"`, `"user_received_account": "工商银行借记卡1234"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %s:\n%s", want, r.stdout)
		}
	}

	req := lastRequest(t, h)
	if want := "/v3/refund/domestic/refunds/" + wxpaytest.FixtureRefundID + "/apply-abnormal-refund"; req.Method != http.MethodPost || req.RequestURI != want {
		t.Errorf("request = %s %s, want POST %s", req.Method, req.RequestURI, want)
	}
	if got := req.Header.Get("Wechatpay-Serial"); got != wxpaytest.DefaultPlatformSerial {
		t.Errorf("Wechatpay-Serial = %q, want %q", got, wxpaytest.DefaultPlatformSerial)
	}
	if bytes.Contains(req.Body, []byte("6214830000001234")) || bytes.Contains(req.Body, []byte("李四")) {
		t.Errorf("the request body holds the plain bank account or name: %s", req.Body)
	}
	_, pk := testKeys(t)
	for field, want := range map[string]string{"bank_account": "6214830000001234", "real_name": "李四"} {
		ct := gjson.GetBytes(req.Body, field).String()
		if got, err := rsaenc.Decrypt(pk, ct); err != nil || got != want {
			t.Errorf("%s decrypts to %q, %v; want %q", field, got, err, want)
		}
	}
	ref, ok := h.srv.Refund(wxpaytest.FixtureRefundID)
	if !ok || ref.Status != wxpaytest.StatusProcessing || ref.AbnormalType != "USER_BANK_CARD" {
		t.Errorf("emulator refund = %+v, want PROCESSING after a USER_BANK_CARD abnormal refund", ref)
	}
}

// TestEncryptRepeated: --encrypt given twice encrypts the fields of both,
// as -H given twice sends both; it never drops the first list, which would
// send a bank account in plain text.
func TestEncryptRepeated(t *testing.T) {
	h := setup(t)
	body := `{"sub_mchid":"1900000109","out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD",` +
		`"bank_type":"ICBC_DEBIT","bank_account":"6214830000001234","real_name":"李四"}`
	args := []string{"post", abnormalTemplate, "refund_id=" + wxpaytest.FixtureRefundID, "-d", body,
		"--encrypt", "bank_account", "--encrypt", "real_name", "--config", h.config, "-q", "status"}
	r := h.run(t, args...)
	req := lastRequest(t, h)
	if bytes.Contains(req.Body, []byte("6214830000001234")) || bytes.Contains(req.Body, []byte("李四")) {
		t.Errorf("the request body holds the plain bank account or name: %s", req.Body)
	}
	wantCode(t, r, exitOK, args...)
	checkEncrypted(t, h, req, map[string]string{"bank_account": "6214830000001234", "real_name": "李四"})

	// A list that names no field is a mistake, not "encrypt nothing".
	for _, enc := range []string{"", ",", " , "} {
		args := []string{"post", abnormalTemplate, "refund_id=" + wxpaytest.FixtureRefundID, "-d", body, "--encrypt", enc, "--config", h.config}
		r := h.run(t, args...)
		wantCode(t, r, exitUsage, args...)
		if !strings.Contains(r.stderr, "--encrypt names no field") {
			t.Errorf("--encrypt %q: stderr %s", enc, r.stderr)
		}
	}
	if n := h.srv.RequestCount(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestPlaceholdersAndQuery(t *testing.T) {
	h := setup(t)
	for _, tc := range []struct {
		args    []string
		code    int
		wantURI string
	}{
		{[]string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "sub_mchid=1900000109"},
			exitOK, fixtureQueryURI + "?sub_mchid=1900000109"},
		// Values stay strings: leading zeros are kept, nothing becomes a number.
		{[]string{"get", queryTemplate, "out_refund_no=00123", "sub_mchid=0900000109"},
			exitError, "/v3/refund/domestic/refunds/00123?sub_mchid=0900000109"},
		// Placeholder values are escaped; a name given twice in the query is repeated.
		{[]string{"get", queryTemplate, "out_refund_no=a b/c", "x=1", "x=2"},
			exitError, "/v3/refund/domestic/refunds/a%20b%2Fc?x=1&x=2"},
		// Flags before, between and after the arguments.
		{[]string{"--config", h.config, "GET", "-q", "status", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo},
			exitOK, fixtureQueryURI},
	} {
		args := append(tc.args, "--config", h.config)
		r := h.run(t, args...)
		wantCode(t, r, tc.code, args...)
		if got := lastRequest(t, h).RequestURI; got != tc.wantURI {
			t.Errorf("wxpay %s: request URI %q, want %q", strings.Join(args, " "), got, tc.wantURI)
		}
	}
}

func TestBodySources(t *testing.T) {
	h := setup(t)
	// The body is sent byte for byte, odd spacing and all.
	body := func(n string) string {
		return `{ "out_refund_no" : "R` + n + `", "transaction_id":"42000000012024052000000000` + n + `",
   "amount": {"refund": 100, "total": 100, "currency": "CNY"} }`
	}
	file := writeFile(t, t.TempDir(), "refund.json", body("02"))
	for _, tc := range []struct {
		name  string
		data  string
		stdin string
		sent  string
	}{
		{"inline", body("01"), "", body("01")},
		{"file", "@" + file, "", body("02")},
		{"stdin", "-", body("03"), body("03")},
		{"stdin @-", "@-", body("04"), body("04")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"post", "v3/refund/domestic/refunds", "-d", tc.data, "--config", h.config, "-q", "status"}
			r := h.exec(t, invocation{stdin: tc.stdin}, args...)
			wantCode(t, r, exitOK, args...)
			if r.stdout != "PROCESSING\n" {
				t.Errorf("stdout = %q, want %q", r.stdout, "PROCESSING\n")
			}
			req := lastRequest(t, h)
			if string(req.Body) != tc.sent {
				t.Errorf("body sent:\n%s\nwant:\n%s", req.Body, tc.sent)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestOutputModes(t *testing.T) {
	h := setup(t)
	base := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "--config", h.config}
	run := func(extra ...string) result {
		t.Helper()
		args := append(append([]string(nil), base...), extra...)
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		return r
	}

	raw := run("--raw").stdout
	if !json.Valid([]byte(raw)) || strings.Contains(raw, "\n") {
		t.Fatalf("--raw printed %q, want the compact JSON body as received", raw)
	}
	var want bytes.Buffer
	json.Indent(&want, []byte(raw), "", "  ")
	want.WriteByte('\n')
	if got := run().stdout; got != want.String() {
		t.Errorf("default output:\n%s\nwant the body indented:\n%s", got, want.String())
	}

	for _, tc := range []struct{ path, want string }{
		{"status", "ABNORMAL\n"},
		{"amount.refund", "888\n"},
		{"amount.from.0.account", "AVAILABLE\n"},
		{"amount.from", "[\n  {\n    \"account\": \"AVAILABLE\",\n    \"amount\": 888\n  }\n]\n"},
		{"user_received_account", "招商银行借记卡0403\n"},
	} {
		if got := run("-q", tc.path).stdout; got != tc.want {
			t.Errorf("-q %s printed %q, want %q", tc.path, got, tc.want)
		}
	}

	inc := run("-i").stdout
	head, rest, ok := strings.Cut(inc, "\n\n")
	if !ok || !strings.HasPrefix(head, "HTTP 200 OK\n") || rest != want.String() {
		t.Fatalf("-i printed:\n%s\nwant the status line, headers, a blank line and the body", inc)
	}
	for _, h := range []string{"Wechatpay-Serial: " + wxpaytest.DefaultPlatformSerial, "Request-Id: ", "Wechatpay-Signature: ", "Content-Type: application/json"} {
		if !strings.Contains(head, "\n"+h) {
			t.Errorf("-i headers lack %q:\n%s", h, head)
		}
	}
	if got := run("-i", "-q", "status").stdout; !strings.HasPrefix(got, "HTTP 200 OK\n") || !strings.HasSuffix(got, "\n\nABNORMAL\n") {
		t.Errorf("-i -q status printed:\n%s", got)
	}

	args := append(append([]string(nil), base...), "-q", "no.such.value")
	r := h.run(t, args...)
	wantCode(t, r, exitError, args...)
	if r.stdout != "" || !strings.Contains(r.stderr, `no value at "no.such.value"`) {
		t.Errorf("-q for a missing value: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	h := setup(t)
	cfg := []string{"--config", h.config}
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{nil, "no command given"},
		{[]string{"frob", "v3/x"}, `unknown command or method "frob"`},
		{[]string{"get"}, "no PATH given"},
		{[]string{"-d", "{}"}, "no METHOD and PATH"},
		{[]string{"get", "v3/x", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"get", "v3/x", "--timeout", "soon"}, "invalid value"},
		{[]string{"post", "v3/x", "-d", "{}", "-d", "{}"}, "given twice"},
		{[]string{"get", queryTemplate, "=x"}, `argument "=x": want name=value`},
		{[]string{"get", queryTemplate, "out_refund_no"}, `argument "out_refund_no": want name=value`},
		{[]string{"get", queryTemplate, "out_refund_no=1", "out_refund_no=2"}, "placeholder out_refund_no given twice"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", "{"}, "not valid JSON"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", ""}, "is empty"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", "@/no/such/file.json"}, "no such file"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", "@" + h.dir}, "-d @" + h.dir + ": is a directory"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", "@" + writeFile(t, h.dir, "bom.json", "\uFEFF{}")}, "starts with a UTF-8 byte order mark"},
		// A name twice in one object: which value counts is up to the reader
		// (the check sees both, WeChat Pay may take either).
		{[]string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"D1","amount":{"refund":1,"total":100,"currency":"CNY","refund":99}}`}, `"amount.refund" twice`},
		{[]string{"post", "v3/refund/domestic/refunds", "--no-check", "-d", `{"a":[{"b":1},{"c":{"d":1,"d":1}}]}`}, `"a.1.c.d" twice`},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"D1","out_refund_no":"D2"}`}, `"out_refund_no" twice`},
		{[]string{"get", queryTemplate, "--raw", "-q", "status"}, "--raw or -q, not both"},
		{[]string{"post", "v3/refund/domestic/refunds", "--encrypt", "bank_account"}, "--encrypt needs a JSON body"},
		{[]string{"post", "v3/refund/domestic/refunds", "-d", "{}", "-H", "NoColon"}, "want 'Name: value'"},
		{[]string{"get", "v3/../x"}, "dot segments"},
		{[]string{"get", "v3.refund..refunds"}, "empty segment"},
		{[]string{"get", queryTemplate, "out_refund_no=1"}, "no credentials"},
		// The library's own checks, the catalogue's left out.
		{append([]string{"post", abnormalTemplate, "-d", "{}", "--no-check"}, cfg...), "no value for placeholder {refund_id}"},
		{append([]string{"get", queryTemplate, "out_refund_no=1", "-d", "{}"}, cfg...), "a GET request has no body"},
		{append([]string{"post", abnormalTemplate, "refund_id=1", "-d", `{"a":"b"}`, "--encrypt", "bank_account", "--no-check"}, cfg...), `no value at "bank_account"`},
		{append([]string{"post", "https://evil.example.com/v3/refund/domestic/refunds", "-d", "{}", "--no-check"}, cfg...), "host not allowed"},
		{append([]string{"post", abnormalTemplate, "-d", `{"type":"USER_BANK_CARD"}`, "--encrypt", "all,real_name"}, cfg...), "--encrypt all encrypts every sensitive field"},
		// The catalogue's check: every problem, on its own line.
		{append([]string{"post", abnormalTemplate, "-d", "{}"}, cfg...), "\n  path:refund_id: path parameter is missing\n  out_refund_no: required field is missing\n  type: required field is missing\n"},
		{append([]string{"post", "https://evil.example.com/v3/refund/domestic/refunds", "-d", "{}"}, cfg...), "(2 problems):\n  amount: required field is missing\n"},
		{append([]string{"get", "v3/refund/domestic/refundz/1"}, cfg...), "GET v3/refund/domestic/refundz/1 is not in the catalogue; did you mean:\n  GET v3/refund/domestic/refunds/{out_refund_no}"},
		{append([]string{"get", "v3/bill/tradebill", "bill_date=2024-06-01", "bill_type=EVERYTHING"}, cfg...), `query:bill_type: "EVERYTHING" is not one of ALL, SUCCESS, REFUND, RECHARGE_REFUND`},
		{append([]string{"get", queryTemplate, "out_refund_no=1", "-H", "Authorization: x"}, cfg...), "Authorization is set by the client"},
	} {
		r := h.run(t, tc.args...)
		wantCode(t, r, exitUsage, tc.args...)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("wxpay %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), tc.want, r.stderr)
		}
		if !strings.Contains(r.stderr, "Try: wxpay") && !strings.Contains(r.stderr, "Try: ") {
			t.Errorf("wxpay %s: stderr has no Try hint:\n%s", strings.Join(tc.args, " "), r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("wxpay %s: stdout = %q, want nothing", strings.Join(tc.args, " "), r.stdout)
		}
	}
	if n := h.srv.RequestCount(); n != 0 {
		t.Errorf("usage errors sent %d requests, want none", n)
	}
}

func TestAPIErrors(t *testing.T) {
	h := setup(t)
	query := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "--config", h.config}
	for _, tc := range []struct {
		name   string
		fault  *wxpaytest.Fault
		args   []string
		want   []string
		unwant []string
	}{
		{
			name: "404",
			args: []string{"get", queryTemplate, "out_refund_no=nope", "--config", h.config},
			want: []string{"wxpay: GET " + queryTemplate + ": HTTP 404 RESOURCE_NOT_EXISTS: no refund with out_refund_no nope", "request id: "},
			// A 404 is final: no retry advice.
			unwant: []string{"retry:", "warning:"},
		},
		{
			name: "400 with detail",
			args: []string{"post", "v3/refund/domestic/refunds", "-d", `{"transaction_id":"1","amount":{"refund":1,"total":1,"currency":"CNY"}}`, "--config", h.config, "--no-check"},
			want: []string{"HTTP 400 PARAM_ERROR", `detail:     {"field":"/out_refund_no"`},
		},
		{
			name:  "500 SYSTEM_ERROR",
			fault: &wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500},
			args:  query,
			want:  []string{"HTTP 500 SYSTEM_ERROR", "retry:      the same request may be sent again unchanged"},
		},
		{
			name:  "429 FREQUENCY_LIMITED",
			fault: &wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 429},
			args:  query,
			want:  []string{"HTTP 429 FREQUENCY_LIMITED", "retry:"},
		},
		{
			name:  "connection reset",
			fault: &wxpaytest.Fault{Kind: wxpaytest.FaultReset},
			args:  []string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"R1"}`, "--config", h.config, "--no-check"},
			want:  []string{"wxpay: POST http://127.0.0.1:", "No answer came back", "same out_refund_no"},
		},
		{
			// --timeout ends the call with the context's error, not a
			// *wxpay.NetworkError: still no answer, still the reminder.
			name:  "timeout",
			fault: &wxpaytest.Fault{Kind: wxpaytest.FaultDelay, Delay: 2 * time.Second},
			args:  []string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"R2"}`, "--config", h.config, "--no-check", "--timeout", "200ms"},
			want:  []string{"wxpay: POST /v3/refund/domestic/refunds: context deadline exceeded", "No answer came back", "same out_refund_no"},
		},
		{
			// A deadline over before anything was sent still names the call.
			name: "timeout before sending",
			args: []string{"post", "v3/refund/domestic/refunds", "-d", `{"out_refund_no":"R3"}`, "--config", h.config, "--no-check", "--timeout", "1ns"},
			want: []string{"wxpay: POST v3/refund/domestic/refunds: context deadline exceeded", "No answer came back"},
		},
		{
			name:  "unsigned error answer",
			fault: &wxpaytest.Fault{Kind: wxpaytest.FaultUnsigned},
			args:  []string{"get", queryTemplate, "out_refund_no=nope", "--config", h.config},
			want:  []string{"HTTP 404 RESOURCE_NOT_EXISTS", "warning:    the error answer was not signed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				h.srv.Inject(*tc.fault)
			}
			r := h.run(t, tc.args...)
			wantCode(t, r, exitError, tc.args...)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, w := range tc.unwant {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr has %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	h := setup(t)
	args := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "--config", h.config}
	for _, tc := range []struct {
		fault wxpaytest.Fault
		want  string
	}{
		{wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature}, "signature check failed: Wechatpay-Signature does not verify"},
		{wxpaytest.Fault{Kind: wxpaytest.FaultSkewTimestamp, Skew: time.Hour}, "timestamp check failed"},
		{wxpaytest.Fault{Kind: wxpaytest.FaultUnknownSerial}, "serial check failed"},
		{wxpaytest.Fault{Kind: wxpaytest.FaultRemoveHeader}, "header check failed"},
		{wxpaytest.Fault{Kind: wxpaytest.FaultUnsigned}, "header check failed"},
		{wxpaytest.Fault{Kind: wxpaytest.FaultProbeSignature}, "signature check failed: Wechatpay-Signature is a WECHATPAY/SIGNTEST probe"},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			h.srv.Inject(tc.fault)
			r := h.run(t, args...)
			wantCode(t, r, exitError, args...)
			if r.stdout != "" {
				t.Errorf("an untrusted answer was printed: %q", r.stdout)
			}
			if !strings.Contains(r.stderr, "is not trusted: "+tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "GET /v3/refund/domestic/refunds/") {
				t.Errorf("stderr does not name the request:\n%s", r.stderr)
			}
		})
	}
}

func TestPathForms(t *testing.T) {
	h := setup(t)
	for _, path := range []string{
		queryTemplate,
		"/" + queryTemplate,
		"v3/refund/domestic/refunds/_out_refund_no_",
		"v3/refund/domestic/refunds/$out_refund_no$",
		"V3/Refund/Domestic/Refunds/<out_refund_no>",
		"v3.refund.domestic.refunds._out_refund_no_",
		"v3.refund.domestic.refunds.{out_refund_no}",
	} {
		args := []string{"get", path, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "--config", h.config, "-q", "status"}
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		if got := lastRequest(t, h).RequestURI; got != fixtureQueryURI || r.stdout != "ABNORMAL\n" {
			t.Errorf("PATH %s: request %s printing %q, want %s printing ABNORMAL", path, got, r.stdout, fixtureQueryURI)
		}
	}

	// A full URL is used as it is, dots and all.
	url := h.srv.URL + "v3/refund/domestic/refunds/" + wxpaytest.FixtureOutRefundNo + "?sub_mchid=1900000109"
	args := []string{"get", url, "--config", h.config, "-q", "refund_id"}
	r := h.run(t, args...)
	wantCode(t, r, exitOK, args...)
	if got := lastRequest(t, h).RequestURI; got != fixtureQueryURI+"?sub_mchid=1900000109" || r.stdout != wxpaytest.FixtureRefundID+"\n" {
		t.Errorf("full URL: request %s printing %q", got, r.stdout)
	}

	// The camelCase chain form of the partner abnormal refund, on a refund
	// created ABNORMAL, and the dotted form of the e-commerce one.
	args = []string{"post", "v3/refund/domestic/refunds", "--config", h.config, "-q", "refund_id", "-d",
		`{"sub_mchid":"1900000109","transaction_id":"4200000001202405200000000777","out_refund_no":"ABNORMAL-777","amount":{"refund":5,"total":5,"currency":"CNY"}}`}
	r = h.run(t, args...)
	wantCode(t, r, exitOK, args...)
	id := strings.TrimSpace(r.stdout)
	for _, tc := range []struct{ path, outRefundNo, refundID, uri string }{
		{"v3/refund/domestic/refunds/_refund_id_/applyAbnormalRefund", "ABNORMAL-777", id,
			"/v3/refund/domestic/refunds/" + id + "/apply-abnormal-refund"},
		{"v3.ecommerce.refunds._refund_id_.applyAbnormalRefund", wxpaytest.FixtureOutRefundNo, wxpaytest.FixtureRefundID,
			"/v3/ecommerce/refunds/" + wxpaytest.FixtureRefundID + "/apply-abnormal-refund"},
	} {
		args := []string{"post", tc.path, "refund_id=" + tc.refundID, "--config", h.config, "-q", "user_received_account",
			"-d", `{"sub_mchid":"1900000109","out_refund_no":"` + tc.outRefundNo + `","type":"MERCHANT_BANK_CARD"}`}
		r := h.run(t, args...)
		wantCode(t, r, exitOK, args...)
		if got := lastRequest(t, h).RequestURI; got != tc.uri || r.stdout != wxpaytest.MerchantReceivedAccount+"\n" {
			t.Errorf("PATH %s: request %s printing %q, want %s", tc.path, got, r.stdout, tc.uri)
		}
	}
}

func TestHeaders(t *testing.T) {
	h := setup(t)
	args := []string{"get", queryTemplate, "out_refund_no=" + wxpaytest.FixtureOutRefundNo, "--config", h.config,
		"-H", "X-Trace:  abc ", "--header", "Accept-Language: zh-CN", "-H", "X-Tag: a", "-H", "X-Tag: b", "-q", "status"}
	r := h.run(t, args...)
	wantCode(t, r, exitOK, args...)
	req := lastRequest(t, h)
	if got := req.Header.Get("X-Trace"); got != "abc" {
		t.Errorf("X-Trace = %q, want abc", got)
	}
	if got := req.Header.Get("Accept-Language"); got != "zh-CN" {
		t.Errorf("Accept-Language = %q, want zh-CN", got)
	}
	if got := strings.Join(req.Header.Values("X-Tag"), ","); got != "a,b" {
		t.Errorf("X-Tag = %q, want both values a,b", got)
	}
}

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"v3/refund/domestic/refunds", []string{"v3/refund/domestic/refunds"}},
		{"v3.ecommerce.refunds._refund_id_.applyAbnormalRefund", []string{"v3", "ecommerce", "refunds", "_refund_id_", "applyAbnormalRefund"}},
		{"https://api.mch.weixin.qq.com/v3/refund/domestic/refunds", []string{"https://api.mch.weixin.qq.com/v3/refund/domestic/refunds"}},
		{"v3/merchant-service/images/{id}.jpg", []string{"v3/merchant-service/images/{id}.jpg"}},
		{"v3", []string{"v3"}},
	} {
		got := splitPath(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCommandLine checks that no command line makes wxpay panic or exit
// with a code other than 0, 1 or 2. Without credentials nothing is sent.
func FuzzCommandLine(f *testing.F) {
	f.Add("post", abnormalTemplate, "refund_id=1", `{"a":"b"}`, "a")
	f.Add("get", "v3.refund.domestic.refunds._out_refund_no_", "out_refund_no=x", "", "")
	f.Add("GET", "https://api.mch.weixin.qq.com/v3/x?y=1", "=", "@-", ",")
	f.Add("delete", "{+p}", "p=a/../b", "-", "x.y")
	f.Fuzz(func(t *testing.T, method, path, param, data, encrypt string) {
		args := []string{method, path, param}
		if data != "" {
			args = append(args, "-d", data)
		}
		if encrypt != "" {
			args = append(args, "--encrypt", encrypt)
		}
		r := runMain(t, invocation{stdin: data}, args...)
		if r.code != exitOK && r.code != exitError && r.code != exitUsage {
			t.Fatalf("wxpay %q: exit %d", args, r.code)
		}
	})
}

// --retry resends what WeChat Pay says may be resent, re-signed over the
// same body, and nothing else.
func TestRetryFlag(t *testing.T) {
	h := setup(t)
	body := `{"out_trade_no":"T-RETRY","out_refund_no":"R-RETRY","amount":{"refund":1,"total":1,"currency":"CNY"}}`
	args := []string{"post", "v3/refund/domestic/refunds", "-d", body, "--retry", "3", "--config", h.config}

	h.srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"})
	r := h.run(t, args...)
	wantCode(t, r, exitOK, args...)
	reqs := h.srv.Requests()
	if len(reqs) != 2 || string(reqs[0].Body) != body || string(reqs[1].Body) != body ||
		reqs[0].Header.Get("Authorization") == reqs[1].Header.Get("Authorization") {
		t.Errorf("%d requests; want 2 re-signed attempts with the same body", len(reqs))
	}

	h.srv.ResetRequests()
	h.srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 400, Code: "PARAM_ERROR"})
	r = h.run(t, args...)
	wantCode(t, r, exitError, args...)
	if n := h.srv.RequestCount(); n != 1 {
		t.Errorf("PARAM_ERROR with --retry 3: %d requests, want 1", n)
	}

	bad := []string{"post", "v3/refund/domestic/refunds", "-d", body, "--retry", "0", "--config", h.config}
	r = h.run(t, bad...)
	wantCode(t, r, exitUsage, bad...)
}
