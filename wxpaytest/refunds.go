package wxpaytest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Refund states, as WeChat Pay names them.
const (
	StatusSuccess    = "SUCCESS"    // refunded
	StatusClosed     = "CLOSED"     // closed without refunding
	StatusProcessing = "PROCESSING" // accepted, in progress
	StatusAbnormal   = "ABNORMAL"   // the original account refused the money
)

// The refund every new Server holds, in the ABNORMAL state, so that the
// literal examples of the WeChat Pay documents work verbatim. It is reachable
// from the domestic and the e-commerce endpoints alike.
const (
	FixtureRefundID      = "50000000382019052709732678859"
	FixtureOutRefundNo   = "1217752501201407033233368018"
	FixtureTransactionID = "1217752501201407033233368018"
	FixtureOutTradeNo    = "1217752501201407033233368018"
	FixtureSubMchID      = "1900000109"
	FixtureAmount        = 888 // fen, both the order total and the refund
)

// AbnormalPrefix starts the out_refund_no of refunds the emulator creates in
// the ABNORMAL state instead of PROCESSING, a test convention.
const AbnormalPrefix = "ABNORMAL"

// maxRefundsPerTrade is how many refunds one order may have.
const maxRefundsPerTrade = 50

// cst is China Standard Time, the zone of WeChat Pay's timestamps.
var cst = time.FixedZone("CST", 8*3600)

// FundsFrom is one funding account of a refund and the amount it pays.
type FundsFrom struct {
	Account string `json:"account"`
	Amount  int64  `json:"amount"`
}

// RefundAmount is the money of a refund, in fen.
type RefundAmount struct {
	Total            int64 // order total
	Refund           int64 // refunded
	PayerTotal       int64
	PayerRefund      int64
	SettlementTotal  int64
	SettlementRefund int64
	DiscountRefund   int64
	Advance          int64 // advanced by the platform (e-commerce)
	Currency         string
	From             []FundsFrom
}

// Refund is the emulator's record of a refund, returned by the lookup
// methods.
type Refund struct {
	RefundID            string
	OutRefundNo         string
	TransactionID       string
	OutTradeNo          string
	SubMchID            string
	Status              string // one of the Status constants
	Channel             string // ORIGINAL, or OTHER_BANKCARD after an abnormal refund
	UserReceivedAccount string
	FundsAccount        string
	RefundAccount       string // e-commerce: who pays the refund
	Reason              string
	NotifyURL           string
	CreateTime          time.Time
	SuccessTime         time.Time // zero unless Status is SUCCESS
	Amount              RefundAmount
	// Ecommerce reports whether the refund was made through the
	// e-commerce API.
	Ecommerce bool
	// AbnormalType is the type of the accepted abnormal refund
	// application, USER_BANK_CARD or MERCHANT_BANK_CARD; empty if none.
	AbnormalType string
}

// refund is a stored refund.
type refund struct {
	Refund
	trade    *trade
	abnormal string // what identifies the accepted abnormal application
}

// clone returns a copy that shares nothing with the store.
func (r *refund) clone() Refund {
	c := r.Refund
	c.Amount.From = append([]FundsFrom(nil), r.Amount.From...)
	return c
}

// trade is an order being refunded.
type trade struct {
	transactionID string
	outTradeNo    string
	total         int64
	refunds       []*refund
}

// refunded returns the amount refunded or being refunded.
func (t *trade) refunded() int64 {
	var n int64
	for _, r := range t.refunds {
		if r.Status != StatusClosed {
			n += r.Amount.Refund
		}
	}
	return n
}

// store holds the emulator's refunds. It is guarded by Server.mu.
type store struct {
	byID       map[string]*refund
	byOutNo    map[string]*refund
	byTxID     map[string]*trade
	byOutTrade map[string]*trade
}

// newStore returns a store holding the fixture refund.
func newStore(now time.Time) *store {
	st := &store{
		byID:       map[string]*refund{},
		byOutNo:    map[string]*refund{},
		byTxID:     map[string]*trade{},
		byOutTrade: map[string]*trade{},
	}
	t := &trade{transactionID: FixtureTransactionID, outTradeNo: FixtureOutTradeNo, total: FixtureAmount}
	st.byTxID[t.transactionID] = t
	st.byOutTrade[t.outTradeNo] = t
	r := &refund{trade: t, Refund: Refund{
		RefundID:            FixtureRefundID,
		OutRefundNo:         FixtureOutRefundNo,
		TransactionID:       FixtureTransactionID,
		OutTradeNo:          FixtureOutTradeNo,
		SubMchID:            FixtureSubMchID,
		Status:              StatusAbnormal,
		Channel:             "ORIGINAL",
		UserReceivedAccount: "招商银行借记卡0403",
		FundsAccount:        "AVAILABLE",
		RefundAccount:       "REFUND_SOURCE_SUB_MERCHANT",
		CreateTime:          now,
		Amount: RefundAmount{
			Total: FixtureAmount, Refund: FixtureAmount,
			PayerTotal: FixtureAmount, PayerRefund: FixtureAmount,
			SettlementTotal: FixtureAmount, SettlementRefund: FixtureAmount,
			Currency: "CNY",
			From:     []FundsFrom{{Account: "AVAILABLE", Amount: FixtureAmount}},
		},
	}}
	st.add(r)
	return st
}

// add stores r and links it to its trade.
func (st *store) add(r *refund) {
	st.byID[r.RefundID] = r
	st.byOutNo[r.OutRefundNo] = r
	r.trade.refunds = append(r.trade.refunds, r)
}

// newRefundID returns an unused 29-digit refund id.
func (st *store) newRefundID() string {
	for {
		id := "50" + randomString(27, digits)
		if _, ok := st.byID[id]; !ok {
			return id
		}
	}
}

// refundRequest is a validated request to apply for a refund, from either
// API.
type refundRequest struct {
	subMchID      string
	transactionID string
	outTradeNo    string
	outRefundNo   string
	reason        string
	notifyURL     string
	fundsAccount  string
	refundAccount string
	refund        int64
	total         int64
	currency      string
	from          []FundsFrom
	ecommerce     bool
}

// same reports whether q asks for the refund r already is: the same order,
// amounts and currency. Only then is a repeated out_refund_no answered with
// the existing refund; the reason and notify_url may differ.
func (q *refundRequest) same(r *refund) bool {
	return (q.transactionID == "" || q.transactionID == r.TransactionID) &&
		(q.outTradeNo == "" || q.outTradeNo == r.OutTradeNo) &&
		(q.subMchID == "" || r.SubMchID == "" || q.subMchID == r.SubMchID) &&
		q.refund == r.Amount.Refund && q.total == r.Amount.Total &&
		q.currency == r.Amount.Currency
}

// createRefund applies q: it returns the existing refund when q repeats
// one, or makes a new one. It is called with s.mu held.
func (s *Server) createRefund(q *refundRequest) (*refund, *apiError) {
	st := s.store
	if r, ok := st.byOutNo[q.outRefundNo]; ok {
		if q.same(r) {
			return r, nil
		}
		return nil, invalidRequest(fmt.Sprintf("out_refund_no %s was already used for another refund request; resubmit the same parameters or use a new out_refund_no", q.outRefundNo))
	}
	var t *trade
	byTx, byOut := st.byTxID[q.transactionID], st.byOutTrade[q.outTradeNo]
	switch {
	case byTx != nil && byOut != nil && byTx != byOut:
		return nil, invalidRequest("transaction_id and out_trade_no name different orders")
	case byTx != nil:
		t = byTx
	case byOut != nil:
		t = byOut
	}
	if t != nil && ((q.transactionID != "" && q.transactionID != t.transactionID) ||
		(q.outTradeNo != "" && q.outTradeNo != t.outTradeNo)) {
		return nil, invalidRequest("transaction_id and out_trade_no name different orders")
	}
	if t == nil {
		t = &trade{transactionID: q.transactionID, outTradeNo: q.outTradeNo, total: q.total}
		if t.transactionID == "" {
			t.transactionID = "42000" + randomString(23, digits)
		}
		if t.outTradeNo == "" {
			t.outTradeNo = t.transactionID
		}
		// Registered only with the refund below, so a refused request
		// leaves no order behind.
	}
	if q.total != t.total {
		return nil, invalidRequest(fmt.Sprintf("amount.total %d is not the order amount %d", q.total, t.total))
	}
	if len(t.refunds) >= maxRefundsPerTrade {
		return nil, invalidRequest(fmt.Sprintf("the order already has %d refunds, the most allowed", maxRefundsPerTrade))
	}
	if left := t.total - t.refunded(); q.refund > left {
		return nil, invalidRequest(fmt.Sprintf("amount.refund %d is more than the %d fen left to refund on the order", q.refund, left))
	}
	status := StatusProcessing
	if strings.HasPrefix(q.outRefundNo, AbnormalPrefix) {
		status = StatusAbnormal
	}
	fundsAccount := q.fundsAccount
	if fundsAccount == "" {
		fundsAccount = "AVAILABLE"
	}
	refundAccount := q.refundAccount
	if q.ecommerce && refundAccount == "" {
		refundAccount = "REFUND_SOURCE_SUB_MERCHANT"
	}
	var advance int64
	if refundAccount == "REFUND_SOURCE_PARTNER_ADVANCE" {
		advance = q.refund
	}
	r := &refund{trade: t, Refund: Refund{
		RefundID:            st.newRefundID(),
		OutRefundNo:         q.outRefundNo,
		TransactionID:       t.transactionID,
		OutTradeNo:          t.outTradeNo,
		SubMchID:            q.subMchID,
		Status:              status,
		Channel:             "ORIGINAL",
		UserReceivedAccount: "支付用户零钱",
		FundsAccount:        fundsAccount,
		RefundAccount:       refundAccount,
		Reason:              q.reason,
		NotifyURL:           q.notifyURL,
		CreateTime:          s.now(),
		Ecommerce:           q.ecommerce,
		Amount: RefundAmount{
			Total: q.total, Refund: q.refund,
			PayerTotal: q.total, PayerRefund: q.refund,
			SettlementTotal: q.total, SettlementRefund: q.refund,
			Advance:  advance,
			Currency: q.currency,
			From:     q.from,
		},
	}}
	st.byTxID[t.transactionID] = t
	st.byOutTrade[t.outTradeNo] = t
	st.add(r)
	return r, nil
}

// findByID returns the refund with the given refund_id visible to subMchID
// (any when empty), or a 404 answer. It is called with s.mu held.
func (s *Server) findByID(id, subMchID string) (*refund, *apiError) {
	r, ok := s.store.byID[id]
	if !ok || (subMchID != "" && r.SubMchID != "" && subMchID != r.SubMchID) {
		return nil, newError(http.StatusNotFound, CodeResourceNotExists, "no refund with refund_id "+id)
	}
	return r, nil
}

// findByOutNo is findByID by out_refund_no.
func (s *Server) findByOutNo(outNo, subMchID string) (*refund, *apiError) {
	r, ok := s.store.byOutNo[outNo]
	if !ok || (subMchID != "" && r.SubMchID != "" && subMchID != r.SubMchID) {
		return nil, newError(http.StatusNotFound, CodeResourceNotExists, "no refund with out_refund_no "+outNo)
	}
	return r, nil
}

// Refund returns the refund with the given refund_id.
func (s *Server) Refund(refundID string) (Refund, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return Refund{}, false
	}
	r, ok := s.store.byID[refundID]
	if !ok {
		return Refund{}, false
	}
	return r.clone(), true
}

// RefundByOutRefundNo returns the refund with the given out_refund_no.
func (s *Server) RefundByOutRefundNo(outRefundNo string) (Refund, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return Refund{}, false
	}
	r, ok := s.store.byOutNo[outRefundNo]
	if !ok {
		return Refund{}, false
	}
	return r.clone(), true
}

// Refunds returns every refund the server holds, the fixture included,
// oldest first.
func (s *Server) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return nil
	}
	out := make([]Refund, 0, len(s.store.byID))
	for _, r := range s.store.byID {
		out = append(out, r.clone())
	}
	slices.SortFunc(out, func(a, b Refund) int {
		if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(a.RefundID, b.RefundID)
	})
	return out
}

// SetRefundStatus moves the refund with the given refund_id to status, one
// of SUCCESS, CLOSED, PROCESSING and ABNORMAL, as WeChat Pay's back end
// would. Moving to SUCCESS sets the success time to now; moving to ABNORMAL
// makes the refund open to a (new) abnormal refund application. Moving a
// refund with a loopback notify_url to SUCCESS, CLOSED or ABNORMAL from
// another state sends its REFUND.* notification there (see Deliveries).
func (s *Server) SetRefundStatus(refundID, status string) error {
	switch status {
	case StatusSuccess, StatusClosed, StatusProcessing, StatusAbnormal:
	default:
		return fmt.Errorf("wxpaytest: unknown refund status %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return fmt.Errorf("wxpaytest: server not started")
	}
	r, ok := s.store.byID[refundID]
	if !ok {
		return fmt.Errorf("wxpaytest: no refund with refund_id %s", refundID)
	}
	prev := r.Status
	r.Status = status
	r.SuccessTime = time.Time{}
	if status == StatusSuccess {
		r.SuccessTime = s.now()
	}
	if status == StatusAbnormal {
		r.abnormal = ""
		r.AbnormalType = ""
	}
	s.refundStatusChanged(r, prev)
	return nil
}

// rfc3339 formats t in China Standard Time, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cst).Format(time.RFC3339)
}
