package wxpaytest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// The schema-driven half of the emulator: every APIv3 operation of package
// catalog that has no hand-written endpoint is checked against its schema
// and answered from it (see answer.go).

// webhookTemplate is the template of the notification schema the catalogue
// holds as "POST v3/webhooks": what WeChat Pay sends to a merchant, not an
// API a merchant calls.
const webhookTemplate = "v3/webhooks"

// callable reports whether op is an API a merchant calls.
func callable(op *catalog.Operation) bool {
	return op.Method != http.MethodPost || op.Template != webhookTemplate
}

// methods are the HTTP methods of the APIv3 operations, in the order a 405
// lists them.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// target is where a request goes: a hand-written endpoint, or a catalogued
// operation answered from its schema.
type target struct {
	handle endpoint
	params []string // the endpoint's path parameters, in order

	op     *catalog.Operation
	values map[string]string // the operation's path values, by name
}

// resolve finds where r goes: the hand-written endpoint for its method and
// path, else the catalogued operation. A path known with other methods only
// is a 405 METHOD_NOT_ALLOWED, any other a 404 NOT_FOUND.
func resolve(r *http.Request) (target, *apiError) {
	handle, params, allowed := match(r)
	if handle != nil {
		return target{handle: handle, params: params}, nil
	}
	path := r.URL.EscapedPath()
	if op, vals, ok := matchOperation(r.Method, path); ok {
		return target{op: op, values: vals}, nil
	}
	var all []string
	for _, m := range methods {
		if _, _, ok := matchOperation(m, path); ok || oneOf(m, allowed) {
			all = append(all, m)
		}
	}
	if len(all) > 0 {
		return target{}, methodNotAllowed(r.Method, all)
	}
	return target{}, newError(http.StatusNotFound, CodeNotFound, "no such API: "+r.URL.Path)
}

// matchOperation returns the callable catalogued operation a request of
// method to the escaped path calls, and its path values.
func matchOperation(method, path string) (*catalog.Operation, map[string]string, bool) {
	if !oneOf(method, methods) {
		return nil, nil, false
	}
	op, vals, ok := catalog.Match(method, path)
	if !ok || !callable(op) {
		return nil, nil, false
	}
	return op, vals, true
}

// opRequest is a request to a catalogued operation that passed its checks.
type opRequest struct {
	values map[string]string // path values, by name
	query  url.Values
	body   []byte // the JSON body (an upload's meta), nil when none
	// plain holds the sensitive fields decrypted, by gjson path for the
	// body and "query:NAME" for a query parameter.
	plain map[string]string
}

// serveOperation answers an authenticated request to op, a catalogued
// operation without a hand-written endpoint: the request must pass op's
// check (see catalog.Operation.Check) and carry its sensitive fields
// encrypted for WeChat Pay; the answer is made from op's response schema,
// with op's success status.
func (s *Server) serveOperation(x *exchange, op *catalog.Operation, vals map[string]string, body []byte) {
	in, e := s.readOperation(x.r, op, vals, body)
	if e != nil {
		x.fail(e)
		return
	}
	if isFileAnswer(op) {
		s.serveFileAnswer(x, op, in)
		return
	}
	answer := s.answer(op, in)
	if x.fault != nil && x.fault.Kind == FaultResetAfterApply {
		x.reset()
		return
	}
	x.reply(op.Status, answer)
}

// readOperation reads the query and the JSON body of r, a request to op
// with path values vals, and checks them (see checkOperation).
func (s *Server) readOperation(r *http.Request, op *catalog.Operation, vals map[string]string, body []byte) (*opRequest, *apiError) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, paramError("query", "query", nil, "malformed query string")
	}
	if len(body) > 0 || op.BodyRequired {
		if _, e := decodeBody(r, body); e != nil {
			return nil, e
		}
	}
	return s.checkOperation(r, op, vals, query, body)
}

// checkOperation checks a request to op (body is the JSON body, or an
// upload's meta) and decrypts its sensitive fields.
func (s *Server) checkOperation(r *http.Request, op *catalog.Operation, vals map[string]string, query url.Values, body []byte) (*opRequest, *apiError) {
	if err := op.Check(vals, query, body); err != nil {
		return nil, checkFailure(err)
	}
	plain, e := s.decryptSensitive(r, op, query, body)
	if e != nil {
		return nil, e
	}
	return &opRequest{values: vals, query: query, body: body, plain: plain}, nil
}

// checkFailure is the answer to a request that failed its check: 400
// PARAM_ERROR, as WeChat Pay answers, whose detail names the first problem
// and whose message lists them all.
func checkFailure(err error) *apiError {
	var ce *catalog.CheckError
	if !errors.As(err, &ce) || len(ce.Problems) == 0 {
		return newError(http.StatusBadRequest, CodeParamError, "the request does not match the API")
	}
	msgs := make([]string, len(ce.Problems))
	for i, p := range ce.Problems {
		_, field := problemField(p.Field)
		msgs[i] = field + ": " + p.Message
	}
	p := ce.Problems[0]
	loc, field := problemField(p.Field)
	e := paramError(loc, field, nil, p.Message)
	e.Message = strings.Join(msgs, "; ")
	return e
}

// problemField turns the field of a catalog.Problem into the location and
// field of an error detail, as the hand-written endpoints write them: a
// body field as a JSON pointer ("/amount/refund"), a query or path
// parameter by its name.
func problemField(f string) (location, field string) {
	if name, ok := strings.CutPrefix(f, "query:"); ok {
		return "query", name
	}
	if name, ok := strings.CutPrefix(f, "path:"); ok {
		return "path", name
	}
	return "body", pointer(f)
}

// pointer turns a gjson path of plain keys and indexes ("amount.from.0")
// into a JSON pointer ("/amount/from/0"); "" is the body itself.
func pointer(path string) string {
	if path == "" {
		return ""
	}
	return "/" + strings.ReplaceAll(path, ".", "/")
}

// decryptSensitive decrypts the sensitive fields of a request to op, its
// body's and its query's, as WeChat Pay does: each must be an RSA-OAEP
// ciphertext under the WeChat Pay key the Wechatpay-Serial header names. It
// returns the plaintexts by field (see opRequest.plain), nil when there are
// none.
func (s *Server) decryptSensitive(r *http.Request, op *catalog.Operation, query url.Values, body []byte) (map[string]string, *apiError) {
	var fields []string
	if sens := op.Sensitive(); len(sens) > 0 && len(body) > 0 {
		fields = catalog.ExpandPaths(body, sens)
	}
	for _, p := range op.Params {
		if p.In == "query" && p.Schema != nil && p.Schema.Sensitive() && query.Has(p.Name) {
			fields = append(fields, "query:"+p.Name)
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	cts := make([]string, len(fields))
	for i, f := range fields {
		cts[i] = gjson.GetBytes(body, f).String()
		if name, isQuery := strings.CutPrefix(f, "query:"); isQuery {
			cts[i] = query.Get(name)
		}
	}
	serial := r.Header.Get(verifier.HeaderSerial)
	if serial == "" {
		for i, f := range fields {
			if !rsaenc.IsCiphertext(cts[i]) {
				return nil, plainText(problemField(f))
			}
		}
		return nil, paramError("header", verifier.HeaderSerial, nil, "is required to name the WeChat Pay key the sensitive fields are encrypted with")
	}
	key, ok := s.platform[serial]
	if !ok {
		return nil, paramError("header", verifier.HeaderSerial, shortValue(serial), "is not the serial of a WeChat Pay key of this merchant")
	}
	plain := make(map[string]string, len(fields))
	for i, f := range fields {
		pt, err := rsaenc.Decrypt(key, cts[i])
		if err != nil {
			return nil, undecryptable(serial, cts[i], f)
		}
		plain[f] = pt
	}
	return plain, nil
}

// plainText is the answer to a sensitive field (or query parameter) sent
// in plain text, which is to say not in the form of a ciphertext as
// rsaenc.IsCiphertext tells it: the rule of catalog.Checker, which refuses
// such a request before sending it.
func plainText(location, field string) *apiError {
	return paramError(location, field, nil, "is sensitive and in plain text: send its RSA-OAEP (SHA-1) ciphertext under a WeChat Pay key, base64-encoded")
}

// undecryptable is the answer to the sensitive field f (a gjson path, or
// "query:" and a name) whose value ct does not decrypt under the WeChat
// Pay key serial: in plain text, or a ciphertext under another key.
func undecryptable(serial, ct, f string) *apiError {
	loc, field := problemField(f)
	if !rsaenc.IsCiphertext(ct) {
		return plainText(loc, field)
	}
	return paramError(loc, field, nil, "does not decrypt with the WeChat Pay key "+serial+" (want base64 RSA-OAEP with SHA-1)")
}
