package verifier_test

import (
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/verifier"
)

// FuzzVerify feeds arbitrary headers and bodies to Verify: it must never
// panic, and without the private key nothing may pass.
func FuzzVerify(f *testing.F) {
	f.Add("1700000000", "NONCE1234567890", "c2lnbmF0dXJl", serial, []byte(`{"status":"PROCESSING"}`))
	f.Add("", "", "", "", []byte{})
	f.Add("17e8", "n", "WECHATPAY/SIGNTEST/x", serial, []byte("x"))
	f.Add("-1", "n", "!!!!", "PUB_KEY_ID_X", []byte(nil))
	f.Fuzz(func(t *testing.T, ts, nonce, sig, ser string, body []byte) {
		v, good, goodBody := setup(t)
		v.Now = func() time.Time { return time.Unix(1700000000, 0) }
		h := verifier.Headers{Timestamp: ts, Nonce: nonce, Signature: sig, Serial: ser}
		err := v.Verify(h, body, nil)
		if err == nil && !(h == good && string(body) == string(goodBody)) {
			t.Fatalf("Verify accepted forged headers %+v over %q", h, body)
		}
	})
}
