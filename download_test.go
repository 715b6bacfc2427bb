package wxpay_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// billDate is a day whose bills the emulator serves while the tests run
// (the emulators of these tests keep the real time; a zero Server's clock
// is the real time too).
var billDate = new(wxpaytest.Server).LatestBillDate()

func billQuery(extra ...string) wxpay.Opts {
	q := wxpay.Opts{"bill_date": billDate}
	for i := 0; i+1 < len(extra); i += 2 {
		q[extra[i]] = extra[i+1]
	}
	return wxpay.Opts{"query": q}
}

func TestDownloadBill(t *testing.T) {
	srv, c := setup(t)
	srv.SetBillSize(100 << 10)
	tests := []struct {
		path   string
		query  []string
		header string
	}{
		{"v3/bill/tradebill", nil, "交易时间,公众账号ID"},
		{"v3/bill/tradebill", []string{"bill_type", "REFUND", "tar_type", "GZIP"}, "交易时间,公众账号ID"},
		{"v3/bill/fundflowbill", []string{"account_type", "BASIC"}, "记账时间,微信支付业务单号"},
		{"v3/bill/fundflowbill", []string{"tar_type", "GZIP"}, "记账时间,微信支付业务单号"},
	}
	for _, tt := range tests {
		t.Run(tt.path+fmt.Sprint(tt.query), func(t *testing.T) {
			var buf bytes.Buffer
			bill, err := c.Chain(tt.path).Download(context.Background(), billQuery(tt.query...), &buf)
			if err != nil {
				t.Fatalf("Download: %v", err)
			}
			sum := sha1.Sum(buf.Bytes())
			if got := hex.EncodeToString(sum[:]); got != bill.HashValue {
				t.Errorf("SHA1 of what was written = %s, bill says %s", got, bill.HashValue)
			}
			if bill.Size != int64(buf.Len()) || buf.Len() < 100<<10 {
				t.Errorf("Size = %d, wrote %d bytes, want at least %d", bill.Size, buf.Len(), 100<<10)
			}
			if wantGzip := strings.Contains(fmt.Sprint(tt.query), "GZIP"); bill.Gzip != wantGzip {
				t.Errorf("Gzip = %v, want %v", bill.Gzip, wantGzip)
			}
			if !strings.HasPrefix(buf.String(), tt.header) {
				t.Errorf("bill starts %q, want %q", buf.String()[:40], tt.header)
			}
			if !strings.Contains(lastURI(t, srv), "/v3/billdownload/file?token=") {
				t.Errorf("the last request was not the file download")
			}
		})
	}
}

// The same bill compressed or not decompresses to the same bytes and
// digest.
func TestDownloadBillGzipSameAsPlain(t *testing.T) {
	_, c := setup(t)
	var plain, unzipped bytes.Buffer
	b1, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), &plain)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery("tar_type", "GZIP"), &unzipped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.Bytes(), unzipped.Bytes()) || b1.HashValue != b2.HashValue {
		t.Errorf("plain and gzip bills differ: %d and %d bytes, digests %s and %s", plain.Len(), unzipped.Len(), b1.HashValue, b2.HashValue)
	}
}

func TestDownloadBillDigestMismatch(t *testing.T) {
	for _, tar := range []string{"", "GZIP"} {
		t.Run("tar_type="+tar, func(t *testing.T) {
			srv, c := setup(t)
			srv.CorruptBills(1)
			var buf bytes.Buffer
			q := billQuery()
			if tar != "" {
				q = billQuery("tar_type", tar)
			}
			bill, err := c.Chain("v3/bill/tradebill").Download(context.Background(), q, &buf)
			if !errors.Is(err, wxpay.ErrDigestMismatch) {
				t.Fatalf("Download of a corrupted bill: err = %v, want ErrDigestMismatch", err)
			}
			if bill == nil || bill.Size != int64(buf.Len()) || buf.Len() == 0 {
				t.Errorf("bill = %+v after writing %d bytes", bill, buf.Len())
			}
			// The corruption was used up: the next download is whole.
			if _, err := c.Chain("v3/bill/tradebill").Download(context.Background(), q, io.Discard); err != nil {
				t.Errorf("second download: %v", err)
			}
		})
	}
}

func TestDownloadFile(t *testing.T) {
	srv, c := setup(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "2026-11-22.csv")
	bill, err := c.Chain("v3/bill/tradebill").DownloadFile(context.Background(), billQuery("tar_type", "GZIP"), path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha1.Sum(data); hex.EncodeToString(sum[:]) != bill.HashValue {
		t.Errorf("file digest differs from the bill's")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}

	// A corrupted download leaves the existing file alone and no
	// temporary file behind.
	srv.CorruptBills(1)
	_, err = c.Chain("v3/bill/tradebill").DownloadFile(context.Background(), billQuery(), path)
	if !errors.Is(err, wxpay.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(again, data) {
		t.Errorf("a failed download changed the existing file")
	}
	other := filepath.Join(dir, "other.csv")
	srv.CorruptBills(1)
	if _, err := c.Chain("v3/bill/fundflowbill").DownloadFile(context.Background(), billQuery(), other); !errors.Is(err, wxpay.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "2026-11-22.csv" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the first bill", names)
	}
}

// A download_url on a host the client does not sign for is refused before
// anything is sent; so is a digest the client could not check.
func TestDownloadBillRefusedBeforeSending(t *testing.T) {
	srv, c := setup(t)
	sha1Hex := strings.Repeat("ab", 20)
	tests := []struct {
		name string
		bill wxpay.Bill
		want error
	}{
		{"foreign host", wxpay.Bill{HashType: "SHA1", HashValue: sha1Hex, DownloadURL: "https://evil.example.com/v3/billdownload/file?token=x"}, wxpay.ErrHostNotAllowed},
		{"WeChat Pay host from an emulator client", wxpay.Bill{HashType: "SHA1", HashValue: sha1Hex, DownloadURL: "https://api.mch.weixin.qq.com/v3/billdownload/file?token=x"}, wxpay.ErrHostNotAllowed},
		{"dot segments", wxpay.Bill{HashType: "SHA1", HashValue: sha1Hex, DownloadURL: srv.URL + "v3/../x?token=x"}, wxpay.ErrInvalidPath},
		{"relative", wxpay.Bill{HashType: "SHA1", HashValue: sha1Hex, DownloadURL: "v3/billdownload/file?token=x"}, wxpay.ErrInvalidPath},
		{"unknown hash type", wxpay.Bill{HashType: "MD5", HashValue: sha1Hex, DownloadURL: srv.URL + "v3/billdownload/file?token=x"}, nil},
		{"short hash", wxpay.Bill{HashType: "SHA1", HashValue: "abcd", DownloadURL: srv.URL + "v3/billdownload/file?token=x"}, nil},
		{"sha256 length given as sha1", wxpay.Bill{HashType: "SHA256", HashValue: sha1Hex, DownloadURL: srv.URL + "v3/billdownload/file?token=x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.RequestCount()
			var buf bytes.Buffer
			b := tt.bill
			err := c.DownloadBill(context.Background(), &b, &buf)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("DownloadBill: err = %v, want %v", err, tt.want)
			}
			if n := srv.RequestCount() - before; n != 0 || buf.Len() != 0 {
				t.Errorf("%d requests sent and %d bytes written, want none", n, buf.Len())
			}
		})
	}
}

func TestDownloadBillErrors(t *testing.T) {
	srv, c := setup(t)
	// An unknown token: the error answer is signed and becomes an
	// *APIError.
	b := &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("00", 20), DownloadURL: srv.URL + "v3/billdownload/file?token=nosuchtoken"}
	err := c.DownloadBill(context.Background(), b, io.Discard)
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !apiErr.Verified {
		t.Errorf("unknown token: err = %v, want a verified 400 *APIError", err)
	}
	if strings.Contains(fmt.Sprint(err), "nosuchtoken") {
		t.Errorf("error %q shows the download token", err)
	}
	// A bad bill_date is refused by the application.
	_, err = c.Chain("v3/bill/tradebill").Download(context.Background(), wxpay.Opts{"query": wxpay.Opts{"bill_date": "22/11/2026"}}, io.Discard)
	if !errors.As(err, &apiErr) || apiErr.Code != "PARAM_ERROR" {
		t.Errorf("bad bill_date: err = %v, want PARAM_ERROR", err)
	}
	// A reset connection while the file is fetched.
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultReset, PathPrefix: "/v3/billdownload/"})
	_, err = c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), io.Discard)
	var netErr *wxpay.NetworkError
	if !errors.As(err, &netErr) {
		t.Errorf("reset: err = %v, want a *NetworkError", err)
	}
	// A writer that fails stops the download with its error.
	werr := errors.New("disk full")
	_, err = c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), failWriter{werr})
	if !errors.Is(err, werr) {
		t.Errorf("failing writer: err = %v, want %v", err, werr)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// Cancelling the context stops a large download promptly.
func TestDownloadBillCancel(t *testing.T) {
	srv, c := setup(t)
	const size = 64 << 20
	srv.SetBillSize(size)
	b := &wxpay.Bill{}
	resp, err := c.Chain("v3/bill/tradebill").Get(billQuery())
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{n: 1 << 20, cancel: cancel}
	start := time.Now()
	err = c.DownloadBill(ctx, b, w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled download took %v", d)
	}
	if w.written >= size {
		t.Errorf("the whole bill was written despite the cancellation")
	}
}

// cancelAfter cancels a context once n bytes were written to it.
type cancelAfter struct {
	n, written int64
	cancel     func()
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	w.written += int64(len(p))
	if w.written >= w.n {
		w.cancel()
	}
	return len(p), nil
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// peakMemory samples the heap in use and the process's peak resident set
// while fn runs.
func peakMemory(fn func()) (heapPeak, rssPeak uint64) {
	resetPeakRSS()
	runtime.GC()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var peak uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for !stop.Load() {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	fn()
	stop.Store(true)
	wg.Wait()
	return peak, peakRSS()
}

// resetPeakRSS resets the kernel's peak resident set counter (VmHWM), where
// Linux allows it.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 where /proc is not available.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Memory stays bounded whatever the size of the bill: the file is streamed,
// never held. (The emulator generating it runs in the same process, so the
// figures include both sides.)
func TestDownloadBillBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads 256 MiB twice")
	}
	if raceEnabled() {
		t.Skip("memory figures mean little under the race detector, and it is slow")
	}
	srv, c := setup(t)
	const size = 256 << 20
	srv.SetBillSize(size)
	for _, tar := range []string{"", "GZIP"} {
		var bill *wxpay.Bill
		var err error
		heap, rss := peakMemory(func() {
			q := billQuery()
			if tar != "" {
				q = billQuery("tar_type", tar)
			}
			bill, err = c.Chain("v3/bill/tradebill").Download(context.Background(), q, io.Discard)
		})
		if err != nil {
			t.Fatal(err)
		}
		if bill.Size < size {
			t.Errorf("downloaded %d bytes, want at least %d", bill.Size, size)
		}
		t.Logf("tar_type=%q: %d MiB bill, peak heap in use %.1f MiB, peak RSS %.1f MiB", tar, bill.Size>>20, float64(heap)/(1<<20), float64(rss)/(1<<20))
		if heap > 32<<20 || rss > 64<<20 {
			t.Errorf("tar_type=%q: peak heap in use %d MiB, peak RSS %d MiB while downloading %d MiB, want under 32 and 64 MiB", tar, heap>>20, rss>>20, size>>20)
		}
	}
}

// BenchmarkDownloadBill downloads a bill of each size from the emulator to
// io.Discard and reports the throughput and the peak heap and resident set
// (VmHWM, reset before each size where Linux allows). The 1 GiB case is the
// figure the performance goal names (peak RSS under 64 MiB); it is skipped
// with -short. Run it alone:
//
//	go test -run '^$' -bench 'DownloadBill/1GiB' -benchtime 1x .
func BenchmarkDownloadBill(b *testing.B) {
	for _, size := range []int64{16 << 20, 1 << 30} {
		name := fmt.Sprintf("%dMiB", size>>20)
		if size >= 1<<30 {
			name = fmt.Sprintf("%dGiB", size>>30)
		}
		b.Run(name, func(b *testing.B) {
			if size >= 1<<30 && testing.Short() {
				b.Skip("-short")
			}
			srv, _ := setup(b)
			srv.SetBillSize(size)
			cfg := srv.Config()
			cfg.Timeout = 5 * time.Minute // the emulator hashes 1 GiB before answering
			c, err := wxpay.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			// The emulator hashes each new bill once; do it before timing.
			if _, err := c.Chain("v3/bill/tradebill").Get(billQuery()); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			var heap, rss uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h, r := peakMemory(func() {
					if _, err := c.Chain("v3/bill/tradebill").Download(context.Background(), billQuery(), io.Discard); err != nil {
						b.Fatal(err)
					}
				})
				heap, rss = max(heap, h), max(rss, r)
			}
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
			if rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// A bill is applied for and downloaded in one call; DownloadFile keeps the
// file only when its digest matches.
func ExampleChain_DownloadFile() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())
	dir, _ := os.MkdirTemp("", "bills")
	defer os.RemoveAll(dir)

	// WeChat Pay serves a day's bill from the next morning, for three months.
	date := srv.LatestBillDate()
	bill, err := client.Chain("v3/bill/tradebill").DownloadFile(context.Background(), wxpay.Opts{
		"query": wxpay.Opts{"bill_date": date, "bill_type": "ALL", "tar_type": "GZIP"},
	}, filepath.Join(dir, "tradebill-"+date+".csv"))
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(filepath.Join(dir, "tradebill-"+date+".csv"))
	fmt.Println(bill.HashType, bill.Gzip, bill.Size == int64(len(data)))
	fmt.Println(strings.SplitN(string(data), ",", 3)[:2])
	// Output:
	// SHA1 true true
	// [交易时间 公众账号ID]
}

// A path that cannot take the file (a directory, a directory that does not
// exist) is refused before the bill is applied for: nothing is sent.
func TestDownloadFileBadPath(t *testing.T) {
	srv, c := setup(t)
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "missing", "bill.csv")} {
		_, err := c.Chain("v3/bill/tradebill").DownloadFile(context.Background(), billQuery(), path)
		if !errors.Is(err, wxpay.ErrInvalidOption) {
			t.Errorf("DownloadFile(%q): err = %v, want ErrInvalidOption", path, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files in the directory", len(entries))
	}
}

// A gzip "bill" that expands far beyond what a bill's text can (a
// decompression bomb: here 1 GiB of zeros from about 1 MiB) is stopped once
// it has expanded more than a bill can, long before the end: it never
// fills the writer's disk. A real bill compresses ten to twenty times.
func TestDownloadBillGzipBomb(t *testing.T) {
	var bomb bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 1024; i++ {
		gz.Write(zeros)
	}
	gz.Close()
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bomb.Bytes())
	}))
	defer host.Close()
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.BaseURL = host.URL + "/"
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := &wxpay.Bill{HashType: "SHA1", HashValue: strings.Repeat("00", 20), Gzip: true,
		DownloadURL: host.URL + "/v3/billdownload/file?token=x"}
	cw := &countingDiscard{}
	err = c.DownloadBill(context.Background(), b, cw)
	if !errors.Is(err, wxpay.ErrResponseTooLarge) {
		t.Errorf("err = %v, want ErrResponseTooLarge", err)
	}
	if cw.n > 256<<20 {
		t.Errorf("%d bytes written before the bomb was stopped, want at most 256 MiB", cw.n)
	}
}

type countingDiscard struct{ n int64 }

func (w *countingDiscard) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
