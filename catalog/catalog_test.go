package catalog_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
)

// The four refund endpoints of the seeds.
var seeds = []struct{ method, template, concrete string }{
	{"POST", "v3/refund/domestic/refunds", "/v3/refund/domestic/refunds"},
	{"POST", "v3/ecommerce/refunds/apply", "/v3/ecommerce/refunds/apply"},
	{"POST", "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
		"/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund"},
	{"POST", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund",
		"/v3/ecommerce/refunds/50000000382019052709732678859/apply-abnormal-refund?x=1"},
}

func TestSeedsFound(t *testing.T) {
	refunds := catalog.Search("退款")
	for _, s := range seeds {
		op, ok := catalog.Lookup(s.method, s.template)
		if !ok || op.Template != s.template || op.Method != s.method {
			t.Fatalf("Lookup(%q, %q) = %v, %v", s.method, s.template, op, ok)
		}
		m, vals, ok := catalog.Match(s.method, s.concrete)
		if !ok || m != op {
			t.Errorf("Match(%q, %q) = %v, %v, want %v", s.method, s.concrete, m, ok, op)
		}
		if strings.Contains(s.template, "{refund_id}") && vals["refund_id"] != "50000000382019052709732678859" {
			t.Errorf("Match(%q, %q) values = %v", s.method, s.concrete, vals)
		}
		if !slices.Contains(refunds, op) {
			t.Errorf(`Search("退款") lacks %v`, op)
		}
		if op.Name == "" || len(op.Roles) == 0 || op.Body == nil || op.Response == nil || op.Status != 200 {
			t.Errorf("%v: name %q, roles %v, body %v, response %v, status %d", op, op.Name, op.Roles, op.Body, op.Response, op.Status)
		}
	}
}

func TestSensitive(t *testing.T) {
	tests := []struct {
		method, template string
		want             []string
	}{
		{"POST", "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund", []string{"bank_account", "real_name"}},
		{"POST", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund", []string{"bank_account", "real_name"}},
		{"POST", "v3/refund/domestic/refunds", nil},
		{"POST", "v3/ecommerce/profitsharing/receivers/add", []string{"encrypted_name"}},
	}
	for _, tt := range tests {
		op, ok := catalog.Lookup(tt.method, tt.template)
		if !ok {
			t.Fatalf("Lookup(%q, %q) failed", tt.method, tt.template)
		}
		if diff := cmp.Diff(tt.want, op.Sensitive()); diff != "" {
			t.Errorf("%v Sensitive() (-want +got):\n%s", op, diff)
		}
	}
}

// TestSensitiveInArrays: a sensitive field inside an array of objects is
// written with '#'.
func TestSensitiveInArrays(t *testing.T) {
	op, ok := catalog.Lookup("POST", "v3/ecommerce/applyments/")
	if !ok {
		t.Fatal("no POST v3/ecommerce/applyments/")
	}
	got := op.Sensitive()
	for _, want := range []string{"ubo_info_list.#.ubo_id_doc_name", "account_info.account_number", "contact_info.mobile_phone"} {
		if !slices.Contains(got, want) {
			t.Errorf("%v Sensitive() = %v, lacks %q", op, got, want)
		}
	}
	complaints, ok := catalog.Lookup("GET", "v3/merchant-service/complaints")
	if !ok {
		t.Fatal("no GET v3/merchant-service/complaints")
	}
	if diff := cmp.Diff([]string{"data.#.payer_phone"}, complaints.ResponseSensitive()); diff != "" {
		t.Errorf("ResponseSensitive() (-want +got):\n%s", diff)
	}
}

func TestExpandPaths(t *testing.T) {
	doc := []byte(`{"items":[{"a":"x"},{"b":"y"},{"a":"z"},{"a":null}],"n":{"a":"1"},"s":"v","k.dot":"w"}`)
	tests := []struct {
		paths []string
		want  []string
	}{
		{[]string{"items.#.a"}, []string{"items.0.a", "items.2.a"}},
		{[]string{"n.a", "s", "missing", "n.b"}, []string{"n.a", "s"}},
		{[]string{"s.#", "n.#.a"}, nil},
		{[]string{`k\.dot`}, []string{`k\.dot`}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, catalog.ExpandPaths(doc, tt.paths)); diff != "" {
			t.Errorf("ExpandPaths(%v) (-want +got):\n%s", tt.paths, diff)
		}
	}
	if got := catalog.ExpandPaths([]byte("{"), []string{"a"}); got != nil {
		t.Errorf("ExpandPaths(invalid JSON) = %v, want nil", got)
	}
}

// TestChainSpellings: a template in any chain spelling finds the same
// operation; placeholder names are matched by position.
func TestChainSpellings(t *testing.T) {
	tests := []struct {
		method, spelling, want string
	}{
		{"GET", "v3/refund/domestic/refunds/{out_refund_no}", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"get", "/v3/refund/domestic/refunds/_out_refund_no_", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"GET", "V3/Refund/Domestic/Refunds/{out_refund_no}", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"GET", "v3/refund/domestic/refunds/$out_refund_no$", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"GET", "v3/refund/domestic/refunds/<out_refund_no>", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"GET", "v3/refund/domestic/refunds/{id}", "v3/refund/domestic/refunds/{out_refund_no}"},
		{"POST", "V3/Ecommerce/Refunds/_refund_id_/ApplyAbnormalRefund", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"},
		{"POST", "v3/ecommerce/refunds/{refund_id}/applyAbnormalRefund", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"},
		{"POST", "v3/applyment4sub/applyment/", "v3/applyment4sub/applyment/"},
		{"POST", "V3/Applyment4sub/Applyment/_empty_", "v3/applyment4sub/applyment/"},
		{"POST", "v3/ecommerce/applyments/_empty_", "v3/ecommerce/applyments/"},
		// "{empty}" is a placeholder, as it is for wxpay.Chain.
		{"GET", "v3/ecommerce/applyments/{empty}", "v3/ecommerce/applyments/{applyment_id}"},
		{"GET", "v3/ecommerce/applyments/{applyment_id}", "v3/ecommerce/applyments/{applyment_id}"},
		// Two operations differ only by their placeholder's name: the name decides.
		{"POST", "v3/apply4subject/applyment/{business_code}/cancel", "v3/apply4subject/applyment/{business_code}/cancel"},
		{"POST", "v3/apply4subject/applyment/_applyment_id_/cancel", "v3/apply4subject/applyment/{applyment_id}/cancel"},
	}
	for _, tt := range tests {
		op, ok := catalog.Lookup(tt.method, tt.spelling)
		if !ok || op.Template != tt.want {
			t.Errorf("Lookup(%q, %q) = %v, %v, want %s", tt.method, tt.spelling, op, ok, tt.want)
		}
	}
	for _, bad := range []struct{ method, spelling string }{
		{"GET", "v3/refund/domestic/refunds"},                 // no GET there
		{"POST", "v3/refund/domestic/refunds/123"},            // a value, not a template
		{"POST", "v3/apply4subject/applyment/{x}/cancel"},     // ambiguous: neither name
		{"GET", "v3/../refund"},                               // not a path
		{"GET", ""},                                           // nothing
		{"POST", "v3/applyment4sub/applyment/{applyment_id}"}, // no such operation
		{"POST", "v3/ecommerce/applyments/{empty}"},           // a placeholder, as for wxpay.Chain
		{"POST", "v3/ecommerce/_empty_/applyments"},           // "_empty_" only ends a path
		{"POST", "v3/ecommerce/applyments/_empty_/"},          // two slashes
		{"POST", "_empty_"},
	} {
		if op, ok := catalog.Lookup(bad.method, bad.spelling); ok {
			t.Errorf("Lookup(%q, %q) = %v, want none", bad.method, bad.spelling, op)
		}
	}
}

// TestMatchEveryOperation: every operation's example request, as a concrete
// path, matches that operation back, with its values.
func TestMatchEveryOperation(t *testing.T) {
	for _, op := range catalog.All() {
		vals, _, _ := op.ExampleRequest()
		path := op.Template
		for name, v := range vals {
			path = strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1)
		}
		got, gotVals, ok := catalog.Match(op.Method, "/"+path)
		if !ok || got != op {
			t.Errorf("Match(%q, %q) = %v, %v, want %v", op.Method, path, got, ok, op)
			continue
		}
		if diff := cmp.Diff(vals, gotVals); diff != "" {
			t.Errorf("Match(%q, %q) values (-want +got):\n%s", op.Method, path, diff)
		}
	}
}

func TestMatchPrecedence(t *testing.T) {
	tests := []struct {
		method, path, want string
		vals               map[string]string
	}{
		// A literal segment wins over a placeholder...
		{"POST", "v3/profitsharing/orders/unfreeze", "v3/profitsharing/orders/unfreeze", map[string]string{}},
		// ...when it has the method: else the placeholder takes the value.
		{"GET", "v3/profitsharing/orders/unfreeze", "v3/profitsharing/orders/{out_order_no}",
			map[string]string{"out_order_no": "unfreeze"}},
		{"POST", "/v3/ecommerce/applyments/", "v3/ecommerce/applyments/", map[string]string{}},
		{"GET", "/v3/ecommerce/applyments/2000002124775691", "v3/ecommerce/applyments/{applyment_id}",
			map[string]string{"applyment_id": "2000002124775691"}},
		// Same shape: the path parameter's constraints decide (format numeric).
		{"POST", "v3/apply4subject/applyment/12345/cancel", "v3/apply4subject/applyment/{applyment_id}/cancel",
			map[string]string{"applyment_id": "12345"}},
		{"POST", "v3/apply4subject/applyment/biz_20200417/cancel", "v3/apply4subject/applyment/{business_code}/cancel",
			map[string]string{"business_code": "biz_20200417"}},
		// Values are unescaped; a query is ignored.
		{"GET", "/v3/refund/domestic/refunds/a%2Fb%20c?sub_mchid=1", "v3/refund/domestic/refunds/{out_refund_no}",
			map[string]string{"out_refund_no": "a/b c"}},
	}
	for _, tt := range tests {
		op, vals, ok := catalog.Match(tt.method, tt.path)
		if !ok || op.Template != tt.want {
			t.Errorf("Match(%q, %q) = %v, %v, want %s", tt.method, tt.path, op, ok, tt.want)
			continue
		}
		if diff := cmp.Diff(tt.vals, vals); diff != "" {
			t.Errorf("Match(%q, %q) values (-want +got):\n%s", tt.method, tt.path, diff)
		}
	}
	for _, bad := range []struct{ method, path string }{
		{"POST", "v3/refund/domestic/refund"},
		{"GET", "v3/refund/domestic/refunds/"}, // an empty value is no value
		{"GET", "v3/refund/domestic/refunds"},
		{"PUT", "v3/refund/domestic/refunds"},
		{"GET", "/"},
		{"GET", ""},
	} {
		if op, _, ok := catalog.Match(bad.method, bad.path); ok {
			t.Errorf("Match(%q, %q) = %v, want none", bad.method, bad.path, op)
		}
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		words []string
		want  string // an operation that must be found
	}{
		{[]string{"退款"}, "POST v3/refund/domestic/refunds"},
		{[]string{"异常退款"}, "POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"},
		{[]string{"REFUND", "abnormal"}, "POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"},
		{[]string{"applyAbnormalRefund"}, "POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"},
		{[]string{"domestic/refunds"}, "GET v3/refund/domestic/refunds/{out_refund_no}"},
		{[]string{"基础支付∙退款"}, "POST v3/refund/domestic/refunds"},
		{[]string{"退款", "ecommerce"}, "POST v3/ecommerce/refunds/apply"},
	}
	for _, tt := range tests {
		got := catalog.Search(tt.words...)
		var names []string
		for _, op := range got {
			names = append(names, op.String())
			if !matchesAll(op, tt.words) {
				t.Errorf("Search(%q) found %v, which does not hold every word", tt.words, op)
			}
		}
		if !slices.Contains(names, tt.want) {
			t.Errorf("Search(%q) lacks %s: %v", tt.words, tt.want, names)
		}
	}
	if got := catalog.Search("退款", "no-such-word-anywhere"); len(got) != 0 {
		t.Errorf("Search with a word nothing holds = %v", got)
	}
	if got, all := catalog.Search(), catalog.All(); len(got) != len(all) {
		t.Errorf("Search() found %d, All() %d", len(got), len(all))
	}
	// Names first: an operation whose name holds the word comes before one
	// that only has it in a tag.
	got := catalog.Search("退款")
	lastName := -1
	for i, op := range got {
		if strings.Contains(op.Name, "退款") {
			lastName = i
		} else if lastName > i {
			t.Fatalf("Search(退款): %v (no 退款 in its name) before %v", op, got[lastName])
		}
	}
}

func matchesAll(op *catalog.Operation, words []string) bool {
	hay := strings.ToLower(op.Name + " " + op.Template + " " + strings.Join(op.Tags, " "))
	for _, w := range words {
		form, err := wxpay.NormalizeSegment(w)
		if !strings.Contains(hay, strings.ToLower(w)) && (err != nil || !strings.Contains(hay, form)) {
			return false
		}
	}
	return true
}

func TestUnknownEndpoint(t *testing.T) {
	tests := []struct {
		method, path string
		want         string // the first suggestion
	}{
		{"POST", "v3/refund/domestic/refund", "POST v3/refund/domestic/refunds"},
		{"POST", "/v3/refund/domestics/refunds/123/apply-abnormal-refund", "POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"},
		{"GET", "v3/refund/domestic/refunds", "POST v3/refund/domestic/refunds"}, // the method is wrong
		{"POST", "v3/ecommerce/refund/apply", "POST v3/ecommerce/refunds/apply"},
	}
	for _, tt := range tests {
		err := catalog.Check(tt.method, tt.path, nil, nil)
		var ue *catalog.UnknownEndpointError
		if !errors.As(err, &ue) {
			t.Fatalf("Check(%q, %q) = %v, want an UnknownEndpointError", tt.method, tt.path, err)
		}
		if !errors.Is(err, wxpay.ErrInvalidPath) {
			t.Errorf("Check(%q, %q) = %v, does not wrap ErrInvalidPath", tt.method, tt.path, err)
		}
		if len(ue.Suggestions) == 0 || ue.Suggestions[0] != tt.want {
			t.Errorf("Check(%q, %q) suggestions = %q, want %q first", tt.method, tt.path, ue.Suggestions, tt.want)
		}
		if !strings.Contains(err.Error(), "did you mean "+tt.want) {
			t.Errorf("Check(%q, %q) = %q, does not suggest %s", tt.method, tt.path, err, tt.want)
		}
	}
	if s := catalog.Suggest("GET", "totally/unrelated/path/with/many/segments"); len(s) != 0 {
		t.Errorf("Suggest(far away) = %q, want none", s)
	}
}

// TestConcurrentUse: first use and lookups from many goroutines (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, ok := catalog.Lookup("POST", "v3/refund/domestic/refunds"); !ok {
				t.Error("Lookup failed")
			}
			if err := catalog.Check("GET", "v3/refund/domestic/refunds/1", nil, nil); err != nil {
				t.Error(err)
			}
			_ = catalog.Search("退款")
		})
	}
	wg.Wait()
}

func TestAllSorted(t *testing.T) {
	all := catalog.All()
	if len(all) < 990 {
		t.Fatalf("All() has %d operations, want about 993", len(all))
	}
	order := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	seen := map[string]bool{}
	for i, op := range all {
		if !slices.Contains(order, op.Method) || !strings.HasPrefix(op.Template, "v3/") {
			t.Errorf("odd operation %v", op)
		}
		if seen[op.String()] {
			t.Errorf("%v twice", op)
		}
		seen[op.String()] = true
		if i > 0 {
			prev := all[i-1]
			if prev.Template > op.Template || (prev.Template == op.Template && slices.Index(order, prev.Method) > slices.Index(order, op.Method)) {
				t.Errorf("%v before %v", prev, op)
			}
		}
	}
	all[0] = nil // All returns a copy
	if catalog.All()[0] == nil {
		t.Error("All() shares its slice")
	}
}

// TestCounts reports what the catalogue holds.
func TestCounts(t *testing.T) {
	var ops, bodies, sensitive, respSensitive, multipart, deprecated, noJSON, sensitiveQuery int
	for _, op := range catalog.All() {
		ops++
		if op.Body != nil {
			bodies++
		}
		if len(op.Sensitive()) > 0 {
			sensitive++
		}
		if len(op.ResponseSensitive()) > 0 {
			respSensitive++
		}
		if op.Multipart {
			multipart++
		}
		if op.Deprecated {
			deprecated++
		}
		if len(op.Produces) > 0 {
			noJSON++
		}
		for _, p := range op.Params {
			if p.Schema.Sensitive() && p.In != "body" {
				sensitiveQuery++
			}
		}
	}
	t.Logf("%d operations: %d with a JSON body (%d multipart), %d with sensitive request fields, "+
		"%d with sensitive answer fields, %d sensitive query or path parameters, %d deprecated, %d answering a file",
		ops, bodies, multipart, sensitive, respSensitive, sensitiveQuery, deprecated, noJSON)
	if bodies < 500 || sensitive < 100 || multipart < 10 {
		t.Errorf("too few: %d bodies, %d sensitive, %d multipart", bodies, sensitive, multipart)
	}
}
