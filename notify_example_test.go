package wxpay_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// NotificationHandler serves the notify_url: it verifies and decrypts what
// WeChat Pay sends and acknowledges it once the function returns nil. Here
// the emulator plays WeChat Pay and settles the refund.
func ExampleClient_NotificationHandler() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := wxpay.New(srv.Config())
	if err != nil {
		log.Fatal(err)
	}

	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("POST /wxpay/refund-notify", client.NotificationHandler(func(ctx context.Context, n *wxpay.Notification) error {
		// Mark the refund settled in the shop's database, idempotently.
		fmt.Println(n.EventType, n.Get("out_refund_no"), n.Get("refund_status"), n.Get("amount.refund").Int())
		close(done)
		return nil
	}))
	shop := httptest.NewServer(mux) // the merchant's server
	defer shop.Close()

	resp, err := client.Chain("v3/refund/domestic/refunds").Post(wxpay.Opts{
		"json": wxpay.Opts{
			"out_trade_no":  "T20261123002",
			"out_refund_no": "R20261123002",
			"notify_url":    shop.URL + "/wxpay/refund-notify",
			"amount":        wxpay.Opts{"refund": 100, "total": 888, "currency": "CNY"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.SetRefundStatus(resp.Get("refund_id").String(), wxpaytest.StatusSuccess)

	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Fatal("no notification")
	}
	// Output: REFUND.SUCCESS R20261123002 SUCCESS 100
}

// ParseNotification is for a server that reads the request itself. On an
// error, answer with a non-2xx status so that WeChat Pay sends the
// notification again.
func ExampleClient_ParseNotification() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := wxpay.New(srv.Config())
	if err != nil {
		log.Fatal(err)
	}

	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, wxpay.MaxNotificationSize))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		n, err := client.ParseNotification(r.Header, body)
		if err != nil {
			log.Print(err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":"FAIL","message":"verification failed"}`)
			return
		}
		var tx struct {
			OutTradeNo string `json:"out_trade_no"`
			TradeState string `json:"trade_state"`
		}
		if err := n.Unmarshal(&tx); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Println(n.EventType, n.Summary, tx.OutTradeNo, tx.TradeState)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer shop.Close()

	// The emulator sends any notification on demand.
	d, err := srv.Notify(shop.URL, "TRANSACTION.SUCCESS", wxpay.Opts{"out_trade_no": "T20261123003", "trade_state": "SUCCESS"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(d.Wait(ctx), d.Statuses())
	// Output:
	// TRANSACTION.SUCCESS 支付成功 T20261123003 SUCCESS
	// <nil> [204]
}
