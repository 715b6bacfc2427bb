package rsaenc

import (
	"encoding/base64"
	"strings"
)

// IsCiphertext reports whether s has the form of a ciphertext Encrypt
// returns for a WeChat Pay key: the standard base64 encoding, padded, of
// exactly 256, 384 or 512 bytes, the size of the modulus of a 2048-, 3072-
// or 4096-bit RSA key (WeChat Pay's keys have 2048 bits). Line breaks (\r
// and \n) are ignored, as Decrypt ignores them. Every ciphertext of such a
// key has this form; text that does not is plain text, which no key
// decrypts. IsCiphertext cannot tell whether s decrypts, nor under which
// key: it is the test of a sensitive field sent without being encrypted,
// made where no private key is at hand.
func IsCiphertext(s string) bool {
	n := len(s)
	if n < 344 { // the base64 of 256 bytes: plain values stop here
		return false
	}
	n -= strings.Count(s, "\n") + strings.Count(s, "\r")
	if n != 344 && n != 512 && n != 684 {
		return false
	}
	var buf [768]byte
	ct, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(s))
	return err == nil && (len(ct) == 256 || len(ct) == 384 || len(ct) == 512)
}
