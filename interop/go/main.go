// Command interop drives the WeChat Pay emulator (`wxpay emulator`) with the
// official Go SDK, github.com/wechatpay-apiv3/wechatpay-go, which nobody on
// this project wrote: it must sign requests the emulator accepts and accept
// the emulator's signed responses, and a request with a tampered signature
// must be refused.
//
// Usage: go run . DIR, where DIR holds the wxpay.json written by
// `wxpay emulator --dir DIR`.
package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/signers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

type fileConfig struct {
	MchID      string            `json:"mchid"`
	Serial     string            `json:"serial"`
	PrivateKey string            `json:"private_key"`
	Certs      map[string]string `json:"certs"`
	BaseURL    string            `json:"base_url"`
}

// tamperingSigner signs correctly, then flips one character of the
// signature in the Authorization header.
type tamperingSigner struct{ auth.Signer }

func (t tamperingSigner) Sign(ctx context.Context, message string) (*auth.SignatureResult, error) {
	r, err := t.Signer.Sign(ctx, message)
	if err != nil {
		return nil, err
	}
	b := []byte(r.Signature)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	r.Signature = string(b)
	return r, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: interop DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "wechatpay-go interop: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("wechatpay-go interop: ok")
}

func run(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "wxpay.json"))
	if err != nil {
		return err
	}
	var fc fileConfig
	if err := json.Unmarshal(raw, &fc); err != nil {
		return err
	}
	key, err := utils.LoadPrivateKeyWithPath(fc.PrivateKey)
	if err != nil {
		return err
	}
	var pubID string
	var pub *rsa.PublicKey
	for id, path := range fc.Certs {
		if strings.HasPrefix(id, "PUB_KEY_ID_") {
			pubID = id
			if pub, err = utils.LoadPublicKeyWithPath(path); err != nil {
				return err
			}
		}
	}
	if pub == nil {
		return errors.New("no PUB_KEY_ID_ key in wxpay.json")
	}
	base := strings.TrimSuffix(fc.BaseURL, "/")
	ctx := context.Background()
	client, err := core.NewClient(ctx, option.WithWechatPayPublicKeyAuthCipher(fc.MchID, fc.Serial, key, pubID, pub))
	if err != nil {
		return err
	}

	// 1. apply refund (seed 003)
	res, err := client.Post(ctx, base+"/v3/refund/domestic/refunds", map[string]any{
		"out_trade_no": "GO-INTEROP-T1", "out_refund_no": "GO-INTEROP-R1", "reason": "interop",
		"amount": map[string]any{"refund": 100, "total": 888, "currency": "CNY"},
	})
	if err := expectOK("apply refund", res, err); err != nil {
		return err
	}
	// 2. e-commerce refund (seed 004)
	res, err = client.Post(ctx, base+"/v3/ecommerce/refunds/apply", map[string]any{
		"sub_mchid": "1900000109", "sp_appid": "wx8888888888888888", "transaction_id": "GO-INTEROP-T2",
		"out_refund_no": "GO-INTEROP-E1", "funds_account": "AVAILABLE",
		"amount": map[string]any{"refund": 88, "total": 888, "currency": "CNY"},
	})
	if err := expectOK("e-commerce refund", res, err); err != nil {
		return err
	}
	// 3 and 4. both abnormal refunds (seeds 000-002) on the fixture refund,
	// with the bank fields encrypted by the SDK's own helper.
	account, err := utils.EncryptOAEPWithPublicKey("6222020200001234", pub)
	if err != nil {
		return err
	}
	name, err := utils.EncryptOAEPWithPublicKey("张三", pub)
	if err != nil {
		return err
	}
	for _, path := range []string{
		"/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund",
		"/v3/ecommerce/refunds/50000000382019052709732678859/apply-abnormal-refund",
	} {
		res, err = client.Request(ctx, http.MethodPost, base+path, http.Header{"Wechatpay-Serial": {pubID}}, nil, map[string]any{
			"sub_mchid": "1900000109", "out_refund_no": "1217752501201407033233368018", "type": "USER_BANK_CARD",
			"bank_type": "ICBC_DEBIT", "bank_account": account, "real_name": name,
		}, "application/json")
		if err := expectOK("abnormal refund "+path, res, err); err != nil {
			return err
		}
	}
	// 5. query
	res, err = client.Get(ctx, base+"/v3/refund/domestic/refunds/GO-INTEROP-R1")
	if err := expectOK("query refund", res, err); err != nil {
		return err
	}

	// A tampered request signature is refused with 401 SIGN_ERROR.
	bad, err := core.NewClient(ctx,
		option.WithSigner(tamperingSigner{&signers.SHA256WithRSASigner{MchID: fc.MchID, CertificateSerialNo: fc.Serial, PrivateKey: key}}),
		option.WithoutValidator())
	if err != nil {
		return err
	}
	_, err = bad.Get(ctx, base+"/v3/refund/domestic/refunds/GO-INTEROP-R1")
	var apiErr *core.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "SIGN_ERROR" {
		return fmt.Errorf("tampered signature: got %v, want 401 SIGN_ERROR", err)
	}
	fmt.Println("  tampered request signature refused: 401 SIGN_ERROR")
	return nil
}

func expectOK(what string, res *core.APIResult, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	body, _ := io.ReadAll(res.Response.Body)
	res.Response.Body.Close()
	text := strings.TrimSpace(string(body))
	if len(text) > 100 {
		text = text[:100] + "..."
	}
	fmt.Printf("  %s: %d, verified by wechatpay-go: %s\n", what, res.Response.StatusCode, text)
	return nil
}
