package wxpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay/aesgcm"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Errors about a callback notification, matched with errors.Is. A
// notification whose signature fails is reported with the verification
// sentinels instead (ErrBadSignature, ErrClockSkew, ErrUnknownSerial,
// ErrSignatureProbe, ErrMissingHeader, ErrMalformedHeader).
var (
	// ErrNoAPIv3Key: the client was made without Config.APIv3Key, which
	// notifications and downloaded platform certificates are decrypted
	// with.
	ErrNoAPIv3Key = errors.New("wxpay: Config.APIv3Key is not set")
	// ErrMalformedNotification: a signed notification is not the JSON
	// envelope WeChat Pay sends (not an object, a field of the wrong type,
	// no id, event_type or resource, a ciphertext that is not base64, a
	// nonce of the wrong size, a plaintext that is not JSON).
	ErrMalformedNotification = errors.New("wxpay: malformed notification")
	// ErrUnsupportedAlgorithm: the resource is encrypted with something
	// other than AEAD_AES_256_GCM.
	ErrUnsupportedAlgorithm = errors.New("wxpay: unsupported notification algorithm")
	// ErrDecryptFailed: the resource of a notification (or a certificate of
	// DownloadCertificates) does not decrypt: its ciphertext, nonce or
	// associated_data was altered, or the APIv3 key is not the one WeChat
	// Pay has (it was reset in the merchant platform).
	ErrDecryptFailed = errors.New("wxpay: encrypted resource does not decrypt")
)

// MaxNotificationSize is the largest notification body the handlers read,
// 1 MiB; WeChat Pay's are a few kilobytes.
const MaxNotificationSize = 1 << 20

// Notification is a callback notification from WeChat Pay (a payment or
// refund result, ...) whose signature was verified and whose resource was
// decrypted. The envelope fields are kept as sent; Resource is the decrypted
// resource, to be read with gjson paths or decoded with Unmarshal.
type Notification struct {
	ID           string // notification id
	CreateTime   string // when WeChat Pay made it, RFC 3339 (2018-06-08T10:34:56+08:00)
	EventType    string // e.g. TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
	ResourceType string // encrypt-resource
	Summary      string // e.g. 退款成功

	// OriginalType is the type of the resource before encryption, e.g.
	// "transaction" or "refund"; AssociatedData the associated_data it was
	// sealed with.
	OriginalType   string
	AssociatedData string

	// Resource is the decrypted resource JSON: Resource.Get("refund_status"),
	// Resource.Raw for the bytes.
	Resource gjson.Result

	// Serial is the WeChat Pay key the signature was verified with.
	Serial string
	// Body is the notification body as received (with the resource still
	// encrypted).
	Body []byte
}

// Get returns the value at path in the decrypted resource, in gjson path
// syntax ("refund_status", "amount.refund"). A missing value is the zero
// gjson.Result (check Exists).
func (n *Notification) Get(path string) gjson.Result { return n.Resource.Get(path) }

// Unmarshal decodes the decrypted resource into v with encoding/json.
func (n *Notification) Unmarshal(v any) error { return json.Unmarshal([]byte(n.Resource.Raw), v) }

// ParseNotification verifies and decrypts a callback notification: header
// holds the request headers and body the request body exactly as received.
//
// It checks the Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature
// and Wechatpay-Serial headers over body with the client's WeChat Pay keys,
// as for a response (known serial, timestamp within the verifier's
// MaxSkew, 5 minutes by default, no WECHATPAY/SIGNTEST/ probe), then decrypts the AEAD_AES_256_GCM resource
// with Config.APIv3Key. A failed check is an error wrapping a verification
// sentinel (ErrBadSignature, ...); an untrusted body is not parsed. Other
// failures wrap ErrNoAPIv3Key, ErrMalformedNotification,
// ErrUnsupportedAlgorithm or ErrDecryptFailed. ParseNotification keeps no
// reference to body.
//
// https://pay.weixin.qq.com/docs/merchant/development/interface-rules/certificate-callback-decryption.html
func (c *Client) ParseNotification(header http.Header, body []byte) (*Notification, error) {
	return c.parseNotification(signatureHeaders(header), body)
}

// jsonObject is a JSON object by key. Keys match exactly (unlike
// encoding/json's struct fields); a repeated key keeps its last value.
type jsonObject map[string]json.RawMessage

// str returns the string at key, "" when it is absent or null.
func (o jsonObject) str(key, where string) (string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %s%s is not a string", ErrMalformedNotification, where, key)
	}
	return s, nil
}

func (c *Client) parseNotification(h verifier.Headers, body []byte) (*Notification, error) {
	if len(c.apiv3Key) == 0 {
		return nil, fmt.Errorf("%w: notifications are decrypted with it", ErrNoAPIv3Key)
	}
	if err := c.verifier.Verify(h, body, nil); err != nil {
		return nil, fmt.Errorf("wxpay: notification not trusted: %w", err)
	}
	n, res, err := readEnvelope(body)
	if err != nil {
		return nil, err
	}
	n.Serial = h.Serial
	if err := c.openResource(n, res); err != nil {
		return nil, err
	}
	n.Body = append([]byte(nil), body...)
	return n, nil
}

// malformedNotification is ErrMalformedNotification with its reason.
func malformedNotification(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformedNotification, why)
}

// readEnvelope reads the fields of a verified notification body around its
// resource, and the resource object.
func readEnvelope(body []byte) (*Notification, jsonObject, error) {
	var env, res jsonObject
	if err := json.Unmarshal(body, &env); err != nil || env == nil {
		return nil, nil, malformedNotification("body is not a JSON object")
	}
	n := &Notification{}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"id", &n.ID},
		{"create_time", &n.CreateTime},
		{"event_type", &n.EventType},
		{"resource_type", &n.ResourceType},
		{"summary", &n.Summary},
	} {
		if *f.dst, err = env.str(f.key, ""); err != nil {
			return nil, nil, err
		}
	}
	switch raw := env["resource"]; {
	case n.ID == "":
		return nil, nil, malformedNotification("no id")
	case n.EventType == "":
		return nil, nil, malformedNotification("no event_type")
	case raw == nil || string(raw) == "null":
		return nil, nil, malformedNotification("no resource")
	case json.Unmarshal(raw, &res) != nil:
		return nil, nil, malformedNotification("resource is not a JSON object")
	}
	return n, res, nil
}

// openResource decrypts the resource of n with the APIv3 key into
// n.Resource, and sets the resource's other fields.
func (c *Client) openResource(n *Notification, res jsonObject) error {
	var algorithm, ciphertext, nonce string
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"algorithm", &algorithm},
		{"ciphertext", &ciphertext},
		{"nonce", &nonce},
		{"associated_data", &n.AssociatedData},
		{"original_type", &n.OriginalType},
	} {
		if *f.dst, err = res.str(f.key, "resource."); err != nil {
			return err
		}
	}
	if algorithm != aesgcm.Algorithm {
		return fmt.Errorf("%w: resource.algorithm %s, want %s", ErrUnsupportedAlgorithm, truncate(algorithm, 40), aesgcm.Algorithm)
	}
	if ciphertext == "" {
		return malformedNotification("no resource.ciphertext")
	}
	plain, err := aesgcm.Decrypt(c.apiv3Key, nonce, n.AssociatedData, ciphertext)
	switch {
	case errors.Is(err, aesgcm.ErrNonceSize):
		return malformedNotification(fmt.Sprintf("resource.nonce is %d bytes, want %d", len(nonce), aesgcm.NonceSize))
	case errors.Is(err, aesgcm.ErrCiphertext):
		return malformedNotification("resource.ciphertext is not base64 of a sealed resource")
	case err != nil:
		return fmt.Errorf("%w (event %s, id %s)", ErrDecryptFailed, truncate(n.EventType, 40), truncate(n.ID, 64))
	}
	if !json.Valid(plain) {
		return malformedNotification("decrypted resource is not JSON")
	}
	n.Resource = gjson.Parse(string(plain))
	return nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}

// A notification answer: the status and the JSON body WeChat Pay reads.
type notifyAnswer struct {
	status int
	body   string // "" for 204
}

var errNotifyTooLarge = fmt.Errorf("%w: body larger than MaxNotificationSize", ErrMalformedNotification)

func errNotifyMethod(m string) error {
	return fmt.Errorf("%w: method %q, want POST", ErrMalformedNotification, m)
}

var (
	answerOK          = notifyAnswer{http.StatusNoContent, ""}
	answerMethod      = failAnswer(http.StatusMethodNotAllowed, "method not allowed: want POST")
	answerTooLarge    = failAnswer(http.StatusRequestEntityTooLarge, "notification body too large")
	answerUnreadable  = failAnswer(http.StatusBadRequest, "notification body unreadable")
	answerUntrusted   = failAnswer(http.StatusUnauthorized, "notification signature not verified")
	answerMalformed   = failAnswer(http.StatusBadRequest, "malformed notification")
	answerAlgorithm   = failAnswer(http.StatusBadRequest, "unsupported notification algorithm")
	answerDecrypt     = failAnswer(http.StatusBadRequest, "notification resource does not decrypt")
	answerMisconfig   = failAnswer(http.StatusInternalServerError, "notification receiver misconfigured")
	answerHandlerFail = failAnswer(http.StatusInternalServerError, "notification not processed")
)

func failAnswer(status int, message string) notifyAnswer {
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"FAIL", message})
	return notifyAnswer{status, string(b)}
}

// parseAnswer maps a ParseNotification error to the answer WeChat Pay gets.
func parseAnswer(err error) notifyAnswer {
	switch {
	case errors.Is(err, ErrNoAPIv3Key):
		return answerMisconfig
	case errors.Is(err, ErrMalformedNotification):
		return answerMalformed
	case errors.Is(err, ErrUnsupportedAlgorithm):
		return answerAlgorithm
	case errors.Is(err, ErrDecryptFailed):
		return answerDecrypt
	}
	return answerUntrusted
}

// handleNotification verifies and decrypts a notification and runs fn on
// it. fn's panic is recovered into an error unless repanic says otherwise.
func (c *Client) handleNotification(ctx context.Context, h verifier.Headers, body []byte, fn func(context.Context, *Notification) error, repanic func(any) bool) (notifyAnswer, error) {
	n, err := c.parseNotification(h, body)
	if err != nil {
		return parseAnswer(err), err
	}
	if err := callNotificationFunc(ctx, n, fn, repanic); err != nil {
		return answerHandlerFail, fmt.Errorf("wxpay: notification %s (%s): %w", n.ID, n.EventType, err)
	}
	return answerOK, nil
}

// refused reports why a handler refused a notification to
// Config.OnNotificationError, if set.
func (c *Client) refused(err error) {
	if err != nil && c.onNotificationError != nil {
		c.onNotificationError(err)
	}
}

func callNotificationFunc(ctx context.Context, n *Notification, fn func(context.Context, *Notification) error, repanic func(any) bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if repanic != nil && repanic(p) {
				panic(p)
			}
			err = fmt.Errorf("wxpay: notification function panicked: %v", p)
		}
	}()
	return fn(ctx, n)
}

// NotificationHandler returns a net/http handler for WeChat Pay's callback
// notifications (the notify_url of a payment or refund). For each POST it
// reads the body (up to MaxNotificationSize), verifies and decrypts it as
// ParseNotification does, and calls fn with the request's context and the
// notification.
//
// It answers WeChat Pay the documented way: 204 No Content when fn returns
// nil; otherwise an error status with {"code":"FAIL","message":"..."}, so
// that WeChat Pay sends the notification again later: 405 for a method
// other than POST, 413 for a body too large, 401 for a signature that does
// not verify, 400 for a notification that cannot be parsed or decrypted,
// and 500 when fn returns an error or panics, or the client has no APIv3
// key. The message never holds the error returned by fn.
//
// WeChat Pay may send the same notification more than once (it retries
// until acknowledged, and sometimes even after): fn should be idempotent,
// keyed on the resource's identity (out_refund_no and refund_status, say)
// rather than on Notification.ID. fn runs while WeChat Pay waits for the
// answer, which it does only for a few seconds: queue slow work. fn must
// not be nil.
func (c *Client) NotificationHandler(fn func(context.Context, *Notification) error) http.Handler {
	if fn == nil {
		panic("wxpay: NotificationHandler with a nil function")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := c.serveNotification(w, r, fn)
		c.refused(err)
		if a.body == "" {
			w.WriteHeader(a.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	})
}

func (c *Client) serveNotification(w http.ResponseWriter, r *http.Request, fn func(context.Context, *Notification) error) (notifyAnswer, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return answerMethod, errNotifyMethod(r.Method)
	}
	if r.ContentLength > MaxNotificationSize {
		return answerTooLarge, errNotifyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationSize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return answerTooLarge, errNotifyTooLarge
		}
		return answerUnreadable, fmt.Errorf("%w: body unreadable: %v", ErrMalformedNotification, err)
	}
	h := signatureHeaders(r.Header)
	// http.ErrAbortHandler keeps its meaning: abort the answer.
	return c.handleNotification(r.Context(), h, body, fn, func(p any) bool { return p == http.ErrAbortHandler })
}

// FasthttpNotificationHandler is NotificationHandler for a fasthttp server.
// fn gets the *fasthttp.RequestCtx as its context; it must not keep it, nor
// anything of the request, after it returns (the Notification is its own).
// A body over MaxNotificationSize is refused with 413 (the server itself
// reads up to its MaxRequestBodySize, 4 MiB by default).
func (c *Client) FasthttpNotificationHandler(fn func(context.Context, *Notification) error) fasthttp.RequestHandler {
	if fn == nil {
		panic("wxpay: FasthttpNotificationHandler with a nil function")
	}
	return func(ctx *fasthttp.RequestCtx) {
		a, err := c.serveFasthttpNotification(ctx, fn)
		c.refused(err)
		ctx.Response.Reset()
		ctx.SetStatusCode(a.status)
		if a.status == http.StatusMethodNotAllowed {
			ctx.Response.Header.Set("Allow", http.MethodPost)
		}
		if a.body != "" {
			ctx.SetContentType("application/json")
			ctx.SetBodyString(a.body)
		}
	}
}

func (c *Client) serveFasthttpNotification(ctx *fasthttp.RequestCtx, fn func(context.Context, *Notification) error) (notifyAnswer, error) {
	if !ctx.IsPost() {
		return answerMethod, errNotifyMethod(string(ctx.Method()))
	}
	if ctx.Request.Header.ContentLength() > MaxNotificationSize {
		return answerTooLarge, errNotifyTooLarge
	}
	body := ctx.PostBody()
	if len(body) > MaxNotificationSize {
		return answerTooLarge, errNotifyTooLarge
	}
	rh := &ctx.Request.Header
	h := verifier.Headers{
		Timestamp: string(rh.Peek(verifier.HeaderTimestamp)),
		Nonce:     string(rh.Peek(verifier.HeaderNonce)),
		Signature: string(rh.Peek(verifier.HeaderSignature)),
		Serial:    string(rh.Peek(verifier.HeaderSerial)),
	}
	return c.handleNotification(ctx, h, body, fn, nil)
}
