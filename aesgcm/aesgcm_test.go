package aesgcm_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/aesgcm"
)

// The golden vectors were computed independently of Go, with Python's
// cryptography package (OpenSSL's AES-GCM):
//
//	AESGCM(key).encrypt(nonce, plaintext, associated_data)
//
// AES-GCM is deterministic for a given key and nonce.
var (
	goldenKey   = []byte("0123456789abcdefghijklmnopqrstuv")
	goldenNonce = "sXbLq9mVz2Pa"
)

var golden = []struct {
	name, aad, plaintext, ciphertext string
}{
	{
		"refund resource", "refund",
		`{"mchid":"1900000109","out_refund_no":"R1","refund_status":"SUCCESS","user_received_account":"招商银行借记卡0403"}`,
		"ixZA1KtutQMeBKw7AEqf5039NBNoc2QrSktGnMSsfuESav7Nhgh18Os767xV9Wjhy0mOspSQiY3D4o8gbVoD9GdvLNXRtTFq1dfO1ElgaMZZtudCsYna0dNrSW8S9tFycWYILYXzNN65kMi/wa8xGIyBecLgXziO/oyIFDjkRkok5TO1+gyeF9g=",
	},
	{"empty", "", "", "ixfFa+HZWl3+cCTYgnOhgQ=="},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		got, err := aesgcm.Encrypt(goldenKey, goldenNonce, g.aad, []byte(g.plaintext))
		if err != nil || got != g.ciphertext {
			t.Errorf("%s: Encrypt = %q, %v, want %q", g.name, got, err, g.ciphertext)
		}
		plain, err := aesgcm.Decrypt(goldenKey, goldenNonce, g.aad, g.ciphertext)
		if err != nil || string(plain) != g.plaintext {
			t.Errorf("%s: Decrypt = %q, %v, want %q", g.name, plain, err, g.plaintext)
		}
	}
}

// flip changes one byte of the base64-decoded ciphertext at i.
func flip(t *testing.T, b64 string, i int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	b[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

func TestDecryptRejections(t *testing.T) {
	g := golden[0]
	otherKey := []byte(strings.Repeat("k", 32))
	for _, tc := range []struct {
		name                   string
		key                    []byte
		nonce, aad, ciphertext string
		want                   error
	}{
		{"short key", goldenKey[:16], goldenNonce, g.aad, g.ciphertext, aesgcm.ErrKeySize},
		{"long key", append(goldenKey, 'x'), goldenNonce, g.aad, g.ciphertext, aesgcm.ErrKeySize},
		{"no key", nil, goldenNonce, g.aad, g.ciphertext, aesgcm.ErrKeySize},
		{"short nonce", goldenKey, goldenNonce[:11], g.aad, g.ciphertext, aesgcm.ErrNonceSize},
		{"long nonce", goldenKey, goldenNonce + "x", g.aad, g.ciphertext, aesgcm.ErrNonceSize},
		{"not base64", goldenKey, goldenNonce, g.aad, "!!" + g.ciphertext, aesgcm.ErrCiphertext},
		{"url base64", goldenKey, goldenNonce, g.aad, strings.NewReplacer("+", "-", "/", "_").Replace(g.ciphertext), aesgcm.ErrCiphertext},
		{"shorter than tag", goldenKey, goldenNonce, g.aad, base64.StdEncoding.EncodeToString(make([]byte, 15)), aesgcm.ErrCiphertext},
		{"empty", goldenKey, goldenNonce, g.aad, "", aesgcm.ErrCiphertext},
		{"wrong key", otherKey, goldenNonce, g.aad, g.ciphertext, aesgcm.ErrAuthentication},
		{"other nonce", goldenKey, "sXbLq9mVz2Pb", g.aad, g.ciphertext, aesgcm.ErrAuthentication},
		{"other associated data", goldenKey, goldenNonce, "transaction", g.ciphertext, aesgcm.ErrAuthentication},
		{"no associated data", goldenKey, goldenNonce, "", g.ciphertext, aesgcm.ErrAuthentication},
		{"flipped first byte", goldenKey, goldenNonce, g.aad, flip(t, g.ciphertext, 0), aesgcm.ErrAuthentication},
		{"flipped tag", goldenKey, goldenNonce, g.aad, flip(t, g.ciphertext, len(g.plaintext)+3), aesgcm.ErrAuthentication},
		{"tag only", goldenKey, goldenNonce, g.aad, base64.StdEncoding.EncodeToString(make([]byte, 16)), aesgcm.ErrAuthentication},
	} {
		plain, err := aesgcm.Decrypt(tc.key, tc.nonce, tc.aad, tc.ciphertext)
		if !errors.Is(err, tc.want) || plain != nil {
			t.Errorf("%s: Decrypt = %q, %v, want %v", tc.name, plain, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), string(goldenKey)) || strings.Contains(err.Error(), string(otherKey))) {
			t.Errorf("%s: error %q holds the key", tc.name, err)
		}
	}
}

func TestEncryptRejections(t *testing.T) {
	if _, err := aesgcm.Encrypt(goldenKey[:31], goldenNonce, "", nil); !errors.Is(err, aesgcm.ErrKeySize) {
		t.Errorf("Encrypt(31-byte key) = %v, want ErrKeySize", err)
	}
	if _, err := aesgcm.Encrypt(goldenKey, "short", "", nil); !errors.Is(err, aesgcm.ErrNonceSize) {
		t.Errorf("Encrypt(5-byte nonce) = %v, want ErrNonceSize", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 1000} {
		plain := []byte(strings.Repeat("退", n))
		ct, err := aesgcm.Encrypt(goldenKey, goldenNonce, "refund", plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := aesgcm.Decrypt(goldenKey, goldenNonce, "refund", ct)
		if err != nil || string(got) != string(plain) {
			t.Errorf("round trip of %d bytes = %d bytes, %v", len(plain), len(got), err)
		}
	}
}

// The key is a []byte: convert the APIv3 key string (wxpay.Config.APIv3Key).
func ExampleDecrypt() {
	apiv3Key := "0123456789abcdefghijklmnopqrstuv"
	ciphertext, _ := aesgcm.Encrypt([]byte(apiv3Key), "sXbLq9mVz2Pa", "refund", []byte(`{"refund_status":"SUCCESS"}`))

	plain, err := aesgcm.Decrypt([]byte(apiv3Key), "sXbLq9mVz2Pa", "refund", ciphertext)
	fmt.Println(string(plain), err)
	// Output: {"refund_status":"SUCCESS"} <nil>
}
