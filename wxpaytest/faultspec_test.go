package wxpaytest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFault(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want Fault
		str  string // Fault.String, if not spec itself
	}{
		{"POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2",
			Fault{Kind: FaultError, Method: "POST", PathPrefix: "/v3/refund/domestic/refunds", Status: 500, Code: "SYSTEM_ERROR", Times: 2},
			"POST /v3/refund/domestic/refunds=500:SYSTEM_ERROR*2"},
		{"/v3/=503", Fault{Kind: FaultError, PathPrefix: "/v3/", Status: 503}, ""},
		{"get /v3/refund/=429*always", Fault{Kind: FaultError, Method: "GET", PathPrefix: "/v3/refund/", Status: 429, Times: -1}, "GET /v3/refund/=429*always"},
		{"/=400:PARAM_ERROR: 金额: 不足 *1", Fault{Kind: FaultError, PathPrefix: "/", Status: 400, Code: "PARAM_ERROR", Message: "金额: 不足", Times: 1}, "/=400:PARAM_ERROR:金额: 不足*1"},
		{"/v3/=delay:1500ms", Fault{Kind: FaultDelay, PathPrefix: "/v3/", Delay: 1500 * time.Millisecond}, "/v3/=delay:1.5s"},
		{"/v3/=delay:2s+reset*3", Fault{Kind: FaultReset, PathPrefix: "/v3/", Delay: 2 * time.Second, Times: 3}, ""},
		{"POST /v3/=delay:1s+500", Fault{Kind: FaultError, Method: "POST", PathPrefix: "/v3/", Delay: time.Second, Status: 500}, ""},
		{"/v3/=reset-after-apply", Fault{Kind: FaultResetAfterApply, PathPrefix: "/v3/"}, ""},
		{"/v3/=corrupt-signature", Fault{Kind: FaultCorruptSignature, PathPrefix: "/v3/"}, ""},
		{"/v3/=skew-timestamp:-10m", Fault{Kind: FaultSkewTimestamp, PathPrefix: "/v3/", Skew: -10 * time.Minute}, "/v3/=skew-timestamp:-10m0s"},
		{"/v3/=unknown-serial", Fault{Kind: FaultUnknownSerial, PathPrefix: "/v3/"}, ""},
		{"/v3/=unknown-serial:PUB_KEY_ID_1", Fault{Kind: FaultUnknownSerial, PathPrefix: "/v3/", Serial: "PUB_KEY_ID_1"}, ""},
		{"/v3/=probe-signature", Fault{Kind: FaultProbeSignature, PathPrefix: "/v3/"}, ""},
		{"/v3/=remove-header", Fault{Kind: FaultRemoveHeader, PathPrefix: "/v3/"}, ""},
		{"/v3/=remove-header:wechatpay-timestamp", Fault{Kind: FaultRemoveHeader, PathPrefix: "/v3/", Header: "Wechatpay-Timestamp"}, "/v3/=remove-header:Wechatpay-Timestamp"},
		{"/v3/=unsigned", Fault{Kind: FaultUnsigned, PathPrefix: "/v3/"}, ""},
		{"/v3/=truncate-body", Fault{Kind: FaultTruncateBody, PathPrefix: "/v3/"}, ""},
		{"/v3/=oversize-body", Fault{Kind: FaultOversizeBody, PathPrefix: "/v3/"}, ""},
		{"/v3/=oversize-body:1048577", Fault{Kind: FaultOversizeBody, PathPrefix: "/v3/", Size: 1048577}, ""},
	} {
		got, err := ParseFault(tt.spec)
		if err != nil {
			t.Errorf("ParseFault(%q): %v", tt.spec, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseFault(%q) (-want +got)\n%s", tt.spec, diff)
		}
		want := tt.str
		if want == "" {
			want = tt.spec
		}
		if s := got.String(); s != want {
			t.Errorf("ParseFault(%q).String() = %q, want %q", tt.spec, s, want)
		}
		if again, err := ParseFault(got.String()); err != nil || !cmp.Equal(again, got) {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseFaultErrors(t *testing.T) {
	for _, tt := range []struct{ spec, want string }{
		{"", "want [METHOD ]PATH=FAULT[*COUNT]"},
		{"v3/refund/domestic/refunds", "want [METHOD ]PATH=FAULT[*COUNT]"},
		{"FETCH v3/=500", `method "FETCH": want GET, POST`},
		{"POST =500", "want a path after the method"},
		{"https://api.mch.weixin.qq.com/v3/=500", "not a URL"},
		{"GET v3/refund/domestic/refunds/{out_refund_no}=500", "not a template"},
		{"GET v3/refund/domestic/refunds?sub_mchid=1=500", "without query"},
		{"v3/=500*0", `count "0": want a number of requests`},
		{"v3/=500*two", `count "two"`},
		{"v3/=200", "status 200: want an error status"},
		{"v3/=500:system_error", `code "system_error": want an error code in capitals`},
		{"v3/=500:SYSTEM_ERROR:", "message after the code must be one line"},
		{"v3/=teapot", `"teapot": want an HTTP status (500, 429:FREQUENCY_LIMITED, ...) or one of delay, reset, reset-after-apply, corrupt-signature, skew-timestamp, unknown-serial, probe-signature, remove-header, unsigned, truncate-body, oversize-body`},
		{"v3/=delay", "delay needs a duration: delay:2s"},
		{"v3/=delay:soon", `delay "soon": want a positive duration`},
		{"v3/=delay:-1s", `delay "-1s": want a positive duration`},
		{"v3/=delay:1s+delay:2s", "one delay per fault"},
		{"v3/=skew-timestamp:10ms", "want a duration of a second or more"},
		{"v3/=reset:now", "reset takes no value"},
		{"v3/=remove-header:", "empty value after ':'"},
		{"v3/=remove-header:Bad Header", `"Bad Header" is not a header name`},
		{"v3/=unknown-serial:a/b", "the serial must be letters"},
		{"v3/=oversize-body:1GiB", `oversize-body "1GiB": want a size in bytes`},
		{"v3/=oversize-body:999999999999", "up to 268435456"},
	} {
		_, err := ParseFault(tt.spec)
		if err == nil {
			t.Errorf("ParseFault(%q) succeeded, want an error", tt.spec)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "wxpaytest: fault ") {
			t.Errorf("ParseFault(%q) = %q, want it to contain %q", tt.spec, err, tt.want)
		}
	}
}

// FuzzParseFault: whatever parses is written back by String in a form that
// parses to the same fault.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2", "/=delay:2s+reset*always",
		"v3/=remove-header:Wechatpay-Serial", "v3/=400:PARAM_ERROR:a*b", "GET /=skew-timestamp:-5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseFault(spec)
		if err != nil {
			return
		}
		again, err := ParseFault(got.String())
		if err != nil {
			t.Fatalf("ParseFault(%q).String() = %q does not parse: %v", spec, got.String(), err)
		}
		if !cmp.Equal(got, again) {
			t.Fatalf("ParseFault(%q) = %+v, but its String %q parses to %+v", spec, got, got.String(), again)
		}
	})
}

// TestFaultsPath injects, lists and clears faults over HTTP, as a client in
// another language would, and checks that they apply.
func TestFaultsPath(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	call := func(method, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, strings.TrimSuffix(s.URL, "/")+FaultsPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := call(http.MethodPost, "# two faults\nPOST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2\n\nGET /v3/refund/=delay:1s+429*always\n")
	if status != 200 || body != `["POST /v3/refund/domestic/refunds=500:SYSTEM_ERROR*2","GET /v3/refund/=delay:1s+429*always"]`+"\n" {
		t.Fatalf("POST: %d %s", status, body)
	}
	if r := c.post(refundsPath, refundBody("SPEC-1")); r.status != 500 || r.summary(t).Code != CodeSystemError {
		t.Errorf("refund after the injection: %d %s", r.status, r.body)
	}
	if status, body = call(http.MethodGet, ""); status != 200 || !strings.HasPrefix(body, `["POST /v3/refund/domestic/refunds=500:SYSTEM_ERROR*1",`) {
		t.Errorf("GET after one use: %d %s", status, body)
	}

	// A bad line: nothing of the request is injected.
	status, body = call(http.MethodPost, "v3/=reset\nv3/=teapot\n")
	if status != 400 || !strings.Contains(body, `wxpaytest: line 2: fault "v3/=teapot"`) {
		t.Errorf("bad spec: %d %s", status, body)
	}
	if n := s.PendingFaults(); n != 2 {
		t.Errorf("%d faults pending after a refused POST, want 2", n)
	}
	if status, _ = call(http.MethodDelete, ""); status != http.StatusNoContent || s.PendingFaults() != 0 {
		t.Errorf("DELETE: %d, %d pending", status, s.PendingFaults())
	}
	if status, body = call(http.MethodPut, ""); status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d %s", status, body)
	}
	if status, body = call(http.MethodPost, "\n# nothing\n"); status != 400 || !strings.Contains(body, "no fault given") {
		t.Errorf("empty POST: %d %s", status, body)
	}
	if r := c.post(refundsPath, refundBody("SPEC-1")); r.status != 200 {
		t.Errorf("refund after DELETE: %d %s", r.status, r.body)
	}
	for _, q := range s.Requests() {
		if strings.HasPrefix(q.RequestURI, "/_wxpaytest/") {
			t.Errorf("%s %s was recorded", q.Method, q.RequestURI)
		}
	}
}
