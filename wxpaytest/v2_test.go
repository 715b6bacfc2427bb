package wxpaytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/v2xml"
)

// v2Secret is a fixed APIv2 key for the golden vectors below.
const v2Secret = "0123456789abcdefghijklmnopqrstuv"

// Golden signs of a refund query for the fixture refund, computed apart
// from the code under test:
//
//	M='appid=wxd678efh567hg6787&mch_id=1900000109&nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&out_refund_no=1217752501201407033233368018&key=0123456789abcdefghijklmnopqrstuv'
//	printf '%s' "$M" | openssl dgst -md5
//	M2='appid=wxd678efh567hg6787&mch_id=1900000109&nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&out_refund_no=1217752501201407033233368018&sign_type=HMAC-SHA256&key=0123456789abcdefghijklmnopqrstuv'
//	printf '%s' "$M2" | openssl dgst -sha256 -hmac 0123456789abcdefghijklmnopqrstuv
const (
	goldenQueryMD5  = "E8F0FD1094C2F78DC21A5B8320863163"
	goldenQueryHMAC = "EBFE5F148A1EEDD4D9FAA35A0138C32FDE18B0A78341E97BA4D2919C5D1D0EF9"
)

// newV2Server starts a TLS server with the shared keys and a fixed APIv2
// key.
func newV2Server(t *testing.T, useTLS bool) *Server {
	t.Helper()
	testKeys(t)
	s := NewUnstartedServer()
	s.MerchantKey = merchantKey
	s.Platform = []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	s.APIv2Secret = v2Secret
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// v2HTTP returns a net/http client trusting s, presenting certs.
func v2HTTP(s *Server, certs ...tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12},
	}}
}

// post sends body to path and decodes the XML answer.
func v2Post(t *testing.T, hc *http.Client, s *Server, path string, body []byte) (int, map[string]string) {
	t.Helper()
	resp, err := hc.Post(s.URL+path, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m, err := v2xml.Decode(b)
	if err != nil {
		t.Fatalf("POST %s: answer %q: %v", path, b, err)
	}
	return resp.StatusCode, m
}

// signed encodes params with nonce and sign added.
func signed(t *testing.T, params map[string]string, secret string) []byte {
	t.Helper()
	m := map[string]string{}
	for k, v := range params {
		m[k] = v
	}
	if _, ok := m["nonce_str"]; !ok {
		m["nonce_str"] = "n0nce"
	}
	sign, err := v2xml.Sign(m, m["sign_type"], secret)
	if err != nil {
		t.Fatal(err)
	}
	m["sign"] = sign
	b, err := v2xml.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSigned fails unless m is a SUCCESS answer whose sign checks.
func checkSigned(t *testing.T, m map[string]string, signType string) {
	t.Helper()
	if m["return_code"] != "SUCCESS" {
		t.Fatalf("return_code %q (%s), want SUCCESS", m["return_code"], m["return_msg"])
	}
	if err := v2xml.Verify(m, signType, v2Secret); err != nil {
		t.Fatalf("answer sign: %v", err)
	}
}

func TestV2GoldenRequests(t *testing.T) {
	s := newV2Server(t, false)
	hc := &http.Client{Timeout: 20 * time.Second}
	for _, tc := range []struct {
		name, signType, sign string
	}{
		{"MD5", "", goldenQueryMD5},
		{"HMAC-SHA256", "HMAC-SHA256", goldenQueryHMAC},
	} {
		// Written by hand, in the order and form of WeChat Pay's examples.
		typ := ""
		if tc.signType != "" {
			typ = "<sign_type><![CDATA[" + tc.signType + "]]></sign_type>"
		}
		body := "<xml><appid>wxd678efh567hg6787</appid><mch_id>1900000109</mch_id>" +
			"<nonce_str>5K8264ILTKCH16CQ2502SI8ZNMTM67VS</nonce_str>" +
			"<out_refund_no>1217752501201407033233368018</out_refund_no>" + typ +
			"<sign>" + tc.sign + "</sign></xml>"
		status, m := v2Post(t, hc, s, "pay/refundquery", []byte(body))
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.name, status)
		}
		checkSigned(t, m, tc.signType)
		if len(m["sign"]) != map[string]int{"": 32, "HMAC-SHA256": 64}[tc.signType] {
			t.Errorf("%s: answer sign %q has the wrong length", tc.name, m["sign"])
		}
		want := map[string]string{
			"result_code":     "SUCCESS",
			"refund_count":    "1",
			"out_refund_no_0": FixtureOutRefundNo,
			"refund_id_0":     FixtureRefundID,
			"refund_status_0": "CHANGE",
			"refund_fee_0":    "888",
			"appid":           "wxd678efh567hg6787",
			"mch_id":          DefaultMchID,
		}
		got := map[string]string{}
		for k := range want {
			got[k] = m[k]
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: answer (-want +got):\n%s", tc.name, d)
		}
		// One digit off: refused.
		bad := strings.Replace(body, tc.sign, "0"+tc.sign[1:], 1)
		if tc.sign[0] == '0' {
			bad = strings.Replace(body, tc.sign, "1"+tc.sign[1:], 1)
		}
		_, m = v2Post(t, hc, s, "pay/refundquery", []byte(bad))
		if m["return_code"] != "FAIL" || !strings.HasPrefix(m["return_msg"], "签名错误") || m["sign"] != "" {
			t.Errorf("%s: bad sign answered %v, want an unsigned return_code FAIL 签名错误", tc.name, m)
		}
	}
}

func TestV2RefundNeedsClientCertificate(t *testing.T) {
	s := newV2Server(t, true)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %q, want https on loopback", s.URL)
	}
	body := signed(t, map[string]string{
		"appid": "wxd678efh567hg6787", "mch_id": DefaultMchID,
		"out_trade_no": "T-v2-1", "out_refund_no": "R-v2-1", "total_fee": "100", "refund_fee": "40",
	}, v2Secret)

	// No certificate: the handshake succeeds, the endpoint refuses.
	_, m := v2Post(t, v2HTTP(s), s, "secapi/pay/refund", body)
	if m["return_code"] != "FAIL" || !strings.Contains(m["return_msg"], "证书") {
		t.Errorf("no client certificate: answer %v, want return_code FAIL about the certificate", m)
	}
	if _, ok := s.RefundByOutRefundNo("R-v2-1"); ok {
		t.Fatal("the refund was made without the client certificate")
	}

	// A certificate the emulator's authority did not issue: Go's client
	// does not offer it (the server names its authority), and when forced
	// to, the handshake fails.
	stranger := selfSigned(t)
	_, m = v2Post(t, v2HTTP(s, stranger), s, "secapi/pay/refund", body)
	if m["return_code"] != "FAIL" {
		t.Errorf("self-signed certificate offered: answer %v, want return_code FAIL", m)
	}
	forced := v2HTTP(s)
	forced.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &stranger, nil
	}
	if resp, err := forced.Post(s.URL+"secapi/pay/refund", "text/xml", bytes.NewReader(body)); err == nil {
		resp.Body.Close()
		t.Error("a self-signed client certificate was accepted in the handshake")
	}

	// The merchant certificate: the refund is made, and signed.
	_, m = v2Post(t, v2HTTP(s, s.ClientCertificate()), s, "secapi/pay/refund", body)
	checkSigned(t, m, "")
	if m["result_code"] != "SUCCESS" || m["out_refund_no"] != "R-v2-1" || m["refund_fee"] != "40" || m["total_fee"] != "100" {
		t.Fatalf("refund answer %v", m)
	}
	r, ok := s.RefundByOutRefundNo("R-v2-1")
	if !ok || r.RefundID != m["refund_id"] || r.Status != StatusProcessing || r.Amount.Refund != 40 {
		t.Fatalf("stored refund %+v, %v; answer refund_id %s", r, ok, m["refund_id"])
	}
	rec, _ := s.LastRequest()
	if !rec.Authenticated || rec.Status != http.StatusOK {
		t.Errorf("record: authenticated %v, status %d", rec.Authenticated, rec.Status)
	}

	// Over plain HTTP the endpoint cannot see a certificate.
	plain := newV2Server(t, false)
	_, m = v2Post(t, &http.Client{}, plain, "secapi/pay/refund", body)
	if m["return_code"] != "FAIL" || !strings.Contains(m["return_msg"], "StartTLS") {
		t.Errorf("plain HTTP: answer %v, want a FAIL naming StartTLS", m)
	}
}

func TestV2RefundThenQuery(t *testing.T) {
	s := newV2Server(t, true)
	hc := v2HTTP(s, s.ClientCertificate())
	for i, fee := range []string{"30", "20"} {
		_, m := v2Post(t, hc, s, "secapi/pay/refund", signed(t, map[string]string{
			"mch_id": DefaultMchID, "sign_type": "HMAC-SHA256", "transaction_id": "4200000001",
			"out_refund_no": "R-q-" + fee, "total_fee": "100", "refund_fee": fee,
		}, v2Secret))
		checkSigned(t, m, "HMAC-SHA256")
		if m["result_code"] != "SUCCESS" {
			t.Fatalf("refund %d: %v", i, m)
		}
	}
	// More than is left.
	_, m := v2Post(t, hc, s, "secapi/pay/refund", signed(t, map[string]string{
		"mch_id": DefaultMchID, "transaction_id": "4200000001",
		"out_refund_no": "R-q-too-much", "total_fee": "100", "refund_fee": "51",
	}, v2Secret))
	checkSigned(t, m, "")
	if m["result_code"] != "FAIL" || m["err_code"] != CodeInvalidRequest {
		t.Errorf("over-refund: %v, want result_code FAIL INVALID_REQUEST", m)
	}

	s.SetRefundStatus(mustRefund(t, s, "R-q-30").RefundID, StatusSuccess)
	_, m = v2Post(t, hc, s, "pay/refundquery", signed(t, map[string]string{
		"mch_id": DefaultMchID, "transaction_id": "4200000001",
	}, v2Secret))
	checkSigned(t, m, "")
	want := map[string]string{
		"refund_count": "2", "total_fee": "100",
		"out_refund_no_0": "R-q-30", "refund_status_0": "SUCCESS", "refund_fee_0": "30",
		"out_refund_no_1": "R-q-20", "refund_status_1": "PROCESSING", "refund_fee_1": "20",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("refundquery %s = %q, want %q", k, m[k], v)
		}
	}
	if m["refund_success_time_0"] == "" || m["refund_success_time_1"] != "" {
		t.Errorf("success times %q, %q", m["refund_success_time_0"], m["refund_success_time_1"])
	}

	_, m = v2Post(t, hc, s, "pay/refundquery", signed(t, map[string]string{"mch_id": DefaultMchID, "out_refund_no": "nope"}, v2Secret))
	checkSigned(t, m, "")
	if m["result_code"] != "FAIL" || m["err_code"] != "REFUNDNOTEXIST" {
		t.Errorf("unknown refund: %v", m)
	}
}

func mustRefund(t *testing.T, s *Server, outNo string) Refund {
	t.Helper()
	r, ok := s.RefundByOutRefundNo(outNo)
	if !ok {
		t.Fatalf("no refund %s", outNo)
	}
	return r
}

func TestV2RequestChecks(t *testing.T) {
	s := newV2Server(t, false)
	hc := &http.Client{Timeout: 20 * time.Second}
	query := map[string]string{"mch_id": DefaultMchID, "out_refund_no": FixtureOutRefundNo}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range query {
			m[k] = v
		}
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		body []byte
		msg  string
	}{
		{"other merchant", signed(t, with("mch_id", "1900000110"), v2Secret), "mch_id"},
		{"no merchant", signed(t, with("mch_id", "\x00delete"), v2Secret), "mch_id"},
		{"empty nonce", signed(t, with("nonce_str", ""), v2Secret), "nonce_str"},
		{"long nonce", signed(t, with("nonce_str", strings.Repeat("n", 33)), v2Secret), "nonce_str"},
		{"unknown sign type", []byte("<xml><mch_id>" + DefaultMchID + "</mch_id><nonce_str>n</nonce_str><sign_type>SHA1</sign_type><sign>00</sign></xml>"), "sign_type"},
		{"other key", signed(t, query, "another key entirely, not ours!!"), "签名错误"},
		{"no sign", []byte("<xml><mch_id>" + DefaultMchID + "</mch_id><nonce_str>n</nonce_str></xml>"), "签名错误"},
		{"not XML", []byte(`{"mch_id":"1900000109"}`), "XML格式错误"},
		{"entity bomb", []byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><mch_id>&a;</mch_id></xml>`), "XML格式错误"},
	} {
		status, m := v2Post(t, hc, s, "pay/refundquery", tc.body)
		if status != http.StatusOK || m["return_code"] != "FAIL" || !strings.Contains(m["return_msg"], tc.msg) {
			t.Errorf("%s: %d %v, want return_code FAIL mentioning %q", tc.name, status, m, tc.msg)
		}
	}

	resp, err := hc.Get(s.URL + "pay/refundquery")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	status, m := v2Post(t, hc, s, "pay/nosuchthing", signed(t, query, v2Secret))
	if status != http.StatusNotFound || m["return_code"] != "FAIL" {
		t.Errorf("unknown endpoint: %d %v", status, m)
	}
}

func TestV2Faults(t *testing.T) {
	s := newV2Server(t, false)
	hc := &http.Client{Timeout: 20 * time.Second}
	body := signed(t, map[string]string{"mch_id": DefaultMchID, "out_refund_no": FixtureOutRefundNo}, v2Secret)

	s.Inject(Fault{Kind: FaultError, PathPrefix: "/pay/"})
	_, m := v2Post(t, hc, s, "pay/refundquery", body)
	checkSigned(t, m, "")
	if m["result_code"] != "FAIL" || m["err_code"] != "SYSTEMERROR" {
		t.Errorf("FaultError: %v", m)
	}

	s.Inject(Fault{Kind: FaultCorruptSignature})
	_, m = v2Post(t, hc, s, "pay/refundquery", body)
	if err := v2xml.Verify(m, "", v2Secret); err == nil {
		t.Error("FaultCorruptSignature: the sign still checks")
	}

	s.Inject(Fault{Kind: FaultUnsigned})
	_, m = v2Post(t, hc, s, "pay/refundquery", body)
	if _, ok := m["sign"]; ok || m["result_code"] != "SUCCESS" {
		t.Errorf("FaultUnsigned: %v", m)
	}

	s.Inject(Fault{Kind: FaultReset})
	if resp, err := hc.Post(s.URL+"pay/refundquery", "text/xml", bytes.NewReader(body)); err == nil {
		resp.Body.Close()
		t.Error("FaultReset: got an answer")
	}
}

func TestIsV2Path(t *testing.T) {
	for path, want := range map[string]bool{
		"/secapi/pay/refund":                     true,
		"/pay/refundquery":                       true,
		"/mmpaymkttransfers/promotion/transfers": true,
		"/v3/refund/domestic/refunds":            false,
		"/payments":                              false,
		"/":                                      false,
	} {
		if got := isV2Path(path); got != want {
			t.Errorf("isV2Path(%q) = %v, want %v", path, got, want)
		}
	}
}

// The APIv3 endpoints work over StartTLS too, without a client
// certificate.
func TestStartTLSServesV3(t *testing.T) {
	s := newV2Server(t, true)
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(map[string]any{"out_refund_no": FixtureOutRefundNo})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Get("refund_id").String(); got != FixtureRefundID {
		t.Errorf("refund_id = %q, want %q", got, FixtureRefundID)
	}
	if err := s.StartTLSErr(); err == nil {
		t.Error("StartTLSErr on a started server: no error")
	}
}

// selfSigned returns a client certificate no authority vouches for.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: DefaultMchID},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}
