package wxpay

// This file checks the answer to an APIv2 call (v2.go): its status, its
// return_code and result_code, and its sign, made with the APIv2 key.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/v2xml"
)

// checkV2 turns an APIv2 answer into a *Response or an error: a status
// other than 2xx is an *APIError; return_code FAIL, or result_code FAIL in
// a verified answer, a *V2Error; a missing or wrong sign a *VerifyError.
func (c *Client) checkV2(p *v2Prepared, resp *fasthttp.Response) (*Response, error) {
	status := resp.StatusCode()
	body := append([]byte(nil), resp.Body()...)
	header := make(http.Header, 8)
	for k, v := range resp.Header.All() {
		header.Add(string(k), string(v))
	}
	if status < 200 || status > 299 {
		return nil, newAPIError(status, header, body)
	}
	r := &Response{StatusCode: status, Header: header, Body: body}
	unsigned := v2IsUnsigned(p.pathOnly)
	m, err := v2xml.Decode(body)
	if err != nil {
		if unsigned {
			return r, nil // a bill, text or gzip
		}
		return nil, fmt.Errorf("%w: POST %s: %v", ErrMalformedV2Response, p.target, err)
	}
	rc, ok := m["return_code"]
	switch {
	case !ok && unsigned:
		return r, nil
	case !ok:
		return nil, fmt.Errorf("%w: POST %s: no return_code", ErrMalformedV2Response, p.target)
	case rc != "SUCCESS":
		// WeChat Pay does not sign these answers; they carry no result.
		return nil, newV2Error(p.target, m, body, false)
	}
	if !unsigned {
		if err := c.verifyV2(m, p.signType); err != nil {
			return nil, &VerifyError{Method: http.MethodPost, Path: p.target, StatusCode: status, RequestID: header.Get("Request-Id"), Err: err,
				UntrustedHeader: header, UntrustedBody: body}
		}
		r.Verified = true
	}
	if res, ok := m["result_code"]; ok && res != "SUCCESS" {
		return nil, newV2Error(p.target, m, body, r.Verified)
	}
	return r, nil
}

// verifyV2 checks the sign of an APIv2 answer with the APIv2 key. The
// algorithm follows the sign's length, but an answer to a request signed
// with HMAC-SHA256 must be signed with it too.
func (c *Client) verifyV2(m map[string]string, requestType string) error {
	sign := m["sign"]
	if sign == "" {
		return fmt.Errorf("%w: the APIv2 answer has no sign", ErrBadSignature)
	}
	if requestType == v2xml.HMACSHA256 && len(sign) != 64 {
		return fmt.Errorf("%w: the APIv2 answer is not signed with HMAC-SHA256, which the request used", ErrBadSignature)
	}
	if err := v2xml.Verify(m, "", c.v2.secret); err != nil {
		return fmt.Errorf("%w: APIv2 sign does not match the answer", ErrBadSignature)
	}
	return nil
}

// V2Error is the error of an APIv2 answer that reports a failure: return
// code FAIL (the request was refused: bad sign, bad parameter format, no
// certificate, ...) or, with return code SUCCESS, result code FAIL (the
// business failed: NOTENOUGH, ORDERNOTEXIST, SYSTEMERROR, ...). Match it
// with errors.As.
type V2Error struct {
	// Path is the path the request was sent to, such as
	// /secapi/pay/refund.
	Path string
	// ReturnCode and ReturnMsg are the communication result.
	ReturnCode string
	ReturnMsg  string
	// ResultCode, ErrCode and ErrCodeDes are the business result, empty
	// when ReturnCode is FAIL.
	ResultCode string
	ErrCode    string
	ErrCodeDes string
	// Verified reports that the answer's sign was checked and valid.
	// WeChat Pay does not sign return_code FAIL answers, nor the answers of
	// some endpoints (see docs/apiv2.md): such an error may not come from
	// WeChat Pay.
	Verified bool
	// Fields is the whole decoded answer.
	Fields map[string]string
	// Body is the raw XML answer.
	Body []byte
}

func newV2Error(path string, m map[string]string, body []byte, verified bool) *V2Error {
	return &V2Error{
		Path:       path,
		ReturnCode: m["return_code"],
		ReturnMsg:  m["return_msg"],
		ResultCode: m["result_code"],
		ErrCode:    m["err_code"],
		ErrCodeDes: m["err_code_des"],
		Verified:   verified,
		Fields:     m,
		Body:       body,
	}
}

func (e *V2Error) Error() string {
	var b strings.Builder
	b.WriteString("wxpay: APIv2 " + e.Path + ": ")
	if e.ReturnCode != "SUCCESS" {
		b.WriteString("return_code " + clip(e.ReturnCode))
		if e.ReturnMsg != "" {
			b.WriteString(": " + clip(e.ReturnMsg))
		}
	} else {
		b.WriteString("result_code " + clip(e.ResultCode))
		if e.ErrCode != "" {
			b.WriteString(" " + clip(e.ErrCode))
		}
		if e.ErrCodeDes != "" {
			b.WriteString(": " + clip(e.ErrCodeDes))
		}
	}
	if !e.Verified {
		b.WriteString(" [unsigned]")
	}
	return b.String()
}

// Retryable reports whether WeChat Pay says the same request may be sent
// again unchanged (same out_refund_no, out_trade_no or partner_trade_no):
// err_code SYSTEMERROR, BIZERR_NEED_RETRY, FREQUENCY_LIMITED or FREQ_LIMIT.
// With a RetryPolicy whose CheckRetry is nil, APIv2 calls retry these.
func (e *V2Error) Retryable() bool {
	switch e.ErrCode {
	case "SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "FREQ_LIMIT":
		return true
	}
	return false
}

// XML returns the decoded APIv2 answer, each element's name to its text
// (resp.XML()["refund_id"]), or nil when the body is not a flat XML
// document (an APIv3 answer, or a bill from pay/downloadbill). It decodes
// the body on every call.
func (r *Response) XML() map[string]string {
	m, err := v2xml.Decode(r.Body)
	if err != nil {
		return nil
	}
	return m
}

// v2Unsigned are the APIv2 paths whose answers WeChat Pay does not sign:
// the bill downloads (their success answer is the bill itself, text or
// gzip) and the red packet, transfer, risk and sandbox-key endpoints, whose
// documented answers carry no sign. Answers from them are returned with
// Verified false. Other endpoints must sign every return_code SUCCESS
// answer.
var v2Unsigned = []string{
	"pay/downloadbill",
	"pay/downloadfundflow",
	"pay/batchquerycomment",
	"mmpaymkttransfers/sendredpack",
	"mmpaymkttransfers/sendgroupredpack",
	"mmpaymkttransfers/sendminiprogramhb",
	"mmpaymkttransfers/gethbinfo",
	"mmpaymkttransfers/promotion/transfers",
	"mmpaymkttransfers/gettransferinfo",
	"mmpaymkttransfers/promotion/paywwsptrans2pocket",
	"mmpaymkttransfers/promotion/querywwsptrans2pocket",
	"mmpaysptrans/pay_bank",
	"mmpaysptrans/query_bank",
	"risk/getpublickey",
	"risk/getviolation",
	"mchrisk/querymchrisk",
	"mchrisk/setmchriskcallback",
	"mchrisk/syncmchriskresult",
	"secapi/mch/submchmanage",
	"sandboxnew/pay/getsignkey",
	"payitil/report",
}

func v2IsUnsigned(path string) bool {
	for _, p := range v2Unsigned {
		if path == p {
			return true
		}
	}
	return false
}
