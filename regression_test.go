package wxpay_test

// Regression tests for bugs found in review: each failed before its fix.

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay"
)

// After a cancelled call the transport may still be writing the request:
// it must write its own copy, not the caller's buffer, which the caller may
// reuse as soon as Do returns.
func TestCancelledCallKeepsCallerBufferOffTheWire(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	got := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		<-release // let the client block writing a large body
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(req.Body)
		got <- b
	}()
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BaseURL = "http://" + ln.Addr().String() + "/"
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("A"), 8<<20)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = c.Chain("v3/x").Do(ctx, "POST", wxpay.Opts{"body": body, "headers": map[string]string{"Content-Type": "application/octet-stream"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for i := range body {
		body[i] = 'B' // the caller reuses its buffer
	}
	close(release)
	select {
	case b := <-got:
		if n := bytes.Count(b, []byte("B")); n != 0 {
			t.Errorf("%d bytes written by the caller after Do returned went on the wire", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server never read the request")
	}
}

func TestFullURLChains(t *testing.T) {
	srv, c := setup(t)
	// a placeholder cannot follow a full URL: nothing would fill it
	ch := c.Chain(srv.URL + "v3/refund/domestic/refunds/").Chain("{out_refund_no}")
	if !errors.Is(ch.Err(), wxpay.ErrInvalidPath) {
		t.Errorf("placeholder after a URL: Err() = %v, want ErrInvalidPath", ch.Err())
	}
	// a bare '?' is not sent, so it is not signed either
	if _, err := c.Chain(srv.URL + "v3/refund/domestic/refunds/" + fixtureOutNo + "?").Get(); err != nil {
		t.Errorf("URL ending in '?': %v", err)
	}
	// a token in a malformed download URL stays out of the error
	ch = c.Chain(srv.URL + "v3/billdownload/../file?token=SECRET-TOKEN")
	if err := ch.Err(); err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Errorf("malformed URL: Err() = %v; want an error without the token", err)
	}
}

func TestCustomTransportMustNotRewriteOrResend(t *testing.T) {
	srv, _ := setup(t)
	for _, tc := range []struct {
		hc   *fasthttp.Client
		text string
	}{
		{&fasthttp.Client{MaxIdemponentCallAttempts: 1}, "DisablePathNormalizing"},
		{&fasthttp.Client{DisablePathNormalizing: true}, "MaxIdemponentCallAttempts"},
	} {
		cfg := srv.Config()
		cfg.Transport = tc.hc
		if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("New = %v, want ErrInvalidConfig naming %s", err, tc.text)
		}
	}
	cfg := srv.Config()
	cfg.Transport = &fasthttp.Client{DisablePathNormalizing: true, MaxIdemponentCallAttempts: 1}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{"out_refund_no": "a/b"})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "RESOURCE_NOT_EXISTS" {
		t.Errorf("custom transport: %v, want RESOURCE_NOT_EXISTS (signature accepted)", err)
	}
	if got := lastURI(t, srv); got != "/v3/refund/domestic/refunds/a%2Fb" {
		t.Errorf("URI = %q", got)
	}
}

// A key given twice: the first would be encrypted and the last, which most
// JSON readers keep, sent in plain text.
func TestEncryptRefusesDuplicateKeys(t *testing.T) {
	srv, c := setup(t)
	for _, body := range []string{
		`{"sub_mchid":"1900000109","real_name":"张三","real_name":"李四"}`,
		`{"a":{"real_name":"x"},"b":[{"k":1,"k":2}]}`,
	} {
		_, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
			"refund_id": fixtureRefund, "json": body, "encrypt": []string{"real_name"},
		})
		if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s: err = %v, want ErrInvalidOption about a key given twice", body, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestTypedNilStringerIsAnErrorNotAPanic(t *testing.T) {
	_, c := setup(t)
	var u *url.URL
	for _, opts := range []wxpay.Opts{
		{"out_refund_no": u},
		{"out_refund_no": "x", "query": wxpay.Opts{"a": u}},
		{"out_refund_no": "x", "headers": wxpay.Opts{"X-A": u}},
	} {
		_, err := c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(opts)
		if !errors.Is(err, wxpay.ErrInvalidOption) {
			t.Errorf("%v: err = %v, want ErrInvalidOption", opts, err)
		}
	}
}

// Printing a client or a config with %v, %+v or %#v shows no secret.
func TestPrintingHidesSecrets(t *testing.T) {
	srv, c := setup(t)
	cfg := srv.Config()
	cfg.APIv2Secret = "0123456789abcdef0123456789ABCDEF"
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, cfg, &cfg} {
			out := fmt.Sprintf(f, v)
			if strings.Contains(out, cfg.APIv3Key) || strings.Contains(out, cfg.APIv2Secret) || strings.Contains(out, "PRIVATE") ||
				strings.Contains(out, cfg.PrivateKey.(interface{ Public() crypto.PublicKey }).Public().(*rsa.PublicKey).N.String()[:20]) {
				t.Errorf("%s of %T shows a secret: %s", f, v, out)
			}
			if !strings.Contains(out, cfg.MchID) {
				t.Errorf("%s of %T = %s, want the merchant id at least", f, v, out)
			}
		}
	}
}
