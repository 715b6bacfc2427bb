package wxpaytest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Error codes the emulator answers with, as documented by WeChat Pay.
const (
	CodeParamError        = "PARAM_ERROR"         // 400: a parameter is missing or malformed
	CodeInvalidRequest    = "INVALID_REQUEST"     // 400: well formed but against the rules
	CodeSignError         = "SIGN_ERROR"          // 401: the request signature does not check
	CodeResourceNotExists = "RESOURCE_NOT_EXISTS" // 404: no such refund
	CodeFrequencyLimited  = "FREQUENCY_LIMITED"   // 429: too many requests
	CodeSystemError       = "SYSTEM_ERROR"        // 500: retry with the same parameters
	CodeNotFound          = "NOT_FOUND"           // 404: no such API
	CodeMethodNotAllowed  = "METHOD_NOT_ALLOWED"  // 405: the API exists with another method
	CodeStatementCreating = "STATEMENT_CREATING"  // 400: the day's bill is not generated yet
)

// apiError is an error answer: status and the JSON body WeChat Pay sends.
type apiError struct {
	status  int
	allow   []string     // the methods a 405 names in its Allow header
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Detail  *errorDetail `json:"detail,omitempty"`
}

// errorDetail says which parameter was wrong.
type errorDetail struct {
	Field    string `json:"field"`
	Value    any    `json:"value,omitempty"`
	Issue    string `json:"issue"`
	Location string `json:"location"`
}

// newError returns an error answer without detail.
func newError(status int, code, message string) *apiError {
	return &apiError{status: status, Code: code, Message: message}
}

// paramError returns a 400 PARAM_ERROR naming a field. location is body,
// query, path or header; value may be nil to leave it out (for encrypted or
// oversized values).
func paramError(location, field string, value any, issue string) *apiError {
	return &apiError{
		status:  http.StatusBadRequest,
		Code:    CodeParamError,
		Message: field + ": " + issue,
		Detail:  &errorDetail{Field: field, Value: value, Issue: issue, Location: location},
	}
}

// invalidRequest returns a 400 INVALID_REQUEST.
func invalidRequest(message string) *apiError {
	return newError(http.StatusBadRequest, CodeInvalidRequest, message)
}

// marshal encodes v as compact JSON without HTML escaping, as WeChat Pay
// writes it.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the emulator's own types are encoded here.
		return []byte(`{"code":"SYSTEM_ERROR","message":"emulator failed to encode its answer"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// exchange is one request being answered.
type exchange struct {
	s         *Server
	w         http.ResponseWriter
	r         *http.Request
	rec       *Request
	requestID string
	fault     *Fault      // nil when no fault applies
	limit     *rateTicket // the request's erroneous-request limit, see ratelimit.go
}

// uploadSigned is admit's note for an upload, whose signed body is not
// the body sent.
const uploadSigned = " (for an upload, the body signed is the meta JSON)"

// admit lets the APIv3 request of x, whose signed body is signed, past the
// checks every endpoint makes before its own: the Authorization (a
// failure's message followed by note), an injected FaultError, and the
// rate limit (ratelimit.go). It answers and reports false when the
// request goes no further.
func (x *exchange) admit(signed []byte, note string) bool {
	if e := x.s.authenticate(x.r, signed); e != nil {
		e.Message += note
		x.fail(e)
		return false
	}
	x.s.setAuthenticated(x.rec)
	if x.fault != nil && x.fault.Kind == FaultError {
		x.fail(faultError(x.fault))
		return false
	}
	return !x.limited()
}

// fail answers with an error.
func (x *exchange) fail(e *apiError) {
	e = x.overErrors(e) // see ratelimit.go
	if len(e.allow) > 0 {
		x.w.Header().Set("Allow", strings.Join(e.allow, ", "))
	}
	x.reply(e.status, marshal(e))
}

// methodNotAllowed returns a 405 METHOD_NOT_ALLOWED for a path that takes
// the methods allowed.
func methodNotAllowed(method string, allowed []string) *apiError {
	e := newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method "+method+" is not allowed here; use "+strings.Join(allowed, ", "))
	e.allow = allowed
	return e
}

// ok answers 200 with v as JSON, or with the file v is a fileAnswer.
func (x *exchange) ok(v any) {
	if f, isFile := v.(fileAnswer); isFile {
		x.replyType(http.StatusOK, f.contentType, f.data)
		return
	}
	x.reply(http.StatusOK, marshal(v))
}

// fileAnswer is what an endpoint returns to answer a file instead of JSON.
type fileAnswer struct {
	contentType string
	data        []byte
}

// reply writes a signed JSON answer, applying the response faults. An
// empty body is sent without a Content-Type (and a 204 without a
// Content-Length), signed as the empty string.
func (x *exchange) reply(status int, body []byte) {
	x.replyType(status, "application/json; charset=utf-8", body)
}

// replyType is reply for a body of the content type ctype.
func (x *exchange) replyType(status int, ctype string, body []byte) {
	kind := FaultKind(0)
	if x.fault != nil {
		kind = x.fault.Kind
	}
	if kind == FaultOversizeBody {
		body = pad(body, x.fault.Size)
	}
	h := x.w.Header()
	if len(body) > 0 {
		h.Set("Content-Type", ctype)
	}
	h.Set("Request-ID", x.requestID)
	if kind != FaultUnsigned {
		x.sign(h, body, kind)
	}
	x.s.finishRecord(x.rec, status)
	if status == http.StatusNoContent {
		x.w.WriteHeader(status)
		return
	}
	if kind == FaultTruncateBody {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		x.w.WriteHeader(status)
		x.w.Write(body[:len(body)/2])
		// The handler returns having written less than Content-Length:
		// net/http closes the connection and the client sees an
		// unexpected EOF.
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	x.w.Write(body)
}

// sign sets the four Wechatpay-* headers for body.
func (x *exchange) sign(h http.Header, body []byte, kind FaultKind) {
	serial, key := x.s.responseKey(x.r)
	ts := x.s.now().Unix()
	if kind == FaultSkewTimestamp {
		ts += int64(x.fault.Skew.Seconds())
	}
	tsStr := strconv.FormatInt(ts, 10)
	if kind == 0 && x.s.ReuseSignatures {
		if nonce, sigStr, ok := x.s.sigCache.get(serial, ts, body); ok {
			h.Set(verifier.HeaderTimestamp, tsStr)
			h.Set(verifier.HeaderNonce, nonce)
			h.Set(verifier.HeaderSignature, sigStr)
			h.Set(verifier.HeaderSerial, serial)
			return
		}
	}
	nonce := signer.Nonce()
	msg := verifier.AppendMessage(nil, tsStr, nonce, body)
	digest := sha256.Sum256(msg)
	sig, err := x.s.signDigest(serial, key, digest[:])
	if err != nil {
		// A valid RSA key does not fail to sign; leave the answer
		// unsigned, which a client will refuse.
		return
	}
	sigStr := base64.StdEncoding.EncodeToString(sig)
	if kind == 0 && x.s.ReuseSignatures {
		x.s.sigCache.put(serial, ts, body, nonce, sigStr)
	}
	switch kind {
	case FaultCorruptSignature:
		sig[len(sig)/2] ^= 0x01
		sigStr = base64.StdEncoding.EncodeToString(sig)
	case FaultProbeSignature:
		sigStr = verifier.ProbePrefix + base64.StdEncoding.EncodeToString(sig[:32])
	case FaultUnknownSerial:
		serial = x.fault.Serial
		if serial == "" {
			serial = UnknownSerial
		}
	}
	h.Set(verifier.HeaderTimestamp, tsStr)
	h.Set(verifier.HeaderNonce, nonce)
	h.Set(verifier.HeaderSignature, sigStr)
	h.Set(verifier.HeaderSerial, serial)
	if kind == FaultRemoveHeader {
		name := x.fault.Header
		if name == "" {
			name = verifier.HeaderSignature
		}
		h.Del(name)
	}
}

// signDigest signs a SHA-256 digest with the platform key serial names,
// through the crypto backend the client uses too (OpenSSL's libcrypto when
// it can be loaded), or with crypto/rsa when the backend refused the key.
func (s *Server) signDigest(serial string, key *rsa.PrivateKey, digest []byte) ([]byte, error) {
	if sk := s.signKeys[serial]; sk != nil {
		return sk.SignSHA256(digest)
	}
	return rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest)
}

// responseKey picks the platform key for the answer to r: the one the
// request's Wechatpay-Serial names when the emulator has it, else the first.
func (s *Server) responseKey(r *http.Request) (string, *rsa.PrivateKey) {
	if serial := r.Header.Get(verifier.HeaderSerial); serial != "" {
		if k, ok := s.platform[serial]; ok {
			return serial, k
		}
	}
	return s.Platform[0].Serial, s.Platform[0].Key
}

// pad makes a JSON object body at least size bytes long by adding a
// "padding" member, keeping it valid JSON.
func pad(body []byte, size int) []byte {
	if size <= 0 {
		size = DefaultOversize
	}
	n := size - len(body)
	if n < 0 || len(body) < 2 || body[0] != '{' {
		return body
	}
	out := make([]byte, 0, size+16)
	out = append(out, `{"padding":"`...)
	out = append(out, bytes.Repeat([]byte{'x'}, n)...)
	out = append(out, '"')
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...)
}

// sigCache holds the response signatures of the current second, by platform
// serial and body, for Server.ReuseSignatures.
type sigCache struct {
	mu sync.Mutex
	ts int64
	m  map[[sha256.Size]byte][2]string // nonce, signature
}

// maxSigCache bounds the distinct bodies remembered within one second.
const maxSigCache = 1024

func sigCacheKey(serial string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(serial))
	h.Write([]byte{0})
	h.Write(body)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *sigCache) get(serial string, ts int64, body []byte) (nonce, sig string, ok bool) {
	k := sigCacheKey(serial, body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ts != ts {
		return "", "", false
	}
	v, ok := c.m[k]
	return v[0], v[1], ok
}

func (c *sigCache) put(serial string, ts int64, body []byte, nonce, sig string) {
	k := sigCacheKey(serial, body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ts != ts || c.m == nil || len(c.m) >= maxSigCache {
		c.ts, c.m = ts, make(map[[sha256.Size]byte][2]string)
	}
	c.m[k] = [2]string{nonce, sig}
}
