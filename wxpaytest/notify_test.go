package wxpaytest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/aesgcm"
	"github.com/wxpay-chain/wxpay/verifier"
)

// waitFor bounds every wait for a notification.
const waitFor = 10 * time.Second

// capture is a notification as a receiver got it.
type capture struct {
	method string
	header http.Header
	body   []byte
}

// receiver is a notify_url that records what it receives and answers with
// the next of its statuses (204 once they run out).
type receiver struct {
	*httptest.Server
	got chan capture

	mu       sync.Mutex
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan capture, 16), statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.got <- capture{req.Method, req.Header.Clone(), b}
		r.mu.Lock()
		status := http.StatusNoContent
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) next(t *testing.T) capture {
	t.Helper()
	select {
	case c := <-r.got:
		return c
	case <-time.After(waitFor):
		t.Fatal("no notification received")
		return capture{}
	}
}

// wait waits until d is done.
func wait(t *testing.T, d *Delivery) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(waitFor):
		t.Fatalf("delivery %s still running", d.ID)
	}
}

// onlyDelivery returns the server's only delivery.
func onlyDelivery(t *testing.T, s *Server) *Delivery {
	t.Helper()
	ds := s.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	return ds[0]
}

// open checks the signature of a notification with the server's platform
// keys, and returns its envelope and decrypted resource.
func open(t *testing.T, s *Server, c capture) (map[string]any, map[string]any) {
	t.Helper()
	keys := map[string]*rsa.PublicKey{}
	for _, p := range s.Platform {
		keys[p.Serial] = &p.Key.PublicKey
	}
	v, err := verifier.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = s.now
	h := verifier.Headers{
		Timestamp: c.header.Get(verifier.HeaderTimestamp),
		Nonce:     c.header.Get(verifier.HeaderNonce),
		Signature: c.header.Get(verifier.HeaderSignature),
		Serial:    c.header.Get(verifier.HeaderSerial),
	}
	if err := v.Verify(h, c.body, nil); err != nil {
		t.Fatalf("notification signature: %v", err)
	}
	if h.Serial != DefaultPlatformSerial {
		t.Errorf("signed with %s, want %s", h.Serial, DefaultPlatformSerial)
	}
	var env map[string]any
	if err := json.Unmarshal(c.body, &env); err != nil {
		t.Fatalf("notification body: %v: %s", err, c.body)
	}
	res, _ := env["resource"].(map[string]any)
	nonce, _ := res["nonce"].(string)
	ad, _ := res["associated_data"].(string)
	ct, _ := res["ciphertext"].(string)
	plain, err := aesgcm.Decrypt([]byte(s.APIv3Key), nonce, ad, ct)
	if err != nil {
		t.Fatalf("resource: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(plain, &m); err != nil {
		t.Fatalf("resource: %v: %s", err, plain)
	}
	return env, m
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRefundNotification(t *testing.T) {
	clock := time.Date(2026, 11, 23, 10, 34, 56, 0, time.UTC)
	s := newServer(t, func(s *Server) { s.Now = fixedClock(clock) })
	rcv := newReceiver(t)
	c := newClient(t, s)
	r := c.post("/v3/refund/domestic/refunds", map[string]any{
		"out_trade_no":  "T-N-1",
		"out_refund_no": "R-N-1",
		"notify_url":    rcv.URL + "/notify?from=wxpay",
		"amount":        map[string]any{"refund": 100, "total": 888, "currency": "CNY"},
	})
	if r.status != 200 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	refund := r.json(t)
	if err := s.SetRefundStatus(refund["refund_id"].(string), StatusSuccess); err != nil {
		t.Fatal(err)
	}
	got := rcv.next(t)
	if got.method != http.MethodPost || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("sent as %s with Content-Type %q", got.method, got.header.Get("Content-Type"))
	}
	env, res := open(t, s, got)
	resource := env["resource"].(map[string]any)
	if !uuidRE.MatchString(env["id"].(string)) || len(resource["nonce"].(string)) != 12 {
		t.Errorf("id %v, nonce %v: want a UUID and 12 characters", env["id"], resource["nonce"])
	}
	delete(env, "id")
	delete(resource, "nonce")
	delete(resource, "ciphertext")
	wantEnv := map[string]any{
		"create_time":   "2026-11-23T18:34:56+08:00",
		"resource_type": "encrypt-resource",
		"event_type":    "REFUND.SUCCESS",
		"summary":       "退款成功",
		"resource": map[string]any{
			"original_type":   "refund",
			"algorithm":       "AEAD_AES_256_GCM",
			"associated_data": "refund",
		},
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	wantRes := map[string]any{
		"mchid":                 DefaultMchID,
		"transaction_id":        refund["transaction_id"],
		"out_trade_no":          "T-N-1",
		"refund_id":             refund["refund_id"],
		"out_refund_no":         "R-N-1",
		"refund_status":         "SUCCESS",
		"success_time":          "2026-11-23T18:34:56+08:00",
		"user_received_account": "支付用户零钱",
		"amount":                map[string]any{"total": 888.0, "refund": 100.0, "payer_total": 888.0, "payer_refund": 100.0},
	}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("resource (-want +got):\n%s", diff)
	}

	d := onlyDelivery(t, s)
	wait(t, d)
	if !d.Acknowledged() || d.Attempts() != 1 || d.LastStatus() != 204 || d.Err() != nil {
		t.Errorf("delivery: acknowledged %v, attempts %d, last status %d, err %v", d.Acknowledged(), d.Attempts(), d.LastStatus(), d.Err())
	}
	if d.RefundID != refund["refund_id"] || d.EventType != "REFUND.SUCCESS" || d.URL != rcv.URL+"/notify?from=wxpay" || string(d.Body) != string(got.body) {
		t.Errorf("delivery record %+v does not match what was sent", d)
	}
	var fromRecord map[string]any
	if err := json.Unmarshal(d.Resource, &fromRecord); err != nil || !cmp.Equal(fromRecord, wantRes) {
		t.Errorf("delivery Resource %s", d.Resource)
	}
}

func TestRefundNotificationEvents(t *testing.T) {
	for _, tc := range []struct{ status, event, summary string }{
		{StatusSuccess, "REFUND.SUCCESS", "退款成功"},
		{StatusAbnormal, "REFUND.ABNORMAL", "退款异常"},
		{StatusClosed, "REFUND.CLOSED", "退款关闭"},
	} {
		s := newServer(t)
		rcv := newReceiver(t)
		c := newClient(t, s)
		r := c.post("/v3/refund/domestic/refunds", map[string]any{
			"transaction_id": "4200000000000000000000000001",
			"out_refund_no":  "R-" + tc.status,
			"notify_url":     rcv.URL,
			"amount":         map[string]any{"refund": 888, "total": 888, "currency": "CNY"},
		}).json(t)
		if err := s.SetRefundStatus(r["refund_id"].(string), tc.status); err != nil {
			t.Fatal(err)
		}
		env, res := open(t, s, rcv.next(t))
		if env["event_type"] != tc.event || env["summary"] != tc.summary || res["refund_status"] != tc.status {
			t.Errorf("%s: event %v, summary %v, refund_status %v", tc.status, env["event_type"], env["summary"], res["refund_status"])
		}
		if _, ok := res["success_time"]; ok != (tc.status == StatusSuccess) {
			t.Errorf("%s: success_time present: %v", tc.status, ok)
		}
		wait(t, onlyDelivery(t, s))
	}
}

func TestEcommerceRefundNotification(t *testing.T) {
	s := newServer(t)
	rcv := newReceiver(t)
	c := newClient(t, s)
	r := c.post(ecommerceApplyPath, ecommerceBody("R-EC-N", func(m map[string]any) { m["notify_url"] = rcv.URL }))
	if r.status != 200 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	if err := s.SetRefundStatus(r.json(t)["refund_id"].(string), StatusClosed); err != nil {
		t.Fatal(err)
	}
	_, res := open(t, s, rcv.next(t))
	if res["sp_mchid"] != DefaultMchID || res["sub_mchid"] != "1900000109" || res["mchid"] != nil {
		t.Errorf("e-commerce resource: sp_mchid %v, sub_mchid %v, mchid %v", res["sp_mchid"], res["sub_mchid"], res["mchid"])
	}
	wait(t, onlyDelivery(t, s))
}

// Each attempt is signed afresh; the body stays the same.
func TestNotificationRetriesAreResigned(t *testing.T) {
	s := newServer(t, func(s *Server) { s.NotifyRetryWait = time.Millisecond })
	rcv := newReceiver(t, 500, 404)
	d, err := s.Notify(rcv.URL, "TRANSACTION.SUCCESS", map[string]any{"out_trade_no": "T1", "trade_state": "SUCCESS"})
	if err != nil {
		t.Fatal(err)
	}
	var nonces []string
	for range 3 {
		got := rcv.next(t)
		env, res := open(t, s, got)
		if string(got.body) != string(d.Body) || env["event_type"] != "TRANSACTION.SUCCESS" || res["trade_state"] != "SUCCESS" {
			t.Errorf("attempt body %s", got.body)
		}
		if r := env["resource"].(map[string]any); r["original_type"] != "transaction" || r["associated_data"] != "transaction" {
			t.Errorf("resource %v: want original_type and associated_data transaction", r)
		}
		nonces = append(nonces, got.header.Get(verifier.HeaderNonce))
	}
	wait(t, d)
	if diff := cmp.Diff([]int{500, 404, 204}, d.Statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if nonces[0] == nonces[1] || nonces[1] == nonces[2] {
		t.Errorf("signature nonces %v repeat", nonces)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Errorf("Wait = %v", err)
	}
}

// An unreachable receiver: every attempt fails, then the server gives up.
func TestNotificationGivesUp(t *testing.T) {
	s := newServer(t, func(s *Server) {
		s.NotifyRetryWait = time.Millisecond
		s.NotifyAttempts = 3
	})
	rcv := newReceiver(t)
	url := rcv.URL
	rcv.Close()
	d, err := s.Notify(url, "TRANSACTION.SUCCESS", `{"out_trade_no":"T1"}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := d.Wait(ctx); err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("Wait = %v, want an error after 3 attempts", err)
	}
	if d.Acknowledged() || d.Err() == nil || !cmp.Equal(d.Statuses(), []int{0, 0, 0}) {
		t.Errorf("acknowledged %v, err %v, statuses %v", d.Acknowledged(), d.Err(), d.Statuses())
	}
}

// Close cuts short an attempt in flight and returns when the delivery is
// done.
func TestCloseCancelsAttemptInFlight(t *testing.T) {
	testKeys(t)
	s := NewUnstartedServer()
	s.MerchantKey, s.Platform = merchantKey, []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	s.Start()
	defer s.Close()
	arrived, release := make(chan struct{}), make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then net/http notices the emulator hanging up
		close(arrived)
		select { // no answer until the emulator hangs up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hs.Close()
	defer close(release)
	d, err := s.Notify(hs.URL, "TRANSACTION.SUCCESS", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(waitFor):
		t.Fatal("no attempt arrived")
	}
	s.Close()
	select {
	case <-d.Done():
	default:
		t.Fatal("Close returned with the delivery still running")
	}
	if d.Acknowledged() || d.Attempts() != 0 {
		t.Errorf("acknowledged %v, attempts %d: the cut-short attempt should not count", d.Acknowledged(), d.Attempts())
	}
}

func TestNotifyErrors(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		name, url, event string
		resource         any
	}{
		{"remote host", "https://weixin.qq.com/notify", "TRANSACTION.SUCCESS", `{}`},
		{"not a URL", "::", "TRANSACTION.SUCCESS", `{}`},
		{"ftp", "ftp://127.0.0.1/", "TRANSACTION.SUCCESS", `{}`},
		{"no event", "http://127.0.0.1/", "", `{}`},
		{"not JSON", "http://127.0.0.1/", "TRANSACTION.SUCCESS", "{"},
		{"unencodable", "http://127.0.0.1/", "TRANSACTION.SUCCESS", make(chan int)},
	} {
		if d, err := s.Notify(tc.url, tc.event, tc.resource); err == nil {
			t.Errorf("%s: Notify = %v, want an error", tc.name, d.ID)
		}
	}
	if len(s.Deliveries()) != 0 {
		t.Errorf("%d deliveries made", len(s.Deliveries()))
	}
	if _, err := NewUnstartedServer().Notify("http://127.0.0.1/", "TRANSACTION.SUCCESS", `{}`); err == nil {
		t.Error("Notify on an unstarted server: no error")
	}
}

func TestLoopbackURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/notify": true,
		"https://127.0.0.2/":           true,
		"http://[::1]:9/x":             true,
		"http://localhost/n":           true,
		"http://LOCALHOST:1/":          true,
		"https://weixin.qq.com/":       false,
		"http://10.0.0.1/":             false,
		"http://localhost.evil.com/":   false,
		"http://user@127.0.0.1/":       false,
		"ftp://127.0.0.1/":             false,
		"127.0.0.1:80":                 false,
		"":                             false,
	} {
		if got := loopbackURL(u); got != want {
			t.Errorf("loopbackURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// The default client dials nothing but loopback addresses, whatever a name
// resolves to.
func TestLoopbackClientRefusesOtherAddresses(t *testing.T) {
	c := loopbackClient()
	defer c.CloseIdleConnections()
	// 192.0.2.0/24 is TEST-NET-1: nothing is sent, the dial is refused
	// before connecting.
	_, err := c.Get("http://192.0.2.1/")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Get(non-loopback) = %v, want a refusal naming loopback", err)
	}
}
