package wxpaytest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wxpay-chain/wxpay/aesgcm"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Notification delivery defaults, used when the Server fields are zero.
const (
	// DefaultNotifyAttempts is how many times a notification is sent
	// before the server gives up, when Server.NotifyAttempts is zero.
	DefaultNotifyAttempts = 6
	// DefaultNotifyRetryWait is the wait before the second attempt when
	// Server.NotifyRetryWait is zero. It doubles for each later attempt,
	// up to 16 times the first wait.
	DefaultNotifyRetryWait = 250 * time.Millisecond
	// NotifyTimeout bounds one attempt: sending the notification and
	// reading the answer.
	NotifyTimeout = 5 * time.Second
)

// Event types of the refund notifications the server sends when a refund
// reaches a final state.
const (
	EventRefundSuccess  = "REFUND.SUCCESS"
	EventRefundAbnormal = "REFUND.ABNORMAL"
	EventRefundClosed   = "REFUND.CLOSED"
)

// maxAnswerRead bounds how much of a notification answer is read.
const maxAnswerRead = 64 << 10

// summaries are the summary fields WeChat Pay gives its events.
var summaries = map[string]string{
	EventRefundSuccess:    "退款成功",
	EventRefundAbnormal:   "退款异常",
	EventRefundClosed:     "退款关闭",
	"TRANSACTION.SUCCESS": "支付成功",
}

// A Delivery is a notification the server sends, with the record of its
// attempts. The exported fields do not change once the Delivery is made;
// the methods report the attempts so far and are safe for concurrent use.
type Delivery struct {
	ID        string // the notification id
	URL       string // where it is sent
	EventType string // e.g. REFUND.SUCCESS
	RefundID  string // the refund it is about, "" for one sent with Notify
	// Resource is the resource JSON before encryption.
	Resource []byte
	// Body is the notification body sent at every attempt (each attempt is
	// signed afresh, with a new timestamp and nonce).
	Body []byte

	mu       sync.Mutex
	statuses []int
	lastErr  error
	acked    bool
	done     chan struct{}
}

// Attempts returns how many attempts have been made so far.
func (d *Delivery) Attempts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.statuses)
}

// Statuses returns the HTTP status of each attempt so far, 0 for an
// attempt that got no answer.
func (d *Delivery) Statuses() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int(nil), d.statuses...)
}

// LastStatus returns the HTTP status of the last attempt, 0 if none was
// made or it got no answer.
func (d *Delivery) LastStatus() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.statuses) == 0 {
		return 0
	}
	return d.statuses[len(d.statuses)-1]
}

// Err returns why the last attempt got no answer, or nil.
func (d *Delivery) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastErr
}

// Acknowledged reports whether the receiver answered an attempt with 2xx.
func (d *Delivery) Acknowledged() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acked
}

// Done returns a channel that is closed when no more attempts will be made:
// the notification was acknowledged, the attempts ran out, or the server
// was closed.
func (d *Delivery) Done() <-chan struct{} { return d.done }

// Wait waits until the delivery is done or ctx is done. It returns nil if
// the notification was acknowledged, else an error saying why not.
func (d *Delivery) Wait(ctx context.Context) error {
	select {
	case <-d.done:
	case <-ctx.Done():
		return fmt.Errorf("wxpaytest: notification %s after %d attempts: %w", d.ID, d.Attempts(), ctx.Err())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.acked {
		return nil
	}
	last := 0
	if len(d.statuses) > 0 {
		last = d.statuses[len(d.statuses)-1]
	}
	if last == 0 && d.lastErr != nil {
		return fmt.Errorf("wxpaytest: notification %s not acknowledged after %d attempts: %v", d.ID, len(d.statuses), d.lastErr)
	}
	return fmt.Errorf("wxpaytest: notification %s not acknowledged after %d attempts (last status %d)", d.ID, len(d.statuses), last)
}

// record notes the outcome of one attempt.
func (d *Delivery) record(status int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.statuses = append(d.statuses, status)
	d.lastErr = err
	if status >= 200 && status <= 299 {
		d.acked = true
	}
}

// notifier sends the server's notifications. Its zero value is ready.
type notifier struct {
	mu         sync.Mutex
	closed     bool
	ctx        context.Context // canceled by shutdown
	cancel     context.CancelFunc
	client     *http.Client // the default client, made on first use
	deliveries []*Delivery
	wg         sync.WaitGroup
}

// shutdown stops every delivery and waits for them to end.
func (n *notifier) shutdown() {
	n.mu.Lock()
	n.closed = true
	if n.cancel != nil {
		n.cancel()
	}
	client := n.client
	n.mu.Unlock()
	n.wg.Wait()
	if client != nil {
		client.CloseIdleConnections()
	}
}

// Deliveries returns the notifications the server has sent or is sending,
// oldest first.
func (s *Server) Deliveries() []*Delivery {
	s.notifier.mu.Lock()
	defer s.notifier.mu.Unlock()
	return append([]*Delivery(nil), s.notifier.deliveries...)
}

// Notify sends a notification of eventType (such as TRANSACTION.SUCCESS)
// to notifyURL, as WeChat Pay would: resource (JSON as []byte, string or
// json.RawMessage, or a value to encode) is encrypted with AEAD_AES_256_GCM
// under APIv3Key with a random nonce and the associated data and
// original_type taken from the event type ("transaction" for
// TRANSACTION.*), and the body is signed with the first platform key. The
// notification is sent in the background, again after a non-2xx answer, up
// to NotifyAttempts times; the Delivery reports how it went.
//
// notifyURL must be an http or https URL with a loopback host: the emulator
// sends nothing elsewhere. The server must be started.
func (s *Server) Notify(notifyURL, eventType string, resource any) (*Delivery, error) {
	if !loopbackURL(notifyURL) {
		return nil, fmt.Errorf("wxpaytest: notify URL %q is not an http(s) URL with a loopback host", notifyURL)
	}
	if eventType == "" {
		return nil, errors.New("wxpaytest: empty event type")
	}
	var plain []byte
	switch r := resource.(type) {
	case []byte:
		plain = r
	case json.RawMessage:
		plain = r
	case string:
		plain = []byte(r)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return nil, fmt.Errorf("wxpaytest: resource: %w", err)
		}
		plain = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if !json.Valid(plain) {
		return nil, errors.New("wxpaytest: resource is not JSON")
	}
	s.mu.Lock()
	started := s.store != nil
	s.mu.Unlock()
	if !started {
		return nil, errors.New("wxpaytest: server not started")
	}
	typ, _, _ := strings.Cut(eventType, ".")
	return s.startDelivery(notifyURL, eventType, strings.ToLower(typ), "", plain)
}

// refundStatusChanged sends the notification of a refund that reached a
// final state, when it has a loopback notify_url; other URLs are skipped
// silently. It is called with s.mu held.
func (s *Server) refundStatusChanged(r *refund, prev string) {
	if r.Status == prev || r.NotifyURL == "" || !loopbackURL(r.NotifyURL) {
		return
	}
	var event string
	switch r.Status {
	case StatusSuccess:
		event = EventRefundSuccess
	case StatusAbnormal:
		event = EventRefundAbnormal
	case StatusClosed:
		event = EventRefundClosed
	default:
		return
	}
	n := refundNotice{
		TransactionID:       r.TransactionID,
		OutTradeNo:          r.OutTradeNo,
		RefundID:            r.RefundID,
		OutRefundNo:         r.OutRefundNo,
		RefundStatus:        r.Status,
		SuccessTime:         rfc3339(r.SuccessTime),
		UserReceivedAccount: r.UserReceivedAccount,
		Amount: refundNoticeAmount{
			Total: r.Amount.Total, Refund: r.Amount.Refund,
			PayerTotal: r.Amount.PayerTotal, PayerRefund: r.Amount.PayerRefund,
		},
	}
	if r.SubMchID != "" || r.Ecommerce {
		n.SpMchID, n.SubMchID = s.MchID, r.SubMchID
	} else {
		n.MchID = s.MchID
	}
	// A failure here means the server is closed: nothing is sent.
	s.startDelivery(r.NotifyURL, event, "refund", r.RefundID, marshal(n))
}

// refundNotice is the resource of a refund notification.
type refundNotice struct {
	MchID               string             `json:"mchid,omitempty"`
	SpMchID             string             `json:"sp_mchid,omitempty"`
	SubMchID            string             `json:"sub_mchid,omitempty"`
	TransactionID       string             `json:"transaction_id"`
	OutTradeNo          string             `json:"out_trade_no"`
	RefundID            string             `json:"refund_id"`
	OutRefundNo         string             `json:"out_refund_no"`
	RefundStatus        string             `json:"refund_status"`
	SuccessTime         string             `json:"success_time,omitempty"`
	UserReceivedAccount string             `json:"user_received_account"`
	Amount              refundNoticeAmount `json:"amount"`
}

type refundNoticeAmount struct {
	Total       int64 `json:"total"`
	Refund      int64 `json:"refund"`
	PayerTotal  int64 `json:"payer_total"`
	PayerRefund int64 `json:"payer_refund"`
}

// notice is the body of a notification.
type notice struct {
	ID           string         `json:"id"`
	CreateTime   string         `json:"create_time"`
	ResourceType string         `json:"resource_type"`
	EventType    string         `json:"event_type"`
	Summary      string         `json:"summary"`
	Resource     noticeResource `json:"resource"`
}

type noticeResource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// startDelivery encrypts plain into a notification and starts sending it.
func (s *Server) startDelivery(notifyURL, eventType, originalType, refundID string, plain []byte) (*Delivery, error) {
	nonce := randomString(aesgcm.NonceSize, alnum)
	ct, err := aesgcm.Encrypt([]byte(s.APIv3Key), nonce, originalType, plain)
	if err != nil {
		return nil, fmt.Errorf("wxpaytest: encrypt notification: %w", err)
	}
	summary := summaries[eventType]
	if summary == "" {
		summary = eventType
	}
	d := &Delivery{
		ID:        newUUID(),
		URL:       notifyURL,
		EventType: eventType,
		RefundID:  refundID,
		Resource:  append([]byte(nil), plain...),
		done:      make(chan struct{}),
	}
	d.Body = marshal(notice{
		ID:           d.ID,
		CreateTime:   rfc3339(s.now()),
		ResourceType: "encrypt-resource",
		EventType:    eventType,
		Summary:      summary,
		Resource: noticeResource{
			OriginalType:   originalType,
			Algorithm:      aesgcm.Algorithm,
			Ciphertext:     ct,
			AssociatedData: originalType,
			Nonce:          nonce,
		},
	})

	n := &s.notifier
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("wxpaytest: server closed")
	}
	if n.ctx == nil {
		n.ctx, n.cancel = context.WithCancel(context.Background())
	}
	client := s.NotifyClient
	if client == nil {
		if n.client == nil {
			n.client = loopbackClient()
		}
		client = n.client
	}
	n.deliveries = append(n.deliveries, d)
	n.wg.Add(1)
	go s.deliver(n.ctx, client, d)
	return d, nil
}

// deliver sends d until it is acknowledged, the attempts run out or ctx is
// canceled.
func (s *Server) deliver(ctx context.Context, client *http.Client, d *Delivery) {
	defer s.notifier.wg.Done()
	defer close(d.done)
	attempts := s.NotifyAttempts
	if attempts <= 0 {
		attempts = DefaultNotifyAttempts
	}
	wait := s.NotifyRetryWait
	if wait <= 0 {
		wait = DefaultNotifyRetryWait
	}
	for i := 1; ; i++ {
		status, err := s.sendOnce(ctx, client, d)
		if ctx.Err() != nil {
			return // closed: the attempt cut short is not recorded
		}
		d.record(status, err)
		if d.Acknowledged() || i >= attempts {
			return
		}
		t := time.NewTimer(wait << min(i-1, 4))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// sendOnce makes one attempt and returns the answer's status.
func (s *Server) sendOnce(ctx context.Context, client *http.Client, d *Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, NotifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, strings.NewReader(string(d.Body)))
	if err != nil {
		return 0, err
	}
	key := s.Platform[0]
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := signer.Nonce()
	digest := sha256.Sum256(verifier.AppendMessage(nil, ts, nonce, d.Body))
	sig, err := rsa.SignPKCS1v15(nil, key.Key, crypto.SHA256, digest[:])
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wxpaytest")
	req.Header.Set(verifier.HeaderTimestamp, ts)
	req.Header.Set(verifier.HeaderNonce, nonce)
	req.Header.Set(verifier.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	req.Header.Set(verifier.HeaderSerial, key.Serial)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerRead))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// loopbackURL reports whether raw is an http or https URL whose host is
// localhost or a loopback IP address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loopbackClient returns the default notification client: it connects only
// to loopback addresses (whatever a name resolves to), uses no proxy and
// follows no redirect.
func loopbackClient() *http.Client {
	dialer := &net.Dialer{
		Timeout: NotifyTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("wxpaytest: notifications go only to loopback addresses, not %s", host)
			}
			return nil
		},
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       dialer.DialContext,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wxpaytest: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
