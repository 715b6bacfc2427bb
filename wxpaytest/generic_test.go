package wxpaytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// exampleFixups adjust the example request of the hand-written endpoints
// whose business rules the description's examples do not meet, with the
// reason. Every other example request is sent as the catalogue makes it.
var exampleFixups = map[string]struct {
	reason string
	fix    func(t *testing.T, s *Server, client *wxpay.Client, c *opCall)
}{
	"GET v3/bill/tradebill":                                             {"bills exist for three months only: the example's bill_date is older", fixBillDate},
	"GET v3/bill/fundflowbill":                                          {"bills exist for three months only: the example's bill_date is older", fixBillDate},
	"GET v3/billdownload/file":                                          {"the token must be one a bill application answered", fixBillToken},
	"GET v3/refund/domestic/refunds/{out_refund_no}":                    {"the refund must exist: the fixture's", fixOutRefundNo},
	"GET v3/merchant-service/images/{media_id}":                         {"the image must have been uploaded", fixMediaID},
	"POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund": {"the refund must exist and be ABNORMAL, and the account a card number", fixAbnormal},
	"POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund":       {"the refund must exist and be ABNORMAL, and the account a card number", fixAbnormal},
}

func fixOutRefundNo(_ *testing.T, _ *Server, _ *wxpay.Client, c *opCall) {
	c.values["out_refund_no"] = FixtureOutRefundNo
}

func fixBillDate(_ *testing.T, s *Server, _ *wxpay.Client, c *opCall) {
	c.query.Set("bill_date", s.LatestBillDate())
}

func fixBillToken(t *testing.T, s *Server, client *wxpay.Client, c *opCall) {
	t.Helper()
	r, err := client.Chain("v3/bill/tradebill").Get(wxpay.Opts{"query": map[string]string{"bill_date": s.LatestBillDate()}})
	if err != nil {
		t.Fatalf("apply for a bill: %v", err)
	}
	u, err := url.Parse(r.Get("download_url").String())
	if err != nil {
		t.Fatalf("download_url: %v", err)
	}
	c.query = u.Query()
}

func fixMediaID(t *testing.T, _ *Server, client *wxpay.Client, c *opCall) {
	t.Helper()
	r, err := client.Chain("v3/merchant-service/images/upload").Post(wxpay.Opts{
		"file": wxpay.File{Name: "proof.png", Reader: bytes.NewReader(placeholderPNG())},
	})
	if err != nil {
		t.Fatalf("upload an image: %v", err)
	}
	c.values["media_id"] = r.Get("media_id").String()
}

func fixAbnormal(t *testing.T, s *Server, _ *wxpay.Client, c *opCall) {
	t.Helper()
	if err := s.SetRefundStatus(FixtureRefundID, StatusAbnormal); err != nil {
		t.Fatal(err)
	}
	c.values["refund_id"] = FixtureRefundID
	for k, v := range map[string]string{
		"sub_mchid": FixtureSubMchID, "out_refund_no": FixtureOutRefundNo, "type": "USER_BANK_CARD",
		"bank_type": "ICBC_DEBIT", "bank_account": "6214830000000000", "real_name": "张三",
	} {
		var err error
		if c.body, err = sjson.SetBytes(c.body, k, v); err != nil {
			t.Fatal(err)
		}
	}
}

// opCall is one request to a catalogued operation, made from its example.
type opCall struct {
	op      *catalog.Operation
	values  map[string]string
	query   url.Values
	body    []byte // JSON body, or an upload's meta
	encrypt bool   // encrypt the sensitive fields (else send them in plain text)
}

// exampleCall returns the example request of op, its sensitive values cut to
// what RSA-OAEP with a 2048-bit key can encrypt (some examples are
// ciphertexts themselves).
func exampleCall(t *testing.T, op *catalog.Operation) opCall {
	t.Helper()
	vals, query, body := op.ExampleRequest()
	for _, p := range catalog.ExpandPaths(body, op.Sensitive()) {
		if v := gjson.GetBytes(body, p).Str; len(v) > 100 {
			var err error
			if body, err = sjson.SetBytes(body, p, v[:100]); err != nil {
				t.Fatalf("shorten %s: %v", p, err)
			}
		}
	}
	return opCall{op: op, values: vals, query: query, body: body, encrypt: true}
}

// withAllSensitive returns c with every sensitive field of its operation,
// the ones its example leaves out added with an example value.
func (c opCall) withAllSensitive() opCall {
	d := c
	if sens := c.op.Sensitive(); len(sens) > 0 && c.body != nil {
		d.body = fillPaths(bytes.Clone(c.body), c.op.Body, sens)
	}
	d.query = url.Values{}
	for k, v := range c.query {
		d.query[k] = v
	}
	for _, p := range c.op.Params {
		if p.In == "query" && p.Schema.Sensitive() && !d.query.Has(p.Name) {
			d.query.Set(p.Name, gjson.ParseBytes(p.Schema.Example()).String())
		}
	}
	return d
}

// sensitiveQuery returns the sensitive query parameters c sends.
func (c opCall) sensitiveQuery() []string {
	var names []string
	for _, p := range c.op.Params {
		if p.In == "query" && p.Schema.Sensitive() && c.query.Has(p.Name) {
			names = append(names, p.Name)
		}
	}
	return names
}

// sensitiveFields returns the sensitive fields c sends, as an error detail
// names them.
func (c opCall) sensitiveFields() []string {
	fields := c.sensitiveQuery()
	for _, p := range catalog.ExpandPaths(c.body, c.op.Sensitive()) {
		fields = append(fields, pointer(p))
	}
	return fields
}

// send makes the call with a wxpay.Client, which signs it and verifies the
// answer.
func (c opCall) send(client *wxpay.Client) (*wxpay.Response, error) {
	opts := wxpay.Opts{}
	for k, v := range c.values {
		opts[k] = v
	}
	headers := map[string]string{}
	query := url.Values{}
	for k, v := range c.query {
		query[k] = append([]string(nil), v...)
	}
	for _, name := range c.sensitiveQuery() {
		headers[verifier.HeaderSerial] = DefaultPlatformSerial
		if c.encrypt {
			ct, _, err := client.Encrypt(query.Get(name), DefaultPlatformSerial)
			if err != nil {
				return nil, err
			}
			query.Set(name, ct)
		}
	}
	if len(query) > 0 {
		opts["query"] = query
	}
	if c.body != nil {
		opts["json"] = json.RawMessage(c.body)
		if paths := catalog.ExpandPaths(c.body, c.op.Sensitive()); len(paths) > 0 {
			headers[verifier.HeaderSerial] = DefaultPlatformSerial
			if c.encrypt {
				opts["encrypt"] = paths
			}
		}
	}
	if len(headers) > 0 {
		opts["headers"] = headers
	}
	return client.Chain(c.op.Template).Do(context.Background(), c.op.Method, opts)
}

// upload makes the call to a multipart operation, with a small PNG in every
// file part; an empty meta becomes the usual {"filename","sha256"}.
func (c opCall) upload(tc *tclient) *resp {
	file, name, ctype := placeholderPNG(), "example.png", "image/png"
	if strings.Contains(c.op.Template, "video") {
		name, ctype = "example.mp4", "video/mp4"
	}
	meta := c.body
	if string(meta) == "{}" || meta == nil {
		sum := sha256.Sum256(file)
		meta = []byte(`{"filename":"` + name + `","sha256":"` + hex.EncodeToString(sum[:]) + `"}`)
	}
	header := map[string]string{}
	if paths := catalog.ExpandPaths(meta, c.op.Sensitive()); len(paths) > 0 {
		header[verifier.HeaderSerial] = DefaultPlatformSerial
		for _, p := range paths {
			if !c.encrypt {
				break
			}
			ct, err := rsaenc.Encrypt(&platformKey.PublicKey, gjson.GetBytes(meta, p).String())
			if err != nil {
				tc.t.Fatalf("encrypt %s: %v", p, err)
			}
			meta, _ = sjson.SetBytes(meta, p, ct)
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part := func(name, filename, ctype string, data []byte) {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + name + `"`
		if filename != "" {
			cd += `; filename="` + filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			tc.t.Fatalf("CreatePart: %v", err)
		}
		w.Write(data)
	}
	part("meta", "", "application/json", meta)
	for _, p := range c.op.Params {
		switch {
		case p.In != "formData" || p.Name == "meta":
		case p.Schema.Type == "file":
			part(p.Name, name, ctype, file)
		default:
			part(p.Name, "", "", []byte(gjson.ParseBytes(p.Schema.Example()).String()))
		}
	}
	mw.Close()
	header["Content-Type"] = mw.FormDataContentType()
	return tc.do(req{method: http.MethodPost, target: "/" + fillTemplate(c.op.Template, c.values),
		body: buf.Bytes(), signBody: meta, header: header})
}

// fillTemplate puts the path values into a template.
func fillTemplate(tmpl string, vals map[string]string) string {
	segs := strings.Split(tmpl, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			segs[i] = url.PathEscape(vals[strings.TrimSuffix(name, "}")])
		}
	}
	return strings.Join(segs, "/")
}

// missingRequired lists the required fields of schema s absent (or null)
// from v, and the values of the wrong JSON kind, by gjson path.
func missingRequired(s *catalog.Schema, v gjson.Result, path string) []string {
	if s == nil {
		return nil
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	var out []string
	switch {
	case s.Type == "object" || len(s.Properties) > 0:
		if !v.IsObject() {
			return []string{path + " (not an object)"}
		}
		for _, name := range s.Required {
			if r := v.Get(gjson.Escape(name)); !r.Exists() || r.Type == gjson.Null {
				out = append(out, join(name))
			}
		}
		for _, p := range s.Properties {
			if r := v.Get(gjson.Escape(p.Name)); r.Exists() && r.Type != gjson.Null {
				out = append(out, missingRequired(p.Schema, r, join(p.Name))...)
			}
		}
	case s.Type == "array":
		if !v.IsArray() {
			return []string{path + " (not an array)"}
		}
		for i, item := range v.Array() {
			out = append(out, missingRequired(s.Items, item, join(strconv.Itoa(i)))...)
		}
	}
	return out
}

// answerCheck checks a 2xx answer to op and returns its problems: its
// status, every required field present, its sensitive fields decrypting
// with the merchant key, and the path values echoed where the answer has a
// string field of their name.
func answerCheck(c opCall, status int, header http.Header, body []byte) []string {
	op := c.op
	var probs []string
	if status != op.Status {
		probs = append(probs, fmt.Sprintf("status %d, want %d", status, op.Status))
	}
	if isFileAnswer(op) {
		if ct := header.Get("Content-Type"); ct == "" || len(body) == 0 {
			probs = append(probs, fmt.Sprintf("file answer: Content-Type %q, %d bytes", ct, len(body)))
		}
		return probs
	}
	if op.Response == nil {
		if len(body) != 0 {
			probs = append(probs, fmt.Sprintf("answer has a body, want none: %.200s", body))
		}
		return probs
	}
	if bytes.Contains(body, []byte(wechatPayOrigin)) {
		probs = append(probs, fmt.Sprintf("answer sends the client to WeChat Pay's host: %.300s", body))
	}
	if miss := missingRequired(op.Response, gjson.ParseBytes(body), ""); len(miss) > 0 {
		probs = append(probs, fmt.Sprintf("answer lacks required fields %v: %.300s", miss, body))
	}
	for _, p := range catalog.ExpandPaths(body, op.ResponseSensitive()) {
		if _, err := rsaenc.Decrypt(merchantKey, gjson.GetBytes(body, p).String()); err != nil {
			probs = append(probs, "sensitive answer field "+p+" does not decrypt with the merchant key")
		}
	}
	for name, v := range c.values {
		p := property(op.Response, name)
		if p == nil || p.Schema.Type != "string" || p.Schema.Sensitive() || !inEnum(p.Schema, v) {
			continue
		}
		if got := gjson.GetBytes(body, name).String(); got != v {
			probs = append(probs, fmt.Sprintf("answer's %s = %q, want the path value %q", name, got, v))
		}
	}
	return probs
}

// wantParamError checks an error answer: 400 PARAM_ERROR naming one of
// fields in its detail.
func wantParamError(t *testing.T, what string, status int, code string, detail []byte, fields ...string) bool {
	t.Helper()
	field := gjson.GetBytes(detail, "field").String()
	if status != http.StatusBadRequest || code != CodeParamError || !oneOf(field, fields) {
		t.Errorf("%s: %d %s naming %q, want 400 %s naming one of %q", what, status, code, field, CodeParamError, fields)
		return false
	}
	return true
}

// TestEveryOperation sends the example request of every catalogued
// operation (but the notification schema) to the emulator: it must get a
// verified 2xx with every required field of the answer; without a required
// body field, a 400 naming it; with its sensitive fields in plain text, a
// 400 naming one of them.
func TestEveryOperation(t *testing.T) {
	s := newServer(t)
	client, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	tc := newClient(t, s)
	var ops, ok, fixed, allSensitive, missing, plain int
	for _, op := range catalog.All() {
		if !callable(op) {
			continue
		}
		ops++
		t.Run(op.String(), func(t *testing.T) {
			c := exampleCall(t, op)
			if f, found := exampleFixups[op.String()]; found {
				fixed++
				t.Log("example adjusted:", f.reason)
				f.fix(t, s, client, &c)
			}
			if sendCall(t, s, client, tc, c, "example request") {
				ok++
			}
			if op.Body != nil && len(op.Body.Required) > 0 {
				name := op.Body.Required[0]
				d := c
				d.body, _ = sjson.DeleteBytes(c.body, gjson.Escape(name))
				if sendCall(t, s, client, tc, d, "without "+name, "/"+name) {
					missing++
				}
			}
			all := c.withAllSensitive()
			fields := all.sensitiveFields()
			if len(fields) > len(c.sensitiveFields()) && sendCall(t, s, client, tc, all, "with every sensitive field") {
				allSensitive++
			}
			if len(fields) > 0 {
				all.encrypt = false
				if sendCall(t, s, client, tc, all, "sensitive fields in plain text", fields...) {
					plain++
				}
			}
		})
	}
	t.Logf("%d operations: %d example requests answered 2xx (%d of them adjusted for a hand-written endpoint), "+
		"%d more with the sensitive fields the example leaves out; "+
		"%d answered 400 without a required body field, %d answered 400 with sensitive fields in plain text",
		ops, ok, fixed, allSensitive, missing, plain)
}

// sendCall sends c (with tc for an upload, else with client) and checks
// the answer: a verified 2xx when no error field is given, else a 400
// PARAM_ERROR naming one of errFields. It reports whether the answer was as
// wanted.
func sendCall(t *testing.T, s *Server, client *wxpay.Client, tc *tclient, c opCall, what string, errFields ...string) bool {
	t.Helper()
	var status int
	var header http.Header
	var body []byte
	var probs []string
	if c.op.Multipart {
		r := c.upload(tc)
		if len(errFields) > 0 {
			var e struct {
				Code   string          `json:"code"`
				Detail json.RawMessage `json:"detail"`
			}
			json.Unmarshal(r.body, &e)
			return wantParamError(t, what, r.status, e.Code, e.Detail, errFields...)
		}
		if r.status/100 != 2 {
			t.Errorf("%s: %d %.300s", what, r.status, r.body)
			return false
		}
		if err := r.verify(s); err != nil {
			probs = append(probs, fmt.Sprintf("answer not verified: %v", err))
		}
		status, header, body = r.status, r.header, r.body
	} else {
		resp, err := c.send(client)
		if len(errFields) > 0 {
			var ae *wxpay.APIError
			if !errors.As(err, &ae) {
				t.Errorf("%s: got %v, want a 400 answer", what, err)
				return false
			}
			return wantParamError(t, what, ae.StatusCode, ae.Code, ae.Detail, errFields...)
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return false
		}
		if !resp.Verified && !isFileAnswer(c.op) {
			probs = append(probs, "answer not verified")
		}
		status, header, body = resp.StatusCode, resp.Header, resp.Body
	}
	probs = append(probs, answerCheck(c, status, header, body)...)
	for _, p := range probs {
		t.Errorf("%s: %s", what, p)
	}
	return len(probs) == 0
}

func TestOperationRouting(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	tests := []struct {
		method, target string
		want           errorSummary
		allow          string
	}{
		// Hand-written endpoints first: an unknown refund is not found,
		// whatever the schema would answer.
		{"GET", "/v3/refund/domestic/refunds/nosuchrefund", errorSummary{Status: 404, Code: CodeResourceNotExists}, ""},
		{"GET", "/v3/refund/domestic/refunds/" + FixtureOutRefundNo, errorSummary{Status: 200}, ""},
		// Schema-driven.
		{"GET", "/v3/pay/transactions/id/4200000000000000000000000006?mchid=1900000888", errorSummary{Status: 200}, ""},
		{"DELETE", "/v3/pay/transactions/id/4200000000000000000000000006", errorSummary{Status: 405, Code: CodeMethodNotAllowed}, "GET"},
		{"HEAD", "/v3/pay/transactions/id/4200000000000000000000000006", errorSummary{Status: 405, Code: CodeMethodNotAllowed}, "GET"},
		{"PUT", "/v3/profitsharing/orders", errorSummary{Status: 405, Code: CodeMethodNotAllowed}, "POST"},
		{"GET", "/v3/merchant/media/upload", errorSummary{Status: 405, Code: CodeMethodNotAllowed}, "POST"},
		// The notification schema is not an API.
		{"POST", "/v3/webhooks", errorSummary{Status: 404, Code: CodeNotFound}, ""},
		{"GET", "/v3/pay/transactions/id", errorSummary{Status: 404, Code: CodeNotFound}, ""},
		{"GET", "/v3/pay/transactions/id/", errorSummary{Status: 404, Code: CodeNotFound}, ""},
	}
	for _, tt := range tests {
		r := c.do(req{method: tt.method, target: tt.target})
		if tt.method == "HEAD" {
			if r.status != tt.want.Status {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.target, r.status, tt.want.Status)
			}
		} else if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("%s %s: (-want +got)\n%s", tt.method, tt.target, diff)
		}
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.target, got, tt.allow)
		}
		if tt.method != "HEAD" {
			if err := r.verify(s); err != nil {
				t.Errorf("%s %s: answer not signed: %v", tt.method, tt.target, err)
			}
		}
	}
}

func TestOperationErrors(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	// name is sensitive in v3/global/profit-sharing/receivers.
	const receivers = "/v3/global/profit-sharing/receivers"
	receiver := func(name string) []byte {
		return []byte(`{"sub_mchid":"1900000109","type":"MERCHANT_ID","account":"86693852","name":"` + name + `"}`)
	}
	cipher, err := rsaenc.Encrypt(&platformKey.PublicKey, "深圳腾大")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := rsaenc.Encrypt(&strangerKey.PublicKey, "深圳腾大")
	if err != nil {
		t.Fatal(err)
	}
	serial := map[string]string{verifier.HeaderSerial: DefaultPlatformSerial}
	tests := []struct {
		name string
		q    req
		want errorSummary
	}{
		{"query parameter missing", req{method: "GET", target: "/v3/pay/transactions/id/4200000000000000000000000007"},
			errorSummary{400, CodeParamError, "mchid", "query"}},
		{"body field of the wrong type", req{method: "POST", target: "/v3/profitsharing/orders",
			body: []byte(`{"transaction_id":"4200000000000000000000000007","out_order_no":"P1","unfreeze_unsplit":"yes"}`)},
			errorSummary{400, CodeParamError, "/unfreeze_unsplit", "body"}},
		{"nested body field missing", req{method: "POST", target: "/v3/profitsharing/orders",
			body: []byte(`{"transaction_id":"4200000000000000000000000007","out_order_no":"P1","unfreeze_unsplit":true,"receivers":[{"type":"MERCHANT_ID","account":"86693852","amount":1}]}`)},
			errorSummary{400, CodeParamError, "/receivers/0/description", "body"}},
		{"body not JSON", req{method: "POST", target: "/v3/profitsharing/orders", body: []byte(`{"transaction_id":`)},
			errorSummary{400, CodeParamError, "", ""}},
		{"body missing", req{method: "POST", target: "/v3/profitsharing/orders", header: map[string]string{"Content-Type": "application/json"}},
			errorSummary{400, CodeParamError, "", ""}},
		{"body not JSON by its Content-Type", req{method: "POST", target: "/v3/profitsharing/orders", body: []byte(`{}`),
			header: map[string]string{"Content-Type": "text/plain"}},
			errorSummary{400, CodeInvalidRequest, "", ""}},
		{"sensitive field in plain text", req{method: "POST", target: receivers, body: receiver("深圳腾大"), header: serial},
			errorSummary{400, CodeParamError, "/name", "body"}},
		{"sensitive field for another key", req{method: "POST", target: receivers, body: receiver(stranger), header: serial},
			errorSummary{400, CodeParamError, "/name", "body"}},
		{"sensitive field without Wechatpay-Serial", req{method: "POST", target: receivers, body: receiver(cipher)},
			errorSummary{400, CodeParamError, verifier.HeaderSerial, "header"}},
		{"sensitive field for an unknown serial", req{method: "POST", target: receivers, body: receiver(cipher),
			header: map[string]string{verifier.HeaderSerial: "PUB_KEY_ID_0000000000000000000000000001"}},
			errorSummary{400, CodeParamError, verifier.HeaderSerial, "header"}},
		{"sensitive field encrypted", req{method: "POST", target: receivers, body: receiver(cipher), header: serial},
			errorSummary{Status: 200}},
	}
	for _, tt := range tests {
		r := c.do(tt.q)
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
		if err := r.verify(s); err != nil {
			t.Errorf("%s: answer not signed: %v", tt.name, err)
		}
		if bytes.Contains(r.body, []byte("深圳腾大")) {
			t.Errorf("%s: answer quotes the sensitive value: %s", tt.name, r.body)
		}
	}

	// Every problem is in the message; the detail names the first.
	r := c.do(req{method: "POST", target: "/v3/profitsharing/orders", body: []byte(`{"out_order_no":"P1"}`)})
	msg := gjson.GetBytes(r.body, "message").String()
	if !strings.Contains(msg, "/transaction_id") || !strings.Contains(msg, "/unfreeze_unsplit") {
		t.Errorf("message %q, want both missing fields", msg)
	}
}

func TestOperationUploadErrors(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	op, ok := catalog.Lookup("POST", "v3/marketing/bank/packages/{package_id}/tasks")
	if !ok {
		t.Fatal("operation not in the catalogue")
	}
	call := exampleCall(t, op)
	form := func(parts map[string]string) (body []byte, ctype string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, name := range []string{"meta", "file"} {
			if v, ok := parts[name]; ok {
				w, _ := mw.CreateFormField(name)
				w.Write([]byte(v))
			}
		}
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	target := "/" + fillTemplate(op.Template, call.values)
	meta := string(call.body)
	noBankType, _ := sjson.Delete(meta, "bank_type")
	tests := []struct {
		name  string
		parts map[string]string
		want  errorSummary
	}{
		{"no meta", map[string]string{"file": "a,b\r\n"}, errorSummary{400, CodeParamError, "meta", "body"}},
		{"no file", map[string]string{"meta": meta}, errorSummary{400, CodeParamError, "file", "body"}},
		{"meta not an object", map[string]string{"meta": `[]`, "file": "a,b\r\n"}, errorSummary{400, CodeParamError, "meta", "body"}},
		{"meta field missing", map[string]string{"meta": noBankType, "file": "a,b\r\n"}, errorSummary{400, CodeParamError, "/bank_type", "body"}},
		{"complete", map[string]string{"meta": meta, "file": "a,b\r\n"}, errorSummary{Status: 200}},
	}
	for _, tt := range tests {
		body, ctype := form(tt.parts)
		signed := []byte(tt.parts["meta"])
		r := c.do(req{method: "POST", target: target, body: body, signBody: signed, header: map[string]string{"Content-Type": ctype}})
		if diff := cmp.Diff(tt.want, r.summary(t)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
	// The signature is over meta: a signature over the whole body fails.
	body, ctype := form(map[string]string{"meta": meta, "file": "a,b\r\n"})
	r := c.do(req{method: "POST", target: target, body: body, header: map[string]string{"Content-Type": ctype}})
	if got := r.summary(t); got.Status != 401 || got.Code != CodeSignError {
		t.Errorf("signed over the whole body: %+v, want 401 %s", got, CodeSignError)
	}
}

func TestCoverage(t *testing.T) {
	hand, schema := HandWritten(), SchemaDriven()
	if len(hand) != len(routes)+len(rawRoutes) {
		t.Errorf("HandWritten has %d operations, want one per hand-written route (%d): %q", len(hand), len(routes)+len(rawRoutes), hand)
	}
	seen := map[string]bool{}
	for _, op := range append(append([]string(nil), hand...), schema...) {
		if seen[op] {
			t.Errorf("%s listed twice", op)
		}
		seen[op] = true
	}
	callables := 0
	for _, op := range catalog.All() {
		if callable(op) {
			callables++
			if !seen[op.String()] {
				t.Errorf("%s is in neither list", op)
			}
		}
	}
	if callables != len(catalog.All())-1 {
		t.Errorf("%d callable operations of %d, want all but the notification schema", callables, len(catalog.All()))
	}
	// The docs give the counts.
	for _, file := range []string{"doc.go", "../docs/catalogue.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{len(hand), len(schema)} {
			if !regexp.MustCompile(`\b` + strconv.Itoa(n) + `\b`).Match(data) {
				t.Errorf("%s does not give the count %d", file, n)
			}
		}
	}
}
