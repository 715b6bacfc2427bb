package wxpaytest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// This example signs a query for the fixture refund by hand with the signer
// package and checks the emulator's signed answer with the verifier package.
// A wxpay.Client from Server.Client does all of that by itself.
func Example() {
	s := wxpaytest.NewServer()
	defer s.Close()
	cfg := s.Config()

	sg, err := signer.New(cfg.MchID, cfg.Serial, cfg.PrivateKey)
	if err != nil {
		panic(err)
	}
	target := "/v3/refund/domestic/refunds/" + wxpaytest.FixtureOutRefundNo
	auth, err := sg.Authorization(http.MethodGet, target, nil)
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL, "/")+target, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		panic(err)
	}

	v, err := verifier.New(cfg.Certs)
	if err != nil {
		panic(err)
	}
	err = v.Verify(verifier.Headers{
		Timestamp: res.Header.Get(verifier.HeaderTimestamp),
		Nonce:     res.Header.Get(verifier.HeaderNonce),
		Signature: res.Header.Get(verifier.HeaderSignature),
		Serial:    res.Header.Get(verifier.HeaderSerial),
	}, body, nil)
	fmt.Println("status:", res.StatusCode, "signature ok:", err == nil)

	var refund struct {
		RefundID string `json:"refund_id"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal(body, &refund); err != nil {
		panic(err)
	}
	fmt.Println(refund.RefundID, refund.Status)
	// Output:
	// status: 200 signature ok: true
	// 50000000382019052709732678859 ABNORMAL
}
