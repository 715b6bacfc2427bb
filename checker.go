package wxpay

// This file is the check of a whole APIv3 request against a description
// of the API, the last stage of prepare (do.go), made only when
// Config.Checker is set; and the request as a Checker is shown it, which
// the encrypt option's true (encrypt.go) and DecryptResponse (decrypt.go)
// share.

import "fmt"

// Checker checks APIv3 requests against a description of the API before
// they are signed, and knows which of their fields are sensitive. Set one
// in Config.Checker; catalog.Checker returns one that knows every APIv3
// operation. This package has no description of its own and does not
// import package catalog: a client without a Checker pays nothing for it.
//
// Each method is shown one request as it is sent: method in upper case
// ("POST"); template, the path template of the chain as Chain.String
// gives it ("v3/refund/domestic/refunds/{out_refund_no}"), or "" for a
// chain that starts with a full URL; and target, the path and query below
// the base URL exactly as signed
// ("v3/refund/domestic/refunds/1217752501201407033233368018?sub_mchid=1900000109").
// A Checker is called from every goroutine that makes calls: it must be
// safe for concurrent use.
type Checker interface {
	// CheckRequest returns nil when the request may be sent, else an
	// error naming what is wrong (every problem, ideally). body is the
	// JSON body, an upload's meta JSON, or nil when there is none; its
	// sensitive fields hold their ciphertext.
	CheckRequest(method, template, target string, body []byte) error

	// RequestSensitive returns the sensitive fields present in the
	// request: the paths of body fields (keys and array indexes joined by
	// dots, such as "ubo_info_list.0.ubo_id_doc_name"), and the names of
	// the query parameters of target. body holds plain text.
	RequestSensitive(method, template, target string, body []byte) (fields, params []string, err error)

	// ResponseSensitive returns the paths (as RequestSensitive gives
	// them) of the sensitive fields present in answer, the JSON body of
	// the 2xx answer to the request.
	ResponseSensitive(method, template, target string, answer []byte) ([]string, error)
}

// sentRequest is the request a Response answers, as a Checker is shown
// it; kept only when the client has a Checker, for DecryptResponse.
type sentRequest struct {
	method, template, target string
}

// checkedRequest returns the request p as its Checker is shown it.
func (c *Client) checkedRequest(p *prepared, ch Chain) sentRequest {
	if ch.origin != "" {
		return sentRequest{method: p.method, target: string(p.target[1:])} // a full URL's path and query
	}
	return sentRequest{method: p.method, template: ch.tmpl, target: string(p.target[len(c.basePath):])}
}

// checkRequest runs the client's Checker on the prepared request p, the
// last stage before signing: a request it refuses is not sent. The request
// as shown is kept in p.sent, for DecryptResponse.
func (c *Client) checkRequest(p *prepared, ch Chain) error {
	r := c.checkedRequest(p, ch)
	p.sent = r
	body := p.body
	if p.signBody != nil {
		body = p.signBody // an upload: the meta JSON
	}
	if err := c.checker.CheckRequest(r.method, r.template, r.target, body); err != nil {
		return fmt.Errorf("%w: the request does not pass Config.Checker: %w", ErrInvalidOption, err)
	}
	return nil
}
