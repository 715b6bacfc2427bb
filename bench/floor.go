package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"strconv"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// The crypto floors do the two RSA operations of a call and nothing else:
// SHA-256 and an RSA-2048 PKCS#1 v1.5 signature over a request message
// holding a body of the configured size, then SHA-256 and a verification of
// a signature over a typical response message. No HTTP, no JSON, no
// base64. A client's CPU per call can come near the floor of its backend,
// never below it.

// floorMessages returns a request message with a body of about bodySize
// bytes, and a response message with its signature by the platform key.
func floorMessages(bodySize int, platform *rsa.PrivateKey) (req, resp, respSig []byte) {
	body := []byte(`{"out_refund_no":"` + outRefundNo + `","sub_mchid":"` + subMchID + `","type":"` + refundType + `"`)
	if p := padding(bodySize); p != "" {
		body = append(body, `,"padding":"`+p+`"`...)
	}
	body = append(body, '}')
	req = signer.AppendMessage(nil, "POST", "/"+callPath, time.Now().Unix(), signer.Nonce(), body)
	respBody := []byte(`{"refund_id":"` + refundID + `","out_refund_no":"` + outRefundNo + `","transaction_id":"1217752501201407033233368018","out_trade_no":"1217752501201407033233368018","channel":"OTHER_BANKCARD","user_received_account":"商户结算银行账户","success_time":"","create_time":"2026-11-23T13:00:00+08:00","status":"PROCESSING","funds_account":"AVAILABLE","amount":{"total":888,"refund":888,"from":[],"payer_total":888,"payer_refund":888,"settlement_refund":888,"settlement_total":888,"discount_refund":0,"currency":"CNY"}}`)
	resp = verifier.AppendMessage(nil, strconv.FormatInt(time.Now().Unix(), 10), signer.Nonce(), respBody)
	d := sha256.Sum256(resp)
	sig, err := rsa.SignPKCS1v15(nil, platform, crypto.SHA256, d[:])
	if err != nil {
		panic(err)
	}
	return req, resp, sig
}

// goFloor signs and verifies with crypto/rsa directly.
type goFloor struct {
	priv          *rsa.PrivateKey
	pub           *rsa.PublicKey
	req, resp, rs []byte
}

func (f *goFloor) call(context.Context) error {
	d := sha256.Sum256(f.req)
	if _, err := rsa.SignPKCS1v15(nil, f.priv, crypto.SHA256, d[:]); err != nil {
		return err
	}
	d = sha256.Sum256(f.resp)
	return rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, d[:], f.rs)
}

func (f *goFloor) describe() string {
	return "crypto/rsa SignPKCS1v15 + VerifyPKCS1v15, SHA-256 included"
}

// opensslFloor signs and verifies with libcrypto through wxpay's
// internal/rsabackend (github.com/golang-fips/openssl/v2), the path the
// wxpay client takes with WXPAY_CRYPTO=openssl.
type opensslFloor struct {
	sk            *rsabackend.SigningKey
	pub           *rsa.PublicKey
	req, resp, rs []byte
}

func (f *opensslFloor) call(context.Context) error {
	d := sha256.Sum256(f.req)
	if _, err := f.sk.SignSHA256(d[:]); err != nil {
		return err
	}
	d = sha256.Sum256(f.resp)
	return rsabackend.VerifySHA256(f.pub, d[:], f.rs)
}

func (f *opensslFloor) describe() string {
	return "libcrypto via rsabackend: " + rsabackend.Description()
}

// newFloor returns the floor for backend "go" or "openssl". platformKey is
// the emulator's private platform key, used once to make the response
// signature to verify.
func newFloor(backend string, k *keys, bodySize int, platformKey *rsa.PrivateKey) (caller, error) {
	req, resp, rs := floorMessages(bodySize, platformKey)
	if backend == rsabackend.Go {
		k.merchant.Precompute()
		return &goFloor{priv: k.merchant, pub: &platformKey.PublicKey, req: req, resp: resp, rs: rs}, nil
	}
	if err := rsabackend.Use(rsabackend.OpenSSL); err != nil {
		return nil, err
	}
	sk, err := rsabackend.NewSigningKey(k.merchant)
	if err != nil {
		return nil, err
	}
	f := &opensslFloor{sk: sk, pub: &platformKey.PublicKey, req: req, resp: resp, rs: rs}
	return f, f.call(context.Background())
}
