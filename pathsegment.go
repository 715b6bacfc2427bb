package wxpay

import (
	"fmt"
	"net/url"
	"strings"
)

// This file holds the pure functions behind Chain: segment normalisation,
// path validation and placeholder expansion.

// NormalizeSegment returns the path form of one chain segment. The rules
// are those of the two chain SDKs, wechatpay-php and its Node sibling
// wechatpay-axios-plugin, with one spelling of this library's own:
//
//   - a leading capital is lower-cased and every other capital becomes '-'
//     plus its lower case: "applyAbnormalRefund" → "apply-abnormal-refund",
//     "WeChatPay" → "we-chat-pay", "V3" → "v3"; digits and underscores stay
//     (both SDKs do this);
//   - "{name}" is a placeholder, as in the templates both SDKs fill
//     ($instance['v3/refund/domestic/refunds/{out_refund_no}'] in PHP), and
//     "{+name}" one whose value keeps its '/', as in the RFC 6570 templates
//     wechatpay-php expands;
//   - "_name_" becomes "{name}", as wechatpay-php's ->_refund_id_ does
//     (later versions of the Node SDK accept it too);
//   - "$name$" becomes "{name}", as the Node SDK's .$refund_id$ does;
//     wechatpay-php does not know this spelling;
//   - "<name>" is read as "{name}": this library's own spelling, known to
//     neither SDK;
//   - "_empty_" is the empty segment that a trailing slash ends a path
//     with ("" here), as wechatpay-php's typings spell it
//     ($instance->v3->applyment4sub->applyment->_empty_ is
//     v3/applyment4sub/applyment/); in a Chain it may only end a path,
//     after at least one segment, and stands for the trailing '/';
//   - the text of a placeholder is never re-cased;
//   - ".", "..", an empty segment, a '/' and characters that cannot appear
//     in a URL path are errors that wrap ErrInvalidPath.
//
// A segment may mix literal text and placeholders ("{id}.jpg"). The SDKs
// turn "_name_" and "$name$" into a placeholder only when it is a whole
// property or chain() argument; Chain applies NormalizeSegment to each
// '/'-separated segment of its arguments, so they work inside a template
// too.
func NormalizeSegment(seg string) (string, error) {
	if seg == emptySegment {
		return "", nil
	}
	b, err := appendSegment(nil, seg)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// emptySegment is wechatpay-php's spelling of the empty last segment of a
// path with a trailing slash.
const emptySegment = "_empty_"

func appendSegment(dst []byte, seg string) ([]byte, error) {
	switch seg {
	case "":
		return dst, pathErr(seg, "empty segment")
	case ".", "..":
		return dst, pathErr(seg, "dot segments are not allowed")
	case emptySegment:
		return dst, pathErr(seg, "it stands for a trailing slash, so it may only end a path")
	}
	if u, err := url.PathUnescape(seg); err == nil && (u == "." || u == "..") {
		return dst, pathErr(seg, "dot segments are not allowed, encoded or not")
	}
	if n := len(seg); n >= 2 {
		if (seg[0] == '_' && seg[n-1] == '_') || (seg[0] == '$' && seg[n-1] == '$') {
			name := seg[1 : n-1]
			if err := checkPlaceholderName(seg, name); err != nil {
				return dst, err
			}
			dst = append(dst, '{')
			dst = append(dst, name...)
			return append(dst, '}'), nil
		}
	}
	first := true
	for i := 0; i < len(seg); {
		c := seg[i]
		switch {
		case c == '{' || c == '<':
			var err error
			if dst, i, err = appendPlaceholder(dst, seg, i); err != nil {
				return dst, err
			}
		case c >= 'A' && c <= 'Z':
			if !first {
				dst = append(dst, '-')
			}
			dst = append(dst, c+('a'-'A'))
			i++
		case c == '%':
			if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
				return dst, pathErr(seg, "'%' not followed by two hex digits")
			}
			dst = append(dst, seg[i:i+3]...)
			i += 3
		case isPathChar(c):
			dst = append(dst, c)
			i++
		default:
			return dst, pathErr(seg, fmt.Sprintf("character %q cannot appear in a path", rune(c)))
		}
		first = false
	}
	return dst, nil
}

// appendPlaceholder appends to dst the placeholder that starts at seg[i],
// "{name}", "{+name}" or "<name>", as "{name}" or "{+name}", and returns
// the index in seg after it.
func appendPlaceholder(dst []byte, seg string, i int) ([]byte, int, error) {
	c := seg[i]
	closer := byte('}')
	if c == '<' {
		closer = '>'
	}
	end := strings.IndexByte(seg[i+1:], closer)
	if end < 0 {
		return dst, i, pathErr(seg, fmt.Sprintf("unclosed %q", c))
	}
	inner := seg[i+1 : i+1+end]
	reserved := false
	if c == '{' && strings.HasPrefix(inner, "+") {
		reserved = true
		inner = inner[1:]
	}
	if err := checkPlaceholderName(seg, inner); err != nil {
		return dst, i, err
	}
	dst = append(dst, '{')
	if reserved {
		dst = append(dst, '+')
	}
	dst = append(dst, inner...)
	dst = append(dst, '}')
	return dst, i + end + 2, nil
}

// pathErr reports a bad segment. A query given as a segment (say, a
// download_url without its host) is shown without its values, which may be
// a token.
func pathErr(seg, why string) error {
	return fmt.Errorf("%w: segment %q: %s", ErrInvalidPath, redactQuery(seg), why)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isPathChar reports whether c may appear literally in a path segment
// (RFC 3986 pchar less pct-encoded, which is handled apart).
func isPathChar(c byte) bool {
	if isUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		return true
	}
	return false
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// checkPlaceholderName accepts names of letters, digits and underscores that
// do not collide with an option key.
func checkPlaceholderName(seg, name string) error {
	if name == "" {
		return pathErr(seg, "empty placeholder name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return pathErr(seg, fmt.Sprintf("placeholder name %q: use letters, digits and underscores", name))
		}
	}
	if isOptionKey(name) {
		return pathErr(seg, fmt.Sprintf("placeholder {%s} has the name of an option", name))
	}
	return nil
}

// appendPath normalises a '/'-separated run of segments onto dst (which
// holds the template so far, without a trailing '/'). A leading '/' on the
// first run of a chain is dropped; a trailing '/' is kept.
func appendPath(dst []byte, path string, first bool) ([]byte, error) {
	if first {
		path = strings.TrimPrefix(path, "/")
	}
	if path == "" {
		return dst, fmt.Errorf("%w: empty segment", ErrInvalidPath)
	}
	trailing := false
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		trailing = true
		path = path[:len(path)-1]
	}
	if !trailing && (path == emptySegment || strings.HasSuffix(path, "/"+emptySegment)) {
		// "_empty_" ends the path with a '/': after the segments before
		// it in path, or after those already in dst.
		path = strings.TrimSuffix(path[:len(path)-len(emptySegment)], "/")
		if path == "" {
			if len(dst) == 0 {
				return dst, pathErr(emptySegment, "it stands for a trailing slash, which needs a segment before it")
			}
			return append(dst, '/'), nil
		}
		trailing = true
	}
	for part := range strings.SplitSeq(path, "/") {
		if len(dst) > 0 {
			dst = append(dst, '/')
		}
		var err error
		if dst, err = appendSegment(dst, part); err != nil {
			return dst, err
		}
	}
	if trailing {
		dst = append(dst, '/')
	}
	return dst, nil
}

// placeholders calls fn for each placeholder of a normalised template.
func placeholders(tmpl string, fn func(name string, reserved bool)) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return
		}
		name := tmpl[i+1 : i+j]
		reserved := strings.HasPrefix(name, "+")
		if reserved {
			name = name[1:]
		}
		fn(name, reserved)
		tmpl = tmpl[i+j+1:]
	}
}

// hasPlaceholder reports whether tmpl has a placeholder called name.
func hasPlaceholder(tmpl, name string) bool {
	found := false
	placeholders(tmpl, func(n string, _ bool) {
		if n == name {
			found = true
		}
	})
	return found
}

// expand appends tmpl to dst with every placeholder replaced by its value
// from opts, percent-encoded as RFC 6570 simple expansion ({name}) or
// reserved expansion keeping '/' ({+name}).
func expand(dst []byte, tmpl string, opts Opts) ([]byte, error) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return append(dst, tmpl...), nil
		}
		dst = append(dst, tmpl[:i]...)
		j := strings.IndexByte(tmpl[i:], '}')
		name := tmpl[i+1 : i+j]
		tmpl = tmpl[i+j+1:]
		reserved := false
		if name[0] == '+' {
			reserved, name = true, name[1:]
		}
		v, err := placeholderValue(name, opts)
		if err != nil {
			return dst, err
		}
		if !reserved {
			if v == "." || v == ".." {
				return dst, fmt.Errorf("%w: placeholder {%s} value %q would be a dot segment", ErrInvalidOption, name, v)
			}
			dst = appendEscaped(dst, v, false)
			continue
		}
		if v[0] == '/' {
			return dst, fmt.Errorf("%w: placeholder {+%s} value %q starts with '/'", ErrInvalidOption, name, v)
		}
		for part := range strings.SplitSeq(v, "/") {
			if part == "" || part == "." || part == ".." {
				return dst, fmt.Errorf("%w: placeholder {+%s} value %q has an empty or dot segment", ErrInvalidOption, name, v)
			}
		}
		dst = appendEscaped(dst, v, true)
	}
}

const upperHex = "0123456789ABCDEF"

func appendEscaped(dst []byte, v string, keepSlash bool) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// placeholderValue returns the string form of opts[name] for a path.
func placeholderValue(name string, opts Opts) (string, error) {
	raw, ok := opts[name]
	if !ok || raw == nil {
		return "", fmt.Errorf("%w: no value for placeholder {%s}", ErrMissingParam, name)
	}
	s, ok := scalar(raw)
	if _, isBool := raw.(bool); !ok || isBool {
		return "", fmt.Errorf("%w: placeholder {%s} has a value of type %T, want a string, an integer or a fmt.Stringer", ErrInvalidOption, name, raw)
	}
	if s == "" {
		return "", fmt.Errorf("%w: empty value for placeholder {%s}", ErrMissingParam, name)
	}
	return s, nil
}
