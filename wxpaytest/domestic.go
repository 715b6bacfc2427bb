package wxpaytest

// domesticRefund is the refund as the /v3/refund/domestic/ APIs answer it.
type domesticRefund struct {
	RefundID            string         `json:"refund_id"`
	OutRefundNo         string         `json:"out_refund_no"`
	TransactionID       string         `json:"transaction_id"`
	OutTradeNo          string         `json:"out_trade_no"`
	Channel             string         `json:"channel"`
	UserReceivedAccount string         `json:"user_received_account"`
	SuccessTime         string         `json:"success_time,omitempty"`
	CreateTime          string         `json:"create_time"`
	Status              string         `json:"status"`
	FundsAccount        string         `json:"funds_account"`
	Amount              domesticAmount `json:"amount"`
}

type domesticAmount struct {
	Total            int64       `json:"total"`
	Refund           int64       `json:"refund"`
	From             []FundsFrom `json:"from,omitempty"`
	PayerTotal       int64       `json:"payer_total"`
	PayerRefund      int64       `json:"payer_refund"`
	SettlementRefund int64       `json:"settlement_refund"`
	SettlementTotal  int64       `json:"settlement_total"`
	DiscountRefund   int64       `json:"discount_refund"`
	Currency         string      `json:"currency"`
}

func (r *refund) domestic() domesticRefund {
	a := r.Amount
	return domesticRefund{
		RefundID:            r.RefundID,
		OutRefundNo:         r.OutRefundNo,
		TransactionID:       r.TransactionID,
		OutTradeNo:          r.OutTradeNo,
		Channel:             r.Channel,
		UserReceivedAccount: r.UserReceivedAccount,
		SuccessTime:         rfc3339(r.SuccessTime),
		CreateTime:          rfc3339(r.CreateTime),
		Status:              r.Status,
		FundsAccount:        r.FundsAccount,
		Amount: domesticAmount{
			Total: a.Total, Refund: a.Refund,
			From:       append([]FundsFrom(nil), a.From...),
			PayerTotal: a.PayerTotal, PayerRefund: a.PayerRefund,
			SettlementRefund: a.SettlementRefund, SettlementTotal: a.SettlementTotal,
			DiscountRefund: a.DiscountRefund,
			Currency:       a.Currency,
		},
	}
}

// Enumerations of the refund APIs.
var (
	fromAccounts         = []string{"AVAILABLE", "UNAVAILABLE"}
	requestFundsAccounts = []string{"AVAILABLE", "UNSETTLED"}
	// The e-commerce refund's: seed 004's two, and PREPAID, which the
	// OpenAPI description (and so the catalogue) adds.
	ecommerceFundsAccounts = []string{"AVAILABLE", "UNSETTLED", "PREPAID"}
	refundAccounts         = []string{"REFUND_SOURCE_SUB_MERCHANT", "REFUND_SOURCE_PARTNER_ADVANCE"}
	currencies             = []string{"CNY"}
	abnormalRefundTypes    = []string{"USER_BANK_CARD", "MERCHANT_BANK_CARD"}
	domesticRequiredTrade  = "transaction_id or out_trade_no is required"
)

// readAmount validates the amount object shared by both refund APIs.
func readAmount(b fields, q *refundRequest, currencyRequired bool) *apiError {
	amt, _, e := b.object("amount", true)
	if e != nil {
		return e
	}
	if q.refund, _, e = amt.integer("refund", true, 1); e != nil {
		return e
	}
	if q.total, _, e = amt.integer("total", true, 1); e != nil {
		return e
	}
	if q.refund > q.total {
		return paramError("body", "/amount/refund", q.refund, "must not be more than amount.total")
	}
	if q.currency, e = amt.str("currency", currencyRequired, 16, currencies...); e != nil {
		return e
	}
	if q.currency == "" {
		q.currency = "CNY"
	}
	from, e := amt.objects("from")
	if e != nil {
		return e
	}
	for _, f := range from {
		var ff FundsFrom
		if ff.Account, e = f.str("account", true, 0, fromAccounts...); e != nil {
			return e
		}
		if ff.Amount, _, e = f.integer("amount", true, 1); e != nil {
			return e
		}
		if ff.Amount > q.refund {
			return paramError("body", f.ptr("amount"), ff.Amount, "must not be more than amount.refund")
		}
		q.from = append(q.from, ff)
	}
	return nil
}

// readTrade reads transaction_id and out_trade_no, one of them required.
func readTrade(b fields, q *refundRequest) *apiError {
	var e *apiError
	if q.transactionID, e = b.str("transaction_id", false, 32); e != nil {
		return e
	}
	if q.outTradeNo, e = b.str("out_trade_no", false, 32); e != nil {
		return e
	}
	if q.transactionID == "" && q.outTradeNo == "" {
		return paramError("body", "/transaction_id", nil, domesticRequiredTrade)
	}
	return nil
}

// applyRefund is POST /v3/refund/domestic/refunds.
func (s *Server) applyRefund(c *call) (any, *apiError) {
	b := body(c.json)
	q := &refundRequest{}
	var e *apiError
	if q.subMchID, e = b.merchantID("sub_mchid", false); e != nil {
		return nil, e
	}
	if e = readTrade(b, q); e != nil {
		return nil, e
	}
	if q.outRefundNo, e = b.str("out_refund_no", true, 64); e != nil {
		return nil, e
	}
	if q.reason, e = b.str("reason", false, 0); e != nil {
		return nil, e
	}
	if q.notifyURL, e = b.str("notify_url", false, 0); e != nil {
		return nil, e
	}
	if q.fundsAccount, e = b.str("funds_account", false, 0, requestFundsAccounts...); e != nil {
		return nil, e
	}
	if e = readAmount(b, q, true); e != nil {
		return nil, e
	}
	if e = readGoodsDetail(b); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.createRefund(q)
	if e != nil {
		return nil, e
	}
	return r.domestic(), nil
}

// readGoodsDetail validates the optional goods_detail list.
func readGoodsDetail(b fields) *apiError {
	goods, e := b.objects("goods_detail")
	if e != nil {
		return e
	}
	for _, g := range goods {
		if _, e = g.str("merchant_goods_id", true, 0); e != nil {
			return e
		}
		if _, e = g.str("wechatpay_goods_id", false, 0); e != nil {
			return e
		}
		if _, e = g.str("goods_name", false, 0); e != nil {
			return e
		}
		for _, name := range []string{"unit_price", "refund_amount", "refund_quantity"} {
			min := int64(0)
			if name == "refund_quantity" {
				min = 1
			}
			if _, _, e = g.integer(name, true, min); e != nil {
				return e
			}
		}
	}
	return nil
}

// queryRefund is GET /v3/refund/domestic/refunds/{out_refund_no}.
func (s *Server) queryRefund(c *call) (any, *apiError) {
	q, e := parseQuery(c)
	if e != nil {
		return nil, e
	}
	sub, e := queryMerchantID(q, "sub_mchid", false)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.findByOutNo(c.params[0], sub)
	if e != nil {
		return nil, e
	}
	return r.domestic(), nil
}
