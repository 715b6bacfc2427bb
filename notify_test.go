package wxpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/aesgcm"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// wait bounds every wait for a notification.
const wait = 10 * time.Second

// received collects the notifications a handler accepted.
type received struct {
	ch chan *wxpay.Notification
}

func newReceived() *received { return &received{ch: make(chan *wxpay.Notification, 16)} }

func (r *received) fn(_ context.Context, n *wxpay.Notification) error {
	r.ch <- n
	return nil
}

func (r *received) next(t *testing.T) *wxpay.Notification {
	t.Helper()
	select {
	case n := <-r.ch:
		return n
	case <-time.After(wait):
		t.Fatal("no notification received")
		return nil
	}
}

// waitDelivery waits for the only delivery the emulator made for refundID.
func waitDelivery(t *testing.T, srv *wxpaytest.Server, refundID string) *wxpaytest.Delivery {
	t.Helper()
	var found []*wxpaytest.Delivery
	for _, d := range srv.Deliveries() {
		if d.RefundID == refundID {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d deliveries for refund %s, want 1", len(found), refundID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	found[0].Wait(ctx)
	return found[0]
}

// The whole flow over loopback: a refund applied with a notify_url, settled
// ABNORMAL by the emulator, the notification received, verified and
// decrypted, the refund queried, then the abnormal refund applied for.
func TestNotificationFlow(t *testing.T) {
	srv, c := setup(t)
	got := newReceived()
	hs := httptest.NewServer(c.NotificationHandler(got.fn))
	defer hs.Close()

	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": wxpay.Opts{
		"out_trade_no":  "T-NOTIFY-1",
		"out_refund_no": "R-NOTIFY-1",
		"reason":        "商品已售完",
		"notify_url":    hs.URL + "/wxpay/notify",
		"amount":        wxpay.Opts{"refund": 300, "total": 888, "currency": "CNY"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	refundID := resp.Get("refund_id").String()
	if len(srv.Deliveries()) != 0 {
		t.Fatal("a notification was sent for a PROCESSING refund")
	}
	if err := srv.SetRefundStatus(refundID, wxpaytest.StatusAbnormal); err != nil {
		t.Fatal(err)
	}

	n := got.next(t)
	head := []string{n.EventType, n.ResourceType, n.Summary, n.OriginalType, n.AssociatedData, n.Serial}
	if diff := cmp.Diff([]string{"REFUND.ABNORMAL", "encrypt-resource", "退款异常", "refund", "refund", platformSerial}, head); diff != "" {
		t.Errorf("notification envelope (-want +got):\n%s", diff)
	}
	if n.ID == "" || n.CreateTime == "" {
		t.Errorf("notification id %q, create_time %q: want both", n.ID, n.CreateTime)
	}
	if _, err := time.Parse(time.RFC3339, n.CreateTime); err != nil {
		t.Errorf("create_time: %v", err)
	}
	type amount struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	}
	type refundResource struct {
		MchID               string `json:"mchid"`
		OutTradeNo          string `json:"out_trade_no"`
		TransactionID       string `json:"transaction_id"`
		OutRefundNo         string `json:"out_refund_no"`
		RefundID            string `json:"refund_id"`
		RefundStatus        string `json:"refund_status"`
		SuccessTime         string `json:"success_time"`
		UserReceivedAccount string `json:"user_received_account"`
		Amount              amount `json:"amount"`
	}
	var res refundResource
	if err := n.Unmarshal(&res); err != nil {
		t.Fatal(err)
	}
	want := refundResource{
		MchID:               wxpaytest.DefaultMchID,
		OutTradeNo:          "T-NOTIFY-1",
		TransactionID:       resp.Get("transaction_id").String(),
		OutRefundNo:         "R-NOTIFY-1",
		RefundID:            refundID,
		RefundStatus:        "ABNORMAL",
		UserReceivedAccount: resp.Get("user_received_account").String(),
		Amount:              amount{Total: 888, Refund: 300, PayerTotal: 888, PayerRefund: 300},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("decrypted resource (-want +got):\n%s", diff)
	}
	if n.Get("refund_status").String() != "ABNORMAL" || n.Resource.Get("amount.refund").Int() != 300 {
		t.Errorf("Get: refund_status %s, amount.refund %d", n.Get("refund_status"), n.Resource.Get("amount.refund").Int())
	}
	if bytes.Contains(n.Body, []byte("R-NOTIFY-1")) {
		t.Errorf("the notification body holds the resource in clear: %s", n.Body)
	}

	d := waitDelivery(t, srv, refundID)
	if !d.Acknowledged() || !cmp.Equal(d.Statuses(), []int{http.StatusNoContent}) {
		t.Errorf("delivery: acknowledged %v, statuses %v, want true [204]", d.Acknowledged(), d.Statuses())
	}
	if d.URL != hs.URL+"/wxpay/notify" || d.EventType != "REFUND.ABNORMAL" || !bytes.Equal(d.Body, n.Body) {
		t.Errorf("delivery record: URL %s, event %s; body equal to the received one: %v", d.URL, d.EventType, bytes.Equal(d.Body, n.Body))
	}

	q, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "R-NOTIFY-1"})
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("status").String() != "ABNORMAL" {
		t.Fatalf("queried status %s, want ABNORMAL", q.Get("status"))
	}

	ab, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": n.Get("refund_id").String(),
		"json": wxpay.Opts{
			"sub_mchid":     "1900000109",
			"out_refund_no": n.Get("out_refund_no").String(),
			"type":          "USER_BANK_CARD",
			"bank_type":     "ICBC_DEBIT",
			"bank_account":  "6222020200009876",
			"real_name":     "张三",
		},
		"encrypt": []string{"bank_account", "real_name"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ab.Get("status").String() != "PROCESSING" || ab.Get("user_received_account").String() != "工商银行借记卡9876" {
		t.Errorf("abnormal refund: status %s, account %s", ab.Get("status"), ab.Get("user_received_account"))
	}

	// The bank pays out: a REFUND.SUCCESS notification follows.
	if err := srv.SetRefundStatus(refundID, wxpaytest.StatusSuccess); err != nil {
		t.Fatal(err)
	}
	n = got.next(t)
	if n.EventType != "REFUND.SUCCESS" || n.Get("refund_status").String() != "SUCCESS" ||
		n.Get("user_received_account").String() != "工商银行借记卡9876" || n.Get("success_time").String() == "" {
		t.Errorf("second notification: %s %s", n.EventType, n.Resource.Raw)
	}
}

// Only final states of refunds with a loopback notify_url are notified.
func TestNotificationOnlyForFinalStatesAndLoopback(t *testing.T) {
	srv, c := setup(t)
	got := newReceived()
	hs := httptest.NewServer(c.NotificationHandler(got.fn))
	defer hs.Close()
	apply := func(outRefundNo, notifyURL string) string {
		t.Helper()
		j := applyRefundJSON(outRefundNo)
		j["notify_url"] = notifyURL
		resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": j})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Get("refund_id").String()
	}
	remote := apply("R-REMOTE", "https://weixin.qq.com/notify")
	local := apply("R-LOCAL", strings.Replace(hs.URL, "127.0.0.1", "localhost", 1))
	for _, id := range []string{remote, local} {
		for _, st := range []string{wxpaytest.StatusProcessing, wxpaytest.StatusClosed, wxpaytest.StatusClosed} {
			if err := srv.SetRefundStatus(id, st); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := got.next(t); n.EventType != "REFUND.CLOSED" || n.Get("out_refund_no").String() != "R-LOCAL" {
		t.Errorf("got %s for %s, want REFUND.CLOSED for R-LOCAL", n.EventType, n.Get("out_refund_no"))
	}
	waitDelivery(t, srv, local)
	if ds := srv.Deliveries(); len(ds) != 1 {
		t.Errorf("%d deliveries, want 1 (none to a remote host, none for PROCESSING, none for an unchanged status)", len(ds))
	}
	if _, err := srv.Notify("https://weixin.qq.com/notify", "TRANSACTION.SUCCESS", `{}`); err == nil {
		t.Error("Notify to a remote host: no error")
	}
}

// The emulator sends again after a non-2xx answer until the handler
// accepts.
func TestNotificationRetriedUntilAcknowledged(t *testing.T) {
	srv := wxpaytest.NewUnstartedServer()
	srv.NotifyRetryWait = time.Millisecond
	srv.NotifyAttempts = 5
	srv.Start()
	defer srv.Close()
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := 0
	hs := httptest.NewServer(c.NotificationHandler(func(_ context.Context, n *wxpay.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		switch calls {
		case 1:
			return errors.New("database down")
		case 2:
			panic("bug")
		}
		return nil
	}))
	defer hs.Close()

	d, err := srv.Notify(hs.URL, "TRANSACTION.SUCCESS", wxpay.Opts{"out_trade_no": "T1", "trade_state": "SUCCESS"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{500, 500, 204}, d.Statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// A receiver that never accepts: the attempts run out.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer refuse.Close()
	d, err = srv.Notify(refuse.URL, "TRANSACTION.SUCCESS", `{"out_trade_no":"T2"}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(ctx); err == nil || d.Attempts() != 5 || d.LastStatus() != 503 || d.Acknowledged() {
		t.Errorf("Wait = %v, attempts %d, last status %d, acknowledged %v; want an error after 5 attempts ending in 503", err, d.Attempts(), d.LastStatus(), d.Acknowledged())
	}
}

// Close stops a delivery waiting for its next attempt, and waits for it.
func TestCloseStopsDeliveries(t *testing.T) {
	srv := wxpaytest.NewUnstartedServer()
	srv.NotifyRetryWait = time.Hour
	srv.Start()
	first := make(chan struct{})
	var once sync.Once
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(func() { close(first) })
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer hs.Close()
	d, err := srv.Notify(hs.URL, "TRANSACTION.SUCCESS", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-first:
	case <-time.After(wait):
		t.Fatal("no attempt made")
	}
	srv.Close()
	select {
	case <-d.Done():
	default:
		t.Fatal("delivery still running after Close")
	}
	if d.Acknowledged() {
		t.Error("acknowledged")
	}
	if _, err := srv.Notify(hs.URL, "TRANSACTION.SUCCESS", `{}`); err == nil {
		t.Error("Notify after Close: no error")
	}
}

// forge makes notifications the way WeChat Pay does, with the test platform
// key, so that each part can be altered.
type forge struct {
	t        *testing.T
	key      *rsa.PrivateKey
	apiv3Key []byte
}

func newForge(t *testing.T, apiv3Key string) *forge {
	t.Helper()
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return &forge{t: t, key: pk, apiv3Key: []byte(apiv3Key)}
}

const (
	forgeNonce    = "sXbLq9mVz2Pa"
	forgeResource = `{"mchid":"1900000109","out_refund_no":"R1","refund_id":"50000000000000000000000000001","refund_status":"SUCCESS","amount":{"total":888,"refund":888,"payer_total":888,"payer_refund":888}}`
)

// envelope returns the body of a notification of forgeResource; edit may
// change the envelope and its resource object before encoding.
func (f *forge) envelope(edit func(env, res map[string]any)) []byte {
	f.t.Helper()
	ct, err := aesgcm.Encrypt(f.apiv3Key, forgeNonce, "refund", []byte(forgeResource))
	if err != nil {
		f.t.Fatal(err)
	}
	res := map[string]any{
		"original_type":   "refund",
		"algorithm":       "AEAD_AES_256_GCM",
		"ciphertext":      ct,
		"associated_data": "refund",
		"nonce":           forgeNonce,
	}
	env := map[string]any{
		"id":            "EV-2026112300001",
		"create_time":   "2026-11-23T10:34:56+08:00",
		"resource_type": "encrypt-resource",
		"event_type":    "REFUND.SUCCESS",
		"summary":       "退款成功",
		"resource":      res,
	}
	if edit != nil {
		edit(env, res)
	}
	b, err := json.Marshal(env)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// header signs body at time ts.
func (f *forge) header(body []byte, ts int64) http.Header {
	f.t.Helper()
	tss := strconv.FormatInt(ts, 10)
	nonce := "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
	digest := sha256.Sum256([]byte(tss + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, digest[:])
	if err != nil {
		f.t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", tss)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", platformSerial)
	h.Set("Content-Type", "application/json")
	return h
}

// notifyCase is a notification and what the handler must answer.
type notifyCase struct {
	name    string
	method  string
	header  http.Header
	body    []byte
	status  int
	wantErr error // from ParseNotification; nil when it succeeds
}

// notifyCases are the refusals every handler must make.
func notifyCases(t *testing.T, apiv3Key string) []notifyCase {
	f := newForge(t, apiv3Key)
	now := time.Now().Unix()
	good := f.envelope(nil)
	signed := func(body []byte) http.Header { return f.header(body, now) }
	resEdit := func(k string, v any) []byte {
		return f.envelope(func(_, res map[string]any) { res[k] = v })
	}
	envEdit := func(k string, v any) []byte {
		return f.envelope(func(env, _ map[string]any) {
			if v == nil {
				delete(env, k)
			} else {
				env[k] = v
			}
		})
	}
	flipped := func() string {
		ct, _ := aesgcm.Encrypt([]byte(apiv3Key), forgeNonce, "refund", []byte(forgeResource))
		b, _ := base64.StdEncoding.DecodeString(ct)
		b[3] ^= 0x20
		return base64.StdEncoding.EncodeToString(b)
	}
	withHeader := func(k, v string) http.Header {
		h := signed(good)
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
		return h
	}
	tampered := bytes.Replace(good, []byte("EV-2026112300001"), []byte("EV-2026112300002"), 1)
	notJSON := []byte("id=1&event_type=REFUND.SUCCESS")
	otherKey, _ := aesgcm.Encrypt([]byte(strings.Repeat("x", 32)), forgeNonce, "refund", []byte(forgeResource))
	plainNotJSON, _ := aesgcm.Encrypt([]byte(apiv3Key), forgeNonce, "refund", []byte("not json"))
	sigOf := func(h http.Header) string { return h.Get("Wechatpay-Signature") }

	return []notifyCase{
		{"valid", "POST", signed(good), good, 204, nil},
		{"tampered body", "POST", signed(good), tampered, 401, wxpay.ErrBadSignature},
		{"bad signature", "POST", withHeader("Wechatpay-Signature", sigOf(signed(tampered))), good, 401, wxpay.ErrBadSignature},
		{"signature probe", "POST", withHeader("Wechatpay-Signature", "WECHATPAY/SIGNTEST/"+sigOf(signed(good))), good, 401, wxpay.ErrSignatureProbe},
		{"timestamp 10 min old", "POST", f.header(good, now-600), good, 401, wxpay.ErrClockSkew},
		{"timestamp 10 min ahead", "POST", f.header(good, now+600), good, 401, wxpay.ErrClockSkew},
		{"unknown serial", "POST", withHeader("Wechatpay-Serial", "PUB_KEY_ID_0000"), good, 401, wxpay.ErrUnknownSerial},
		{"no signature", "POST", withHeader("Wechatpay-Signature", ""), good, 401, wxpay.ErrMissingHeader},
		{"no headers", "POST", http.Header{}, good, 401, wxpay.ErrMissingHeader},
		{"timestamp not a number", "POST", withHeader("Wechatpay-Timestamp", "soon"), good, 401, wxpay.ErrMalformedHeader},
		{"not JSON", "POST", signed(notJSON), notJSON, 400, wxpay.ErrMalformedNotification},
		{"JSON array", "POST", signed([]byte(`[1]`)), []byte(`[1]`), 400, wxpay.ErrMalformedNotification},
		{"empty body", "POST", signed(nil), nil, 400, wxpay.ErrMalformedNotification},
		{"no resource", "POST", signed(envEdit("resource", nil)), envEdit("resource", nil), 400, wxpay.ErrMalformedNotification},
		{"resource a string", "POST", signed(envEdit("resource", "x")), envEdit("resource", "x"), 400, wxpay.ErrMalformedNotification},
		{"no id", "POST", signed(envEdit("id", nil)), envEdit("id", nil), 400, wxpay.ErrMalformedNotification},
		{"no event_type", "POST", signed(envEdit("event_type", nil)), envEdit("event_type", nil), 400, wxpay.ErrMalformedNotification},
		{"id a number", "POST", signed(envEdit("id", 7)), envEdit("id", 7), 400, wxpay.ErrMalformedNotification},
		{"wrong algorithm", "POST", signed(resEdit("algorithm", "AEAD_SM4_GCM")), resEdit("algorithm", "AEAD_SM4_GCM"), 400, wxpay.ErrUnsupportedAlgorithm},
		{"no algorithm", "POST", signed(resEdit("algorithm", "")), resEdit("algorithm", ""), 400, wxpay.ErrUnsupportedAlgorithm},
		{"ciphertext not base64", "POST", signed(resEdit("ciphertext", "%%%")), resEdit("ciphertext", "%%%"), 400, wxpay.ErrMalformedNotification},
		{"no ciphertext", "POST", signed(resEdit("ciphertext", "")), resEdit("ciphertext", ""), 400, wxpay.ErrMalformedNotification},
		{"nonce too short", "POST", signed(resEdit("nonce", "abc")), resEdit("nonce", "abc"), 400, wxpay.ErrMalformedNotification},
		{"tampered ciphertext", "POST", signed(resEdit("ciphertext", flipped())), resEdit("ciphertext", flipped()), 400, wxpay.ErrDecryptFailed},
		{"tampered nonce", "POST", signed(resEdit("nonce", "sXbLq9mVz2Pb")), resEdit("nonce", "sXbLq9mVz2Pb"), 400, wxpay.ErrDecryptFailed},
		{"tampered associated_data", "POST", signed(resEdit("associated_data", "transaction")), resEdit("associated_data", "transaction"), 400, wxpay.ErrDecryptFailed},
		{"other APIv3 key", "POST", signed(resEdit("ciphertext", otherKey)), resEdit("ciphertext", otherKey), 400, wxpay.ErrDecryptFailed},
		{"plaintext not JSON", "POST", signed(resEdit("ciphertext", plainNotJSON)), resEdit("ciphertext", plainNotJSON), 400, wxpay.ErrMalformedNotification},
		{"GET", "GET", signed(good), nil, 405, nil},
		{"too large", "POST", signed(good), append(good, bytes.Repeat([]byte(" "), wxpay.MaxNotificationSize)...), 413, nil},
	}
}

func TestParseNotification(t *testing.T) {
	srv, c := setup(t)
	for _, tc := range notifyCases(t, srv.APIv3Key) {
		if tc.method != "POST" || tc.status == 413 {
			continue
		}
		n, err := c.ParseNotification(tc.header, tc.body)
		if tc.wantErr == nil {
			if err != nil {
				t.Errorf("%s: ParseNotification = %v", tc.name, err)
				continue
			}
			if n.Resource.Raw != forgeResource || n.ID != "EV-2026112300001" || n.EventType != "REFUND.SUCCESS" ||
				n.CreateTime != "2026-11-23T10:34:56+08:00" || n.Summary != "退款成功" || n.Serial != platformSerial {
				t.Errorf("%s: got %+v", tc.name, n)
			}
			continue
		}
		if !errors.Is(err, tc.wantErr) || n != nil {
			t.Errorf("%s: ParseNotification = %v, %v, want %v", tc.name, n, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), srv.APIv3Key) {
			t.Errorf("%s: error %q holds the APIv3 key", tc.name, err)
		}
	}
}

func TestParseNotificationNeedsAPIv3Key(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.APIv3Key = ""
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newForge(t, srv.APIv3Key)
	body := f.envelope(nil)
	if _, err := c.ParseNotification(f.header(body, time.Now().Unix()), body); !errors.Is(err, wxpay.ErrNoAPIv3Key) || !strings.Contains(err.Error(), "notification") {
		t.Errorf("ParseNotification without APIv3Key = %v, want ErrNoAPIv3Key saying what needs the key", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/notify", bytes.NewReader(body))
	req.Header = f.header(body, time.Now().Unix())
	c.NotificationHandler(func(context.Context, *wxpay.Notification) error { return nil }).ServeHTTP(rec, req)
	checkFail(t, "no APIv3 key", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), 500)
}

// New checks the APIv3 key's length.
func TestAPIv3KeyLength(t *testing.T) {
	srv, _ := setup(t)
	for _, k := range []string{"short", strings.Repeat("k", 31), strings.Repeat("k", 33)} {
		cfg := srv.Config()
		cfg.APIv3Key = k
		_, err := wxpay.New(cfg)
		if !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "APIv3Key") {
			t.Errorf("New(APIv3Key of %d bytes) = %v, want ErrInvalidConfig naming APIv3Key", len(k), err)
		}
		if err != nil && strings.Contains(err.Error(), k) {
			t.Errorf("error %q holds the key", err)
		}
	}
}

// checkFail checks a refusal: the status and {"code":"FAIL","message":...}.
func checkFail(t *testing.T, name string, status int, contentType string, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Errorf("%s: status %d, want %d (body %s)", name, status, want, body)
	}
	if want == http.StatusNoContent {
		if len(body) != 0 {
			t.Errorf("%s: body %q, want none", name, body)
		}
		return
	}
	var ans struct{ Code, Message string }
	if err := json.Unmarshal(body, &ans); err != nil || ans.Code != "FAIL" || ans.Message == "" || !strings.HasPrefix(contentType, "application/json") {
		t.Errorf("%s: answer %s (%s), want {\"code\":\"FAIL\",\"message\":...} as application/json", name, body, contentType)
	}
}

func TestNotificationHandler(t *testing.T) {
	srv, c := setup(t)
	var calls int
	h := c.NotificationHandler(func(_ context.Context, n *wxpay.Notification) error {
		calls++
		if n.Get("refund_status").String() != "SUCCESS" {
			t.Errorf("handler got %s", n.Resource.Raw)
		}
		return nil
	})
	for _, tc := range notifyCases(t, srv.APIv3Key) {
		calls = 0
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, "/notify", bytes.NewReader(tc.body))
		req.Header = tc.header
		h.ServeHTTP(rec, req)
		checkFail(t, tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), tc.status)
		if wantCalls := map[bool]int{true: 1, false: 0}[tc.status == 204]; calls != wantCalls {
			t.Errorf("%s: function called %d times, want %d", tc.name, calls, wantCalls)
		}
		if tc.status == 405 && rec.Header().Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q, want POST", tc.name, rec.Header().Get("Allow"))
		}
	}
}

func TestNotificationHandlerFunctionFails(t *testing.T) {
	srv, c := setup(t)
	f := newForge(t, srv.APIv3Key)
	body := f.envelope(nil)
	for _, tc := range []struct {
		name string
		fn   func(context.Context, *wxpay.Notification) error
	}{
		{"error", func(context.Context, *wxpay.Notification) error {
			return errors.New("db: connection refused to 10.0.0.7")
		}},
		{"panic", func(context.Context, *wxpay.Notification) error { panic("nil map") }},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/notify", bytes.NewReader(body))
		req.Header = f.header(body, time.Now().Unix())
		c.NotificationHandler(tc.fn).ServeHTTP(rec, req)
		checkFail(t, tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), 500)
		if strings.Contains(rec.Body.String(), "10.0.0.7") || strings.Contains(rec.Body.String(), "nil map") {
			t.Errorf("%s: the answer leaks the function's failure: %s", tc.name, rec.Body)
		}
	}

	// http.ErrAbortHandler keeps its net/http meaning.
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	req := httptest.NewRequest("POST", "/notify", bytes.NewReader(body))
	req.Header = f.header(body, time.Now().Unix())
	c.NotificationHandler(func(context.Context, *wxpay.Notification) error { panic(http.ErrAbortHandler) }).ServeHTTP(httptest.NewRecorder(), req)
}

func TestNotificationHandlerNilFunction(t *testing.T) {
	_, c := setup(t)
	for name, mk := range map[string]func(){
		"NotificationHandler":         func() { c.NotificationHandler(nil) },
		"FasthttpNotificationHandler": func() { c.FasthttpNotificationHandler(nil) },
		// Accepted, it would answer 500 to every notification for good.
		"V2NotificationHandler": func() { c.V2NotificationHandler(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic", name)
				}
			}()
			mk()
		}()
	}
}

// serveFasthttp serves h on ln until the test ends.
func serveFasthttp(t *testing.T, ln net.Listener, h fasthttp.RequestHandler) {
	t.Helper()
	s := &fasthttp.Server{Handler: h, MaxRequestBodySize: 4 << 20}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Shutdown()
		<-done
	})
}

func TestFasthttpNotificationHandler(t *testing.T) {
	srv, c := setup(t)
	var mu sync.Mutex
	var calls int
	ln := fasthttputil.NewInmemoryListener()
	serveFasthttp(t, ln, c.FasthttpNotificationHandler(func(ctx context.Context, n *wxpay.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if ctx == nil || n.Get("refund_status").String() != "SUCCESS" {
			t.Errorf("handler got %v, %s", ctx, n.Resource.Raw)
		}
		return nil
	}))
	hc := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	for _, tc := range notifyCases(t, srv.APIv3Key) {
		mu.Lock()
		calls = 0
		mu.Unlock()
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://notify.test/notify")
		req.Header.SetMethod(tc.method)
		for k, vs := range tc.header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		if tc.body != nil {
			req.SetBody(tc.body)
		}
		if err := hc.DoTimeout(req, resp, wait); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkFail(t, tc.name, resp.StatusCode(), string(resp.Header.ContentType()), resp.Body(), tc.status)
		mu.Lock()
		if wantCalls := map[bool]int{true: 1, false: 0}[tc.status == 204]; calls != wantCalls {
			t.Errorf("%s: function called %d times, want %d", tc.name, calls, wantCalls)
		}
		mu.Unlock()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}

// A fasthttp server on a real loopback port receives the emulator's
// notification, after refusing it once.
func TestFasthttpNotificationFromEmulator(t *testing.T) {
	srv := wxpaytest.NewUnstartedServer()
	srv.NotifyRetryWait = time.Millisecond
	srv.Start()
	defer srv.Close()
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := newReceived()
	var answered atomic.Bool
	serveFasthttp(t, ln, c.FasthttpNotificationHandler(func(ctx context.Context, n *wxpay.Notification) error {
		if !answered.Swap(true) {
			return errors.New("not yet")
		}
		return got.fn(ctx, n)
	}))
	resp, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": wxpay.Opts{
		"out_trade_no":  "T-FAST-1",
		"out_refund_no": "R-FAST-1",
		"notify_url":    "http://" + ln.Addr().String() + "/notify",
		"amount":        wxpay.Opts{"refund": 888, "total": 888, "currency": "CNY"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	refundID := resp.Get("refund_id").String()
	if err := srv.SetRefundStatus(refundID, wxpaytest.StatusSuccess); err != nil {
		t.Fatal(err)
	}
	n := got.next(t)
	if n.EventType != "REFUND.SUCCESS" || n.Get("refund_id").String() != refundID || n.Get("amount.payer_refund").Int() != 888 {
		t.Errorf("got %s %s", n.EventType, n.Resource.Raw)
	}
	d := waitDelivery(t, srv, refundID)
	if diff := cmp.Diff([]int{500, 204}, d.Statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// Fuzzing: a fixed APIv3 key and clock, so that the seeds stay valid.
const (
	fuzzAPIv3Key = "0123456789abcdefghijklmnopqrstuv"
	fuzzNow      = 1700000000
	fuzzNonce    = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
)

// FuzzParseNotification feeds ParseNotification arbitrary bodies and
// headers. An empty signature stands for a valid one, made by the target
// over the body, so that the fuzzer reaches past the signature check. It
// must never panic, and must succeed exactly when an independent check of
// the input says it should.
func FuzzParseNotification(f *testing.F) {
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		f.Fatal(err)
	}
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		f.Fatal(err)
	}
	c, err := wxpay.New(wxpay.Config{
		MchID:      "1900000109",
		Serial:     wxpaytest.DefaultMerchantSerial,
		PrivateKey: mk,
		Certs:      map[string]*rsa.PublicKey{platformSerial: &pk.PublicKey},
		APIv3Key:   fuzzAPIv3Key,
	})
	if err != nil {
		f.Fatal(err)
	}
	c.Verifier().Now = func() time.Time { return time.Unix(fuzzNow, 0) }

	ts := strconv.Itoa(fuzzNow)
	ct, err := aesgcm.Encrypt([]byte(fuzzAPIv3Key), forgeNonce, "refund", []byte(forgeResource))
	if err != nil {
		f.Fatal(err)
	}
	valid := `{"id":"EV-1","create_time":"2023-11-15T06:13:20+08:00","resource_type":"encrypt-resource","event_type":"REFUND.SUCCESS","summary":"退款成功","resource":{"original_type":"refund","algorithm":"AEAD_AES_256_GCM","ciphertext":"` + ct + `","associated_data":"refund","nonce":"` + forgeNonce + `"}}`
	f.Add([]byte(valid), ts, platformSerial, "")
	f.Add([]byte(valid), ts, platformSerial, "WECHATPAY/SIGNTEST/AAAA")
	f.Add([]byte(`{"id":"1","event_type":"X","resource":{}}`), ts, platformSerial, "")

	f.Fuzz(func(t *testing.T, body []byte, timestamp, serial, signature string) {
		signed := signature == ""
		if signed {
			digest := sha256.Sum256([]byte(timestamp + "\n" + fuzzNonce + "\n" + string(body) + "\n"))
			sig, err := rsa.SignPKCS1v15(nil, pk, crypto.SHA256, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			signature = base64.StdEncoding.EncodeToString(sig)
		}
		h := http.Header{}
		h.Set("Wechatpay-Timestamp", timestamp)
		h.Set("Wechatpay-Nonce", fuzzNonce)
		h.Set("Wechatpay-Signature", signature)
		h.Set("Wechatpay-Serial", serial)
		n, err := c.ParseNotification(h, body)

		want, plain := fuzzOracle(signed, h, body)
		if (err == nil) != want {
			t.Fatalf("ParseNotification = %v; the input is valid: %v", err, want)
		}
		if err != nil {
			if n != nil {
				t.Fatal("a notification returned with an error")
			}
			if strings.Contains(err.Error(), fuzzAPIv3Key) {
				t.Fatalf("error %q holds the APIv3 key", err)
			}
			return
		}
		if n.Resource.Raw != string(plain) || string(n.Body) != string(body) || n.ID == "" || n.EventType == "" || n.Serial != serial {
			t.Fatalf("notification %+v does not match the input", n)
		}
	})
}

// fuzzOracle says whether a notification should be accepted, checking it
// with other means than ParseNotification: signed by the target (a
// signature the fuzzer made up does not verify), a trusted serial, a timestamp within 300 s, a JSON object whose known fields are
// strings or null, an id, an event_type, an AEAD_AES_256_GCM resource that
// decrypts to JSON. It returns the plaintext of a valid one.
func fuzzOracle(signed bool, h http.Header, body []byte) (bool, []byte) {
	if !signed || h.Get("Wechatpay-Serial") != platformSerial {
		return false, nil
	}
	ts, err := strconv.ParseInt(h.Get("Wechatpay-Timestamp"), 10, 64)
	if err != nil || ts < fuzzNow-300 || ts > fuzzNow+300 {
		return false, nil
	}
	var env map[string]any
	if json.Unmarshal(body, &env) != nil || env == nil {
		return false, nil
	}
	strs := func(m map[string]any, keys ...string) (map[string]string, bool) {
		out := map[string]string{}
		for _, k := range keys {
			switch v := m[k].(type) {
			case nil:
			case string:
				out[k] = v
			default:
				return nil, false
			}
		}
		return out, true
	}
	e, ok := strs(env, "id", "create_time", "event_type", "resource_type", "summary")
	if !ok || e["id"] == "" || e["event_type"] == "" {
		return false, nil
	}
	res, ok := env["resource"].(map[string]any)
	if !ok {
		return false, nil
	}
	r, ok := strs(res, "algorithm", "ciphertext", "nonce", "associated_data", "original_type")
	if !ok || r["algorithm"] != "AEAD_AES_256_GCM" || r["ciphertext"] == "" {
		return false, nil
	}
	plain, err := aesgcm.Decrypt([]byte(fuzzAPIv3Key), r["nonce"], r["associated_data"], r["ciphertext"])
	if err != nil || !json.Valid(plain) {
		return false, nil
	}
	return true, plain
}

// Config.OnNotificationError hears every refusal, with its reason, from both
// handlers, and nothing when the notification is accepted.
func TestOnNotificationError(t *testing.T) {
	srv, _ := setup(t)
	var got []error
	var mu sync.Mutex
	cfg := srv.Config()
	cfg.OnNotificationError = func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	failing := errors.New("db down")
	fn := func(_ context.Context, n *wxpay.Notification) error {
		if n.ID == "EV-FAIL" {
			return failing
		}
		return nil
	}
	h := c.NotificationHandler(fn)
	for _, tc := range notifyCases(t, srv.APIv3Key) {
		mu.Lock()
		got = nil
		mu.Unlock()
		req := httptest.NewRequest(tc.method, "/notify", bytes.NewReader(tc.body))
		req.Header = tc.header
		h.ServeHTTP(httptest.NewRecorder(), req)
		mu.Lock()
		switch {
		case tc.status == 204 && len(got) != 0:
			t.Errorf("%s: accepted, yet OnNotificationError got %v", tc.name, got)
		case tc.status != 204 && len(got) != 1:
			t.Errorf("%s: refused with %d, OnNotificationError got %v; want one error", tc.name, tc.status, got)
		case tc.wantErr != nil && len(got) == 1 && !errors.Is(got[0], tc.wantErr):
			t.Errorf("%s: OnNotificationError got %v, want %v", tc.name, got[0], tc.wantErr)
		}
		mu.Unlock()
	}
	f := newForge(t, srv.APIv3Key)
	body := f.envelope(func(env, _ map[string]any) { env["id"] = "EV-FAIL" })
	req := httptest.NewRequest("POST", "/notify", bytes.NewReader(body))
	req.Header = f.header(body, time.Now().Unix())
	got = nil
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(got) != 1 || !errors.Is(got[0], failing) || !strings.Contains(got[0].Error(), "EV-FAIL") {
		t.Errorf("function failure: OnNotificationError got %v, want the function's error with the notification id", got)
	}
	for _, e := range got {
		if strings.Contains(e.Error(), srv.APIv3Key) {
			t.Errorf("error holds the APIv3 key: %v", e)
		}
	}
}
