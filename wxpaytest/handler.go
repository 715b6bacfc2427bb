package wxpaytest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// call is an authenticated request handed to an endpoint.
type call struct {
	r      *http.Request
	params []string       // path parameters, unescaped
	json   map[string]any // the decoded body of a POST
}

// endpoint handles one API. It returns the answer (encoded as JSON, or a
// fileAnswer; status 200) or an error answer.
type endpoint func(s *Server, c *call) (any, *apiError)

// route is one emulated API: its method and path pattern, where "*" stands
// for one path segment.
type route struct {
	method  string
	pattern []string
	handle  endpoint
}

var routes = []route{
	{http.MethodPost, []string{"v3", "refund", "domestic", "refunds"}, (*Server).applyRefund},
	{http.MethodGet, []string{"v3", "refund", "domestic", "refunds", "*"}, (*Server).queryRefund},
	{http.MethodPost, []string{"v3", "refund", "domestic", "refunds", "*", "apply-abnormal-refund"}, (*Server).applyAbnormalRefund},
	{http.MethodPost, []string{"v3", "ecommerce", "refunds", "apply"}, (*Server).applyEcommerceRefund},
	{http.MethodGet, []string{"v3", "ecommerce", "refunds", "id", "*"}, (*Server).queryEcommerceRefundByID},
	{http.MethodGet, []string{"v3", "ecommerce", "refunds", "out-refund-no", "*"}, (*Server).queryEcommerceRefundByOutRefundNo},
	{http.MethodPost, []string{"v3", "ecommerce", "refunds", "*", "apply-abnormal-refund"}, (*Server).applyEcommerceAbnormalRefund},
	{http.MethodGet, []string{"v3", "bill", "tradebill"}, (*Server).applyTradeBill},
	{http.MethodGet, []string{"v3", "bill", "fundflowbill"}, (*Server).applyFundFlowBill},
	{http.MethodGet, []string{"v3", "certificates"}, (*Server).listCertificates},
	{http.MethodGet, []string{"v3", "merchant-service", "images", "*"}, (*Server).downloadMedia},
}

// match finds the hand-written route for r. It returns the endpoint and its
// path parameters, or a nil endpoint and the methods the path takes (none
// for a path no hand-written route has).
func match(r *http.Request) (endpoint, []string, []string) {
	raw := r.URL.EscapedPath()
	segs := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	var allowed []string
	for _, rt := range routes {
		if len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for i, p := range rt.pattern {
			seg, err := url.PathUnescape(segs[i])
			if err != nil || seg == "" {
				ok = false
				break
			}
			if p == "*" {
				params = append(params, seg)
			} else if p != seg {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		// A literal segment beats a parameter: "apply" is not a refund id.
		if rt.method == r.Method {
			return rt.handle, params, nil
		}
		allowed = append(allowed, rt.method)
	}
	return nil, nil, allowed
}

// begin starts the exchange for r: it records the request, takes the fault
// that matches it, and applies the fault's delay and a FaultReset. It
// reports false when the exchange is already over.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, body []byte) (*exchange, bool) {
	x := &exchange{s: s, w: w, r: r, requestID: randomString(32, hexUC) + "-0"}
	x.rec = s.record(r, body)
	x.fault = s.takeFault(r)
	if f := x.fault; f != nil && f.Delay > 0 && !x.wait(f.Delay) {
		// The client left or the server is closing: drop the connection,
		// so that net/http does not answer an empty 200 for the handler.
		x.reset()
		return x, false
	}
	if x.fault != nil && x.fault.Kind == FaultReset {
		x.reset()
		return x, false
	}
	return x, true
}

// recoverPanic, deferred by a handler, answers 500 SYSTEM_ERROR for a panic
// in the emulator instead of crashing the test binary.
func (x *exchange) recoverPanic() {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		x.fault = nil
		x.fail(newError(http.StatusInternalServerError, CodeSystemError, "emulator failure while handling the request"))
	}
}

// serveHTTP runs one request through the emulator: record, fault, route,
// authenticate, fault, rate limit, decode, endpoint (or the operation's schema),
// answer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	defer s.active.Done()
	switch r.URL.Path {
	case InspectPath:
		s.serveInspect(w, r)
		return
	case FaultsPath:
		s.serveFaults(w, r)
		return
	}
	s.count.Add(1)
	if s.serveRaw(w, r) { // a streamed bill or a multipart upload: see media.go
		return
	}

	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	x, ok := s.begin(w, r, body)
	if !ok {
		return
	}
	defer x.recoverPanic()
	if isV2Path(r.URL.EscapedPath()) {
		s.serveV2(x, body, readErr) // APIv2 (XML), see v2.go
		return
	}
	if readErr != nil {
		x.fail(invalidRequest("request body could not be read"))
		return
	}
	if len(body) > maxRequestBody {
		x.fail(invalidRequest("request body is larger than 1 MiB"))
		return
	}
	t, e := resolve(r)
	if e != nil {
		x.fail(e)
		return
	}
	if !x.admit(body, "") {
		return
	}
	if t.op != nil { // no hand-written endpoint: answered from the schema, see generic.go
		s.serveOperation(x, t.op, t.values, body)
		return
	}
	c := &call{r: r, params: t.params}
	if r.Method == http.MethodPost || len(body) > 0 {
		obj, e := decodeBody(r, body)
		if e != nil {
			x.fail(e)
			return
		}
		c.json = obj
	}
	v, e := t.handle(s, c)
	if e != nil {
		x.fail(e)
		return
	}
	if x.fault != nil && x.fault.Kind == FaultResetAfterApply {
		x.reset()
		return
	}
	x.ok(v)
}

// decodeBody checks the Content-Type of a request with a body and decodes
// the body as a JSON object, numbers kept exact.
func decodeBody(r *http.Request, body []byte) (map[string]any, *apiError) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return nil, newError(http.StatusBadRequest, CodeInvalidRequest,
			"Content-Type must be application/json, got "+quoteOrEmpty(ct))
	}
	if len(body) == 0 {
		return nil, newError(http.StatusBadRequest, CodeParamError, "request body is empty, want a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, newError(http.StatusBadRequest, CodeParamError, "request body is not valid JSON: "+jsonIssue(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, newError(http.StatusBadRequest, CodeParamError, "request body has data after the JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, newError(http.StatusBadRequest, CodeParamError, "request body must be a JSON object")
	}
	return obj, nil
}

// jsonIssue describes a JSON syntax error without echoing the body.
func jsonIssue(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input"
	}
	return "malformed"
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "nothing"
	}
	return `"` + s + `"`
}
