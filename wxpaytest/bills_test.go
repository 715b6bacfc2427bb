package wxpaytest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBillReaderDeterministic(t *testing.T) {
	for _, spec := range []billSpec{
		{kind: "tradebill", date: "2026-11-22", typ: "ALL", size: 50 << 10},
		{kind: "tradebill", date: "2026-11-22", typ: "REFUND", size: 10 << 10},
		{kind: "fundflowbill", date: "2026-11-22", typ: "BASIC", size: 50 << 10},
		{kind: "fundflowbill", date: "2026-11-21", typ: "FEES", size: 0},
	} {
		a, _ := io.ReadAll(newBillReader(spec))
		// Read in odd-sized pieces: the same bytes.
		var b bytes.Buffer
		r := newBillReader(spec)
		buf := make([]byte, 7)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(a, b.Bytes()) {
			t.Errorf("%+v: two reads differ", spec)
		}
		if int64(len(a)) < spec.size {
			t.Errorf("%+v: %d bytes, want at least %d", spec, len(a), spec.size)
		}
		lines := strings.Split(strings.TrimSuffix(string(a), "\r\n"), "\r\n")
		if len(lines) < 3 {
			t.Fatalf("%+v: %d lines", spec, len(lines))
		}
		header := strings.Count(lines[0], ",")
		for i, l := range lines[1 : len(lines)-2] {
			if n := strings.Count(l, ","); n != header || !strings.HasPrefix(l, "`"+spec.date+" ") {
				t.Errorf("%+v: row %d has %d commas (header %d): %q", spec, i+1, n, header, l)
				break
			}
		}
		if !strings.Contains(lines[len(lines)-2], "总") {
			t.Errorf("%+v: summary header is %q", spec, lines[len(lines)-2])
		}
	}
	a, _ := io.ReadAll(newBillReader(billSpec{kind: "tradebill", date: "2026-11-22", typ: "ALL", size: 4096}))
	b, _ := io.ReadAll(newBillReader(billSpec{kind: "tradebill", date: "2026-11-21", typ: "ALL", size: 4096}))
	if bytes.Equal(a, b) {
		t.Errorf("bills of two days are equal")
	}
}

// applyBill applies for a bill and returns the answer.
func applyBill(t *testing.T, c *tclient, target string) map[string]any {
	t.Helper()
	r := c.get(target)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, r.status, r.body)
	}
	if err := r.verify(c.s); err != nil {
		t.Errorf("bill application answer not signed: %v", err)
	}
	return r.json(t)
}

func TestBillDownload(t *testing.T) {
	s := newServer(t)
	s.SetBillSize(20 << 10)
	c := newClient(t, s)
	for _, tar := range []string{"", "&tar_type=GZIP"} {
		m := applyBill(t, c, "/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS"+tar)
		if m["hash_type"] != "SHA1" {
			t.Errorf("hash_type = %v", m["hash_type"])
		}
		u := m["download_url"].(string)
		if !strings.HasPrefix(u, s.URL+"v3/billdownload/file?token=") {
			t.Fatalf("download_url = %q", u)
		}
		r := c.get("/" + strings.TrimPrefix(u, s.URL))
		if r.status != http.StatusOK {
			t.Fatalf("download: %d %s", r.status, r.body)
		}
		if r.header.Get("Wechatpay-Signature") != "" {
			t.Errorf("the bill file is signed; WeChat Pay does not sign it")
		}
		data := r.body
		if tar != "" {
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(zr)
		}
		sum := sha1.Sum(data)
		if hex.EncodeToString(sum[:]) != m["hash_value"] {
			t.Errorf("tar_type %q: digest of the file differs from hash_value", tar)
		}
	}

	// A corrupted bill differs by a byte; the next one is whole again.
	m := applyBill(t, c, "/v3/bill/fundflowbill?bill_date=2026-11-22")
	target := "/" + strings.TrimPrefix(m["download_url"].(string), s.URL)
	s.CorruptBills(1)
	bad := c.get(target)
	good := c.get(target)
	if bytes.Equal(bad.body, good.body) || len(bad.body) != len(good.body) {
		t.Errorf("corrupted bill: %d bytes, whole: %d bytes, equal %v", len(bad.body), len(good.body), bytes.Equal(bad.body, good.body))
	}
}

func TestBillErrors(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, cst)
	s := newServer(t, func(s *Server) { s.Now = fixedClock(now) })
	c := newClient(t, s)
	tests := []struct {
		target string
		want   errorSummary
	}{
		{"/v3/bill/tradebill", errorSummary{400, CodeParamError, "bill_date", "query"}},
		{"/v3/bill/tradebill?bill_date=2026/11/22", errorSummary{400, CodeParamError, "bill_date", "query"}},
		{"/v3/bill/tradebill?bill_date=2026-11-30", errorSummary{400, CodeInvalidRequest, "", ""}},
		{"/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SOME", errorSummary{400, CodeParamError, "bill_type", "query"}},
		{"/v3/bill/fundflowbill?bill_date=2026-11-22&account_type=ALL", errorSummary{400, CodeParamError, "account_type", "query"}},
		{"/v3/bill/fundflowbill?bill_date=2026-11-22&tar_type=ZIP", errorSummary{400, CodeParamError, "tar_type", "query"}},
		{"/v3/billdownload/file?token=nosuch", errorSummary{400, CodeInvalidRequest, "", ""}},
	}
	for _, tt := range tests {
		if got := c.get(tt.target).summary(t); got != tt.want {
			t.Errorf("GET %s = %+v, want %+v", tt.target, got, tt.want)
		}
	}
	// The file needs a signed request.
	m := applyBill(t, c, "/v3/bill/tradebill?bill_date=2026-11-22")
	target := "/" + strings.TrimPrefix(m["download_url"].(string), s.URL)
	if got := c.do(req{method: http.MethodGet, target: target, noAuth: true}).summary(t); got.Status != 401 {
		t.Errorf("unsigned download: %+v, want 401", got)
	}
	if got := c.do(req{method: http.MethodPost, target: target}); got.status != http.StatusMethodNotAllowed {
		t.Errorf("POST download: %d, want 405", got.status)
	}
	// The token expires after five minutes.
	s.Now = fixedClock(now.Add(billTokenLife + time.Second))
	if got := c.get(target).summary(t); got.Code != CodeInvalidRequest {
		t.Errorf("expired token: %+v", got)
	}
}

func TestBillFaults(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	m := applyBill(t, c, "/v3/bill/tradebill?bill_date=2026-11-22")
	target := "/" + strings.TrimPrefix(m["download_url"].(string), s.URL)
	s.Inject(Fault{Kind: FaultError, Status: 500, PathPrefix: "/v3/billdownload/"})
	if got := c.get(target).summary(t); got.Code != CodeSystemError {
		t.Errorf("injected error: %+v", got)
	}
	// Times 2: net/http resends an idempotent request once when a reused
	// connection is reset.
	s.Inject(Fault{Kind: FaultReset, Times: 2, PathPrefix: "/v3/billdownload/"})
	if _, err := c.send(req{method: http.MethodGet, target: target}); err == nil {
		t.Errorf("injected reset: got an answer")
	}
	s.ClearFaults()
	if got := c.get(target); got.status != http.StatusOK {
		t.Errorf("after the faults: %d", got.status)
	}
}
