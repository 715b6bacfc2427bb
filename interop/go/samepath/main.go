// Command samepath sends from wxpay the same chains the Node interop script
// sent with wechatpay-axios-plugin, in the same pure-chain spelling, and
// checks with the emulator's request log that both reached the same paths.
//
// Usage: go run ./samepath DIR (after node interop.js DIR wrote node-paths.json)
package main

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "same-path check: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("same-path check: ok")
}

func run(dir string) error {
	var fc wxpaytest.FileConfig
	raw, err := os.ReadFile(filepath.Join(dir, wxpaytest.ConfigFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		return err
	}
	key, err := rsaenc.LoadPrivateKey(fc.PrivateKey)
	if err != nil {
		return err
	}
	certs := map[string]*rsa.PublicKey{}
	for id, p := range fc.Certs {
		if certs[id], err = rsaenc.LoadPublicKey(p); err != nil {
			return err
		}
	}
	c, err := wxpay.New(wxpay.Config{MchID: fc.MchID, Serial: fc.Serial, PrivateKey: key, Certs: certs, BaseURL: fc.BaseURL})
	if err != nil {
		return err
	}
	var nodePaths []string
	raw, err = os.ReadFile(filepath.Join(dir, "node-paths.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &nodePaths); err != nil {
		return err
	}
	abnormal := wxpay.Opts{
		"sub_mchid": "1900000109", "out_refund_no": "1217752501201407033233368018", "type": "USER_BANK_CARD",
		"bank_type": "ICBC_DEBIT", "bank_account": "6222020200001234", "real_name": "张三",
	}
	enc := []string{"bank_account", "real_name"}
	v3 := c.Chain("v3")
	calls := []func() error{
		func() error {
			_, err := v3.Chain("refund").Chain("domestic").Chain("refunds").Post(wxpay.Opts{"json": wxpay.Opts{
				"out_trade_no": "GO-SAMEPATH-T1", "out_refund_no": "GO-SAMEPATH-R1",
				"amount": wxpay.Opts{"refund": 100, "total": 888, "currency": "CNY"}}})
			return err
		},
		func() error {
			_, err := v3.Chain("ecommerce").Chain("refunds").Chain("apply").Post(wxpay.Opts{"json": wxpay.Opts{
				"sub_mchid": "1900000109", "sp_appid": "wx8888888888888888", "transaction_id": "GO-SAMEPATH-T2",
				"out_refund_no": "GO-SAMEPATH-E1", "funds_account": "AVAILABLE",
				"amount": wxpay.Opts{"refund": 88, "total": 888, "currency": "CNY"}}})
			return err
		},
		func() error {
			_, err := v3.Chain("refund").Chain("domestic").Chain("refunds").Chain("_refund_id_").Chain("applyAbnormalRefund").
				Post(wxpay.Opts{"refund_id": "50000000382019052709732678859", "json": abnormal, "encrypt": enc})
			return err
		},
		func() error {
			_, err := v3.Chain("ecommerce").Chain("refunds").Chain("_refund_id_").Chain("applyAbnormalRefund").
				Post(wxpay.Opts{"refund_id": "50000000382019052709732678859", "json": abnormal, "encrypt": enc})
			return err
		},
		func() error {
			_, err := v3.Chain("refund").Chain("domestic").Chain("refunds").Chain("_out_refund_no_").
				Get(wxpay.Opts{"out_refund_no": "NODE-INTEROP-R1"})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			return fmt.Errorf("wxpay call %d: %w", i+1, err)
		}
	}
	resp, err := http.Get(strings.TrimSuffix(fc.BaseURL, "/") + wxpaytest.InspectPath)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var log []struct {
		Method     string `json:"method"`
		RequestURI string `json:"request_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		return err
	}
	if len(log) < len(calls) {
		return fmt.Errorf("emulator log has %d requests", len(log))
	}
	ours := log[len(log)-len(calls):]
	if len(nodePaths) != len(calls) {
		return fmt.Errorf("node sent %d paths, want %d", len(nodePaths), len(calls))
	}
	for i := range calls {
		node := nodePaths[i]
		// The e-commerce and apply-refund bodies differ, the paths must not:
		// the Node query used out_refund_no NODE-INTEROP-R1, so did we.
		if ours[i].RequestURI != node {
			return fmt.Errorf("call %d: wxpay reached %s, wechatpay-axios-plugin %s", i+1, ours[i].RequestURI, node)
		}
		fmt.Printf("  %s %s: same path from both\n", ours[i].Method, node)
	}
	return nil
}
