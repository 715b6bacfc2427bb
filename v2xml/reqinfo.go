package v2xml

import (
	"crypto/aes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrDecrypt is returned by DecryptReqInfo for a req_info that is not
// base64, not a whole number of AES blocks, or whose padding does not check
// (the APIv2 key is not the one WeChat Pay encrypted it with).
var ErrDecrypt = errors.New("v2xml: req_info does not decrypt")

// reqInfoKey returns the AES-256 key of req_info: the lower-case
// hexadecimal MD5 digest of the APIv2 key, 32 ASCII bytes.
func reqInfoKey(secret string) []byte {
	sum := md5.Sum([]byte(secret))
	k := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(k, sum[:])
	return k
}

// DecryptReqInfo decrypts the req_info of an APIv2 refund notification:
// base64 of AES-256-ECB with PKCS#7 padding, keyed with the lower-case
// hexadecimal MD5 digest of the APIv2 key secret. It returns the decoded
// <root> document. A ciphertext that does not decrypt is an error wrapping
// ErrDecrypt; a plaintext that is not a flat document one wrapping
// ErrMalformed.
//
// ECB carries no authentication: a req_info that decrypts proves only that
// its author knew the key or reused blocks of an earlier notification.
// Confirm the refund with pay/refundquery before acting on it.
func DecryptReqInfo(reqInfo, secret string) (map[string]string, error) {
	ct, err := base64.StdEncoding.DecodeString(reqInfo)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 || len(ct) > MaxSize {
		return nil, fmt.Errorf("%w: not base64 of whole AES blocks", ErrDecrypt)
	}
	block, err := aes.NewCipher(reqInfoKey(secret))
	if err != nil {
		return nil, ErrDecrypt
	}
	pt := make([]byte, len(ct))
	for i := 0; i < len(ct); i += aes.BlockSize {
		block.Decrypt(pt[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
	}
	// Check the PKCS#7 padding without branching on its bytes.
	n := int(pt[len(pt)-1])
	good := subtle.ConstantTimeLessOrEq(1, n) & subtle.ConstantTimeLessOrEq(n, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, n)
		match := subtle.ConstantTimeByteEq(pt[len(pt)-i], byte(n))
		good &= match | (inPad ^ 1)
	}
	if good != 1 {
		return nil, fmt.Errorf("%w: bad padding (wrong APIv2 key?)", ErrDecrypt)
	}
	return Decode(pt[:len(pt)-n])
}

// EncryptReqInfo encodes m as a <root> document and encrypts it the way
// WeChat Pay encrypts the req_info of a refund notification. It is meant
// for emulators and tests.
func EncryptReqInfo(m map[string]string, secret string) (string, error) {
	pt, err := AppendEncode(nil, "root", m)
	if err != nil {
		return "", err
	}
	n := aes.BlockSize - len(pt)%aes.BlockSize
	for range n {
		pt = append(pt, byte(n))
	}
	block, err := aes.NewCipher(reqInfoKey(secret))
	if err != nil {
		return "", err
	}
	for i := 0; i < len(pt); i += aes.BlockSize {
		block.Encrypt(pt[i:i+aes.BlockSize], pt[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(pt), nil
}
