package catalog

import (
	"net/url"
	"strings"

	"github.com/wxpay-chain/wxpay"
)

// Checker returns the wxpay.Checker of the catalogue, to set once in
// wxpay.Config.Checker: every APIv3 request of the client is checked
// against its operation before it is signed (see Operation.CheckEncrypted:
// Operation.Check, and each sensitive field and query parameter must be a
// ciphertext), and a request the check refuses is not sent; its error wraps
// wxpay.ErrInvalidOption and a *CheckError, or an *UnknownEndpointError for
// a path and method the catalogue does not know. The encrypt option true
// encrypts the sensitive fields Operation.Sensitive marks, and the
// sensitive query parameters, that the request holds; Client.DecryptResponse
// without paths decrypts those ResponseSensitive marks that the answer
// holds.
//
// The operation is found from the chain's template (Lookup, so any
// placeholder names do), else from the path sent (Match), which is how a
// chain written with its values ("v3/refund/domestic/refunds/123") or
// started from a full URL is checked.
func Checker() wxpay.Checker { return requestChecker{} }

// requestChecker is the wxpay.Checker of the catalogue.
type requestChecker struct{}

// CheckRequest checks the request, its sensitive fields encrypted, against
// its operation.
func (requestChecker) CheckRequest(method, template, target string, body []byte) error {
	op, vals, query, err := resolve(method, template, target)
	if err != nil {
		return err
	}
	return op.CheckEncrypted(vals, query, body)
}

// RequestSensitive returns the sensitive body fields and query parameters
// the request holds.
func (requestChecker) RequestSensitive(method, template, target string, body []byte) (fields, params []string, err error) {
	op, _, query, err := resolve(method, template, target)
	if err != nil {
		return nil, nil, err
	}
	if len(body) > 0 {
		fields = ExpandPaths(body, op.sensitive)
	}
	for i := range op.Params {
		if p := &op.Params[i]; p.In == "query" && p.Schema.Sensitive() && query.Has(p.Name) {
			params = append(params, p.Name)
		}
	}
	return fields, params, nil
}

// ResponseSensitive returns the sensitive fields the answer holds.
func (requestChecker) ResponseSensitive(method, template, target string, answer []byte) ([]string, error) {
	op, _, _, err := resolve(method, template, target)
	if err != nil {
		return nil, err
	}
	return ExpandPaths(answer, op.respSensitive), nil
}

// resolve finds the operation of a request as wxpay.Checker describes it,
// with the values of its path parameters and its query.
func resolve(method, template, target string) (*Operation, map[string]string, url.Values, error) {
	path, rawQuery, _ := strings.Cut(target, "?")
	query, _ := url.ParseQuery(rawQuery) // what parses is checked
	if template != "" {
		if op, ok := Lookup(method, template); ok {
			if segs := splitPath(path); len(segs) == len(op.segs) {
				return op, pathValues(op, segs), query, nil
			}
		}
	}
	op, segs := match(method, path)
	if op == nil {
		asked := template
		if asked == "" {
			asked = path
		}
		return nil, nil, nil, &UnknownEndpointError{Method: strings.ToUpper(method), Path: asked, Suggestions: Suggest(method, asked)}
	}
	return op, pathValues(op, segs), query, nil
}
