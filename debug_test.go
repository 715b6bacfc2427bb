package wxpay_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The debug option shows a call as sent and received: request line,
// headers with the signature elided, the body with its encrypted fields
// already encrypted, the status, the answer's headers and body, the time
// taken and what the check found.
func TestDebugOption(t *testing.T) {
	srv, c := setup(t)
	var log bytes.Buffer
	resp, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
		"refund_id": fixtureRefund,
		"json":      abnormalJSON("USER_BANK_CARD"),
		"encrypt":   []string{"bank_account", "real_name"},
		"debug":     &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := log.String()
	sent, _ := srv.LastRequest()
	auth, err := signer.ParseAuthorization(sent.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"wxpay debug: call 1, attempt 1: request\n",
		"POST " + strings.TrimSuffix(srv.URL, "/") + sent.RequestURI + "\n",
		`Authorization: WECHATPAY2-SHA256-RSA2048 mchid="` + auth.MchID + `",nonce_str="` + auth.Nonce +
			`",signature="[elided]",timestamp="` + auth.Timestamp + `",serial_no="` + auth.Serial + `"` + "\n",
		"Content-Type: application/json\n",
		"Wechatpay-Serial: " + platformSerial + "\n",
		"\n" + string(sent.Body) + "\n", // the body as sent: ciphertexts, not 张三
		"wxpay debug: call 1, attempt 1: response after ",
		": signature valid\n200 OK\n",
		"Request-Id: " + resp.Header.Get("Request-Id") + "\n",
		"\n" + string(resp.Body) + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("debug output lacks %q; it is:\n%s", want, got)
		}
	}
	if strings.Contains(got, "张三") {
		t.Errorf("debug output shows the plain value of an encrypted field:\n%s", got)
	}
}

// Config.Debug logs every call; the debug option overrides it for one call:
// false silences it, true keeps it, a writer redirects it.
func TestDebugConfig(t *testing.T) {
	var log syncBuffer
	_, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Debug = &log })
	get := func(debug any) {
		t.Helper()
		opts := wxpay.Opts{"out_refund_no": fixtureOutNo}
		if debug != nil {
			opts["debug"] = debug
		}
		if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(opts); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int { return strings.Count(log.String(), ": request\n") }
	get(nil)
	if n := count(); n != 1 {
		t.Fatalf("Config.Debug: %d requests logged, want 1:\n%s", n, log.String())
	}
	get(false)
	if n := count(); n != 1 {
		t.Errorf(`"debug": false: %d requests logged, want still 1`, n)
	}
	get(true)
	if n := count(); n != 2 {
		t.Errorf(`"debug": true: %d requests logged to Config.Debug, want 2`, n)
	}
	var own bytes.Buffer
	get(&own)
	if n := count(); n != 2 || !strings.Contains(own.String(), ": request\n") {
		t.Errorf(`"debug": writer: Config.Debug has %d requests (want 2), the writer %q`, n, own.String())
	}
}

// "debug": true without Config.Debug writes to os.Stderr.
func TestDebugStderr(t *testing.T) {
	_, c := setup(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo, "debug": true})
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "wxpay debug: call 1, attempt 1: request\nGET ") {
		t.Errorf("stderr got %q, want the debug log", out)
	}
}

// A debug option the client cannot use is refused before anything is sent.
func TestDebugOptionRefused(t *testing.T) {
	srv, c := setup(t)
	for _, v := range []any{"yes", 1, (*bytes.Buffer)(nil)} {
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo, "debug": v})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "debug") {
			t.Errorf("debug %#v: err = %v, want ErrInvalidOption naming debug", v, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	cfg := srv.Config()
	cfg.Debug = (*bytes.Buffer)(nil)
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "Debug") {
		t.Errorf("Config.Debug a nil *bytes.Buffer: err = %v, want ErrInvalidConfig naming Debug", err)
	}
}

// Each attempt of a retried call is logged with its number.
func TestDebugRetries(t *testing.T) {
	var log syncBuffer
	srv, c := setupWith(t, func(cfg *wxpay.Config) {
		cfg.Debug = &log
		cfg.Retry = &wxpay.RetryPolicy{MinWait: 1, MaxWait: 1}
	})
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, Status: 500, Code: "SYSTEM_ERROR"})
	resp, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
	if err != nil || resp.Attempts != 2 {
		t.Fatalf("Attempts %v, err %v; want 2 attempts, success", resp, err)
	}
	got := log.String()
	for _, want := range []string{
		"call 1, attempt 1: request\n",
		"call 1, attempt 1: response after ",
		"wxpay: 500 SYSTEM_ERROR",
		"call 1, attempt 2: request\n",
		"call 1, attempt 2: response after ",
		": signature valid\n200 OK\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("debug output lacks %q; it is:\n%s", want, got)
		}
	}
}

// No secret reaches the debug log, over every kind of call: the merchant
// private key, the APIv3 key, the APIv2 secret, a request signature, the
// sign of an APIv2 body (request and answer), a download token.
func TestDebugNoSecrets(t *testing.T) {
	var log syncBuffer
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Debug = &log })
	ctx := context.Background()
	calls := []func() error{
		func() error {
			_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-debug-1")})
			return err
		},
		func() error {
			_, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
				"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"bank_account", "real_name"},
			})
			return err
		},
		func() error {
			_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "no-such-refund"})
			return notFound(err)
		},
		func() error {
			_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
				"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
			}})
			return err
		},
		func() error {
			_, err := c.Chain("v3/bill/tradebill").Download(ctx, billQuery(), io.Discard)
			return err
		},
		func() error {
			_, err := c.DownloadCertificates(ctx)
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	got := log.String()
	if n := strings.Count(got, ": request\n"); n != len(calls)+1 { // the bill: application and file
		t.Errorf("%d requests logged, want %d", n, len(calls)+1)
	}

	secrets := map[string]string{}
	cfg := srv.Config()
	secrets["APIv3 key"] = cfg.APIv3Key
	secrets["APIv2 secret"] = cfg.APIv2Secret
	pem, err := os.ReadFile("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(pem), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			secrets["private key line "+string(rune('0'+i%10))] = line
		}
	}
	signTag := regexp.MustCompile(`<sign>(?:<!\[CDATA\[)?([^<\]]+)`)
	for i, r := range srv.Requests() {
		if a, err := signer.ParseAuthorization(r.Header.Get("Authorization")); err == nil {
			secrets["signature of request "+r.RequestURI] = a.Signature
			// a piece of it too: no part of the signature is shown
			sig, _ := base64.StdEncoding.DecodeString(a.Signature)
			secrets["signature piece "+r.RequestURI] = base64.StdEncoding.EncodeToString(sig[100:130])
		}
		if m := signTag.FindSubmatch(r.Body); m != nil {
			secrets["APIv2 sign of request "+string(rune('0'+i))] = string(m[1])
		}
		if _, q, ok := strings.Cut(r.RequestURI, "?"); ok && strings.Contains(r.RequestURI, "billdownload") {
			vals, _ := url.ParseQuery(q)
			secrets["download token"] = vals.Get("token")
		}
	}
	if secrets["download token"] == "" {
		t.Fatal("no download token seen: the scan would miss it")
	}
	for _, m := range signTag.FindAllStringSubmatch(got, -1) {
		if m[1] != "[elided" {
			t.Errorf("an APIv2 sign is shown: %q", m[0])
		}
	}
	if !strings.Contains(got, "<sign>[elided]</sign>") {
		t.Errorf("no elided APIv2 sign in the log: the v2 call was not logged?\n%s", got)
	}
	for name, s := range secrets {
		if s == "" {
			t.Errorf("%s: empty, the scan cannot fail", name)
			continue
		}
		if strings.Contains(got, s) {
			t.Errorf("the debug log shows the %s", name)
		}
	}
}

// The sandbox sign key of an APIv2 sandboxnew/pay/getsignkey answer, a
// key the sandbox's requests are signed with, is elided from the debug log
// and from the answer a middleware sees, as a sign is.
func TestDebugElidesSandboxSignKey(t *testing.T) {
	const sandboxKey = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	sandbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[ok]]></return_msg>"+
			"<mch_id><![CDATA[1900000109]]></mch_id><sandbox_signkey><![CDATA["+sandboxKey+"]]></sandbox_signkey></xml>")
	}))
	defer sandbox.Close()
	var log syncBuffer
	var seen []byte
	look := func(next wxpay.Exchange) wxpay.Exchange {
		return func(ctx context.Context, req *wxpay.ExchangeRequest) (*wxpay.ExchangeResponse, error) {
			resp, err := next(ctx, req)
			if resp != nil {
				seen = resp.Body()
			}
			return resp, err
		}
	}
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BaseURL = sandbox.URL + "/"
	cfg.APIv2Secret = v2Secret
	cfg.Debug = &log
	cfg.Middleware = []wxpay.Middleware{look}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Chain("v2/sandboxnew/pay/getsignkey").Post(wxpay.Opts{"xml": wxpay.Opts{"mch_id": "1900000109"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.XML()["sandbox_signkey"] != sandboxKey {
		t.Fatalf("the caller did not get the sandbox key: %s", resp.Body)
	}
	if strings.Contains(log.String(), sandboxKey) {
		t.Errorf("the debug log shows the sandbox sign key:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "<sandbox_signkey>[elided]</sandbox_signkey>") {
		t.Errorf("the debug log does not show the answer with its key elided:\n%s", log.String())
	}
	if len(seen) == 0 || bytes.Contains(seen, []byte(sandboxKey)) {
		t.Errorf("the middleware saw %q, want the answer with the sandbox key elided", seen)
	}
	// The answer carries no sign: the log says so, not that it is a download.
	if !strings.Contains(log.String(), "not signed (an APIv2 answer without sign)") || strings.Contains(log.String(), "download") {
		t.Errorf("the debug log misnames an unsigned APIv2 answer:\n%s", log.String())
	}
}
