package wxpaytest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The request log of a long-running emulator can be read and cleared over
// HTTP: DELETE InspectPath empties it, as ResetRequests does, so that a
// standalone emulator's memory does not grow for ever.
func TestInspectClear(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	c.post(refundsPath, refundBody("INSPECT-1"))
	do := func(method string) (int, string) {
		req, _ := http.NewRequest(method, strings.TrimSuffix(s.URL, "/")+InspectPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := do(http.MethodGet); status != 200 || !strings.Contains(body, "/v3/refund/domestic/refunds") {
		t.Fatalf("GET: %d %s", status, body)
	}
	if status, body := do(http.MethodDelete); status != 204 {
		t.Errorf("DELETE: %d %s, want 204", status, body)
	}
	status, body := do(http.MethodGet)
	var log []inspected
	if err := json.Unmarshal([]byte(body), &log); status != 200 || err != nil || len(log) != 0 {
		t.Errorf("GET after DELETE: %d %s, want an empty list", status, body)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("Requests holds %d after DELETE", n)
	}
}
