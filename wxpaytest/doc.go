// Package wxpaytest provides a WeChat Pay APIv3 emulator for tests, in the
// spirit of net/http/httptest.
//
// A Server is a real HTTP server on the loopback interface that speaks the
// WeChat Pay protocol: it checks the WECHATPAY2-SHA256-RSA2048 Authorization
// of every request (merchant id, certificate serial, timestamp window, nonce
// replay, signature over the exact request line and body), answers in JSON
// signed with a platform key in the Wechatpay-* headers, and keeps refunds in
// memory so that calls have effects that later calls can see.
//
//	s := wxpaytest.NewServer()
//	defer s.Close()
//	client, err := s.Client() // a *wxpay.Client that trusts the emulator
//
// The emulator answers every APIv3 operation that package catalog knows
// but the notification schema (POST v3/webhooks, which WeChat Pay sends
// rather than answers): 16 with hand-written endpoints that keep state and
// apply WeChat Pay's business rules, and the other 976 from their schema,
// statelessly. HandWritten and SchemaDriven list them.
//
// The hand-written endpoints are the refund APIs:
//
//	POST /v3/refund/domestic/refunds                                  apply for a refund
//	GET  /v3/refund/domestic/refunds/{out_refund_no}                  query a refund
//	POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund
//	POST /v3/ecommerce/refunds/apply                                  e-commerce refund
//	GET  /v3/ecommerce/refunds/id/{refund_id}?sub_mchid=...
//	GET  /v3/ecommerce/refunds/out-refund-no/{out_refund_no}?sub_mchid=...
//	POST /v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund
//
// and, around them:
//
//	GET  /v3/bill/tradebill, /v3/bill/fundflowbill                    apply for a bill
//	GET  /v3/billdownload/file?token=...                              the bill itself (unsigned, as WeChat Pay does)
//	POST /v3/merchant/media/upload, /v3/merchant/media/video_upload,
//	     /v3/marketing/favor/media/image-upload,
//	     /v3/merchant-service/images/upload                           media uploads (signature over meta)
//	GET  /v3/merchant-service/images/{media_id}                       an uploaded image (404 for another media_id)
//	GET  /v3/certificates                                             platform certificates, encrypted with the APIv3 key
//	POST /secapi/pay/refund, /pay/refundquery                         APIv2 (XML; mutual TLS with StartTLS)
//
// They take precedence: a query for a refund the server does not hold is a
// 404, whatever the schema would answer.
//
// Every other operation is answered from the catalogue, behind the same
// Authorization check and faults:
//
//   - the request is checked against the operation (path values, query, JSON
//     body; for an upload, the meta part the request is signed over, and the
//     form parts); a failure is a 400 PARAM_ERROR whose detail names the
//     first problem (a body field as a JSON pointer such as /amount/refund,
//     a query or path parameter by its name) and whose message lists them
//     all;
//   - every sensitive field, of the body or the query, must be an RSA-OAEP
//     ciphertext under the WeChat Pay key the Wechatpay-Serial header names
//     (else 400 PARAM_ERROR naming the field, or the header when it is
//     missing or names no key of the server);
//   - the answer has the operation's success status (200, 202 or 204, the
//     last two without a body where the description gives none) and is built
//     from the example of its response schema: every required field, the
//     sensitive ones, and the optional ones the description gives an
//     example for; values of the request are echoed where the answer has a
//     field of the same name in the same place (a path or query parameter at
//     the top level, a body field at its path); sensitive answer fields are
//     encrypted with the merchant's public key, as WeChat Pay does, for the
//     merchant to decrypt with its private key; a URL of WeChat Pay's host
//     points at the emulator instead, a download_url at a bill it serves
//     (the hash_value beside it is the bill's digest);
//   - a download answers a small file of its type (a one-page PDF, a PNG
//     image, a CSV statement), signed;
//   - a path the catalogue knows with other methods only is a 405
//     METHOD_NOT_ALLOWED with an Allow header, any other a 404 NOT_FOUND.
//
// Bills are generated on the fly, deterministic and of any size
// (SetBillSize), so a client can be tested and measured on a large download
// without the emulator holding it in memory. As on WeChat Pay, a day's bill
// exists from the next morning, China time (08:00 for a trade bill, 10:00
// for a fund flow bill; before that 400 STATEMENT_CREATING) and for three
// months (an older or future bill_date gets 400 INVALID_REQUEST), and a
// download_url is valid for DownloadURLLifetime (30 seconds; then 400
// INVALID_REQUEST). LatestBillDate names a day whose bills are served now.
//
// Notifications: SetRefundStatus moving a refund with a loopback notify_url
// to SUCCESS, CLOSED or ABNORMAL sends its signed, AES-256-GCM-encrypted
// REFUND.* notification and retries it until a 2xx answer (NotifyAttempts,
// NotifyRetryWait); Notify sends any event; Deliveries reports them.
//
// Clients in other languages can read the request log at InspectPath and
// inject faults at FaultsPath, and `wxpay emulator` serves this emulator on
// its own, writing its keys and a config file for them (wxpay.LoadConfig
// reads it).
//
// Each hand-written endpoint validates its body and query as the WeChat Pay
// documents say (required fields, enumerations, integer amounts, lengths, a
// sub_mchid that is a merchant id: 8 to 32 digits, in the body or the
// query, and sub_mch_id likewise in APIv2; the domestic abnormal refund
// requires sub_mchid only for a sub-merchant's refund, as it serves direct
// merchants and partners alike) and fails the way WeChat Pay
// does: 400 PARAM_ERROR, 400 INVALID_REQUEST, 401 SIGN_ERROR, 404
// RESOURCE_NOT_EXISTS, with a detail naming the field where that helps.
//
// A fresh server holds one refund in the ABNORMAL state, FixtureRefundID
// (out_refund_no and trade FixtureOutRefundNo, sub-merchant FixtureSubMchID,
// 888 fen), so that the literal examples of the WeChat Pay documents work
// verbatim. A refund applied for with an out_refund_no that starts with
// "ABNORMAL" is created ABNORMAL too; SetRefundStatus moves any refund to
// another state.
//
// Inject makes the next matching requests fail on purpose (an error answer, a
// delay, a reset connection, a bad or missing response signature, a truncated
// or oversized body; ParseFault reads one written as text, such as
// "POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2"), and Requests records
// what the server received, so that tests can check how a client behaves
// when things go wrong.
//
// SetRateLimit turns on a rate limit, off on a new Server: the requests to
// each operation are counted in each second of the emulator's clock, and
// those over the operation's limit are answered 429 FREQUENCY_LIMITED,
// signed and not applied. The limits are those of the WeChat Pay documents
// (150 a second for the domestic abnormal refund; 6 erroneous requests a
// second for the domestic refund), DefaultRateLimit (150) for the others,
// unless RateLimit sets them. A client's pacing (wxpay.Config.RateLimit)
// and its retries of FREQUENCY_LIMITED (wxpay.Config.Retry) can be tested
// against it.
package wxpaytest
