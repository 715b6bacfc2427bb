package wxpay_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// signedErrorServer answers every request with 500 SYSTEM_ERROR. With sign
// it signs the answer with the test platform key, then, with corrupt, flips
// a bit of the signature; without sign it sends no Wechatpay-* header, as a
// gateway in front of WeChat Pay may.
func signedErrorServer(t *testing.T, sign, corrupt bool) (string, *atomic.Int64) {
	t.Helper()
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body := []byte(`{"code":"SYSTEM_ERROR","message":"系统错误"}`)
		if sign {
			stamp := strconv.FormatInt(time.Now().Unix(), 10)
			nonce := "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
			digest := sha256.Sum256(verifier.AppendMessage(nil, stamp, nonce, body))
			sig, err := rsa.SignPKCS1v15(nil, pk, crypto.SHA256, digest[:])
			if err != nil {
				panic(err)
			}
			if corrupt {
				sig[len(sig)/2] ^= 1
			}
			w.Header().Set(verifier.HeaderTimestamp, stamp)
			w.Header().Set(verifier.HeaderNonce, nonce)
			w.Header().Set(verifier.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
			w.Header().Set(verifier.HeaderSerial, platformSerial)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/", &hits
}

// DefaultCheckRetry never retries an error answer whose signature failed
// verification; an error answer that carries no signature at all is
// retried as its status says.
func TestRetryOfUnverifiedErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name          string
		sign, corrupt bool
		wantRequests  int64
		wantVerified  bool
		wantBadSigErr bool
	}{
		{"corrupt signature", true, true, 1, false, true},
		{"good signature", true, false, 3, true, false},
		{"no signature headers", false, false, 3, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := setup(t)
			base, hits := signedErrorServer(t, tc.sign, tc.corrupt)
			c := retryClient(t, srv, func(cfg *wxpay.Config) { cfg.BaseURL = base })
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-unverified")})
			var apiErr *wxpay.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != "SYSTEM_ERROR" {
				t.Fatalf("err = %v, want a SYSTEM_ERROR APIError", err)
			}
			if apiErr.Verified != tc.wantVerified {
				t.Errorf("Verified = %v, want %v", apiErr.Verified, tc.wantVerified)
			}
			if got := errors.Is(err, wxpay.ErrBadSignature); got != tc.wantBadSigErr {
				t.Errorf("errors.Is(err, ErrBadSignature) = %v, want %v", got, tc.wantBadSigErr)
			}
			if got := hits.Load(); got != tc.wantRequests {
				t.Errorf("sent %d times, want %d", got, tc.wantRequests)
			}
		})
	}
}
