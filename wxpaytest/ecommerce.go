package wxpaytest

// ecommerceAmount is the amount of a refund as the e-commerce APIs answer
// it.
type ecommerceAmount struct {
	Refund         int64       `json:"refund"`
	From           []FundsFrom `json:"from,omitempty"`
	PayerRefund    int64       `json:"payer_refund"`
	DiscountRefund int64       `json:"discount_refund"`
	Currency       string      `json:"currency"`
	Advance        int64       `json:"advance,omitempty"`
}

// ecommerceApplied is the answer of POST /v3/ecommerce/refunds/apply.
type ecommerceApplied struct {
	RefundID      string          `json:"refund_id"`
	OutRefundNo   string          `json:"out_refund_no"`
	CreateTime    string          `json:"create_time"`
	Amount        ecommerceAmount `json:"amount"`
	RefundAccount string          `json:"refund_account,omitempty"`
}

// ecommerceRefund is a refund as the e-commerce query and abnormal refund
// APIs answer it.
type ecommerceRefund struct {
	RefundID            string          `json:"refund_id"`
	OutRefundNo         string          `json:"out_refund_no"`
	TransactionID       string          `json:"transaction_id"`
	OutTradeNo          string          `json:"out_trade_no"`
	Channel             string          `json:"channel"`
	UserReceivedAccount string          `json:"user_received_account"`
	SuccessTime         string          `json:"success_time,omitempty"`
	CreateTime          string          `json:"create_time"`
	Status              string          `json:"status"`
	FundsAccount        string          `json:"funds_account,omitempty"`
	Amount              ecommerceAmount `json:"amount"`
	RefundAccount       string          `json:"refund_account,omitempty"`
}

func (r *refund) ecommerceAmount() ecommerceAmount {
	a := r.Amount
	return ecommerceAmount{
		Refund:         a.Refund,
		From:           append([]FundsFrom(nil), a.From...),
		PayerRefund:    a.PayerRefund,
		DiscountRefund: a.DiscountRefund,
		Currency:       a.Currency,
		Advance:        a.Advance,
	}
}

func (r *refund) ecommerce() ecommerceRefund {
	return ecommerceRefund{
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
		Amount:              r.ecommerceAmount(),
		RefundAccount:       r.RefundAccount,
	}
}

// applyEcommerceRefund is POST /v3/ecommerce/refunds/apply. The document
// marks combine_transaction_id required, but it only exists for repayment
// orders; the emulator accepts it without requiring it.
func (s *Server) applyEcommerceRefund(c *call) (any, *apiError) {
	b := body(c.json)
	q := &refundRequest{ecommerce: true}
	var e *apiError
	if q.subMchID, e = b.merchantID("sub_mchid", false); e != nil {
		return nil, e
	}
	if _, e = b.str("sp_appid", true, 32); e != nil {
		return nil, e
	}
	for _, name := range []string{"sub_appid", "individual_auth_id", "combine_mchid", "combine_out_trade_no", "combine_transaction_id"} {
		if _, e = b.str(name, false, 0); e != nil {
			return nil, e
		}
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
	if q.refundAccount, e = b.str("refund_account", false, 0, refundAccounts...); e != nil {
		return nil, e
	}
	if q.fundsAccount, e = b.str("funds_account", true, 0, ecommerceFundsAccounts...); e != nil {
		return nil, e
	}
	if e = readAmount(b, q, false); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.createRefund(q)
	if e != nil {
		return nil, e
	}
	return ecommerceApplied{
		RefundID:      r.RefundID,
		OutRefundNo:   r.OutRefundNo,
		CreateTime:    rfc3339(r.CreateTime),
		Amount:        r.ecommerceAmount(),
		RefundAccount: r.RefundAccount,
	}, nil
}

// subMchIDQuery reads the sub_mchid query parameter the e-commerce queries
// require.
func subMchIDQuery(c *call) (string, *apiError) {
	q, e := parseQuery(c)
	if e != nil {
		return "", e
	}
	return queryMerchantID(q, "sub_mchid", true)
}

// queryEcommerceRefundByID is GET /v3/ecommerce/refunds/id/{refund_id}.
func (s *Server) queryEcommerceRefundByID(c *call) (any, *apiError) {
	sub, e := subMchIDQuery(c)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.findByID(c.params[0], sub)
	if e != nil {
		return nil, e
	}
	return r.ecommerce(), nil
}

// queryEcommerceRefundByOutRefundNo is
// GET /v3/ecommerce/refunds/out-refund-no/{out_refund_no}.
func (s *Server) queryEcommerceRefundByOutRefundNo(c *call) (any, *apiError) {
	sub, e := subMchIDQuery(c)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.findByOutNo(c.params[0], sub)
	if e != nil {
		return nil, e
	}
	return r.ecommerce(), nil
}
