// Package v2xml encodes, decodes, signs and decrypts the messages of the
// WeChat Pay APIv2 (微信支付 APIv2): flat XML documents
//
//	<xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid><total_fee>1</total_fee>...</xml>
//
// whose values are text, signed with MD5 or HMAC-SHA256 under the merchant's
// APIv2 key (Sign, Verify), and the AES-256-ECB encrypted req_info of refund
// notifications (DecryptReqInfo).
//
// Decode reads untrusted input: it refuses DOCTYPE and ENTITY declarations
// (so no entity is ever expanded, internal or external), nested elements,
// duplicate keys, text outside the elements and documents larger than
// MaxSize.
//
// The package depends only on the standard library.
package v2xml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxSize is the largest document Decode reads, 1 MiB. APIv2 answers and
// notifications are a few kilobytes.
const MaxSize = 1 << 20

// Errors returned by Decode, matched with errors.Is. Their messages name
// elements but never hold values.
var (
	// ErrMalformed: the document is not a flat XML document.
	ErrMalformed = errors.New("v2xml: malformed document")
	// ErrDeclaration: the document holds a DOCTYPE, ENTITY or other <!...>
	// declaration, the vehicle of entity expansion ("billion laughs") and
	// external entity attacks. It wraps ErrMalformed.
	ErrDeclaration = fmt.Errorf("%w: declarations (DOCTYPE, ENTITY) are not allowed", ErrMalformed)
	// ErrTooLarge: the document is larger than MaxSize. It wraps
	// ErrMalformed.
	ErrTooLarge = fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
)

// ErrInvalid is returned by Encode for a key that is not an XML name or a
// value that XML cannot carry (invalid UTF-8, control characters).
var ErrInvalid = errors.New("v2xml: cannot encode")

// Encode returns m as an APIv2 document: <xml>, then one element per key in
// byte order of the keys, then </xml>. A value of decimal digits is written
// as is, any other non-empty value in a CDATA section (split where it holds
// "]]>"), or as escaped text when it holds a carriage return, which a CDATA
// section cannot carry unchanged.
func Encode(m map[string]string) ([]byte, error) {
	return AppendEncode(nil, "xml", m)
}

// AppendEncode appends m as a document with root element root ("xml" for
// requests and answers, "root" for the plaintext of a req_info) to dst.
func AppendEncode(dst []byte, root string, m map[string]string) ([]byte, error) {
	if !validName(root) {
		return dst, fmt.Errorf("%w: root %q is not an XML name", ErrInvalid, root)
	}
	keys := make([]string, 0, len(m))
	size := 16
	for k, v := range m {
		keys = append(keys, k)
		size += 2*len(k) + len(v) + 16
	}
	sort.Strings(keys)
	if cap(dst)-len(dst) < size {
		dst = append(make([]byte, 0, len(dst)+size), dst...)
	}
	dst = append(dst, '<')
	dst = append(dst, root...)
	dst = append(dst, '>')
	for _, k := range keys {
		v := m[k]
		if !validName(k) {
			return dst, fmt.Errorf("%w: key %q is not an XML name", ErrInvalid, truncate(k))
		}
		if !validText(v) {
			return dst, fmt.Errorf("%w: value of %s holds invalid UTF-8 or a character XML cannot carry", ErrInvalid, k)
		}
		dst = append(dst, '<')
		dst = append(dst, k...)
		dst = append(dst, '>')
		dst = appendValue(dst, v)
		dst = append(dst, "</"...)
		dst = append(dst, k...)
		dst = append(dst, '>')
	}
	dst = append(dst, "</"...)
	dst = append(dst, root...)
	return append(dst, '>'), nil
}

func appendValue(dst []byte, v string) []byte {
	switch {
	case v == "":
		return dst
	case digitsOnly(v):
		return append(dst, v...)
	case strings.IndexByte(v, '\r') >= 0:
		// XML parsers turn "\r\n" into "\n", also inside CDATA; only a
		// character reference keeps a carriage return.
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(v))
		return append(dst, b.Bytes()...)
	}
	dst = append(dst, "<![CDATA["...)
	for {
		i := strings.Index(v, "]]>")
		if i < 0 {
			break
		}
		// End the section between "]]" and ">" and open a new one.
		dst = append(dst, v[:i+2]...)
		dst = append(dst, "]]><![CDATA["...)
		v = v[i+2:]
	}
	dst = append(dst, v...)
	return append(dst, "]]>"...)
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validName accepts the element names APIv2 uses: an ASCII letter or '_',
// then letters, digits, '_', '-' and '.'.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// validText reports whether s is UTF-8 made of XML characters.
func validText(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
		i += n
	}
	return true
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Decode reads a flat document, <xml><key>value</key>...</xml> (any root
// name, "root" for a decrypted req_info), into a map of each child
// element's name to its text, CDATA sections and character references
// resolved. Attributes and comments are ignored.
//
// It refuses, with an error wrapping ErrMalformed: a document larger than
// MaxSize (ErrTooLarge); any <!DOCTYPE>, <!ENTITY> or other declaration
// (ErrDeclaration), so that no entity is expanded; a reference to an entity
// other than the five predefined ones; an encoding other than UTF-8; an
// element inside a child element; a key given twice; text or elements
// outside the root; and anything that is not well-formed XML.
func Decode(doc []byte) (map[string]string, error) {
	if len(doc) > MaxSize {
		return nil, ErrTooLarge
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	// d.Entity stays nil and d.CharsetReader too: only &lt; &gt; &amp;
	// &apos; &quot; and character references are known, and only UTF-8
	// is read.
	malformed := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
	var (
		m     map[string]string
		depth int // 0 outside the root, 1 in it, 2 in a child
		done  bool
		key   string
		val   []byte
		first = true
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !done {
				return nil, malformed("no complete root element")
			}
			return m, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, malformed("line %d: %s", se.Line, se.Msg)
			}
			return nil, malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, ErrDeclaration
		case xml.ProcInst:
			if !first || depth != 0 || t.Target != "xml" {
				return nil, malformed("processing instruction <?%s?> is not allowed", truncate(t.Target))
			}
		case xml.Comment:
		case xml.CharData:
			switch depth {
			case 2:
				val = append(val, t...)
			default:
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, malformed("text outside the child elements")
				}
			}
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, malformed("element %s:%s has a namespace prefix", truncate(t.Name.Space), truncate(t.Name.Local))
			}
			switch depth {
			case 0:
				if done {
					return nil, malformed("a second root element <%s>", truncate(t.Name.Local))
				}
				m = map[string]string{}
			case 1:
				key, val = t.Name.Local, val[:0]
				if _, dup := m[key]; dup {
					return nil, malformed("element <%s> given twice", truncate(key))
				}
			default:
				return nil, malformed("element <%s> inside <%s>: want a flat document", truncate(t.Name.Local), truncate(key))
			}
			depth++
		case xml.EndElement:
			depth--
			switch depth {
			case 1:
				m[key] = string(val)
			case 0:
				done = true
			}
		}
		first = false
	}
}
