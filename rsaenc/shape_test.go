package rsaenc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

// TestIsCiphertext: what Encrypt returns for 2048-, 3072- and 4096-bit keys
// is a ciphertext, with line breaks too; plain values, base64 of other
// lengths, unpadded, URL-safe or corrupted base64 are not.
func TestIsCiphertext(t *testing.T) {
	for _, bits := range []int{2048, 3072, 4096} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := rsaenc.Encrypt(&k.PublicKey, "6214830000001234")
		if err != nil {
			t.Fatal(err)
		}
		wrapped := ""
		for i := 0; i < len(ct); i += 64 {
			wrapped += ct[i:min(i+64, len(ct))] + "\r\n"
		}
		if pt, err := rsaenc.Decrypt(k, wrapped); err != nil || pt != "6214830000001234" {
			t.Fatalf("%d bits: Decrypt of the wrapped ciphertext: %q, %v", bits, pt, err)
		}
		for _, s := range []string{ct, wrapped} {
			if !rsaenc.IsCiphertext(s) {
				t.Errorf("%d bits: IsCiphertext(%.20q...) = false, want true", bits, s)
			}
		}
		for name, s := range map[string]string{
			"unpadded":     strings.TrimRight(ct, "="),
			"url-safe":     base64.URLEncoding.EncodeToString(mustDecode(t, ct)),
			"one byte cut": base64.StdEncoding.EncodeToString(mustDecode(t, ct)[1:]),
			"a space":      ct[:100] + " " + ct[100:],
			"a bad char":   ct[:100] + "*" + ct[101:],
		} {
			if name == "unpadded" && s == ct || name == "url-safe" && !strings.ContainsAny(s, "-_") {
				continue // 384 bytes need no padding; a ciphertext without + or /
			}
			if rsaenc.IsCiphertext(s) {
				t.Errorf("%d bits, %s: IsCiphertext = true, want false", bits, name)
			}
		}
	}
	for _, s := range []string{
		"", "6214830000001234", "张三", "NjIxNDgzMDAwMDAwMTIzNA==",
		base64.StdEncoding.EncodeToString(make([]byte, 255)),
		base64.StdEncoding.EncodeToString(make([]byte, 257)),
		base64.StdEncoding.EncodeToString(make([]byte, 1024)),
		strings.Repeat("张", 200),
	} {
		if rsaenc.IsCiphertext(s) {
			t.Errorf("IsCiphertext(%.30q) = true, want false", s)
		}
	}
	if !rsaenc.IsCiphertext(base64.StdEncoding.EncodeToString(make([]byte, 256))) {
		t.Error("IsCiphertext(base64 of 256 bytes) = false: the form is all it checks")
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// IsCiphertext allocates nothing: it runs on every sensitive field of a
// checked call.
func TestIsCiphertextAllocs(t *testing.T) {
	ct := base64.StdEncoding.EncodeToString(make([]byte, 256))
	if n := testing.AllocsPerRun(100, func() { _ = rsaenc.IsCiphertext(ct) }); n != 0 {
		t.Errorf("IsCiphertext allocates %v times, want 0", n)
	}
}

func BenchmarkIsCiphertext(b *testing.B) {
	ct := base64.StdEncoding.EncodeToString(make([]byte, 256))
	for b.Loop() {
		_ = rsaenc.IsCiphertext(ct)
	}
}
