package wxpay

// This file builds what a payer's device needs to start paying for an
// order placed with prepay_id in hand: the parameters of wx.requestPayment
// (mini programs), WeixinJSBridge getBrandWCPayRequest (JSAPI, in WeChat's
// browser) and the APP SDK's PayReq, signed with the merchant key. Nothing
// is sent.

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/wxpay-chain/wxpay/signer"
)

// PayParams are the parameters a JSAPI page (WeixinJSBridge.invoke
// "getBrandWCPayRequest") or a mini program (wx.requestPayment) starts a
// payment with. Encoded with encoding/json they have the field names and
// string types these APIs take; a mini program ignores appId, which is
// signed nonetheless.
type PayParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"` // seconds since the epoch, as a string
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"` // "prepay_id=" and the order's prepay_id
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// AppPayParams are the parameters an app starts a payment with through the
// WeChat SDK (PayReq on iOS and Android). Encoded with encoding/json they
// have the field names the SDK's documentation uses.
type AppPayParams struct {
	AppID     string `json:"appid"`
	PartnerID string `json:"partnerid"` // the merchant id; not signed
	PrepayID  string `json:"prepayid"`
	Package   string `json:"package"` // always "Sign=WXPay"
	NonceStr  string `json:"noncestr"`
	Timestamp string `json:"timestamp"`
	Sign      string `json:"sign"`
}

// JSAPIPayParams returns the parameters that start the payment of a JSAPI
// or mini-program order (POST v3/pay/transactions/jsapi, or its partner
// form) whose answer gave prepayID, for the app appID the order was placed
// for (a partner's order: sub_appid if given, else sp_appid). paySign is the
// base64 SHA256-RSA signature, with the merchant key, of
// "appId\ntimeStamp\nnonceStr\npackage\n", with a fresh 32-character nonce
// and the current time; signType is "RSA". Nothing is sent: hand the
// result to the page, which must use it before the prepay_id expires (two
// hours).
//
// https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_4.shtml
func (c *Client) JSAPIPayParams(appID, prepayID string) (PayParams, error) {
	if err := checkPayParam("appID", appID); err != nil {
		return PayParams{}, err
	}
	if err := checkPrepayID(prepayID); err != nil {
		return PayParams{}, err
	}
	p := PayParams{
		AppID:     appID,
		TimeStamp: strconv.FormatInt(c.now().Unix(), 10),
		NonceStr:  signer.Nonce(),
		Package:   "prepay_id=" + prepayID,
		SignType:  "RSA",
	}
	sig, err := c.paySign(p.AppID, p.TimeStamp, p.NonceStr, p.Package)
	if err != nil {
		return PayParams{}, err
	}
	p.PaySign = sig
	return p, nil
}

// AppPayParams returns the parameters that start the payment of an APP
// order (POST v3/pay/transactions/app, or its partner form) whose answer
// gave prepayID, for the mobile app appID the order was placed for. sign
// is the base64 SHA256-RSA signature, with the merchant key, of
// "appid\ntimestamp\nnoncestr\nprepayid\n", with a fresh 32-character nonce
// and the current time; partnerid is the client's merchant id (a partner
// sets it to the sub-merchant's, which is not signed), and package is
// "Sign=WXPay". Nothing is sent.
//
// https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_4.shtml
func (c *Client) AppPayParams(appID, prepayID string) (AppPayParams, error) {
	if err := checkPayParam("appID", appID); err != nil {
		return AppPayParams{}, err
	}
	if err := checkPrepayID(prepayID); err != nil {
		return AppPayParams{}, err
	}
	p := AppPayParams{
		AppID:     appID,
		PartnerID: c.mchID,
		PrepayID:  prepayID,
		Package:   "Sign=WXPay",
		NonceStr:  signer.Nonce(),
		Timestamp: strconv.FormatInt(c.now().Unix(), 10),
	}
	sig, err := c.paySign(p.AppID, p.Timestamp, p.NonceStr, p.PrepayID)
	if err != nil {
		return AppPayParams{}, err
	}
	p.Sign = sig
	return p, nil
}

// paySign returns the base64 signature, with the merchant key (the
// signer's backend: OpenSSL when loaded, or a remote crypto.Signer), of
// the four lines, each ended by a line feed.
func (c *Client) paySign(lines ...string) (string, error) {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	msg := make([]byte, 0, n)
	for _, l := range lines {
		msg = append(msg, l...)
		msg = append(msg, '\n')
	}
	sig, err := c.signer.Sign(msg)
	if err != nil {
		return "", fmt.Errorf("wxpay: pay sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// checkPayParam refuses an empty value, or one that would change the lines
// of the signed message or has no place in a client-side parameter:
// control characters and spaces.
func checkPayParam(name, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidOption, name)
	}
	if len(v) > 64 {
		return fmt.Errorf("%w: %s is %d bytes long, want at most 64", ErrInvalidOption, name, len(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return fmt.Errorf("%w: %s %q holds a space or a control character", ErrInvalidOption, name, clipTo(v, 64))
		}
	}
	return nil
}

// checkPrepayID checks the prepay_id of an order: the value only, as the
// order's answer gives it, not the package "prepay_id=...".
func checkPrepayID(id string) error {
	if strings.HasPrefix(id, "prepay_id=") {
		return fmt.Errorf("%w: prepayID %q: give the prepay_id value alone, without \"prepay_id=\"", ErrInvalidOption, clipTo(id, 64))
	}
	return checkPayParam("prepayID", id)
}
