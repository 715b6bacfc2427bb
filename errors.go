package wxpay

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Errors about what the caller asked for. They are returned before any
// request leaves the machine, wrapped with a message that names the problem;
// match them with errors.Is.
var (
	// ErrInvalidConfig: New was given a Config it cannot work with.
	ErrInvalidConfig = errors.New("wxpay: invalid config")
	// ErrInvalidPath: a chain segment or URL cannot make a request path.
	ErrInvalidPath = errors.New("wxpay: invalid path")
	// ErrMissingParam: a path placeholder has no value (or an empty one).
	ErrMissingParam = errors.New("wxpay: missing path parameter")
	// ErrInvalidOption: an option key is unknown or its value unusable.
	ErrInvalidOption = errors.New("wxpay: invalid option")
	// ErrHostNotAllowed: a full URL names a host the client does not send
	// signed requests to.
	ErrHostNotAllowed = errors.New("wxpay: host not allowed")
)

// ErrResponseTooLarge is returned (wrapped) when an answer's body is larger
// than Config.MaxResponseBodySize; the answer was not read. It is not
// retried: the same request would get the same answer.
var ErrResponseTooLarge = errors.New("wxpay: response body too large")

// Errors about a response that cannot be trusted, aliases of the verifier
// package's sentinels so callers need import only wxpay. They are wrapped in
// a *VerifyError.
var (
	ErrMissingHeader   = verifier.ErrMissingHeader
	ErrMalformedHeader = verifier.ErrMalformedHeader
	ErrClockSkew       = verifier.ErrClockSkew
	ErrUnknownSerial   = verifier.ErrUnknownSerial
	ErrBadSignature    = verifier.ErrBadSignature
	ErrSignatureProbe  = verifier.ErrSignatureProbe
)

// VerifyError reports a response whose signature did not check out. The
// response must not be trusted: it may not come from WeChat Pay. Err is one
// of the verification sentinels (ErrBadSignature, ErrClockSkew, ...).
//
// The answer that came back is kept for logging and support, as
// wechatpay-php's getResponse() gives it, in fields named Untrusted: nothing
// vouches for them, so act on none of them. Error never shows them.
type VerifyError struct {
	Method     string // request method
	Path       string // request path and query, each query value shown as "…"
	StatusCode int    // status of the untrusted response
	RequestID  string // Request-ID header of the untrusted response, if any
	Err        error

	// UntrustedHeader holds the headers of the answer, as received.
	// Nothing vouches for them.
	UntrustedHeader http.Header
	// UntrustedBody is the body of the answer, as received, at most
	// Config.MaxResponseBodySize bytes (a larger answer is not read). It
	// may come from anyone and hold anything: log it as data, never act
	// on it.
	UntrustedBody []byte
}

// Error describes the VerifyError.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("wxpay: %s %s: response (status %d) not trusted: %v", e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns the verification sentinel.
func (e *VerifyError) Unwrap() error { return e.Err }

// APIError is the error for a response with a status other than 2xx. WeChat
// Pay answers errors with a JSON body {"code":...,"message":...,"detail":...};
// Code and Message come from it.
//
// When the error response carried signature headers, they were checked:
// Verified reports that they were present and valid. An APIError that is not
// Verified may not come from WeChat Pay; when its headers were present but
// failed the check, Unwrap returns the verification error, so
// errors.Is(err, ErrBadSignature) holds too.
//
// Error shows Code, Message and RequestID clipped and on one line (control
// characters replaced by spaces); the fields hold them as received.
type APIError struct {
	StatusCode int
	Code       string // e.g. "PARAM_ERROR", "SYSTEM_ERROR"
	Message    string
	Detail     []byte // the raw "detail" JSON value, if any
	RequestID  string // the Request-ID header, for WeChat Pay support
	Body       []byte // the raw response body
	Header     http.Header
	Verified   bool

	verifyErr error
}

// Error describes the APIError.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wxpay: %d", e.StatusCode)
	// What the server sent is shown clipped, on one line: the answer may
	// come from anyone, and the fields keep it whole.
	if e.Code != "" {
		b.WriteString(" " + clip(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": " + clipLine(e.Message, 300))
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + clip(e.RequestID) + ")")
	}
	if e.verifyErr != nil {
		b.WriteString(" [unverified: " + e.verifyErr.Error() + "]")
	}
	return b.String()
}

// Unwrap returns the verification error of a response whose signature
// headers were present but did not verify, or nil.
func (e *APIError) Unwrap() error { return e.verifyErr }

// Retryable reports whether WeChat Pay says the same request may be sent
// again unchanged: 500 SYSTEM_ERROR (its documents: retry with the same
// out_refund_no), 429 FREQUENCY_LIMITED (after slowing down) and 503.
func (e *APIError) Retryable() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode == http.StatusServiceUnavailable,
		e.StatusCode == http.StatusInternalServerError && (e.Code == "SYSTEM_ERROR" || e.Code == ""):
		return true
	}
	return false
}

func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, Body: body, Header: header, RequestID: header.Get("Request-Id")}
	if gjson.ValidBytes(body) {
		r := gjson.ParseBytes(body)
		e.Code = r.Get("code").String()
		e.Message = r.Get("message").String()
		if d := r.Get("detail"); d.Exists() {
			e.Detail = []byte(d.Raw)
		}
	} else if len(body) > 0 {
		msg := string(body)
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		e.Message = strings.ToValidUTF8(msg, "?")
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// redactQuery returns target, a path or URL, with the value of each query
// parameter replaced by "…": the query of a download_url holds a
// short-lived token, which must stay out of errors and logs. Parameter
// names are kept when they look like names, for the reader's sake; a
// parameter without a value is hidden whole.
func redactQuery(target string) string {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target
	}
	var b strings.Builder
	b.Grow(len(target))
	b.WriteString(path)
	b.WriteByte('?')
	for i, kv := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		// A parameter without '=' may be a bare token: it is hidden whole.
		if name, _, hasValue := strings.Cut(kv, "="); hasValue && plainName(name) {
			b.WriteString(name)
			b.WriteString("=…")
		} else {
			b.WriteString("…")
		}
	}
	return b.String()
}

// plainName reports whether s looks like a query parameter name rather
// than a value: up to 32 letters, digits, '_', '-' and '.'.
func plainName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// clip shortens a server-given text for an error message, on one line.
func clip(s string) string { return clipLine(s, 120) }

// clipLine is clipTo with every control character (a line break, a
// terminal escape) replaced by a space, so that a server-given text cannot
// forge log lines.
func clipLine(s string, n int) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, clipTo(s, n))
}

// clipTo returns s as valid UTF-8 of at most n runes, marked when cut.
func clipTo(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// sentinels is an error with a message of its own that matches each of
// several sentinel errors with errors.Is.
type sentinels struct {
	msg string
	is  []error
}

func (e *sentinels) Error() string   { return e.msg }
func (e *sentinels) Unwrap() []error { return e.is }

// errNilContext is the error of a call given a nil context.Context, which
// Go's convention forbids (context.Background() is the empty one): an
// error, as net/http's NewRequestWithContext returns, rather than a panic.
var errNilContext = fmt.Errorf("%w: the context is nil; pass context.Background() or a context of your own", ErrInvalidOption)
