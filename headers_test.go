package wxpay_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// setupWith is setup with adjust applied to the client's Config.
func setupWith(t testing.TB, adjust func(*wxpay.Config)) (*wxpaytest.Server, *wxpay.Client) {
	t.Helper()
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	srv := wxpaytest.NewUnstartedServer()
	srv.MerchantKey = mk
	srv.Platform = []wxpaytest.PlatformKey{{Serial: platformSerial, Key: pk}}
	srv.APIv2Secret = v2Secret
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	if adjust != nil {
		adjust(&cfg)
	}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// sentHeader returns the values of header name in the last request srv
// received, in the order sent.
func sentHeader(t *testing.T, srv *wxpaytest.Server, name string) []string {
	t.Helper()
	r, ok := srv.LastRequest()
	if !ok {
		t.Fatal("the emulator received no request")
	}
	if !r.Authenticated {
		t.Errorf("%s %s: the Authorization did not pass the emulator's checks", r.Method, r.RequestURI)
	}
	return r.Header.Values(name)
}

// A header given with several values goes out with every one of them, in
// order: never cut to the last. A header given in another case than the
// client's own (accept, user-agent) replaces it instead of going out beside
// it.
func TestHeaderValuesOnTheWire(t *testing.T) {
	srv, c := setup(t)
	query := c.Chain("v3/refund/domestic/refunds/{out_refund_no}")
	tests := []struct {
		name    string
		headers any
		header  string
		want    []string
	}{
		{"http.Header, two values", http.Header{"X-Trace": {"a", "b"}}, "X-Trace", []string{"a", "b"}},
		{"Opts, []string", wxpay.Opts{"X-Trace": []string{"a", "b"}}, "X-Trace", []string{"a", "b"}},
		{"map[string]any, []string", map[string]any{"X-Trace": []string{"a", "b"}}, "X-Trace", []string{"a", "b"}},
		{"two spellings of one name", map[string]string{"X-Trace": "a", "x-trace": "b"}, "X-Trace", []string{"a", "b"}},
		{"Accept in lower case", wxpay.Opts{"accept": "application/json;q=0.9"}, "Accept", []string{"application/json;q=0.9"}},
		{"Accept with two values", http.Header{"Accept": {"application/json", "text/plain"}}, "Accept", []string{"application/json", "text/plain"}},
		{"User-Agent in lower case", wxpay.Opts{"user-agent": "shop/1.0"}, "User-Agent", []string{"shop/1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := query.Get(wxpay.Opts{"out_refund_no": fixtureOutNo, "headers": tt.headers}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sentHeader(t, srv, tt.header)); diff != "" {
				t.Errorf("%s sent (-want +got):\n%s", tt.header, diff)
			}
		})
	}
}

// A header that can carry one value only is refused with several, before
// anything is sent.
func TestHeaderSingleValueRefused(t *testing.T) {
	srv, c := setup(t)
	for _, h := range []http.Header{
		{"Content-Type": {"application/json", "text/plain"}},
		{"User-Agent": {"a", "b"}},
		{"Wechatpay-Serial": {platformSerial, "PUB_KEY_ID_0114232134912410000000000000"}},
	} {
		srv.ResetRequests()
		_, err := c.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{"json": applyRefundJSON("R-hdr-1"), "headers": h})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "one value") {
			t.Errorf("headers %v: err = %v, want ErrInvalidOption naming the single value", h, err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("headers %v: %d requests sent, want none", h, n)
		}
	}
}

// Config.Headers go out with every request, APIv3, APIv2 and the streamed
// download alike, under a call's own headers: a call's header of the same
// name, in any case, replaces the default.
func TestDefaultHeaders(t *testing.T) {
	srv, c := setupWith(t, func(cfg *wxpay.Config) {
		cfg.Headers = http.Header{
			"X-Shop":          {"s1"},
			"Accept-Language": {"zh-CN", "en"},
		}
	})
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
		want map[string][]string // header: values, on the last request
	}{
		{"APIv3 call", func() error {
			_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo})
			return err
		}, map[string][]string{"X-Shop": {"s1"}, "Accept-Language": {"zh-CN", "en"}, "Accept": {"application/json"}}},
		{"call's header wins, in any case", func() error {
			_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
				"out_refund_no": fixtureOutNo,
				"headers":       wxpay.Opts{"accept-language": "fr"},
			})
			return err
		}, map[string][]string{"X-Shop": {"s1"}, "Accept-Language": {"fr"}}},
		{"APIv2 call", func() error {
			_, err := c.Chain("v2/pay/refundquery").Post(wxpay.Opts{"xml": wxpay.Opts{
				"mch_id": wxpaytest.DefaultMchID, "out_refund_no": fixtureOutNo,
			}})
			return err
		}, map[string][]string{"X-Shop": {"s1"}, "Accept-Language": {"zh-CN", "en"}}},
		{"streamed download", func() error {
			var buf strings.Builder
			_, err := c.Chain("v3/bill/tradebill").Download(ctx, billQuery(), &buf)
			return err
		}, map[string][]string{"X-Shop": {"s1"}, "Accept-Language": {"zh-CN", "en"}, "Accept": {"*/*"}}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if diff := cmp.Diff(want, sentHeader(t, srv, name)); diff != "" {
					t.Errorf("%s sent (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// An Accept in Config.Headers replaces the client's on every request.
func TestDefaultHeadersAccept(t *testing.T) {
	const phpAccept = "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5"
	srv, c := setupWith(t, func(cfg *wxpay.Config) { cfg.Headers = http.Header{"Accept": {phpAccept}} })
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": fixtureOutNo}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{phpAccept}, sentHeader(t, srv, "Accept")); diff != "" {
		t.Errorf("Accept sent (-want +got):\n%s", diff)
	}
}

// New refuses default headers it could not send as given.
func TestDefaultHeadersRefused(t *testing.T) {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	for _, tt := range []struct {
		h    http.Header
		want string
	}{
		{http.Header{"Content-Type": {"application/json"}}, "Content-Type"},
		{http.Header{"Authorization": {"x"}}, "Authorization"},
		{http.Header{"User-Agent": {"a", "b"}}, "one value"},
		{http.Header{"X-Bad Name": {"x"}}, "not a valid token"},
		{http.Header{"X-Trace": {"a\r\nInjected: 1"}}, "line break"},
	} {
		cfg := srv.Config()
		cfg.Headers = tt.h
		_, err := wxpay.New(cfg)
		if !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "Headers") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Headers %q: err = %v, want ErrInvalidConfig naming Headers and %q", tt.h, err, tt.want)
		}
	}
}

// A header value with a control character (other than a tab) is refused
// before anything is sent: it is not a valid field value, and a server
// answers it with a bare 400 that names nothing.
func TestHeaderControlCharacterRefused(t *testing.T) {
	srv, c := setup(t)
	for _, v := range []string{"a\x01b", "\x1b[31m", "del\x7f", "vt\v"} {
		srv.ResetRequests()
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
			"out_refund_no": fixtureOutNo,
			"headers":       wxpay.Opts{"X-Trace": v},
		})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "X-Trace") {
			t.Errorf("value %q: err = %v, want ErrInvalidOption naming X-Trace", v, err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("value %q: %d requests sent, want none", v, n)
		}
	}
	cfg := srv.Config()
	cfg.Headers = http.Header{"X-Trace": {"a\x01b"}}
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "X-Trace") {
		t.Errorf("Config.Headers: err = %v, want ErrInvalidConfig naming X-Trace", err)
	}
	// A tab and non-ASCII text are field values.
	if _, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": fixtureOutNo,
		"headers":       wxpay.Opts{"X-Trace": "a\tb 退款"},
	}); err != nil {
		t.Error(err)
	}
}

// An empty Wechatpay-Serial (or User-Agent, or Content-Type) is refused
// before anything is sent: with the encrypt option it went out next to the
// serial of the key the fields were encrypted with, two Wechatpay-Serial
// headers, one of them empty.
func TestHeaderSingleValueEmptyRefused(t *testing.T) {
	srv, c := setup(t)
	for _, name := range []string{"Wechatpay-Serial", "wechatpay-serial", "User-Agent", "Content-Type"} {
		srv.ResetRequests()
		_, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
			"refund_id": fixtureRefund,
			"json":      abnormalJSON("USER_BANK_CARD"),
			"encrypt":   []string{"bank_account"},
			"headers":   wxpay.Opts{name: ""},
		})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%s empty: err = %v, want ErrInvalidOption saying it is empty", name, err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%s empty: %d requests sent, want none", name, n)
		}
	}
	cfg := srv.Config()
	cfg.Headers = http.Header{"Wechatpay-Serial": {""}}
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Config.Headers: err = %v, want ErrInvalidConfig saying Wechatpay-Serial is empty", err)
	}
}
