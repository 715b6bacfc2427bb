// Package catalog knows every WeChat Pay APIv3 operation: its method and
// path template, official name (退款, 申请退款API, ...), roles, parameters,
// body and answer schemas, and which fields are sensitive (RSA-OAEP
// encrypted). It checks a request against its operation before it is sent.
// Set once on a client, its Checker checks every call:
//
//	cfg.Checker = catalog.Checker() // cfg is the client's wxpay.Config
//	client, err := wxpay.New(cfg)
//
// or check one request yourself:
//
//	op, ok := catalog.Lookup("POST", "v3/refund/domestic/refunds")
//	err := op.Check(nil, nil, body) // a *CheckError naming every problem
//
// Finding an operation:
//
//   - Lookup takes a path template in any chain spelling
//     ("v3/refund/domestic/refunds/{out_refund_no}",
//     "V3/Refund/Domestic/Refunds/_out_refund_no_", "$out_refund_no$",
//     "<out_refund_no>"). Placeholders are matched by position: their names
//     need not be the catalogue's.
//   - Match takes a concrete request path ("/v3/refund/domestic/refunds/123")
//     and returns the operation and the path values, a literal segment
//     winning over a placeholder.
//   - Search finds operations by words: Chinese names, English words, path
//     fragments; All lists them all.
//
// Checking: Operation.Check and Check report missing required path, query
// and body fields (nested objects and array items too), JSON values of the
// wrong type, values outside an enum, strings longer (or shorter) than
// allowed, numbers out of range, arrays with too many items and strings not
// matching a pattern: every problem named by its field, all in one
// *CheckError. An unknown endpoint is an *UnknownEndpointError with the
// closest templates. See Check for the rules.
//
// On a client (wxpay.Config.Checker = Checker()): a call the check refuses
// is not sent, its error wrapping wxpay.ErrInvalidOption and the
// *CheckError or *UnknownEndpointError; the encrypt option true encrypts
// every sensitive field of the request (Operation.Sensitive, and the
// sensitive query parameters); wxpay.Client.DecryptResponse decrypts those
// of an answer (Operation.ResponseSensitive).
//
// The catalogue is compiled by catalog/internal/gen from the public OpenAPI
// description of WeChat Pay (github.com/TheNorthMemory/wechatpay-openapi,
// MIT licensed, see NOTICE), facts only, and embedded in the package. It is
// decoded on first use; everything in it is shared and must be treated as
// read-only. All functions are safe for concurrent use.
//
// The root package wxpay does not import catalog: a program that does not
// use it pays nothing for it.
package catalog

//go:generate go run ./internal/gen
