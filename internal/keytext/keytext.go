// Package keytext tells key text from file names in settings that may hold
// either (a private key setting holds "apiclient_key.pem", or the PEM text,
// or the bare base64 body of the key), and decides which such values an
// error message may quote.
//
// The rule, documented in rsaenc and docs/config.md: a value is key text when
// it holds a PEM header ("-----BEGIN"), a line break, more than MaxPathLen
// bytes, or the base64 encoding of one DER structure; anything else is a file
// name. A file name is quoted in an error only when it cannot be a piece of
// a key (see Showable).
package keytext

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPathLen is the length above which a value is key text, not a file
// name: a 2048-bit private key is over 1,600 base64 characters.
const MaxPathLen = 512

// maxShown is the longest file name an error quotes.
const maxShown = 256

// run is the length of a run of base64 characters, '/' included, that may be
// key material; nameRun is the same within the last path element, where
// no '/' breaks it: short enough that an APIv3 key (32 characters) given
// where a key file is expected is never quoted.
const (
	run     = 40
	nameRun = 24
)

// IsKeyText reports whether s holds a key or certificate itself rather than
// the name of a file.
func IsKeyText(s string) bool {
	return strings.Contains(s, "-----BEGIN") || strings.ContainsAny(s, "\r\n") ||
		len(s) > MaxPathLen || DERFromBase64([]byte(s)) != nil
}

// DERFromBase64 returns the bytes data encodes when data is the base64
// encoding (standard alphabet, padded or not, whitespace and line breaks
// anywhere) of exactly one DER structure, as a key or certificate body is;
// otherwise it returns nil.
func DERFromBase64(data []byte) []byte {
	compact := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, data)
	if len(compact) < 4 {
		return nil
	}
	enc := base64.StdEncoding
	if compact[len(compact)-1] != '=' && len(compact)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	der := make([]byte, enc.DecodedLen(len(compact)))
	n, err := enc.Decode(der, compact)
	if err != nil || !isDERSequence(der[:n]) {
		return nil
	}
	return der[:n]
}

// isDERSequence reports whether b is one DER SEQUENCE whose length covers
// exactly the rest of b.
func isDERSequence(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	n, off := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		off += k
	}
	return n == len(b)-off
}

// Showable reports whether an error may quote s, a value taken for a file
// name that could not be read. It may not when s could be a piece of a key
// (or be the APIv3 key given in the wrong setting): when it is long, holds
// control characters or PEM dashes, holds 24 base64 characters in a row in
// its last path element (the digits of a public key id after PUB_KEY_ID_
// aside), or 40 in a row ('/' included) anywhere, unless
// that run does not lie within the last path element and the directory s
// names exists (a long path whose file is missing).
func Showable(s string) bool {
	if s == "" || len(s) > maxShown || !utf8.ValidString(s) || strings.Contains(s, "-----") {
		return false
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return false
	}
	if longRun(withoutKeyIDs(s[strings.LastIndexByte(s, '/')+1:]), false, nameRun) {
		return false
	}
	if longRun(s, true, run) {
		st, err := os.Stat(filepath.Dir(s))
		return err == nil && st.IsDir()
	}
	return true
}

// keyIDPrefix starts the id of a WeChat Pay public key
// ("PUB_KEY_ID_0114232134912410000000000000"), which a file holding the key
// is often named after.
const keyIDPrefix = "PUB_KEY_ID_"

// withoutKeyIDs returns name with the digits of each public key id in it
// cut: an id is no piece of a key, and '_' is no base64 character. A run
// after the prefix that holds anything but digits is kept.
func withoutKeyIDs(name string) string {
	var b strings.Builder
	for {
		i := strings.Index(name, keyIDPrefix)
		if i < 0 {
			return b.String() + name
		}
		b.WriteString(name[:i+len(keyIDPrefix)])
		name = name[i+len(keyIDPrefix):]
		j := 0
		for j < len(name) && '0' <= name[j] && name[j] <= '9' {
			j++
		}
		if j == len(name) || !isBase64(name[j], false) {
			name = name[j:] // the whole run is digits
		}
	}
}

// longRun reports whether s holds a run of n base64 characters, counting
// '/' as one when slash is set.
func longRun(s string, slash bool, n int) bool {
	k := 0
	for i := 0; i < len(s); i++ {
		if isBase64(s[i], slash) {
			if k++; k >= n {
				return true
			}
		} else {
			k = 0
		}
	}
	return false
}

// isBase64 reports whether c is a base64 character ('=' included), '/'
// only when slash is set.
func isBase64(c byte, slash bool) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '=' || slash && c == '/'
}
