package wxpaytest

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind says what an injected Fault does.
type FaultKind int

// The kinds of fault. The "before" faults answer without applying the
// request: a refund answered with an injected SYSTEM_ERROR was not made, so
// a retry with the same out_refund_no makes it exactly once. The response
// faults apply the request normally and then spoil the answer, so the
// request has taken effect although the client should reject the answer.
const (
	// FaultError answers with Status, Code and Message (after routing and
	// authentication, before the request is applied). The answer is
	// signed, as WeChat Pay signs its error answers.
	FaultError FaultKind = iota + 1
	// FaultDelay waits Delay, then handles the request normally. The wait
	// ends early if the client goes away or the server closes.
	FaultDelay
	// FaultReset closes the connection without answering, before the
	// request is applied. The TCP connection is reset (SO_LINGER 0).
	FaultReset
	// FaultResetAfterApply applies the request, then closes the connection
	// without answering: the client cannot know the refund was made and
	// must retry with the same parameters.
	FaultResetAfterApply
	// FaultCorruptSignature flips a bit of the Wechatpay-Signature.
	FaultCorruptSignature
	// FaultSkewTimestamp moves the Wechatpay-Timestamp by Skew and signs
	// that timestamp correctly: only the clock check fails.
	FaultSkewTimestamp
	// FaultUnknownSerial names Serial (UnknownSerial if empty) in
	// Wechatpay-Serial, with a signature by the real key.
	FaultUnknownSerial
	// FaultProbeSignature sends a Wechatpay-Signature starting with
	// WECHATPAY/SIGNTEST/, as WeChat Pay's verification probes do.
	FaultProbeSignature
	// FaultRemoveHeader leaves out the response header named Header
	// (Wechatpay-Signature if empty).
	FaultRemoveHeader
	// FaultUnsigned sends no Wechatpay-* header at all.
	FaultUnsigned
	// FaultTruncateBody announces the full Content-Length and signs the
	// full body but sends only its first half, then closes the connection.
	FaultTruncateBody
	// FaultOversizeBody pads the JSON answer to at least Size bytes
	// (DefaultOversize if zero) and signs the padded body.
	FaultOversizeBody
)

// UnknownSerial is the Wechatpay-Serial FaultUnknownSerial sends by default.
const UnknownSerial = "PUB_KEY_ID_0000000000000000000000000000"

// DefaultOversize is the body size of FaultOversizeBody when Size is zero:
// 17 MiB, just above a 16 MiB client cap.
const DefaultOversize = 17 << 20

var faultNames = [...]string{
	FaultError:            "FaultError",
	FaultDelay:            "FaultDelay",
	FaultReset:            "FaultReset",
	FaultResetAfterApply:  "FaultResetAfterApply",
	FaultCorruptSignature: "FaultCorruptSignature",
	FaultSkewTimestamp:    "FaultSkewTimestamp",
	FaultUnknownSerial:    "FaultUnknownSerial",
	FaultProbeSignature:   "FaultProbeSignature",
	FaultRemoveHeader:     "FaultRemoveHeader",
	FaultUnsigned:         "FaultUnsigned",
	FaultTruncateBody:     "FaultTruncateBody",
	FaultOversizeBody:     "FaultOversizeBody",
}

// String returns the name of the constant, such as "FaultReset".
func (k FaultKind) String() string {
	if k > 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault describes a failure to inject into the next matching requests with
// Server.Inject.
type Fault struct {
	// Kind is what the fault does.
	Kind FaultKind
	// Times is how many matching requests the fault applies to. If zero,
	// it applies once; if negative, to every matching request until
	// ClearFaults.
	Times int
	// PathPrefix limits the fault to requests whose path starts with it,
	// such as "/v3/refund/" (the leading '/' may be left out, as in a
	// chain's path). If empty, every path matches.
	PathPrefix string
	// Method limits the fault to requests with this method, in any case.
	// If empty, every method matches.
	Method string

	// Status is the HTTP status of FaultError. If zero, 500.
	Status int
	// Code is the error code of FaultError. If empty, it follows Status:
	// FREQUENCY_LIMITED for 429, SYSTEM_ERROR for 5xx, PARAM_ERROR for 400,
	// SIGN_ERROR for 401, RESOURCE_NOT_EXISTS for 404.
	Code string
	// Message is the error message of FaultError. If empty, a fixed text
	// saying the error was injected.
	Message string

	// Delay is waited before the request is handled, whatever the kind.
	Delay time.Duration
	// Skew is how far FaultSkewTimestamp moves the response timestamp.
	Skew time.Duration
	// Serial is the Wechatpay-Serial FaultUnknownSerial sends.
	Serial string
	// Header is the response header FaultRemoveHeader leaves out.
	Header string
	// Size is the body size of FaultOversizeBody.
	Size int
}

// faultEntry is an injected fault with its remaining uses.
type faultEntry struct {
	f    Fault
	left int // < 0: unlimited
}

// Inject arranges for f to apply to the next f.Times requests that match
// its PathPrefix and Method. Faults are tried in the order injected; a
// request takes at most one fault, and taking it uses up one of its times
// whatever the request's outcome. Inject is safe for concurrent use.
func (s *Server) Inject(f Fault) {
	f.Method = strings.ToUpper(f.Method)
	if f.PathPrefix != "" && !strings.HasPrefix(f.PathPrefix, "/") {
		f.PathPrefix = "/" + f.PathPrefix
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.faultMu.Lock()
	s.faults = append(s.faults, &faultEntry{f: f, left: left})
	s.faultMu.Unlock()
}

// ClearFaults removes every injected fault not yet used up.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	s.faults = nil
	s.faultMu.Unlock()
}

// PendingFaults returns the number of injected faults not yet used up.
func (s *Server) PendingFaults() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return len(s.faults)
}

// takeFault returns the first fault matching r and uses it once, or nil.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, e := range s.faults {
		if e.f.Method != "" && e.f.Method != r.Method {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, e.f.PathPrefix) {
			continue
		}
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		f := e.f
		return &f
	}
	return nil
}

// faultError is the error answer of a FaultError.
func faultError(f *Fault) *apiError {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := f.Code
	if code == "" {
		switch {
		case status == http.StatusTooManyRequests:
			code = CodeFrequencyLimited
		case status == http.StatusBadRequest:
			code = CodeParamError
		case status == http.StatusUnauthorized:
			code = CodeSignError
		case status == http.StatusNotFound:
			code = CodeResourceNotExists
		default:
			code = CodeSystemError
		}
	}
	msg := f.Message
	if msg == "" {
		msg = "injected fault: " + code
	}
	return newError(status, code, msg)
}

// wait sleeps d, returning false if the client went away or the server
// closed first.
func (x *exchange) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.r.Context().Done():
		return false
	case <-x.s.done:
		return false
	}
}

// reset closes the connection without an answer, with a TCP reset when it
// can.
func (x *exchange) reset() {
	x.s.finishRecord(x.rec, 0)
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		// Not reachable with net/http's HTTP/1 server; answer something
		// unusable rather than nothing.
		x.w.Header().Set("Connection", "close")
		x.w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
