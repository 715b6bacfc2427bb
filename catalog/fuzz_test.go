package catalog_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/wxpay-chain/wxpay/catalog"
)

// FuzzCheck: any request is checked without a panic, and a failure is one
// of the two error types.
func FuzzCheck(f *testing.F) {
	f.Add("POST", "/v3/refund/domestic/refunds", "", `{"out_refund_no":"1","amount":{"refund":1,"total":1,"currency":"CNY"}}`)
	f.Add("POST", "v3/ecommerce/refunds/123/apply-abnormal-refund", "x=1", `{"type":"USER_BANK_CARD","bank_account":null}`)
	f.Add("GET", "/v3/marketing/paygiftactivity/activities", "limit=1e3&offset=-1", ``)
	f.Add("get", "v3/../refund/%zz/", "%", `[[[[`)
	f.Add("POST", "/v3/applyment4sub/applyment/", "", `{"contact_info":{"contact_name":1},"subject_info":[]}`)
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string) {
		query, _ := url.ParseQuery(rawQuery)
		err := catalog.Check(method, path, query, []byte(body))
		var ce *catalog.CheckError
		var ue *catalog.UnknownEndpointError
		if err != nil && !errors.As(err, &ce) && !errors.As(err, &ue) {
			t.Fatalf("Check = %T %v", err, err)
		}
		if ce != nil && len(ce.Problems) == 0 {
			t.Fatal("a CheckError without problems")
		}
		if op, _ := catalog.Lookup(method, path); op != nil {
			_ = op.UnknownFields(query, []byte(body))
			_ = catalog.ExpandPaths([]byte(body), op.Sensitive())
		}
	})
}
