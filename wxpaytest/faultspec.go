package wxpaytest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxSpecOversize bounds the Size a fault spec may ask for: the padded
// answer is built in memory.
const maxSpecOversize = 256 << 20

// specNames are the names of the fault kinds in a spec. FaultError is
// written as its status instead.
var specNames = map[FaultKind]string{
	FaultDelay:            "delay",
	FaultReset:            "reset",
	FaultResetAfterApply:  "reset-after-apply",
	FaultCorruptSignature: "corrupt-signature",
	FaultSkewTimestamp:    "skew-timestamp",
	FaultUnknownSerial:    "unknown-serial",
	FaultProbeSignature:   "probe-signature",
	FaultRemoveHeader:     "remove-header",
	FaultUnsigned:         "unsigned",
	FaultTruncateBody:     "truncate-body",
	FaultOversizeBody:     "oversize-body",
}

// ParseFault parses a fault written as text, as `wxpay emulator --fault`
// and the FaultsPath endpoint take it:
//
//	[METHOD ]PATH=FAULT[*COUNT]
//
// METHOD (GET, POST, ... in any case) limits the fault to that method; PATH
// is a path prefix, the leading slash optional ("/" matches every path).
// FAULT is one of
//
//	STATUS[:CODE[:MESSAGE]]   FaultError: 500, 429, 503:SYSTEM_ERROR, 400:PARAM_ERROR:text
//	delay:DURATION            FaultDelay: wait (2s, 1500ms), then answer normally
//	reset                     FaultReset
//	reset-after-apply         FaultResetAfterApply
//	corrupt-signature         FaultCorruptSignature
//	skew-timestamp:DURATION   FaultSkewTimestamp (-10m moves it back)
//	unknown-serial[:SERIAL]   FaultUnknownSerial
//	probe-signature           FaultProbeSignature
//	remove-header[:NAME]      FaultRemoveHeader (Wechatpay-Signature by default)
//	unsigned                  FaultUnsigned
//	truncate-body             FaultTruncateBody
//	oversize-body[:BYTES]     FaultOversizeBody (at most 256 MiB)
//
// and "delay:DURATION+FAULT" waits before any other fault. COUNT is how
// many matching requests the fault applies to (Times): a number, or
// "always" for every one; 1 if absent. So
//
//	POST v3/refund/domestic/refunds=500:SYSTEM_ERROR*2
//
// answers the next two refund applications with a signed 500 SYSTEM_ERROR.
// Fault.String writes a Fault back in this form. Spaces around the spec
// and the message are ignored.
func ParseFault(spec string) (Fault, error) {
	f, err := parseFault(strings.TrimSpace(spec))
	if err != nil {
		return Fault{}, fmt.Errorf("wxpaytest: fault %s: %w", strconv.Quote(spec), err)
	}
	return f, nil
}

func parseFault(spec string) (Fault, error) {
	var f Fault
	target, fault, ok := strings.Cut(spec, "=")
	if !ok || target == "" || fault == "" {
		return f, errors.New("want [METHOD ]PATH=FAULT[*COUNT]")
	}
	if m, p, ok := strings.Cut(target, " "); ok {
		method := strings.ToUpper(m)
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return f, fmt.Errorf("method %s: want GET, POST, PUT, PATCH or DELETE before the path", strconv.Quote(m))
		}
		f.Method, target = method, strings.TrimSpace(p)
		if target == "" {
			return f, errors.New("want a path after the method (/ for every path)")
		}
	}
	if err := checkPrefix(target); err != nil {
		return f, err
	}
	f.PathPrefix = "/" + strings.TrimPrefix(target, "/")
	if i := strings.LastIndexByte(fault, '*'); i >= 0 {
		n, err := parseCount(fault[i+1:])
		if err != nil {
			return f, err
		}
		f.Times, fault = n, fault[:i]
	}
	if d, rest, ok := strings.Cut(fault, "+"); ok && strings.HasPrefix(d, "delay:") {
		delay, err := parseDuration(strings.TrimPrefix(d, "delay:"), "delay")
		if err != nil {
			return f, err
		}
		if strings.HasPrefix(rest, "delay:") {
			return f, errors.New("one delay per fault")
		}
		f.Delay, fault = delay, rest
	}
	return f, parseKind(&f, fault)
}

// checkPrefix checks the path of a spec.
func checkPrefix(p string) error {
	switch {
	case strings.Contains(p, "://"):
		return fmt.Errorf("path %s: want a path such as v3/refund/domestic/refunds, not a URL", strconv.Quote(p))
	case strings.ContainsAny(p, "{}<>$"):
		return fmt.Errorf("path %s: a fault matches a path prefix, not a template: write the path up to its first placeholder", strconv.Quote(p))
	case strings.ContainsAny(p, "?# ") || strings.IndexFunc(p, unicode.IsControl) >= 0:
		return fmt.Errorf("path %s: want a path without query or spaces", strconv.Quote(p))
	}
	return nil
}

// parseCount parses the COUNT of a spec.
func parseCount(s string) (int, error) {
	if s == "always" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("count %s: want a number of requests (1 or more) or always", strconv.Quote(s))
	}
	return n, nil
}

func parseDuration(s, what string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %s: want a positive duration such as 2s or 500ms", what, strconv.Quote(s))
	}
	return d, nil
}

// parseKind sets the kind of f and its arguments from FAULT.
func parseKind(f *Fault, s string) error {
	name, arg, hasArg := strings.Cut(s, ":")
	if status, err := strconv.Atoi(name); err == nil {
		return parseError(f, status, arg, hasArg)
	}
	for k, n := range specNames {
		if n == name {
			f.Kind = k
		}
	}
	switch f.Kind {
	case 0:
		return fmt.Errorf("%s: want an HTTP status (500, 429:FREQUENCY_LIMITED, ...) or one of %s", strconv.Quote(name), kindList())
	case FaultDelay, FaultSkewTimestamp:
		if !hasArg {
			return fmt.Errorf("%s needs a duration: %s:2s", name, name)
		}
	case FaultUnknownSerial, FaultRemoveHeader, FaultOversizeBody:
		if hasArg && arg == "" {
			return fmt.Errorf("%s: empty value after ':'", name)
		}
	default:
		if hasArg {
			return fmt.Errorf("%s takes no value", name)
		}
	}
	return parseArg(f, name, arg)
}

// parseArg parses the value of the kinds that take one.
func parseArg(f *Fault, name, arg string) error {
	var err error
	switch f.Kind {
	case FaultDelay:
		if f.Delay != 0 {
			return errors.New("one delay per fault")
		}
		f.Delay, err = parseDuration(arg, name)
	case FaultSkewTimestamp:
		f.Skew, err = time.ParseDuration(arg)
		if err != nil || f.Skew.Abs() < time.Second {
			err = fmt.Errorf("%s %s: want a duration of a second or more, such as 10m or -10m", name, strconv.Quote(arg))
		}
	case FaultUnknownSerial:
		if arg != "" && !isToken(arg) {
			return fmt.Errorf("%s: the serial must be letters, digits, '_' and '-'", name)
		}
		f.Serial = arg
	case FaultRemoveHeader:
		if arg != "" && !isToken(arg) {
			return fmt.Errorf("%s: %s is not a header name", name, strconv.Quote(arg))
		}
		f.Header = http.CanonicalHeaderKey(arg)
	case FaultOversizeBody:
		if arg != "" {
			f.Size, err = strconv.Atoi(arg)
			if err != nil || f.Size < 1 || f.Size > maxSpecOversize {
				err = fmt.Errorf("%s %s: want a size in bytes, up to %d", name, strconv.Quote(arg), maxSpecOversize)
			}
		}
	}
	return err
}

// parseError fills a FaultError from STATUS[:CODE[:MESSAGE]].
func parseError(f *Fault, status int, rest string, hasRest bool) error {
	if status < 400 || status > 599 {
		return fmt.Errorf("status %d: want an error status, 400 to 599", status)
	}
	f.Kind, f.Status = FaultError, status
	if !hasRest {
		return nil
	}
	code, msg, hasMsg := strings.Cut(rest, ":")
	if code == "" || len(code) > 64 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return fmt.Errorf("code %s: want an error code in capitals, such as SYSTEM_ERROR", strconv.Quote(code))
	}
	msg = strings.TrimSpace(msg)
	if hasMsg && (msg == "" || strings.ContainsAny(msg, "\r\n")) {
		return errors.New("the message after the code must be one line of text")
	}
	f.Code, f.Message = code, msg
	return nil
}

// isToken reports whether s may be a header name or a serial.
func isToken(s string) bool {
	return len(s) <= 64 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == ""
}

// kindList lists the named kinds, in the order of their constants.
func kindList() string {
	var names []string
	for k := FaultDelay; k <= FaultOversizeBody; k++ {
		if n, ok := specNames[k]; ok {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// String writes f in the form ParseFault reads, such as
// "POST /v3/refund/domestic/refunds=500:SYSTEM_ERROR*2". Fields the kind
// does not use are left out.
func (f Fault) String() string {
	var b strings.Builder
	if f.Method != "" {
		b.WriteString(f.Method + " ")
	}
	b.WriteString("/" + strings.TrimPrefix(f.PathPrefix, "/") + "=")
	if f.Delay > 0 && f.Kind != FaultDelay {
		b.WriteString("delay:" + f.Delay.String() + "+")
	}
	switch f.Kind {
	case FaultError:
		e := faultError(&f)
		b.WriteString(strconv.Itoa(e.status))
		if f.Code != "" || f.Message != "" {
			b.WriteString(":" + e.Code)
		}
		if f.Message != "" {
			b.WriteString(":" + f.Message)
		}
	case FaultDelay:
		b.WriteString("delay:" + f.Delay.String())
	case FaultSkewTimestamp:
		b.WriteString("skew-timestamp:" + f.Skew.String())
	case FaultUnknownSerial:
		b.WriteString(withArg("unknown-serial", f.Serial))
	case FaultRemoveHeader:
		b.WriteString(withArg("remove-header", f.Header))
	case FaultOversizeBody:
		b.WriteString("oversize-body")
		if f.Size > 0 {
			b.WriteString(":" + strconv.Itoa(f.Size))
		}
	default:
		if n, ok := specNames[f.Kind]; ok {
			b.WriteString(n)
		} else {
			b.WriteString(f.Kind.String())
		}
	}
	switch {
	case f.Times < 0:
		b.WriteString("*always")
	case f.Times > 0:
		b.WriteString("*" + strconv.Itoa(f.Times))
	}
	return b.String()
}

func withArg(name, arg string) string {
	if arg == "" {
		return name
	}
	return name + ":" + arg
}
