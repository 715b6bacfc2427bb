package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/catalog"
)

// lines splits the output of a command into lines.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// columns collapses the spaces between the columns of a line.
func columns(line string) string { return strings.Join(strings.Fields(line), " ") }

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // lines, their columns separated by one space
		only bool     // want is the whole output, in order
	}{
		{args: []string{"退款"}, want: []string{
			"POST v3/refund/domestic/refunds 申请退款API",
			"POST v3/ecommerce/refunds/apply 退款申请API",
			"POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund 发起异常退款",
			"POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund 发起异常退款",
			"GET v3/refund/domestic/refunds/{out_refund_no} 查询单笔退款API",
		}},
		{args: []string{"applyAbnormalRefund"}, only: true, want: []string{
			"POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund 发起异常退款",
			"POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund 发起异常退款",
		}},
		// A method in capitals selects; every word must match.
		{args: []string{"GET", "refund", "domestic"}, only: true, want: []string{
			"GET v3/refund/domestic/refunds/{out_refund_no} 查询单笔退款API",
		}},
		{args: []string{"--json", "POST", "基础支付", "domestic/refunds"}, want: nil},
	} {
		r := runMain(t, invocation{}, append([]string{"endpoints"}, tc.args...)...)
		wantCode(t, r, exitOK, tc.args...)
		if tc.want == nil {
			continue
		}
		var got []string
		for _, l := range lines(r.stdout) {
			got = append(got, columns(l))
		}
		if tc.only {
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wxpay endpoints %s (-want +got):\n%s", strings.Join(tc.args, " "), diff)
			}
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains("\n"+strings.Join(got, "\n")+"\n", "\n"+w+"\n") {
				t.Errorf("wxpay endpoints %s: no line %q in\n%s", strings.Join(tc.args, " "), w, r.stdout)
			}
		}
	}
}

// TestEndpointsAligned: the exact lines, the template column as wide as
// the longest template listed.
func TestEndpointsAligned(t *testing.T) {
	r := runMain(t, invocation{}, "endpoints", "apply-abnormal-refund")
	wantCode(t, r, exitOK, "endpoints", "apply-abnormal-refund")
	want := "" +
		"POST   v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund        发起异常退款\n" +
		"POST   v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund  发起异常退款\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("wxpay endpoints apply-abnormal-refund (-want +got):\n%s", diff)
	}

	// Every operation but the notification schema; names start in one
	// column, except after the few templates longer than the cap.
	r = runMain(t, invocation{}, "endpoints")
	wantCode(t, r, exitOK, "endpoints")
	all := lines(r.stdout)
	if want := len(catalog.All()) - 1; len(all) != want {
		t.Errorf("wxpay endpoints: %d lines, want %d", len(all), want)
	}
	for _, l := range all {
		f := strings.Fields(l)
		if f[1] == "v3/webhooks" && f[0] == "POST" {
			t.Errorf("the notification schema is listed: %q", l)
		}
		at := strings.Index(l, f[1]) // the template's column
		name := at + len(f[1]) + strings.Index(l[at+len(f[1]):], f[2])
		if at != 7 || len(f[1]) <= maxTemplateColumn && name != at+maxTemplateColumn+2 {
			t.Errorf("line not aligned: %q", l)
		}
	}
}

func TestEndpointsJSON(t *testing.T) {
	r := runMain(t, invocation{}, "endpoints", "--json", "退款")
	wantCode(t, r, exitOK, "endpoints", "--json", "退款")
	var got []endpointJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, r.stdout)
	}
	text := runMain(t, invocation{}, "endpoints", "退款")
	if len(got) != len(lines(text.stdout)) {
		t.Errorf("--json lists %d operations, the text %d", len(got), len(lines(text.stdout)))
	}
	want := endpointJSON{Method: "POST", Template: "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
		Name: "发起异常退款", Roles: []string{"直连商户", "服务商"}, Tags: []string{"基础支付∙退款"}}
	found := false
	for _, e := range got {
		if e.Method == want.Method && e.Template == want.Template {
			found = true
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("--json entry (-want +got):\n%s", diff)
			}
		}
	}
	if !found {
		t.Errorf("--json lacks %s %s", want.Method, want.Template)
	}
}

// TestEndpointsJSONNoMatch: with --json, nothing found is still valid JSON
// on stdout, an empty array, with the exit status and message of the text
// form.
func TestEndpointsJSONNoMatch(t *testing.T) {
	args := []string{"endpoints", "--json", "退款", "nosuchword"}
	r := runMain(t, invocation{}, args...)
	wantCode(t, r, exitError, args...)
	var got []endpointJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got == nil || len(got) != 0 {
		t.Errorf("wxpay %s: stdout %q, want an empty JSON array (%v)", strings.Join(args, " "), r.stdout, err)
	}
	if want := "wxpay: no APIv3 operation matches \"退款 nosuchword\"\n"; r.stderr != want {
		t.Errorf("wxpay %s: stderr %q, want %q", strings.Join(args, " "), r.stderr, want)
	}
}

func TestEndpointsErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		// Like grep: nothing found is exit 1, and nothing on stdout.
		{[]string{"退款", "nosuchword"}, exitError, "wxpay: no APIv3 operation matches \"退款 nosuchword\"\n"},
		{[]string{"DELETE", "退款"}, exitError, "wxpay: no APIv3 operation matches \"DELETE 退款\"\n"},
		{[]string{"--bogus"}, exitUsage, "wxpay: flag provided but not defined: -bogus\nTry: wxpay endpoints -h\n"},
	} {
		args := append([]string{"endpoints"}, tc.args...)
		r := runMain(t, invocation{}, args...)
		wantCode(t, r, tc.code, args...)
		if r.stdout != "" || r.stderr != tc.stderr {
			t.Errorf("wxpay %s:\nstdout %q\nstderr %q, want %q", strings.Join(args, " "), r.stdout, r.stderr, tc.stderr)
		}
	}
}
