package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/pkg/xhttp"
	wechat "github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// The call every client makes: the domestic abnormal refund of the
// emulator's fixture refund to the merchant's own bank account, which needs
// no field encryption. The emulator applies it once and answers every
// identical application after that with the same 200 and a freshly signed
// body.
const (
	refundID    = wxpaytest.FixtureRefundID
	outRefundNo = wxpaytest.FixtureOutRefundNo
	subMchID    = wxpaytest.FixtureSubMchID
	refundType  = "MERCHANT_BANK_CARD"
	callPath    = "v3/refund/domestic/refunds/" + refundID + "/apply-abnormal-refund"
)

// baseBodySize is the size of the request body without padding:
// {"out_refund_no":"...","sub_mchid":"...","type":"MERCHANT_BANK_CARD"}.
const baseBodySize = 100

// padding returns the value of the extra "padding" member that brings the
// JSON request body to about size bytes, or "" for no padding. The emulator
// ignores members it does not know.
func padding(size int) string {
	const member = len(`,"padding":""`)
	n := size - baseBodySize - member
	if n <= 0 {
		return ""
	}
	return strings.Repeat("x", n)
}

// keys is what a client of the emulator needs, read from the directory the
// emulator wrote.
type keys struct {
	fc         wxpaytest.FileConfig
	merchant   *rsa.PrivateKey
	merchantPE []byte // PEM, as gopay wants it
	pubID      string
	pub        *rsa.PublicKey
	pubPEM     []byte
}

func loadKeys(dir string) (*keys, error) {
	data, err := os.ReadFile(filepath.Join(dir, wxpaytest.ConfigFile))
	if err != nil {
		return nil, err
	}
	k := &keys{}
	if err := json.Unmarshal(data, &k.fc); err != nil {
		return nil, err
	}
	if k.merchant, err = rsaenc.LoadPrivateKey(k.fc.PrivateKey); err != nil {
		return nil, err
	}
	if k.merchantPE, err = os.ReadFile(k.fc.PrivateKey); err != nil {
		return nil, err
	}
	for id, path := range k.fc.Certs {
		if k.pub != nil {
			return nil, fmt.Errorf("%s: want one platform key", wxpaytest.ConfigFile)
		}
		k.pubID = id
		if k.pub, err = rsaenc.LoadPublicKey(path); err != nil {
			return nil, err
		}
		if k.pubPEM, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	if k.pub == nil {
		return nil, fmt.Errorf("%s: no platform key", wxpaytest.ConfigFile)
	}
	return k, nil
}

// A caller makes the benchmark call once and reports whether it was
// accepted (status 200) and its response signature verified.
type caller interface {
	call(ctx context.Context) error
	// describe says how the client is set up, for the report.
	describe() string
}

// stdTransport is the net/http transport given to the SDKs built on
// net/http: keep-alive on, and as many idle connections as there are
// goroutines, so that no call waits for a new connection.
func stdTransport(conc int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conc + 16,
		MaxIdleConnsPerHost: conc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// wxpayCaller is this module's chain client.
type wxpayCaller struct {
	ch   wxpay.Chain
	opts wxpay.Opts
}

func newWxpay(k *keys, baseURL string, bodySize int) (caller, error) {
	c, err := wxpay.New(wxpay.Config{
		MchID:      k.fc.MchID,
		Serial:     k.fc.Serial,
		PrivateKey: k.merchant,
		Certs:      map[string]*rsa.PublicKey{k.pubID: k.pub},
		BaseURL:    baseURL,
		Timeout:    30 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	j := wxpay.Opts{"sub_mchid": subMchID, "out_refund_no": outRefundNo, "type": refundType}
	if p := padding(bodySize); p != "" {
		j["padding"] = p
	}
	return &wxpayCaller{
		ch:   c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"),
		opts: wxpay.Opts{"refund_id": refundID, "json": j},
	}, nil
}

func (w *wxpayCaller) call(ctx context.Context) error {
	_, err := w.ch.Post(w.opts) // an error unless 2xx and verified
	return err
}

func (w *wxpayCaller) describe() string {
	return "wxpay " + wxpay.Version + ", crypto backend " + signer.Backend() + ", default fasthttp transport"
}

// abnormalBody is the request body as a struct, the way wechatpay-go's
// generated services take it.
type abnormalBody struct {
	SubMchID    string `json:"sub_mchid"`
	OutRefundNo string `json:"out_refund_no"`
	Type        string `json:"type"`
	Padding     string `json:"padding,omitempty"`
}

// wechatpayGoCaller is the official SDK, github.com/wechatpay-apiv3/wechatpay-go.
type wechatpayGoCaller struct {
	c    *core.Client
	url  string
	body abnormalBody
}

func newWechatpayGo(k *keys, baseURL string, bodySize, conc int) (caller, error) {
	c, err := core.NewClient(context.Background(),
		option.WithMerchantCredential(k.fc.MchID, k.fc.Serial, k.merchant),
		option.WithVerifier(verifiers.NewSHA256WithRSAPubkeyVerifier(k.pubID, *k.pub)),
		option.WithHTTPClient(&http.Client{Transport: stdTransport(conc), Timeout: 30 * time.Second}),
	)
	if err != nil {
		return nil, err
	}
	return &wechatpayGoCaller{
		c:    c,
		url:  baseURL + callPath,
		body: abnormalBody{SubMchID: subMchID, OutRefundNo: outRefundNo, Type: refundType, Padding: padding(bodySize)},
	}, nil
}

func (w *wechatpayGoCaller) call(ctx context.Context) error {
	// Post returns an error for a non-2xx answer and for a response whose
	// signature does not verify; the validator has read the body.
	res, err := w.c.Post(ctx, w.url, w.body)
	if res != nil && res.Response != nil {
		io.Copy(io.Discard, res.Response.Body)
		res.Response.Body.Close()
	}
	return err
}

func (w *wechatpayGoCaller) describe() string {
	return "wechatpay-go v0.2.21 core.Client, WithMerchantCredential + SHA256WithRSAPubkeyVerifier, net/http keep-alive"
}

// gopayCaller is github.com/go-pay/gopay's wechat/v3 client.
type gopayCaller struct {
	c  *wechat.ClientV3
	bm gopay.BodyMap
}

func newGopay(k *keys, baseURL string, bodySize, conc int) (caller, error) {
	c, err := wechat.NewClientV3(k.fc.MchID, k.fc.Serial, k.fc.APIv3Key, string(k.merchantPE))
	if err != nil {
		return nil, err
	}
	// SetProxyHost replaces https://api.mch.weixin.qq.com; the request is
	// signed over the path alone, as on WeChat Pay.
	c.SetProxyHost(strings.TrimSuffix(baseURL, "/"))
	// gopay's default transport disables keep-alive; give it the same
	// keep-alive transport as wechatpay-go, for a fair comparison.
	hc := xhttp.NewClient()
	hc.SetHttpTransport(stdTransport(conc))
	hc.SetTimeout(30 * time.Second)
	c.SetHttpClient(hc)
	if err := c.AutoVerifySignByPublicKey(k.pubPEM, k.pubID); err != nil {
		return nil, err
	}
	bm := gopay.BodyMap{"sub_mchid": subMchID, "out_refund_no": outRefundNo, "type": refundType}
	if p := padding(bodySize); p != "" {
		bm["padding"] = p
	}
	return &gopayCaller{c: c, bm: bm}, nil
}

func (g *gopayCaller) call(ctx context.Context) error {
	rsp, err := g.c.V3AbnormalRefund(ctx, refundID, g.bm)
	if err != nil {
		return err // includes a failed response signature
	}
	if rsp.Code != wechat.Success {
		return fmt.Errorf("gopay: status %d: %s", rsp.Code, rsp.Error)
	}
	return nil
}

func (g *gopayCaller) describe() string {
	return "gopay v1.5.115 wechat/v3 ClientV3.V3AbnormalRefund, SetProxyHost, AutoVerifySignByPublicKey, net/http keep-alive"
}
