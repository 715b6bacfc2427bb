package wxpaytest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/verifier"
)

// A sub_mchid is a merchant id, digits: WeChat Pay refuses anything else
// with 400 PARAM_ERROR naming sub_mchid, on every endpoint that takes one,
// in the body or in the query.
func TestSubMchIDMustBeMerchantID(t *testing.T) {
	s := newServer(t, func(s *Server) { s.Now = fixedClock(time.Date(2026, 11, 23, 10, 0, 0, 0, cst)) })
	c := newClient(t, s)
	for _, bad := range []string{"not-a-merchant", "19000001O9", "1900 00109", "1234567", "-1900000109", "1900000109\n"} {
		set := func(m map[string]any) { m["sub_mchid"] = bad }
		q := url.QueryEscape(bad)
		bodyErr := errorSummary{400, CodeParamError, "/sub_mchid", "body"}
		queryErr := errorSummary{400, CodeParamError, "sub_mchid", "query"}
		for _, tc := range []struct {
			name string
			r    func() *resp
			want errorSummary
		}{
			{"apply refund", func() *resp { return c.post(refundsPath, refundBody("R-sub-1", set)) }, bodyErr},
			{"query refund", func() *resp { return c.get(refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid=" + q) }, queryErr},
			{"abnormal refund", func() *resp {
				return c.post(partnerAbnormalPath, abnormalBody(t, platformKey, "6222020200001234", set), verifier.HeaderSerial, DefaultPlatformSerial)
			}, bodyErr},
			{"e-commerce refund", func() *resp { return c.post(ecommerceApplyPath, ecommerceBody("E-sub-1", set)) }, bodyErr},
			{"e-commerce query by id", func() *resp { return c.get("/v3/ecommerce/refunds/id/" + FixtureRefundID + "?sub_mchid=" + q) }, queryErr},
			{"e-commerce query by out_refund_no", func() *resp {
				return c.get("/v3/ecommerce/refunds/out-refund-no/" + FixtureOutRefundNo + "?sub_mchid=" + q)
			}, queryErr},
			{"e-commerce abnormal refund", func() *resp {
				return c.post(ecommerceAbnormalPath, abnormalBody(t, platformKey, "6222020200001234", set), verifier.HeaderSerial, DefaultPlatformSerial)
			}, bodyErr},
			{"trade bill", func() *resp { return c.get("/v3/bill/tradebill?bill_date=2026-11-22&sub_mchid=" + q) }, queryErr},
			{"fund flow bill", func() *resp { return c.get("/v3/bill/fundflowbill?bill_date=2026-11-22&sub_mchid=" + q) }, queryErr},
		} {
			r := tc.r()
			if r.status == http.StatusOK {
				t.Errorf("%s with sub_mchid %q: 200, want %+v", tc.name, bad, tc.want)
				continue
			}
			if got := r.summary(t); got != tc.want {
				t.Errorf("%s with sub_mchid %q: %+v %s, want %+v", tc.name, bad, got, r.body, tc.want)
			}
		}
	}
	// An empty sub_mchid in a query is not a merchant id either.
	if r := c.get(refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid="); r.status == http.StatusOK {
		t.Errorf("query refund with an empty sub_mchid: 200, want 400 PARAM_ERROR")
	}
	// A merchant id is accepted everywhere.
	for _, target := range []string{
		refundsPath + "/" + FixtureOutRefundNo + "?sub_mchid=" + FixtureSubMchID,
		"/v3/ecommerce/refunds/id/" + FixtureRefundID + "?sub_mchid=" + FixtureSubMchID,
		"/v3/bill/tradebill?bill_date=2026-11-22&sub_mchid=" + FixtureSubMchID,
	} {
		if r := c.get(target); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", target, r.status, r.body)
		}
	}
}

// APIv2 spells it sub_mch_id and refuses a malformed one with return_code
// FAIL, as it does a malformed mch_id.
func TestV2SubMchIDMustBeMerchantID(t *testing.T) {
	s := newV2Server(t, false)
	hc := &http.Client{Timeout: 20 * time.Second}
	query := map[string]string{"mch_id": DefaultMchID, "out_refund_no": FixtureOutRefundNo, "sub_mch_id": "not-a-merchant"}
	status, m := v2Post(t, hc, s, "pay/refundquery", signed(t, query, v2Secret))
	if status != http.StatusOK || m["return_code"] != "FAIL" || !strings.Contains(m["return_msg"], "sub_mch_id") {
		t.Errorf("sub_mch_id not-a-merchant: %d %v, want return_code FAIL naming sub_mch_id", status, m)
	}
	query["sub_mch_id"] = FixtureSubMchID
	status, m = v2Post(t, hc, s, "pay/refundquery", signed(t, query, v2Secret))
	if status != http.StatusOK || m["return_code"] != "SUCCESS" || m["result_code"] != "SUCCESS" {
		t.Errorf("sub_mch_id %s: %d %v, want SUCCESS", FixtureSubMchID, status, m)
	}
}
