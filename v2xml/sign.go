package v2xml

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
)

// The sign types (sign_type) of APIv2.
const (
	MD5        = "MD5"         // the default when sign_type is absent
	HMACSHA256 = "HMAC-SHA256" // HMAC-SHA256 keyed with the APIv2 key
)

// Errors of Sign and Verify, matched with errors.Is.
var (
	// ErrSignType: sign_type is neither MD5 nor HMAC-SHA256.
	ErrSignType = errors.New("v2xml: unknown sign_type")
	// ErrNoSign: the document has no sign.
	ErrNoSign = errors.New("v2xml: no sign")
	// ErrBadSign: the sign does not match the document.
	ErrBadSign = errors.New("v2xml: sign does not match")
)

// AppendMessage appends the string APIv2 signs to dst: every key of m but
// "sign" whose value is not empty, in byte order, as key=value joined by
// '&', then "&key=" and the APIv2 key. Values are taken as they are, not
// URL-encoded.
func AppendMessage(dst []byte, m map[string]string, secret string) []byte {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst = append(dst, k...)
		dst = append(dst, '=')
		dst = append(dst, m[k]...)
		dst = append(dst, '&')
	}
	dst = append(dst, "key="...)
	return append(dst, secret...)
}

// digest returns the raw MD5 or HMAC-SHA256 digest of m's message.
func digest(m map[string]string, signType, secret string) ([]byte, error) {
	var h hash.Hash
	switch signType {
	case MD5, "":
		h = md5.New()
	case HMACSHA256:
		h = hmac.New(sha256.New, []byte(secret))
	default:
		return nil, fmt.Errorf("%w %q: want MD5 or HMAC-SHA256", ErrSignType, truncate(signType))
	}
	h.Write(AppendMessage(make([]byte, 0, 512), m, secret))
	return h.Sum(nil), nil
}

// Sign returns the sign of m: the upper-case hexadecimal MD5 digest of its
// message (see AppendMessage), or its HMAC-SHA256 keyed with secret, for
// signType MD5 (or "") and HMACSHA256. m's own "sign" is left out.
func Sign(m map[string]string, signType, secret string) (string, error) {
	d, err := digest(m, signType, secret)
	if err != nil {
		return "", err
	}
	var out [64]byte
	hex.Encode(out[:], d)
	for i := range out[:2*len(d)] {
		if c := out[i]; c >= 'a' && c <= 'f' {
			out[i] = c - ('a' - 'A')
		}
	}
	return string(out[:2*len(d)]), nil
}

// Verify checks m["sign"] against the rest of m, in constant time. signType
// names the algorithm; if empty, it follows the sign's length, as WeChat
// Pay's SDKs do: HMAC-SHA256 for 64 hexadecimal digits, MD5 otherwise. The
// sign may be in either case. It returns nil, or an error wrapping
// ErrNoSign, ErrBadSign or ErrSignType.
func Verify(m map[string]string, signType, secret string) error {
	sign, ok := m["sign"]
	if !ok || sign == "" {
		return ErrNoSign
	}
	if signType == "" {
		signType = MD5
		if len(sign) == 2*sha256.Size {
			signType = HMACSHA256
		}
	}
	want, err := digest(m, signType, secret)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(sign)
	if err != nil || len(got) != len(want) {
		return fmt.Errorf("%w: not %d hexadecimal digits (%s)", ErrBadSign, 2*len(want), signType)
	}
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w (%s)", ErrBadSign, signType)
	}
	return nil
}
