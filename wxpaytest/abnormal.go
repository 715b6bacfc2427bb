package wxpaytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// bankTypes are the banks an abnormal refund may go to, with their names as
// they appear in user_received_account.
var bankTypes = []string{
	"CMB_DEBIT", "COMM_DEBIT", "ABC_DEBIT", "CCB_DEBIT", "ICBC_DEBIT",
	"BOC_DEBIT", "PAB_DEBIT", "SPDB_DEBIT", "CITIC_DEBIT", "CEB_DEBIT",
	"CMBC_DEBIT", "CIB_DEBIT", "GDB_DEBIT", "PSBC_DEBIT", "NBCB_DEBIT",
}

var bankNames = map[string]string{
	"CMB_DEBIT":   "招商银行",
	"COMM_DEBIT":  "交通银行",
	"ABC_DEBIT":   "农业银行",
	"CCB_DEBIT":   "建设银行",
	"ICBC_DEBIT":  "工商银行",
	"BOC_DEBIT":   "中国银行",
	"PAB_DEBIT":   "平安银行",
	"SPDB_DEBIT":  "浦发银行",
	"CITIC_DEBIT": "中信银行",
	"CEB_DEBIT":   "光大银行",
	"CMBC_DEBIT":  "民生银行",
	"CIB_DEBIT":   "兴业银行",
	"GDB_DEBIT":   "广发银行",
	"PSBC_DEBIT":  "邮储银行",
	"NBCB_DEBIT":  "宁波银行",
}

// MerchantReceivedAccount is the user_received_account of a refund sent to
// the merchant's bank account by an abnormal refund of type
// MERCHANT_BANK_CARD.
const MerchantReceivedAccount = "商户结算银行账户"

// abnormalRequest is a validated abnormal refund application.
type abnormalRequest struct {
	subMchID    string
	outRefundNo string
	typ         string
	bankType    string
	account     string // decrypted card number
	name        string // decrypted name
}

// key identifies the application without keeping the personal data.
func (q *abnormalRequest) key() string {
	h := sha256.Sum256([]byte(q.typ + "\x00" + q.bankType + "\x00" + q.account + "\x00" + q.name))
	return hex.EncodeToString(h[:])
}

// receivedAccount is where the money goes: "{bank}借记卡{last 4 digits}" or
// the merchant's account.
func (q *abnormalRequest) receivedAccount() string {
	if q.typ != "USER_BANK_CARD" {
		return MerchantReceivedAccount
	}
	return bankNames[q.bankType] + "借记卡" + q.account[len(q.account)-4:]
}

// applyAbnormalRefund is
// POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund, which
// direct merchants and partners share: sub_mchid is required for a
// sub-merchant's refund (a partner's call), and may be left out for a
// refund made without one (a direct merchant's).
func (s *Server) applyAbnormalRefund(c *call) (any, *apiError) {
	r, e := s.abnormalRefund(c, true)
	if e != nil {
		return nil, e
	}
	return r.domestic(), nil
}

// applyEcommerceAbnormalRefund is
// POST /v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund.
func (s *Server) applyEcommerceAbnormalRefund(c *call) (any, *apiError) {
	r, e := s.abnormalRefund(c, false)
	if e != nil {
		return nil, e
	}
	return r.ecommerce(), nil
}

// abnormalRefund validates and applies an abnormal refund application and
// returns a snapshot of the refund. With partnerSub, sub_mchid is required
// when the refund is a sub-merchant's.
func (s *Server) abnormalRefund(c *call, partnerSub bool) (*refund, *apiError) {
	refundID := c.params[0]
	if utf8.RuneCountInString(refundID) > 32 {
		return nil, paramError("path", "refund_id", nil, "is longer than 32 characters")
	}
	q, e := s.readAbnormal(c, false)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.findByID(refundID, q.subMchID)
	if e != nil {
		return nil, e
	}
	if partnerSub && q.subMchID == "" && r.SubMchID != "" {
		return nil, paramError("body", "/sub_mchid", nil, "is required: refund "+refundID+" is a sub-merchant's, and a partner names it")
	}
	if q.outRefundNo != r.OutRefundNo {
		return nil, invalidRequest(fmt.Sprintf("out_refund_no %s is not the out_refund_no of refund %s", q.outRefundNo, refundID))
	}
	key := q.key()
	if r.Status != StatusAbnormal {
		if r.abnormal == key {
			// The same application again: the same answer.
			snap := *r
			return &snap, nil
		}
		return nil, invalidRequest(fmt.Sprintf("refund %s is %s: only an ABNORMAL refund can be handled by an abnormal refund", refundID, r.Status))
	}
	r.Status = StatusProcessing
	r.Channel = "OTHER_BANKCARD"
	r.UserReceivedAccount = q.receivedAccount()
	r.AbnormalType = q.typ
	r.abnormal = key
	snap := *r
	return &snap, nil
}

// readAbnormal validates the body of an abnormal refund application and
// decrypts its sensitive fields with the platform key the Wechatpay-Serial
// header names.
func (s *Server) readAbnormal(c *call, subMchIDRequired bool) (*abnormalRequest, *apiError) {
	b := body(c.json)
	q := &abnormalRequest{}
	var e *apiError
	if q.subMchID, e = b.merchantID("sub_mchid", subMchIDRequired); e != nil {
		return nil, e
	}
	if _, e = b.str("individual_auth_id", false, 0); e != nil {
		return nil, e
	}
	if q.outRefundNo, e = b.str("out_refund_no", true, 64); e != nil {
		return nil, e
	}
	if q.typ, e = b.str("type", true, 0, abnormalRefundTypes...); e != nil {
		return nil, e
	}
	toUser := q.typ == "USER_BANK_CARD"
	if q.bankType, e = b.str("bank_type", false, 16, bankTypes...); e != nil {
		return nil, e
	}
	bankAccount, e := b.str("bank_account", false, 1024)
	if e != nil {
		return nil, e
	}
	realName, e := b.str("real_name", false, 1024)
	if e != nil {
		return nil, e
	}
	if toUser {
		for _, f := range []struct{ name, v string }{{"bank_type", q.bankType}, {"bank_account", bankAccount}, {"real_name", realName}} {
			if f.v == "" {
				return nil, paramError("body", "/"+f.name, nil, "is required when type is USER_BANK_CARD")
			}
		}
	}
	serial := c.r.Header.Get(verifier.HeaderSerial)
	for _, f := range []struct{ name, v string }{{"bank_account", bankAccount}, {"real_name", realName}} {
		if serial == "" && f.v != "" && !rsaenc.IsCiphertext(f.v) {
			return nil, plainText("body", "/"+f.name)
		}
	}
	if serial == "" && (bankAccount != "" || realName != "") {
		return nil, paramError("header", verifier.HeaderSerial, nil, "is required to name the WeChat Pay key bank_account and real_name are encrypted with")
	}
	if serial == "" {
		return q, nil
	}
	key, ok := s.platform[serial]
	if !ok {
		return nil, paramError("header", verifier.HeaderSerial, shortValue(serial), "is not the serial of a WeChat Pay key of this merchant")
	}
	if bankAccount != "" {
		pt, err := rsaenc.Decrypt(key, bankAccount)
		if err != nil {
			return nil, undecryptable(serial, bankAccount, "bank_account")
		}
		pt = strings.ReplaceAll(pt, " ", "")
		if !isCardNumber(pt) {
			return nil, paramError("body", "/bank_account", nil, "does not decrypt to a bank card number (8 to 32 digits)")
		}
		q.account = pt
	}
	if realName != "" {
		pt, err := rsaenc.Decrypt(key, realName)
		if err != nil {
			return nil, undecryptable(serial, realName, "real_name")
		}
		if strings.TrimSpace(pt) == "" || !utf8.ValidString(pt) {
			return nil, paramError("body", "/real_name", nil, "does not decrypt to a name")
		}
		q.name = pt
	}
	return q, nil
}

// isCardNumber reports whether s looks like a bank card number: 8 to 32
// digits.
func isCardNumber(s string) bool { return isDigits(s, 8, 32) }
