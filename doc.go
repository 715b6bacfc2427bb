// Package wxpay is a client for the WeChat Pay APIv3 (微信支付) that calls any
// endpoint in one line, in the chain style of wechatpay-php and
// wechatpay-axios-plugin:
//
//	resp, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
//		"out_refund_no": "1217752501201407033233368018",
//	})
//	status := resp.Get("status").String()
//
// The client fills path placeholders from the options, signs the request
// (SHA256-RSA2048) over the exact bytes it sends, sends it over a fasthttp
// transport, verifies WeChat Pay's signature on the response and hands back
// the raw JSON, to be read with gjson paths or decoded with Unmarshal.
//
// Paths can be written as a template ("v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"),
// as wechatpay-php's chain('...') and ['...'] take them; segment by segment
// in its pure-chain spelling (Chain("v3").Chain("ecommerce")...
// .Chain("_refund_id_").Chain("applyAbnormalRefund")); or, a Go shorthand
// for the latter, with several segments in one call (Chain("v3",
// "ecommerce", "refunds", "_refund_id_", "applyAbnormalRefund")). PHP's
// chain() takes one string. See NormalizeSegment for the spellings and
// where each comes from.
//
// Errors are values: *APIError for a non-2xx answer (with WeChat Pay's code
// and message), *VerifyError for a response whose signature fails (matched
// with errors.Is against ErrBadSignature, ErrClockSkew, ...; what came back
// is in its Untrusted fields), and errors
// wrapping ErrInvalidPath, ErrMissingParam, ErrInvalidOption,
// ErrHostNotAllowed or ErrInvalidConfig for mistakes caught before anything
// is sent; *NetworkError when no answer came, ErrResponseTooLarge for an
// answer above Config.MaxResponseBodySize, and *RetryError around the last
// error when a RetryPolicy made several attempts. No error carries key
// material or the Authorization header.
//
// Callbacks: ParseNotification verifies and decrypts a notification WeChat
// Pay posts to a notify_url, and NotificationHandler (net/http) and
// FasthttpNotificationHandler (fasthttp) do that and answer WeChat Pay the
// documented way. Retries (RetryPolicy), failover to the backup domain and a
// client-side rate limit are configured in Config; see docs/reliability.md.
//
// # How a call is made
//
// Chain.Do chooses the protocol once, from the chain's path (protocol.go):
// APIv2 (XML) for v2/..., APIv3 (JSON) for every other path and for a full
// URL. An APIv3 call goes through these stages, in this order, each in the
// file named (do.go lists them as code):
//
//  1. options.go: the method, and every key an option or a placeholder
//     (debug.go reads the debug option);
//  2. target.go: the path, its placeholders filled, then the query option;
//  3. body.go: the json or body option;
//  4. headers.go: the headers option, over Config.Headers;
//  5. upload.go: the file option, a multipart body whose meta is signed;
//  6. encrypt.go: the encrypt option, sensitive fields encrypted;
//     then, if Config.Checker is set, checker.go: the whole request
//     checked (against the catalogue of every APIv3 operation, with
//     catalog.Checker);
//  7. retry.go: the attempts, each paced by the rate limit, sent to the
//     backup during a failover, and retried as the RetryPolicy allows,
//     all within the call's deadline; for each attempt:
//  8. sign.go: the Authorization, with a fresh nonce, over the bytes sent;
//  9. transport.go: the exchange over fasthttp, through Config.Middleware
//     (middleware.go) and logged by the debug option (debug.go);
//  10. response.go: the signature of the answer checked, or an *APIError.
//
// Every check of stages 1 to 6 is made before anything is sent.
// DecryptResponse (decrypt.go) decrypts the sensitive fields of an answer. An APIv2
// call builds its signed XML body in v2.go, goes through the same retry.go
// and transport.go, and has its answer and sign checked in v2response.go.
//
// Besides calls, paysign.go signs the parameters a page or app starts a
// payment with (JSAPIPayParams, AppPayParams); nothing is sent.
package wxpay
