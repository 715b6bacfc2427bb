package wxpay

// This file reads the APIv2 (XML) callback notifications: their sign or
// encrypted req_info, and the net/http handler that answers WeChat Pay.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/wxpay-chain/wxpay/v2xml"
)

// V2Notification is an APIv2 callback notification (XML), checked by
// ParseV2Notification. It comes in two kinds, and only what a kind
// protects is handed back as its data:
//
//   - A signed notification (a payment result): Signed is true and Fields
//     holds every element, all covered by the sign.
//   - A refund notification: WeChat Pay does not sign it; it protects only
//     req_info, encrypted with the APIv2 key. ReqInfo holds the decrypted
//     req_info, Fields is nil, and the elements around req_info (appid,
//     mch_id, nonce_str, ...) are in Unverified, which nothing vouches for.
//
// So a handler that reads Fields reads signed data only, whether or not it
// checks Signed: a forged body carrying a replayed req_info yields no
// payment fields.
type V2Notification struct {
	// Fields are the elements of a signed notification (return_code,
	// appid, mch_id, result_code, out_trade_no, total_fee, ...), every one
	// covered by the sign; nil for an unsigned refund notification.
	Fields map[string]string
	// ReqInfo is the decrypted req_info of a refund notification
	// (out_refund_no, refund_id, out_trade_no, refund_status,
	// settlement_refund_fee, success_time, ...), nil for other
	// notifications. It is the only content of a refund notification that
	// WeChat Pay protects.
	ReqInfo map[string]string
	// Unverified are the elements outside req_info of an unsigned refund
	// notification (return_code, appid, mch_id, nonce_str and anything
	// else the body held), as received: no sign covers them and anyone
	// could have written them. Use them for logging, never for business
	// decisions. Nil for a signed notification.
	Unverified map[string]string
	// Signed reports that the notification carried a valid sign. Payment
	// notifications are signed; refund notifications are not, their
	// req_info is encrypted instead.
	Signed bool
	// Body is the notification as received.
	Body []byte
}

// ParseV2Notification checks an APIv2 callback notification (the XML body
// WeChat Pay posts to a notify_url) with Config.APIv2Secret.
//
// A body with a sign must verify, with the sign_type it names or, when it
// names none, by the sign's length; its elements are returned in Fields
// (and a req_info it holds is decrypted into ReqInfo). A body without a
// sign is accepted only as a refund notification: its req_info must
// decrypt (AES-256-ECB under the MD5 of the APIv2 key), and then only the
// decrypted req_info is returned as data, in ReqInfo; the other elements
// go to Unverified. A mch_id, if present, must be the client's.
//
// Failures wrap ErrNoAPIv2Secret, ErrMalformedNotification (not a flat XML
// document, return_code not SUCCESS, another merchant, a req_info that is
// not a <root> document), ErrDecryptFailed (a req_info that does not
// decrypt) or ErrBadSignature (a sign that does not match, or neither a
// sign nor a req_info).
//
// Neither kind carries a timestamp, and ECB has no authentication: a
// req_info that decrypts may be an earlier refund notification replayed,
// or blocks of several pasted together. Handle notifications idempotently,
// and confirm a refund with pay/refundquery (or the APIv3 query) before
// acting on it.
func (c *Client) ParseV2Notification(body []byte) (*V2Notification, error) {
	if c.v2.secret == "" {
		return nil, ErrNoAPIv2Secret
	}
	m, err := v2xml.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	if rc := m["return_code"]; rc != "SUCCESS" {
		return nil, fmt.Errorf("%w: return_code %q", ErrMalformedNotification, clipTo(rc, 20))
	}
	for _, k := range [...]string{"mch_id", "mchid"} {
		if id, ok := m[k]; ok && id != c.mchID {
			return nil, fmt.Errorf("%w: %s %q is not the client's merchant %s", ErrMalformedNotification, k, clipTo(id, 32), c.mchID)
		}
	}
	n := &V2Notification{Body: append([]byte(nil), body...)}
	if ri, ok := m["req_info"]; ok {
		if n.ReqInfo, err = c.decryptReqInfo(ri); err != nil {
			return nil, err
		}
		if m["sign"] == "" {
			n.Unverified = m
			return n, nil
		}
	}
	if err := c.verifyV2Notification(m); err != nil {
		return nil, err
	}
	n.Fields, n.Signed = m, true
	return n, nil
}

// decryptReqInfo decrypts the req_info of a refund notification.
func (c *Client) decryptReqInfo(ri string) (map[string]string, error) {
	info, err := v2xml.DecryptReqInfo(ri, c.v2.secret)
	switch {
	case errors.Is(err, v2xml.ErrDecrypt):
		return nil, fmt.Errorf("%w: req_info", ErrDecryptFailed)
	case err != nil:
		return nil, fmt.Errorf("%w: decrypted req_info: %v", ErrMalformedNotification, err)
	}
	return info, nil
}

// verifyV2Notification checks the sign of a notification with the
// sign_type it names, or by the sign's length.
func (c *Client) verifyV2Notification(m map[string]string) error {
	typ := m["sign_type"]
	if typ != "" && typ != v2xml.MD5 && typ != v2xml.HMACSHA256 {
		return fmt.Errorf("%w: sign_type %q", ErrMalformedNotification, clipTo(typ, 20))
	}
	if err := v2xml.Verify(m, typ, c.v2.secret); err != nil {
		if errors.Is(err, v2xml.ErrNoSign) {
			return fmt.Errorf("wxpay: notification not trusted: %w: no sign", ErrBadSignature)
		}
		return fmt.Errorf("wxpay: notification not trusted: %w: APIv2 sign does not match", ErrBadSignature)
	}
	return nil
}

// V2Answer returns the XML answer to an APIv2 notification:
// returnCode SUCCESS (with returnMsg OK) acknowledges it; FAIL makes WeChat
// Pay send it again later.
func V2Answer(returnCode, returnMsg string) []byte {
	b, err := v2xml.Encode(map[string]string{"return_code": returnCode, "return_msg": returnMsg})
	if err != nil {
		b, _ = v2xml.Encode(map[string]string{"return_code": "FAIL", "return_msg": "invalid answer"})
	}
	return b
}

// V2NotificationHandler returns a net/http handler for APIv2 callback
// notifications (the notify_url of an APIv2 payment or refund). For each
// POST it reads the body (up to MaxNotificationSize), checks it as
// ParseV2Notification does and calls fn with the request's context and the
// notification.
//
// It answers 200 with return_code SUCCESS and return_msg OK when fn returns
// nil; otherwise an error status with return_code FAIL, so that WeChat Pay
// sends the notification again: 405 for a method other than POST, 413 for a
// body too large, 401 for a bad or missing sign, 400 for a notification
// that cannot be read or decrypted (one message for both), and 500 when fn
// fails or panics, or the client has no APIv2 key.
//
// Each refusal, with its reason (or fn's error), goes to
// Config.OnNotificationError, if set, as with NotificationHandler.
//
// fn gets signed data in n.Fields and, for a refund, the decrypted req_info
// in n.ReqInfo; never the unsigned elements of a refund notification as
// data (see V2Notification). fn must be idempotent: WeChat Pay may deliver
// a notification more than once, and nothing stops a refund notification
// from being replayed. Check the state of the order or refund with a query
// before acting on it. fn must not be nil.
func (c *Client) V2NotificationHandler(fn func(context.Context, *V2Notification) error) http.Handler {
	if fn == nil {
		panic("wxpay: V2NotificationHandler with a nil function")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg, err := c.serveV2Notification(w, r, fn)
		c.refused(err)
		body := V2Answer("SUCCESS", "OK")
		if status != http.StatusOK {
			body = V2Answer("FAIL", msg)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

func (c *Client) serveV2Notification(w http.ResponseWriter, r *http.Request, fn func(context.Context, *V2Notification) error) (int, string, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, "method not allowed: want POST", errNotifyMethod(r.Method)
	}
	if r.ContentLength > MaxNotificationSize {
		return http.StatusRequestEntityTooLarge, "notification body too large", errNotifyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationSize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, "notification body too large", errNotifyTooLarge
		}
		return http.StatusBadRequest, "notification body unreadable", fmt.Errorf("%w: body unreadable: %v", ErrMalformedNotification, err)
	}
	n, err := c.ParseV2Notification(body)
	switch {
	case errors.Is(err, ErrNoAPIv2Secret):
		return http.StatusInternalServerError, "notification receiver misconfigured", err
	case errors.Is(err, ErrBadSignature):
		return http.StatusUnauthorized, "notification sign not verified", err
	case err != nil:
		return http.StatusBadRequest, "notification not readable", err
	}
	if err := callV2NotificationFunc(r.Context(), n, fn); err != nil {
		return http.StatusInternalServerError, "notification not processed", fmt.Errorf("wxpay: APIv2 notification%s: %w", v2NotificationName(n), err)
	}
	return http.StatusOK, "OK", nil
}

// v2NotificationName names a notification in an error by the merchant's
// number for it: " (out_refund_no ...)" for a refund, " (out_trade_no ...)"
// for a payment, or "" when it has neither.
func v2NotificationName(n *V2Notification) string {
	for _, m := range []map[string]string{n.ReqInfo, n.Fields} {
		for _, k := range [...]string{"out_refund_no", "out_trade_no"} {
			if v := m[k]; v != "" {
				return " (" + k + " " + clipTo(v, 64) + ")"
			}
		}
	}
	return ""
}

func callV2NotificationFunc(ctx context.Context, n *V2Notification, fn func(context.Context, *V2Notification) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err = fmt.Errorf("wxpay: notification function panicked: %v", p)
		}
	}()
	return fn(ctx, n)
}
