package catalog_test

import (
	"errors"
	"fmt"

	"github.com/wxpay-chain/wxpay/catalog"
)

func ExampleLookup() {
	// Any chain spelling finds the operation; placeholders match by position.
	op, ok := catalog.Lookup("POST", "V3/Refund/Domestic/Refunds/_refund_id_/ApplyAbnormalRefund")
	if !ok {
		return
	}
	fmt.Println(op.Method, op.Template)
	fmt.Println(op.Name)
	fmt.Println("roles:", op.Roles)
	fmt.Println("sensitive:", op.Sensitive())
	for _, p := range op.Params {
		fmt.Printf("%s %s (%s, required: %v)\n", p.In, p.Name, p.Schema.Type, p.Required)
	}
	for _, p := range op.Body.Properties {
		if p.Required {
			fmt.Printf("body %s (%s) %v\n", p.Name, p.Schema.Type, p.Schema.Enum)
		}
	}
	// Output:
	// POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund
	// 发起异常退款
	// roles: [直连商户 服务商]
	// sensitive: [bank_account real_name]
	// header Wechatpay-Serial (string, required: true)
	// path refund_id (string, required: true)
	// body out_refund_no (string) []
	// body type (string) [USER_BANK_CARD MERCHANT_BANK_CARD]
}

func ExampleSearch() {
	for _, op := range catalog.Search("异常退款") {
		fmt.Println(op.Method, op.Template, op.Name)
	}
	// Output:
	// POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund 发起异常退款
	// POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund 发起异常退款
}

func ExampleCheck() {
	body := []byte(`{"out_refund_no":"1217752501201407033233368018",` +
		`"amount":{"refund":8.88,"total":888,"from":[{"account":"AVAILABLE"}]}}`)
	err := catalog.Check("POST", "/v3/refund/domestic/refunds", nil, body)
	var ce *catalog.CheckError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Printf("%s (%s): %s\n", p.Field, p.Kind, p.Message)
		}
	}

	err = catalog.Check("POST", "/v3/refund/domestic/refund", nil, body)
	fmt.Println(err)
	// Output:
	// amount.currency (missing): required field is missing
	// amount.from.0.amount (missing): required field is missing
	// amount.refund (type): is a fraction, want an integer (amounts are in fen)
	// catalog: no APIv3 operation POST /v3/refund/domestic/refund; did you mean POST v3/refund/domestic/refunds or GET v3/refund/domestic/refunds/{out_refund_no}?
}

func ExampleExpandPaths() {
	op, _ := catalog.Lookup("POST", "v3/ecommerce/applyments/")
	body := []byte(`{"ubo_info_list":[{"ubo_id_doc_name":"张三"},{"ubo_id_doc_name":"李四"}]}`)
	for _, p := range catalog.ExpandPaths(body, op.Sensitive()) {
		fmt.Println(p)
	}
	// Output:
	// ubo_info_list.0.ubo_id_doc_name
	// ubo_info_list.1.ubo_id_doc_name
}

func ExampleOperation_ExampleRequest() {
	op, _ := catalog.Lookup("GET", "v3/refund/domestic/refunds/{out_refund_no}")
	path, query, body := op.ExampleRequest()
	fmt.Println(path, query, body == nil)
	fmt.Println(op.Check(path, query, body))
	// Output:
	// map[out_refund_no:sdk12345678920210326144648] map[sub_mchid:[1900000109]] true
	// <nil>
}
