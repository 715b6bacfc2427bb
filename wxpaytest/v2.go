package wxpaytest

// This file emulates the APIv2 (XML) endpoints: secapi/pay/refund, which
// needs the merchant's TLS client certificate, and pay/refundquery. Both
// share the refunds of the APIv3 endpoints, as WeChat Pay's back end does.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay/v2xml"
)

// v2State is the APIv2 set-up of a Server: its TLS certificates.
type v2State struct {
	useTLS     bool              // StartTLS: the listener speaks TLS
	ca         *x509.Certificate // signs the two below
	pool       *x509.CertPool    // holds ca
	serverCert tls.Certificate
	clientCert tls.Certificate // the merchant API certificate, for MerchantKey
}

// setupV2 fills in the APIv2 key and makes the emulator's certificate
// authority, its server certificate and the merchant's client
// certificate. It is called with s.setupMu held, after setupKeys.
func (s *Server) setupV2() error {
	if s.APIv2Secret == "" {
		s.APIv2Secret = randomString(32, alnum)
	}
	if len(s.APIv2Secret) != 32 {
		return fmt.Errorf("wxpaytest: APIv2Secret has %d bytes, want 32", len(s.APIv2Secret))
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("wxpaytest: generate CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"wxpaytest"}, CommonName: "wxpaytest emulator CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("wxpaytest: make CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fmt.Errorf("wxpaytest: parse CA certificate: %w", err)
	}
	issue := func(tmpl *x509.Certificate, key crypto.Signer) (tls.Certificate, error) {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(10*365*24*time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
	}
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("wxpaytest: generate server key: %w", err)
	}
	serverCert, err := issue(&x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{Organization: []string{"wxpaytest"}, CommonName: "api.mch.weixin.qq.com"},
		DNSNames:     []string{"localhost", "api.mch.weixin.qq.com", "api2.mch.weixin.qq.com"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, serverKey)
	if err != nil {
		return fmt.Errorf("wxpaytest: make server certificate: %w", err)
	}
	// The merchant API certificate holds the merchant API key, its serial
	// is the merchant serial and its common name the merchant id, as on
	// WeChat Pay.
	serial, ok := new(big.Int).SetString(s.MerchantSerial, 16)
	if !ok || serial.Sign() <= 0 {
		serial = big.NewInt(3)
	}
	clientCert, err := issue(&x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"Tenpay.com"}, OrganizationalUnit: []string{"wxpaytest merchant"}, CommonName: s.MchID},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, s.MerchantKey)
	if err != nil {
		return fmt.Errorf("wxpaytest: make merchant client certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	s.v2.ca, s.v2.pool, s.v2.serverCert, s.v2.clientCert = ca, pool, serverCert, clientCert
	return nil
}

// StartTLS starts a server from NewUnstartedServer on TLS: URL becomes
// https://127.0.0.1:PORT/, the server presents a certificate issued by its
// own certificate authority (Certificate) and checks the client
// certificates presented to it against that authority, as the APIv2
// secapi endpoints need. Config gives a client everything it needs: the
// authority in RootCAs and the merchant client certificate in
// TLSCertificate. It panics like Start.
func (s *Server) StartTLS() {
	if err := s.StartTLSErr(); err != nil {
		panic(err)
	}
}

// StartTLSErr is StartTLS returning an error instead of panicking.
func (s *Server) StartTLSErr() error {
	s.setupMu.Lock()
	if s.started {
		s.setupMu.Unlock()
		return errors.New("wxpaytest: server already started")
	}
	s.v2.useTLS = true
	s.setupMu.Unlock()
	return s.StartErr()
}

// wrapTLS returns ln unchanged for Start, or wrapped in TLS for StartTLS,
// setting URL accordingly. It is called by StartErr with s.setupMu held.
func (s *Server) wrapTLS(ln net.Listener) net.Listener {
	if !s.v2.useTLS {
		return ln
	}
	s.URL = "https://" + ln.Addr().String() + "/"
	return tls.NewListener(ln, &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{s.v2.serverCert},
		// A certificate is optional (APIv3 calls present none) but, when
		// presented, must be one the authority issued.
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  s.v2.pool,
		NextProtos: []string{"http/1.1"},
	})
}

// Certificate returns the certificate of the emulator's certificate
// authority, which issued its server certificate and the merchant client
// certificate. Config puts it in RootCAs. It panics if keys cannot be
// generated.
func (s *Server) Certificate() *x509.Certificate {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if err := s.setupLocked(); err != nil {
		panic(err)
	}
	return s.v2.ca
}

// ClientCertificate returns the merchant API certificate with the merchant
// key, which the secapi endpoints require as TLS client certificate. Config
// puts it in TLSCertificate. It panics if keys cannot be generated.
func (s *Server) ClientCertificate() tls.Certificate {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if err := s.setupLocked(); err != nil {
		panic(err)
	}
	return s.v2.clientCert
}

// v2Endpoint handles one APIv2 call whose sign has checked. It returns the
// answer's business fields, or a business failure (result_code FAIL).
type v2Endpoint func(s *Server, req map[string]string) (map[string]string, *v2Fail)

// v2Fail is a failed APIv2 answer: return_code FAIL when errCode is empty,
// else result_code FAIL with err_code and err_code_des.
type v2Fail struct {
	errCode string
	msg     string
}

var v2Routes = map[string]v2Endpoint{
	"secapi/pay/refund": (*Server).v2Refund,
	"pay/refundquery":   (*Server).v2RefundQuery,
}

// v2Families are the first path segments of WeChat Pay's APIv2 endpoints:
// requests under them get APIv2 (XML) answers.
var v2Families = []string{"secapi", "pay", "mmpaymkttransfers", "mmpaysptrans", "papay", "risk", "mchrisk", "sandboxnew", "tools", "payitil"}

// isV2Path reports whether an escaped request path is an APIv2 one.
func isV2Path(path string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	for _, f := range v2Families {
		if first == f {
			return true
		}
	}
	return false
}

// v2NeedsCert reports whether an APIv2 path needs the merchant client
// certificate.
func v2NeedsCert(path string) bool {
	return strings.HasPrefix(path, "secapi/") || strings.HasPrefix(path, "mmpaymkttransfers/") || strings.HasPrefix(path, "mmpaysptrans/")
}

// serveV2 answers an APIv2 request the way WeChat Pay does: always status
// 200 with an XML body (404 and 405 for an unknown path or method),
// return_code FAIL for a request that cannot be read, lacks the client
// certificate, names another merchant, has no nonce_str or a bad sign, and
// a signed answer otherwise, with result_code FAIL for a business failure.
//
// Faults: FaultError answers result_code FAIL with err_code Code
// (SYSTEMERROR if empty) and err_code_des Message, signed;
// FaultResetAfterApply applies the call, then resets the connection;
// FaultCorruptSignature alters the answer's sign; FaultUnsigned leaves it
// out. FaultDelay and FaultReset act as for APIv3; other kinds are ignored.
func (s *Server) serveV2(x *exchange, body []byte, readErr error) {
	r := x.r
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	handle, ok := v2Routes[path]
	switch {
	case !ok:
		x.v2Reply(http.StatusNotFound, v2FailAnswer("no such APIv2 endpoint: /"+path))
		return
	case r.Method != http.MethodPost:
		x.w.Header().Set("Allow", http.MethodPost)
		x.v2Reply(http.StatusMethodNotAllowed, v2FailAnswer("APIv2 endpoints take POST"))
		return
	case readErr != nil || len(body) > maxRequestBody:
		x.v2Reply(http.StatusOK, v2FailAnswer("request body could not be read or is larger than 1 MiB"))
		return
	}
	if v2NeedsCert(path) {
		if msg := s.checkClientCert(r); msg != "" {
			x.v2Reply(http.StatusOK, v2FailAnswer(msg))
			return
		}
	}
	req, err := v2xml.Decode(body)
	if err != nil {
		x.v2Reply(http.StatusOK, v2FailAnswer("XML格式错误: "+err.Error()))
		return
	}
	if msg := s.checkV2Request(req); msg != "" {
		x.v2Reply(http.StatusOK, v2FailAnswer(msg))
		return
	}
	s.setAuthenticated(x.rec)
	var fields map[string]string
	var fail *v2Fail
	if x.fault != nil && x.fault.Kind == FaultError {
		code, msg := x.fault.Code, x.fault.Message
		if code == "" {
			code = "SYSTEMERROR"
		}
		if msg == "" {
			msg = "injected fault: " + code
		}
		fail = &v2Fail{errCode: code, msg: msg}
	} else {
		fields, fail = handle(s, req)
	}
	if x.fault != nil && x.fault.Kind == FaultResetAfterApply {
		x.reset()
		return
	}
	x.v2Reply(http.StatusOK, s.v2Answer(req, fields, fail, x.fault))
}

// checkClientCert returns why r's TLS client certificate is not the
// merchant's, or "".
func (s *Server) checkClientCert(r *http.Request) string {
	if r.TLS == nil {
		return "证书错误: this endpoint needs the merchant API certificate over TLS (start the server with StartTLS)"
	}
	if len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
		return "证书错误: no merchant API certificate presented (the security option)"
	}
	leaf := r.TLS.PeerCertificates[0]
	if !s.MerchantKey.PublicKey.Equal(leaf.PublicKey) || leaf.Subject.CommonName != s.MchID {
		return "证书错误: the certificate presented is not merchant " + s.MchID + "'s"
	}
	return ""
}

// checkV2Request checks the merchant id (and the sub-merchant id, if any),
// nonce, sign type and sign of an APIv2 request; it returns why it is
// refused, or "".
func (s *Server) checkV2Request(req map[string]string) string {
	id, ok := req["mch_id"]
	if !ok {
		id, ok = req["mchid"]
	}
	sub, hasSub := req["sub_mch_id"]
	switch {
	case !ok || id == "":
		return "mch_id参数错误: mch_id is missing"
	case id != s.MchID:
		return "mch_id参数错误: mch_id " + id + " is not merchant " + s.MchID
	case hasSub && !isMerchantID(sub):
		return "sub_mch_id参数格式错误: sub_mch_id " + merchantIDIssue
	case req["nonce_str"] == "" || len(req["nonce_str"]) > 32:
		return "nonce_str参数错误: nonce_str must have 1 to 32 characters"
	}
	typ := req["sign_type"]
	if typ != "" && typ != v2xml.MD5 && typ != v2xml.HMACSHA256 {
		return "sign_type参数错误: want MD5 or HMAC-SHA256"
	}
	if err := v2xml.Verify(req, typ, s.APIv2Secret); err != nil {
		return "签名错误: the sign does not match the request under the APIv2 key with " + orMD5(typ)
	}
	return ""
}

func orMD5(typ string) string {
	if typ == "" {
		return v2xml.MD5
	}
	return typ
}

// v2FailAnswer is an unsigned return_code FAIL answer.
func v2FailAnswer(msg string) []byte {
	b, _ := v2xml.Encode(map[string]string{"return_code": "FAIL", "return_msg": msg})
	return b
}

// v2Answer builds the signed answer to req: fields with result_code
// SUCCESS, or a failure.
func (s *Server) v2Answer(req, fields map[string]string, fail *v2Fail, f *Fault) []byte {
	if fail != nil && fail.errCode == "" {
		return v2FailAnswer(fail.msg)
	}
	m := make(map[string]string, len(fields)+8)
	for k, v := range fields {
		m[k] = v
	}
	m["return_code"], m["return_msg"] = "SUCCESS", "OK"
	m["result_code"] = "SUCCESS"
	if fail != nil {
		m["result_code"], m["err_code"], m["err_code_des"] = "FAIL", fail.errCode, fail.msg
	}
	for _, k := range [...]string{"appid", "mch_id", "mchid", "sub_appid", "sub_mch_id"} {
		if v, ok := req[k]; ok {
			m[k] = v
		}
	}
	m["nonce_str"] = randomString(16, alnum)
	sign, err := v2xml.Sign(m, req["sign_type"], s.APIv2Secret)
	if err != nil {
		return v2FailAnswer("emulator failed to sign its answer")
	}
	m["sign"] = sign
	if f != nil {
		switch f.Kind {
		case FaultCorruptSignature:
			c := byte('0')
			if sign[0] == '0' {
				c = '1'
			}
			m["sign"] = string(c) + sign[1:]
		case FaultUnsigned:
			delete(m, "sign")
		}
	}
	b, err := v2xml.Encode(m)
	if err != nil {
		return v2FailAnswer("emulator failed to encode its answer")
	}
	return b
}

// v2Reply writes an XML answer.
func (x *exchange) v2Reply(status int, body []byte) {
	h := x.w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.s.finishRecord(x.rec, status)
	x.w.WriteHeader(status)
	x.w.Write(body)
}

// v2Amount reads a positive amount in fen.
func v2Amount(req map[string]string, k string) (int64, *v2Fail) {
	v := req[k]
	n, err := strconv.ParseInt(v, 10, 64)
	if v == "" {
		return 0, &v2Fail{"PARAM_ERROR", k + " is missing"}
	}
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != v {
		return 0, &v2Fail{"PARAM_ERROR", k + " must be a positive integer number of fen"}
	}
	return n, nil
}

// v2Refund emulates secapi/pay/refund (申请退款).
func (s *Server) v2Refund(req map[string]string) (map[string]string, *v2Fail) {
	if req["transaction_id"] == "" && req["out_trade_no"] == "" {
		return nil, &v2Fail{"PARAM_ERROR", "transaction_id or out_trade_no is required"}
	}
	if req["out_refund_no"] == "" || len(req["out_refund_no"]) > 64 {
		return nil, &v2Fail{"PARAM_ERROR", "out_refund_no must have 1 to 64 characters"}
	}
	total, fail := v2Amount(req, "total_fee")
	if fail != nil {
		return nil, fail
	}
	amount, fail := v2Amount(req, "refund_fee")
	if fail != nil {
		return nil, fail
	}
	currency := req["refund_fee_type"]
	if currency == "" {
		currency = "CNY"
	}
	q := &refundRequest{
		subMchID:      req["sub_mch_id"],
		transactionID: req["transaction_id"],
		outTradeNo:    req["out_trade_no"],
		outRefundNo:   req["out_refund_no"],
		reason:        req["refund_desc"],
		refund:        amount,
		total:         total,
		currency:      currency,
		from:          []FundsFrom{},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.createRefund(q)
	if e != nil {
		return nil, &v2Fail{e.Code, e.Message}
	}
	return map[string]string{
		"transaction_id":        r.TransactionID,
		"out_trade_no":          r.OutTradeNo,
		"out_refund_no":         r.OutRefundNo,
		"refund_id":             r.RefundID,
		"refund_fee":            strconv.FormatInt(r.Amount.Refund, 10),
		"settlement_refund_fee": strconv.FormatInt(r.Amount.SettlementRefund, 10),
		"total_fee":             strconv.FormatInt(r.Amount.Total, 10),
		"settlement_total_fee":  strconv.FormatInt(r.Amount.SettlementTotal, 10),
		"fee_type":              r.Amount.Currency,
		"cash_fee":              strconv.FormatInt(r.Amount.PayerTotal, 10),
		"cash_refund_fee":       strconv.FormatInt(r.Amount.PayerRefund, 10),
	}, nil
}

// v2RefundStatus maps the emulator's refund states to APIv2's.
var v2RefundStatus = map[string]string{
	StatusSuccess:    "SUCCESS",
	StatusClosed:     "REFUNDCLOSE",
	StatusProcessing: "PROCESSING",
	StatusAbnormal:   "CHANGE",
}

// v2RefundQuery emulates pay/refundquery (查询退款): by refund_id,
// out_refund_no, transaction_id or out_trade_no, in that order of
// precedence, with the refunds numbered from 0.
func (s *Server) v2RefundQuery(req map[string]string) (map[string]string, *v2Fail) {
	notFound := &v2Fail{"REFUNDNOTEXIST", "退款订单查询失败: no such refund"}
	sub := req["sub_mch_id"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var refunds []*refund
	var t *trade
	switch {
	case req["refund_id"] != "":
		r, e := s.findByID(req["refund_id"], sub)
		if e != nil {
			return nil, notFound
		}
		refunds, t = []*refund{r}, r.trade
	case req["out_refund_no"] != "":
		r, e := s.findByOutNo(req["out_refund_no"], sub)
		if e != nil {
			return nil, notFound
		}
		refunds, t = []*refund{r}, r.trade
	case req["transaction_id"] != "":
		t = s.store.byTxID[req["transaction_id"]]
	case req["out_trade_no"] != "":
		t = s.store.byOutTrade[req["out_trade_no"]]
	default:
		return nil, &v2Fail{"PARAM_ERROR", "one of refund_id, out_refund_no, transaction_id and out_trade_no is required"}
	}
	if refunds == nil && t != nil {
		for _, r := range t.refunds {
			if sub == "" || r.SubMchID == "" || r.SubMchID == sub {
				refunds = append(refunds, r)
			}
		}
	}
	if len(refunds) == 0 {
		return nil, notFound
	}
	sort.SliceStable(refunds, func(i, j int) bool { return refunds[i].CreateTime.Before(refunds[j].CreateTime) })
	m := map[string]string{
		"transaction_id":       t.transactionID,
		"out_trade_no":         t.outTradeNo,
		"total_fee":            strconv.FormatInt(t.total, 10),
		"settlement_total_fee": strconv.FormatInt(t.total, 10),
		"fee_type":             "CNY",
		"cash_fee":             strconv.FormatInt(t.total, 10),
		"refund_count":         strconv.Itoa(len(refunds)),
	}
	for i, r := range refunds {
		n := "_" + strconv.Itoa(i)
		m["out_refund_no"+n] = r.OutRefundNo
		m["refund_id"+n] = r.RefundID
		m["refund_channel"+n] = r.Channel
		m["refund_fee"+n] = strconv.FormatInt(r.Amount.Refund, 10)
		m["settlement_refund_fee"+n] = strconv.FormatInt(r.Amount.SettlementRefund, 10)
		m["refund_status"+n] = v2RefundStatus[r.Status]
		m["refund_account"+n] = "REFUND_SOURCE_UNSETTLED_FUNDS"
		// WeChat Pay spells it "accout".
		m["refund_recv_accout"+n] = r.UserReceivedAccount
		if !r.SuccessTime.IsZero() {
			m["refund_success_time"+n] = r.SuccessTime.In(cst).Format(time.DateTime)
		}
	}
	return m, nil
}
