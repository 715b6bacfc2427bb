package wxpaytest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
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
		m := applyBill(t, c, "/v3/bill/tradebill?bill_date="+s.LatestBillDate()+"&bill_type=SUCCESS"+tar)
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
	m := applyBill(t, c, "/v3/bill/fundflowbill?bill_date="+s.LatestBillDate())
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
	// The token expires after DownloadURLLifetime.
	s.Now = fixedClock(now.Add(DownloadURLLifetime + time.Second))
	if got := c.get(target).summary(t); got.Code != CodeInvalidRequest {
		t.Errorf("expired token: %+v", got)
	}
}

func TestBillFaults(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	m := applyBill(t, c, "/v3/bill/tradebill?bill_date="+s.LatestBillDate())
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

// clock is a settable emulator clock, safe to change while the server runs.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }

// WeChat Pay serves a day's bill once it is generated (trade bills from
// 08:00 the next day, fund flow bills from 10:00, China time) and only
// within three months; before, STATEMENT_CREATING; out of range,
// INVALID_REQUEST.
func TestBillDates(t *testing.T) {
	clk := newClock(time.Time{})
	s := newServer(t, func(s *Server) { s.Now = clk.now })
	c := newClient(t, s)
	at := func(day, hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, cst)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	ok := errorSummary{Status: 200}
	creating := errorSummary{400, CodeStatementCreating, "", ""}
	invalid := errorSummary{400, CodeInvalidRequest, "", ""}
	tests := []struct {
		now    time.Time
		target string
		want   errorSummary
	}{
		{at("2026-11-23", "10:00"), "/v3/bill/tradebill?bill_date=2026-11-22", ok},
		{at("2026-11-23", "10:00"), "/v3/bill/fundflowbill?bill_date=2026-11-22", ok},
		{at("2026-11-23", "10:00"), "/v3/bill/tradebill?bill_date=2026-11-23", creating},
		{at("2026-11-23", "23:59"), "/v3/bill/fundflowbill?bill_date=2026-11-23", creating},
		{at("2026-11-23", "10:00"), "/v3/bill/tradebill?bill_date=2026-11-24", invalid},
		{at("2026-11-23", "07:59"), "/v3/bill/tradebill?bill_date=2026-11-22", creating},
		{at("2026-11-23", "08:00"), "/v3/bill/tradebill?bill_date=2026-11-22", ok},
		{at("2026-11-23", "07:59"), "/v3/bill/tradebill?bill_date=2026-11-21", ok},
		{at("2026-11-23", "09:59"), "/v3/bill/fundflowbill?bill_date=2026-11-22", creating},
		{at("2026-11-23", "09:59"), "/v3/bill/fundflowbill?bill_date=2026-11-21", ok},
		// 17:00 UTC on the 22nd is 01:00 on the 23rd in China: the 22nd's
		// bill is not generated yet.
		{time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC), "/v3/bill/tradebill?bill_date=2026-11-22", creating},
		{at("2026-11-23", "10:00"), "/v3/bill/tradebill?bill_date=2026-08-23", ok},
		{at("2026-11-23", "10:00"), "/v3/bill/tradebill?bill_date=2026-08-22", invalid},
		{at("2026-11-23", "10:00"), "/v3/bill/fundflowbill?bill_date=2025-11-22", invalid},
	}
	for _, tt := range tests {
		clk.set(tt.now)
		r := c.get(tt.target)
		got := errorSummary{Status: r.status}
		if r.status != http.StatusOK {
			got = r.summary(t)
		}
		if got != tt.want {
			t.Errorf("at %s: GET %s = %+v %s, want %+v", tt.now.In(cst).Format(time.DateTime), tt.target, got, r.body, tt.want)
		}
	}
}

// LatestBillDate names a day whose bills are served at the server's time.
func TestLatestBillDate(t *testing.T) {
	clk := newClock(time.Time{})
	s := newServer(t, func(s *Server) { s.Now = clk.now })
	c := newClient(t, s)
	for _, tt := range []struct{ now, want string }{
		{"2026-11-23 10:00", "2026-11-22"},
		{"2026-11-23 09:59", "2026-11-21"},
		{"2026-11-23 00:00", "2026-11-21"},
		{"2026-03-01 23:59", "2026-02-28"},
	} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", tt.now, cst)
		clk.set(now)
		got := s.LatestBillDate()
		if got != tt.want {
			t.Errorf("at %s: LatestBillDate() = %s, want %s", tt.now, got, tt.want)
		}
		for _, kind := range []string{"tradebill", "fundflowbill"} {
			if r := c.get("/v3/bill/" + kind + "?bill_date=" + got); r.status != http.StatusOK {
				t.Errorf("at %s: %s of %s: %d %s", tt.now, kind, got, r.status, r.body)
			}
		}
	}
}

// A download_url is valid for 30 seconds, as WeChat Pay documents; a fetch
// after that gets 400 INVALID_REQUEST.
func TestBillDownloadURLLifetime(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, cst)
	clk := newClock(start)
	s := newServer(t, func(s *Server) { s.Now = clk.now })
	c := newClient(t, s)
	if DownloadURLLifetime != 30*time.Second {
		t.Errorf("DownloadURLLifetime = %v, want the documented 30s", DownloadURLLifetime)
	}
	m := applyBill(t, c, "/v3/bill/tradebill?bill_date=2026-11-22")
	target := "/" + strings.TrimPrefix(m["download_url"].(string), s.URL)
	clk.set(start.Add(30 * time.Second))
	if r := c.get(target); r.status != http.StatusOK {
		t.Errorf("fetch at 30s: %d %s", r.status, r.body)
	}
	clk.set(start.Add(31 * time.Second))
	if r := c.get(target); r.status == http.StatusOK {
		t.Errorf("fetch at 31s: 200, want 400 INVALID_REQUEST")
	} else if got := r.summary(t); got != (errorSummary{400, CodeInvalidRequest, "", ""}) {
		t.Errorf("fetch at 31s: %+v, want 400 INVALID_REQUEST", got)
	}
}

// TestSchemaDrivenURLsStayLocal: the schema-driven answers name no URL of
// WeChat Pay's own host (the description's examples do; TestEveryOperation
// checks every answer): a download_url is the emulator's, for a bill it
// serves with the hash_value announced beside it, so that a client can
// apply for and download any bill offline.
func TestSchemaDrivenURLsStayLocal(t *testing.T) {
	s := newServer(t)
	client, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	bill, err := client.Chain("v3/profitsharing/bills").Download(t.Context(), wxpay.Opts{
		"query": wxpay.Opts{"bill_date": s.LatestBillDate()},
	}, &buf)
	if err != nil {
		t.Fatalf("profit sharing bill: %v", err)
	}
	if !strings.HasPrefix(bill.DownloadURL, s.URL) || buf.Len() == 0 {
		t.Errorf("download_url %q, %d bytes downloaded; want a bill of %s", bill.DownloadURL, buf.Len(), s.URL)
	}
	for _, c := range []struct {
		target string
		query  wxpay.Opts
	}{
		{"v3/payscore/merchant-bill", wxpay.Opts{"service_id": "2002000000000558128851361561536", "bill_date": s.LatestBillDate(), "encryption_algorithm": "AEAD_AES_256_GCM"}},
		{"v3/merchant-service/complaints-v2", wxpay.Opts{"limit": "5", "offset": "0", "begin_date": "2019-01-01", "end_date": "2019-01-02"}},
	} {
		resp, err := client.Chain(c.target).Get(wxpay.Opts{"query": c.query})
		if err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		if strings.Contains(string(resp.Body), "api.mch.weixin.qq.com") {
			t.Errorf("%s: the answer names WeChat Pay's host: %s", c.target, resp.Body)
		}
		urls := resp.Get("download_bill_list.#.download_url").Array()
		if strings.Contains(c.target, "bill") && len(urls) == 0 {
			t.Errorf("%s: no download_url in %s", c.target, resp.Body)
		}
		for _, u := range urls {
			var b bytes.Buffer
			hash := resp.Get(`download_bill_list.#(download_url==` + strconv.Quote(u.Str) + `).hash_value`).Str
			if err := client.DownloadBill(t.Context(), &wxpay.Bill{HashType: "SHA1", HashValue: hash, DownloadURL: u.Str}, &b); err != nil {
				t.Errorf("%s: download %s: %v", c.target, u.Str, err)
			}
		}
	}
}
