package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// DemoCommand is "wxpay demo": it starts the WeChat Pay emulator in the
// process and makes the seed calls (apply for a refund, an e-commerce
// refund, the two abnormal refunds and queries) in each chain style, printing
// each verified answer.
type DemoCommand struct {
	m    *Main
	json bool
}

// Run runs the demonstration. It fails unless every call succeeded, every
// answer's signature verified and every answer says what it should.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.m.Stdout, demoUsage)
			return errHelp
		}
		return usagef("demo", "%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("demo", "unexpected argument %q", fs.Arg(0))
	}

	srv := wxpaytest.NewUnstartedServer()
	if err := srv.StartErr(); err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		return fmt.Errorf("client for the emulator: %w", err)
	}
	w := c.m.Stdout
	fmt.Fprintf(w, "WeChat Pay emulator at %s (merchant %s, WeChat Pay key %s)\n",
		srv.URL, client.MchID(), strings.Join(client.Serials(), ", "))

	steps := demoSteps(ctx, client)
	failed := 0
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%2d. %s (%s)\n    %s %s\n", i+1, st.title, st.style, st.method, st.chain.String())
		start := time.Now()
		resp, err := st.call(st.chain)
		if err == nil {
			err = st.check(resp)
		}
		if err != nil {
			failed++
			fmt.Fprintf(w, "    FAILED: %v\n", err)
			continue
		}
		fmt.Fprintf(w, "    %d %s, signature verified with %s (%v)\n", resp.StatusCode, http.StatusText(resp.StatusCode), resp.Serial, time.Since(start).Round(time.Millisecond))
		var line []string
		for _, p := range st.show {
			line = append(line, p+"="+resp.Get(p).String())
		}
		fmt.Fprintf(w, "    %s\n", strings.Join(line, "  "))
		if c.json {
			var b bytes.Buffer
			writePretty(&b, resp.Body)
			for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				fmt.Fprintf(w, "    | %s\n", l)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("demo: %d of %d calls failed", failed, len(steps))
	}
	fmt.Fprintf(w, "\nAll %d calls succeeded and every answer's signature was verified.\n", len(steps))
	return nil
}

// demoStep is one call of the demonstration.
type demoStep struct {
	title  string
	style  string
	method string
	chain  wxpay.Chain
	call   func(wxpay.Chain) (*wxpay.Response, error)
	show   []string          // gjson paths printed
	want   map[string]string // gjson path -> value the answer must hold
	save   func(*wxpay.Response)
}

// check verifies the answer is signed and says what it should, then lets
// the step remember what later steps need.
func (st *demoStep) check(r *wxpay.Response) error {
	if !r.Verified {
		return errors.New("the answer was not verified")
	}
	for p, v := range st.want {
		if got := r.Get(p).String(); got != v {
			return fmt.Errorf("%s = %q, want %q", p, got, v)
		}
	}
	if st.save != nil {
		st.save(r)
	}
	return nil
}

// The bank card the abnormal refunds send money to. The emulator decrypts
// it and answers with the bank name and the last four digits.
const (
	demoBankAccount = "6214830000000403"
	demoRealName    = "张三"
	demoSubMchID    = wxpaytest.FixtureSubMchID
)

// demoSteps returns the calls of the demonstration. Later calls use the
// refund ids earlier ones received.
func demoSteps(ctx context.Context, client *wxpay.Client) []*demoStep {
	var partnerAbnormalID, ecomUserID, ecomMerchantID string

	refund := func(outRefundNo, transactionID string) wxpay.Opts {
		return wxpay.Opts{
			"sub_mchid":      demoSubMchID,
			"transaction_id": transactionID,
			"out_trade_no":   transactionID,
			"out_refund_no":  outRefundNo,
			"reason":         "商品已售完",
			"notify_url":     "https://weixin.qq.com",
			"funds_account":  "AVAILABLE",
			"amount": wxpay.Opts{
				"refund":   888,
				"from":     []wxpay.Opts{{"account": "AVAILABLE", "amount": 444}},
				"total":    888,
				"currency": "CNY",
			},
		}
	}
	ecommerceRefund := func(outRefundNo, transactionID string) wxpay.Opts {
		return wxpay.Opts{
			"sub_mchid":      demoSubMchID,
			"sp_appid":       "wx8888888888888888",
			"sub_appid":      "wx8888888888888888",
			"transaction_id": transactionID,
			"out_refund_no":  outRefundNo,
			"reason":         "商品已售完",
			"amount": wxpay.Opts{
				"refund":   888,
				"total":    888,
				"currency": "CNY",
			},
			"notify_url":     "https://weixin.qq.com",
			"refund_account": "REFUND_SOURCE_SUB_MERCHANT",
			"funds_account":  "AVAILABLE",
		}
	}
	toUserCard := func(outRefundNo string) wxpay.Opts {
		return wxpay.Opts{
			"sub_mchid":     demoSubMchID,
			"out_refund_no": outRefundNo,
			"type":          "USER_BANK_CARD",
			"bank_type":     "ICBC_DEBIT",
			"bank_account":  demoBankAccount, // plain text: the encrypt option encrypts it
			"real_name":     demoRealName,
		}
	}
	userCardAccount := "工商银行借记卡" + demoBankAccount[len(demoBankAccount)-4:]
	// expect turns an async Then callback into a check of the answer.
	expect := func(path, value string) func(*wxpay.Response) (*wxpay.Response, error) {
		return func(r *wxpay.Response) (*wxpay.Response, error) {
			if got := r.Get(path).String(); got != value {
				return nil, fmt.Errorf("then: %s = %q, want %q", path, got, value)
			}
			return r, nil
		}
	}

	return []*demoStep{
		{
			title: "apply for a refund", style: "sync, declarative", method: http.MethodPost,
			chain: client.Chain("v3/refund/domestic/refunds"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.Post(wxpay.Opts{"json": refund("1217752501201407033233368101", "4200000001202405200000000101")})
			},
			show: []string{"refund_id", "out_refund_no", "status", "amount.refund", "amount.currency"},
			want: map[string]string{"status": "PROCESSING", "amount.refund": "888"},
		},
		{
			title: "apply for a refund that turns out abnormal", style: "async, pure chain", method: http.MethodPost,
			chain: client.Chain("v3").Chain("refund").Chain("domestic").Chain("refunds"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.PostAsync(wxpay.Opts{"json": refund("ABNORMAL1217752501201407033233368102", "4200000001202405200000000102")}).
					Then(expect("status", "ABNORMAL")).
					Wait()
			},
			show: []string{"refund_id", "out_refund_no", "status"},
			want: map[string]string{"status": "ABNORMAL"},
			save: func(r *wxpay.Response) { partnerAbnormalID = r.Get("refund_id").String() },
		},
		{
			title: "e-commerce refund", style: "sync, pure chain", method: http.MethodPost,
			chain: client.Chain("v3").Chain("ecommerce").Chain("refunds").Chain("apply"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.Post(wxpay.Opts{"json": ecommerceRefund("ABNORMAL1217752501201407033233368103", "4200000001202405200000000103")})
			},
			show: []string{"refund_id", "out_refund_no", "amount.refund", "refund_account"},
			want: map[string]string{"amount.refund": "888", "refund_account": "REFUND_SOURCE_SUB_MERCHANT"},
			save: func(r *wxpay.Response) { ecomUserID = r.Get("refund_id").String() },
		},
		{
			title: "e-commerce refund", style: "async, declarative", method: http.MethodPost,
			chain: client.Chain("v3/ecommerce/refunds/apply"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.PostAsync(wxpay.Opts{"json": ecommerceRefund("ABNORMAL1217752501201407033233368104", "4200000001202405200000000104")}).
					Then(func(r *wxpay.Response) (*wxpay.Response, error) {
						ecomMerchantID = r.Get("refund_id").String()
						return r, nil
					}).
					Wait()
			},
			show: []string{"refund_id", "out_refund_no", "amount.refund", "create_time"},
			want: map[string]string{"amount.refund": "888"},
		},
		{
			title: "abnormal refund to the user's bank card, Wechatpay-Serial named", style: "sync, declarative", method: http.MethodPost,
			chain: client.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.Post(wxpay.Opts{
					"refund_id": wxpaytest.FixtureRefundID,
					"json":      toUserCard(wxpaytest.FixtureOutRefundNo),
					"encrypt":   []string{"bank_account", "real_name"},
					"headers":   wxpay.Opts{"Wechatpay-Serial": wxpaytest.DefaultPlatformSerial},
				})
			},
			show: []string{"refund_id", "status", "channel", "user_received_account"},
			want: map[string]string{"status": "PROCESSING", "channel": "OTHER_BANKCARD", "user_received_account": userCardAccount},
		},
		{
			title: "abnormal refund to the user's bank card, Wechatpay-Serial set by encrypt", style: "async, pure chain", method: http.MethodPost,
			chain: client.Chain("v3").Chain("refund").Chain("domestic").Chain("refunds").Chain("_refund_id_").Chain("applyAbnormalRefund"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.PostAsync(wxpay.Opts{
					"refund_id": partnerAbnormalID,
					"json":      toUserCard("ABNORMAL1217752501201407033233368102"),
					"encrypt":   []string{"bank_account", "real_name"},
				}).Then(expect("channel", "OTHER_BANKCARD")).Wait()
			},
			show: []string{"refund_id", "status", "channel", "user_received_account"},
			want: map[string]string{"status": "PROCESSING", "user_received_account": userCardAccount},
		},
		{
			title: "e-commerce abnormal refund to the user's bank card", style: "sync, variadic", method: http.MethodPost,
			chain: client.Chain("v3", "ecommerce", "refunds", "_refund_id_", "applyAbnormalRefund"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				body := toUserCard("ABNORMAL1217752501201407033233368103")
				body["individual_auth_id"] = "1900000109"
				return ch.Post(wxpay.Opts{
					"refund_id": ecomUserID,
					"json":      body,
					"encrypt":   []string{"bank_account", "real_name"},
				})
			},
			show: []string{"refund_id", "status", "channel", "user_received_account", "refund_account"},
			want: map[string]string{"status": "PROCESSING", "channel": "OTHER_BANKCARD", "user_received_account": userCardAccount},
		},
		{
			title: "e-commerce abnormal refund to the merchant's bank account", style: "async, declarative", method: http.MethodPost,
			chain: client.Chain("v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.PostAsync(wxpay.Opts{
					"refund_id": ecomMerchantID,
					"json": wxpay.Opts{
						"sub_mchid":     demoSubMchID,
						"out_refund_no": "ABNORMAL1217752501201407033233368104",
						"type":          "MERCHANT_BANK_CARD",
					},
				}).Then(expect("status", "PROCESSING")).Wait()
			},
			show: []string{"refund_id", "status", "channel", "user_received_account"},
			want: map[string]string{"channel": "OTHER_BANKCARD", "user_received_account": wxpaytest.MerchantReceivedAccount},
		},
		{
			title: "query the refund the first abnormal refund handled", style: "sync, declarative", method: http.MethodGet,
			chain: client.Chain("v3/refund/domestic/refunds/{out_refund_no}"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				return ch.Get(wxpay.Opts{
					"out_refund_no": wxpaytest.FixtureOutRefundNo,
					"query":         wxpay.Opts{"sub_mchid": demoSubMchID},
				})
			},
			show: []string{"out_refund_no", "status", "channel", "user_received_account", "amount.refund"},
			want: map[string]string{"status": "PROCESSING", "channel": "OTHER_BANKCARD", "user_received_account": userCardAccount},
		},
		{
			title: "query an e-commerce refund by refund_id", style: "sync with a context, declarative", method: http.MethodGet,
			chain: client.Chain("v3/ecommerce/refunds/id/{refund_id}"),
			call: func(ch wxpay.Chain) (*wxpay.Response, error) {
				ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				return ch.Do(ctx, http.MethodGet, wxpay.Opts{
					"refund_id": ecomUserID,
					"query":     wxpay.Opts{"sub_mchid": demoSubMchID},
				})
			},
			show: []string{"refund_id", "status", "channel", "user_received_account"},
			want: map[string]string{"status": "PROCESSING", "channel": "OTHER_BANKCARD"},
		},
	}
}

// flagSet returns the flags of wxpay demo, bound to c.
func (c *DemoCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

const demoUsage = `Usage: wxpay demo [--json]

Starts the WeChat Pay emulator in this process and makes the seed calls
against it, each in one of the chain styles, printing the verified answers:

	apply for a refund            POST v3/refund/domestic/refunds
	e-commerce refund             POST v3/ecommerce/refunds/apply
	abnormal refund               POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund
	e-commerce abnormal refund    POST v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund
	query a refund                GET  v3/refund/domestic/refunds/{out_refund_no}
	query an e-commerce refund    GET  v3/ecommerce/refunds/id/{refund_id}

The bank card number and name of the abnormal refunds are encrypted with
the emulator's WeChat Pay key through the encrypt option, which also sets
the Wechatpay-Serial header. Nothing leaves the machine.

Flags:

	--json   print each answer's JSON too

Exit status: 0 when every call succeeded and every answer's signature was
verified, 1 otherwise.

Try: go run ./cmd/wxpay demo --json
`
