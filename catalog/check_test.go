package catalog_test

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
)

// TestEveryOperation: every operation's example request passes its own
// check, and removing any one required field (path, query, or body at any
// depth, inside array items too) yields exactly one problem naming it.
func TestEveryOperation(t *testing.T) {
	var ops, removed int
	for _, op := range catalog.All() {
		ops++
		path, query, body := op.ExampleRequest()
		if err := op.Check(path, query, body); err != nil {
			t.Errorf("%v: example request fails its check: %v\nbody: %s", op, err, body)
			continue
		}
		for name := range path {
			p := copyMap(path)
			delete(p, name)
			wantOnly(t, op, op.Check(p, query, body), "path:"+name, catalog.KindMissing)
			removed++
		}
		for _, prm := range op.Params {
			if prm.In == "query" && prm.Required {
				q := url.Values{}
				for k, v := range query {
					q[k] = v
				}
				q.Del(prm.Name)
				wantOnly(t, op, op.Check(path, q, body), "query:"+prm.Name, catalog.KindMissing)
				removed++
			}
		}
		for _, field := range requiredFields(op.Body, gjson.ParseBytes(body), "") {
			b, err := sjson.DeleteBytes(body, field)
			if err != nil {
				t.Fatalf("%v: delete %s: %v", op, field, err)
			}
			wantOnly(t, op, op.Check(path, query, b), field, catalog.KindMissing)
			removed++
		}
	}
	t.Logf("%d operations: every example request passes; %d required fields removed one at a time, each reported", ops, removed)
}

// requiredFields lists the paths of the required fields present in v.
func requiredFields(s *catalog.Schema, v gjson.Result, prefix string) []string {
	if s == nil {
		return nil
	}
	join := func(c string) string {
		if prefix == "" {
			return c
		}
		return prefix + "." + c
	}
	var out []string
	switch {
	case s.Type == "object" && v.IsObject():
		for _, p := range s.Properties {
			f := v.Get(gjson.Escape(p.Name))
			if !f.Exists() {
				continue
			}
			path := join(gjson.Escape(p.Name))
			if p.Required {
				out = append(out, path)
			}
			out = append(out, requiredFields(p.Schema, f, path)...)
		}
	case s.Type == "array" && v.IsArray():
		for i, item := range v.Array() {
			out = append(out, requiredFields(s.Items, item, join(strconv.Itoa(i)))...)
		}
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// wantOnly asserts err is a CheckError with exactly one problem, of field
// and kind.
func wantOnly(t *testing.T, op *catalog.Operation, err error, field string, kind catalog.Kind) {
	t.Helper()
	var ce *catalog.CheckError
	if !errors.As(err, &ce) {
		t.Errorf("%v without %s: %v, want a CheckError", op, field, err)
		return
	}
	if len(ce.Problems) != 1 || ce.Problems[0].Field != field || ce.Problems[0].Kind != kind {
		t.Errorf("%v without %s: problems %v, want one %s problem of %s", op, field, ce.Problems, kind, field)
	}
}

func TestCheckProblems(t *testing.T) {
	const refund = `{"out_refund_no":"1217752501201407033233368018","amount":{"refund":888,"total":888,"currency":"CNY",` +
		`"from":[{"account":"AVAILABLE","amount":444},{"account":"UNAVAILABLE","amount":444}]},` +
		`"goods_detail":[{"merchant_goods_id":"1","unit_price":1,"refund_amount":1,"refund_quantity":1}]}`
	const abnormal = `{"out_refund_no":"1217752501201407033233368018","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT"}`
	set := func(doc, path string, v any) string {
		out, err := sjson.Set(doc, path, v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	raw := func(doc, path, v string) string {
		out, err := sjson.SetRaw(doc, path, v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	del := func(doc, path string) string {
		out, err := sjson.Delete(doc, path)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	abnormalPath := map[string]string{"refund_id": "50000000382019052709732678859"}
	tests := []struct {
		name, method, template string
		path                   map[string]string
		query                  url.Values
		body                   string
		want                   []catalog.Problem // nil: no error
	}{
		{name: "valid refund", method: "POST", template: "v3/refund/domestic/refunds", body: refund},
		{name: "integer as string", method: "POST", template: "v3/refund/domestic/refunds",
			body: set(refund, "amount.total", "888"),
			want: []catalog.Problem{{Field: "amount.total", Kind: catalog.KindType, Message: "is a string, want an integer"}}},
		{name: "fraction of a number field", method: "POST", template: "v3/refund/domestic/refunds",
			body: raw(refund, "amount.from.1.amount", "4.44"),
			want: []catalog.Problem{{Field: "amount.from.1.amount", Kind: catalog.KindType, Message: "is a fraction, want an integer (amounts are in fen)"}}},
		{name: "nested and array items, all problems sorted", method: "POST", template: "v3/refund/domestic/refunds",
			body: set(del(del(refund, "goods_detail.0.unit_price"), "amount.from.1.account"), "out_refund_no", 5),
			want: []catalog.Problem{
				{Field: "amount.from.1.account", Kind: catalog.KindMissing, Message: "required field is missing"},
				{Field: "goods_detail.0.unit_price", Kind: catalog.KindMissing, Message: "required field is missing"},
				{Field: "out_refund_no", Kind: catalog.KindType, Message: "is a number, want a string"},
			}},
		{name: "null is absent", method: "POST", template: "v3/refund/domestic/refunds",
			body: raw(raw(refund, "reason", "null"), "out_refund_no", "null"),
			want: []catalog.Problem{{Field: "out_refund_no", Kind: catalog.KindMissing, Message: "required field is missing"}}},
		{name: "object and array types", method: "POST", template: "v3/refund/domestic/refunds",
			body: raw(raw(refund, "amount.from", `{}`), "goods_detail", `"x"`),
			want: []catalog.Problem{
				{Field: "amount.from", Kind: catalog.KindType, Message: "is an object, want an array"},
				{Field: "goods_detail", Kind: catalog.KindType, Message: "is a string, want an array"},
			}},
		{name: "body not an object", method: "POST", template: "v3/refund/domestic/refunds", body: `[]`,
			want: []catalog.Problem{{Field: "", Kind: catalog.KindType, Message: "is an array, want an object"}}},
		{name: "body not JSON", method: "POST", template: "v3/refund/domestic/refunds", body: `{"a":`,
			want: []catalog.Problem{{Field: "", Kind: catalog.KindSyntax, Message: "the body is not valid JSON"}}},
		{name: "body missing", method: "POST", template: "v3/refund/domestic/refunds", body: " ",
			want: []catalog.Problem{{Field: "", Kind: catalog.KindMissing, Message: "the JSON body is missing"}}},
		{name: "enum", method: "POST", template: "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
			path: abnormalPath, body: set(set(abnormal, "type", "CASH"), "bank_type", "ICBC"),
			want: []catalog.Problem{
				{Field: "bank_type", Kind: catalog.KindEnum, Message: `"ICBC" is not one of CMB_DEBIT, COMM_DEBIT, ABC_DEBIT, CCB_DEBIT, ICBC_DEBIT, BOC_DEBIT, PAB_DEBIT, SPDB_DEBIT (and 7 more)`},
				{Field: "type", Kind: catalog.KindEnum, Message: `"CASH" is not one of USER_BANK_CARD, MERCHANT_BANK_CARD`},
			}},
		{name: "path parameter missing", method: "POST", template: "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
			body: abnormal,
			want: []catalog.Problem{{Field: "path:refund_id", Kind: catalog.KindMissing, Message: "path parameter is missing"}}},
		{name: "length in characters", method: "POST", template: "v3/marketing/busifavor/coupons/associate",
			body: `{"stock_id":"1","coupon_code":"券码券码券码券码","out_trade_no":"1","out_request_no":"1"}`},
		{name: "too long, too short", method: "POST", template: "v3/marketing/busifavor/coupons/associate",
			body: `{"stock_id":"1","coupon_code":"1234567","out_trade_no":"` + strings.Repeat("x", 129) + `","out_request_no":"1"}`,
			want: []catalog.Problem{
				{Field: "coupon_code", Kind: catalog.KindLength, Message: "is 7 characters long, fewer than the 8 required"},
				{Field: "out_trade_no", Kind: catalog.KindLength, Message: "is 129 characters long, more than the 128 allowed"},
			}},
		{name: "query range and type", method: "GET", template: "v3/marketing/paygiftactivity/activities",
			query: url.Values{"limit": {"0"}, "offset": {"x"}, "activity_status": {"DONE"}},
			want: []catalog.Problem{
				{Field: "query:activity_status", Kind: catalog.KindEnum, Message: `"DONE" is not one of CREATE_ACT_STATUS, ONGOING_ACT_STATUS, TERMINATE_ACT_STATUS, STOP_ACT_STATUS, OVER_TIME_ACT_STATUS, CREATE_ACT_FAILED`},
				{Field: "query:limit", Kind: catalog.KindRange, Message: "is less than the minimum 1"},
				{Field: "query:offset", Kind: catalog.KindType, Message: "is not an integer"},
			}},
		{name: "query missing", method: "GET", template: "v3/marketing/paygiftactivity/activities",
			query: url.Values{"limit": {"100"}, "offset": {""}},
			want:  []catalog.Problem{{Field: "query:offset", Kind: catalog.KindMissing, Message: "required query parameter is missing"}}},
		{name: "too many items", method: "POST", template: "v3/combine-transactions/out-trade-no/{combine_out_trade_no}/close",
			path: map[string]string{"combine_out_trade_no": "1"},
			body: `{"combine_appid":"wx","sub_orders":[` + strings.TrimSuffix(strings.Repeat(`{"mchid":"1","out_trade_no":"1"},`, 51), ",") + `]}`,
			want: []catalog.Problem{{Field: "sub_orders", Kind: catalog.KindItems, Message: "has 51 items, more than the 50 allowed"}}},
		{name: "pattern", method: "POST", template: "v3/payscore/servicepayondeliveryorder",
			body: set(example(t, "POST", "v3/payscore/servicepayondeliveryorder"), "time_range.start_time", "tomorrow"),
			want: []catalog.Problem{{Field: "time_range.start_time", Kind: catalog.KindPattern, Message: `does not match the pattern \d{8}|\d{14}|OnAccept`}}},
		{name: "base64 not checked: the check may run before encryption", method: "POST", template: "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
			path: abnormalPath, body: set(abnormal, "bank_account", "not base64: checked before encryption"),
		},
		{name: "time format", method: "GET", template: "v3/merchant-service/complaints",
			query: url.Values{"begin_date": {"2019/01/01"}, "end_date": {"2019-01-01"}},
			want:  []catalog.Problem{{Field: "query:begin_date", Kind: catalog.KindFormat, Message: "is not a date such as 2024-06-01"}}},
		{name: "rfc3339", method: "POST", template: "v3/pay/transactions/native",
			body: set(example(t, "POST", "v3/pay/transactions/native"), "time_expire", "2024-06-01 10:00:00"),
			want: []catalog.Problem{{Field: "time_expire", Kind: catalog.KindFormat, Message: "is not an RFC 3339 time such as 2024-06-01T10:00:00+08:00"}}},
		{name: "numeric", method: "POST", template: "v3/apply4subject/applyment/{applyment_id}/cancel",
			path: map[string]string{"applyment_id": "12a"},
			want: []catalog.Problem{{Field: "path:applyment_id", Kind: catalog.KindFormat, Message: "is not a string of digits"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, ok := catalog.Lookup(tt.method, tt.template)
			if !ok {
				t.Fatalf("Lookup(%q, %q) failed", tt.method, tt.template)
			}
			err := op.Check(tt.path, tt.query, []byte(tt.body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ce *catalog.CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a CheckError", err)
			}
			if !errors.Is(err, wxpay.ErrInvalidOption) {
				t.Errorf("Check = %v, does not wrap ErrInvalidOption", err)
			}
			if ce.Method != op.Method || ce.Template != op.Template {
				t.Errorf("CheckError names %s %s, want %v", ce.Method, ce.Template, op)
			}
			if diff := cmp.Diff(tt.want, ce.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// example returns the example body of an operation.
func example(t *testing.T, method, template string) string {
	t.Helper()
	op, ok := catalog.Lookup(method, template)
	if !ok {
		t.Fatalf("Lookup(%q, %q) failed", method, template)
	}
	_, _, body := op.ExampleRequest()
	return string(body)
}

// TestCheckConcretePath: the top-level Check matches the path, takes a
// query written in it, and checks the path values.
func TestCheckConcretePath(t *testing.T) {
	if err := catalog.Check("GET", "/v3/marketing/paygiftactivity/activities?offset=0&limit=10", nil, nil); err != nil {
		t.Errorf("Check with the query in the path = %v", err)
	}
	err := catalog.Check("GET", "/v3/marketing/paygiftactivity/activities?offset=0", url.Values{"limit": {"101"}}, nil)
	want := "catalog: GET v3/marketing/paygiftactivity/activities: query:limit: is more than the maximum 100"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %s", err, want)
	}
	err = catalog.Check("POST", "v3/refund/domestic/refunds/5000/apply-abnormal-refund", nil, []byte(`{"type":"USER_BANK_CARD"}`))
	want = "catalog: POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund: out_refund_no: required field is missing"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %s", err, want)
	}
}

// TestCheckKeepsSecrets: a problem with a sensitive field never quotes its
// value.
func TestCheckKeepsSecrets(t *testing.T) {
	op, _ := catalog.Lookup("POST", "v3/ecommerce/profitsharing/receivers/add")
	_, _, body := op.ExampleRequest()
	body, _ = sjson.SetBytes(body, "encrypted_name", 12345678)
	err := op.Check(nil, nil, body)
	if err == nil || strings.Contains(err.Error(), "12345678") {
		t.Errorf("Check = %v", err)
	}
}

func TestUnknownFields(t *testing.T) {
	op, _ := catalog.Lookup("POST", "v3/refund/domestic/refunds")
	body := `{"out_refund_no":"1","amonut":{},"amount":{"refund":1,"total":1,"currency":"CNY","from":[{"account":"A","amount":1,"acount":"x"}]}}`
	want := []catalog.Problem{
		{Field: "query:lang", Kind: catalog.KindUnknown, Message: "not a query parameter of this operation"},
		{Field: "amonut", Kind: catalog.KindUnknown, Message: "not a field of this operation"},
		{Field: "amount.from.0.acount", Kind: catalog.KindUnknown, Message: "not a field of this operation"},
	}
	if diff := cmp.Diff(want, op.UnknownFields(url.Values{"lang": {"en"}}, []byte(body))); diff != "" {
		t.Errorf("UnknownFields (-want +got):\n%s", diff)
	}
	if err := op.Check(nil, nil, []byte(body)); err != nil {
		t.Errorf("unknown fields make Check fail: %v", err)
	}
}

// TestExampleRespectsConstraints: made-up examples satisfy lengths, enums,
// formats and ranges.
func TestExampleRespectsConstraints(t *testing.T) {
	one := 1.0
	tests := []struct {
		schema catalog.Schema
		want   string
	}{
		{catalog.Schema{Type: "string", Enum: []string{"B", "A"}}, `"B"`},
		{catalog.Schema{Type: "string", Format: "rfc3339"}, `"2024-06-01T10:00:00+08:00"`},
		{catalog.Schema{Type: "string", MaxLength: 3}, `"exa"`},
		{catalog.Schema{Type: "string", MinLength: 10}, `"example000"`},
		{catalog.Schema{Type: "string", DocExample: []byte(`"given"`)}, `"given"`},
		{catalog.Schema{Type: "string", DocExample: []byte(`"given"`), MaxLength: 2}, `"ex"`},
		{catalog.Schema{Type: "integer", Minimum: &one, DocExample: []byte(`0`)}, `1`},
		{catalog.Schema{Type: "integer", Enum: []string{"3", "6"}}, `3`},
		{catalog.Schema{Type: "boolean"}, `false`},
		{catalog.Schema{Type: "array", Items: &catalog.Schema{Type: "integer"}, MinItems: 2}, `[1,1]`},
		{catalog.Schema{Type: "string", Format: "jsonObjectLike", JSON: &catalog.Schema{Type: "object"}}, `"{}"`},
	}
	for _, tt := range tests {
		if got := string(tt.schema.Example()); got != tt.want {
			t.Errorf("%+v.Example() = %s, want %s", tt.schema, got, tt.want)
		}
	}
}

// TestEnumExtendedByAllOf: the description extends a shared enum with
// allOf (BillType's ALL, SUCCESS, REFUND plus four values of the trade
// bill's own); every value of either list passes, as WeChat Pay takes them.
func TestEnumExtendedByAllOf(t *testing.T) {
	for _, tc := range []struct{ method, path string }{
		{"GET", "v3/bill/tradebill?bill_date=2024-06-01&bill_type=ALL"},
		{"GET", "v3/bill/tradebill?bill_date=2024-06-01&bill_type=REFUND"},
		{"GET", "v3/bill/tradebill?bill_date=2024-06-01&bill_type=RECHARGE_REFUND"},
		{"GET", "v3/bill/tradebill?bill_date=2024-06-01&bill_type=SUC_SPECIAL"},
		{"GET", "v3/ecommerce/fund/balance/1900000109?account_type=BASIC"},
		{"GET", "v3/ecommerce/fund/balance/1900000109?account_type=DEPOSIT"},
	} {
		if err := catalog.Check(tc.method, tc.path, nil, nil); err != nil {
			t.Errorf("Check(%s %s) = %v, want nil", tc.method, tc.path, err)
		}
	}
	err := catalog.Check("GET", "v3/bill/tradebill?bill_date=2024-06-01&bill_type=EVERYTHING", nil, nil)
	var ce *catalog.CheckError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Field != "query:bill_type" || ce.Problems[0].Kind != catalog.KindEnum {
		t.Errorf("bill_type=EVERYTHING: %v, want one enum problem on query:bill_type", err)
	}
	op, _ := catalog.Lookup("GET", "v3/ecommerce/fund/balance/{sub_mchid}")
	var got []string
	for _, p := range op.Response.Properties {
		if p.Name == "account_type" {
			got = p.Schema.Enum
		}
	}
	if strings.Join(got, ",") != "BASIC,OPERATION,FEES,DEPOSIT" {
		t.Errorf("answer account_type enum %v, want BASIC, OPERATION, FEES and DEPOSIT", got)
	}
}

// TestEcommerceRefundOrderIDs: an e-commerce refund names its order by
// transaction_id or out_trade_no, and combine_transaction_id is for a
// repayment order only, as docs/ecommerce-refund.md says; the description
// marks combine_transaction_id and transaction_id required, which would
// refuse the calls the guide shows.
func TestEcommerceRefundOrderIDs(t *testing.T) {
	for _, order := range []string{`"transaction_id":"4200000000202405200000000011"`, `"out_trade_no":"1217752501201407033233368018"`} {
		body := `{"sub_mchid":"1900000109","sp_appid":"wx8888888888888888",` + order + `,` +
			`"out_refund_no":"1217752501201407033233368111","amount":{"refund":500,"total":500,"currency":"CNY"},"funds_account":"AVAILABLE"}`
		if err := catalog.Check("POST", "v3/ecommerce/refunds/apply", nil, []byte(body)); err != nil {
			t.Errorf("%s: %v", order, err)
		}
	}
	err := catalog.Check("POST", "v3/ecommerce/refunds/apply", nil, []byte(`{"sub_mchid":"1900000109"}`))
	var ce *catalog.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("an empty refund: %v", err)
	}
	var fields []string
	for _, p := range ce.Problems {
		fields = append(fields, p.Field)
	}
	if diff := cmp.Diff([]string{"amount", "funds_account", "out_refund_no", "sp_appid"}, fields); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestPlaceholderDeclaredInQuery: where the description declares a path
// placeholder "in: query", the value goes in the path only (as WeChat Pay
// takes it), with the declared constraints; the check asks for no query
// parameter of that name.
func TestPlaceholderDeclaredInQuery(t *testing.T) {
	for _, c := range []struct {
		method, path string
		query        url.Values
		body         string
	}{
		{"GET", "/v3/bank-transfer/batches/out-batch-no/plfk2020042013", url.Values{"need_query_detail": {"true"}}, ""},
		{"GET", "/v3/merchant/fund/withdraw/bill-type/NO_SUCC", url.Values{"bill_date": {"2019-08-17"}}, ""},
		{"POST", "/v3/payscore/users/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/permissions/500001/terminate", nil, `{"appid":"wxd678efh567hg6787","reason":"reason"}`},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if err := catalog.Check(c.method, c.path, c.query, body); err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
		}
	}
	err := catalog.Check("GET", "/v3/merchant/fund/withdraw/bill-type/SUCC", url.Values{"bill_date": {"2019-08-17"}}, nil)
	var ce *catalog.CheckError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Field != "path:bill_type" || ce.Problems[0].Kind != catalog.KindEnum {
		t.Errorf("bill_type SUCC in the path: %v, want an enum problem with path:bill_type", err)
	}
}
