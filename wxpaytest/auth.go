package wxpaytest

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// signError returns a 401 SIGN_ERROR with the reason.
func signError(format string, a ...any) *apiError {
	return newError(http.StatusUnauthorized, CodeSignError, fmt.Sprintf(format, a...))
}

// authenticate checks the Authorization header of r as WeChat Pay does:
// the scheme and its five parameters, the merchant id, the merchant
// certificate serial, the timestamp within MaxSkew of the emulator's clock,
// the SHA256withRSA signature over
// METHOD\nREQUEST_URI\nTIMESTAMP\nNONCE\nBODY\n with the raw request URI and
// the exact body bytes, and last the nonce, which must not have been seen in
// a valid request within the window. The nonce is remembered only once the
// signature has checked, so a forged request cannot burn a nonce.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	h := r.Header.Values("Authorization")
	switch len(h) {
	case 0:
		return signError("Authorization header is missing")
	case 1:
	default:
		return signError("Authorization header is repeated")
	}
	a, err := signer.ParseAuthorization(h[0])
	if err != nil {
		return signError("Authorization header is malformed: %v", err)
	}
	if a.MchID != s.MchID {
		return signError("mchid %q in Authorization is not the merchant %s", a.MchID, s.MchID)
	}
	if a.Serial != s.MerchantSerial {
		return signError("serial_no %q in Authorization is not the merchant API certificate serial", a.Serial)
	}
	ts, err := strconv.ParseInt(a.Timestamp, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != a.Timestamp {
		return signError("timestamp %q in Authorization is not a unix time in seconds", a.Timestamp)
	}
	now := s.now().Unix()
	limit := int64(MaxSkew.Seconds())
	if d := now - ts; d > limit || d < -limit {
		return signError("timestamp in Authorization is %d s from the server time (limit %d s)", d, limit)
	}
	if a.Nonce == "" || len(a.Nonce) > 64 {
		return signError("nonce_str in Authorization must have 1 to 64 characters")
	}
	msg := signer.AppendMessage(nil, r.Method, r.RequestURI, ts, a.Nonce, body)
	if err := verifier.VerifySignature(&s.MerchantKey.PublicKey, msg, a.Signature); err != nil {
		return signError("signature in Authorization does not verify with the merchant key over method, request URI %q, timestamp, nonce and body", r.RequestURI)
	}
	if !s.useNonce(a.MchID, a.Nonce, ts+limit, now) {
		return signError("nonce_str in Authorization was already used within %d s: request replayed", limit)
	}
	return nil
}

// useNonce records a nonce and reports whether it was new. expire is the
// unix time after which the nonce's request would be refused anyway.
func (s *Server) useNonce(mchID, nonce string, expire, now int64) bool {
	key := mchID + "\x00" + nonce
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.nonces[key]; ok && exp >= now {
		return false
	}
	s.nonces[key] = expire
	s.nonceN++
	if s.nonceN >= 1024 {
		s.nonceN = 0
		for k, exp := range s.nonces {
			if exp < now {
				delete(s.nonces, k)
			}
		}
	}
	return true
}
