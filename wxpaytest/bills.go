package wxpaytest

import (
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// DefaultBillSize is the size of the bill files a Server serves until
// SetBillSize says otherwise: a few dozen rows.
const DefaultBillSize = 8 << 10

// DownloadURLLifetime is how long the download_url of a bill stays valid,
// as WeChat Pay documents it: a fetch after that gets 400 INVALID_REQUEST,
// and the bill must be applied for again.
const DownloadURLLifetime = 30 * time.Second

// When bills exist, as WeChat Pay documents it, in China time: a day's trade
// bill from 08:00 the next day, its fund flow bill from 10:00, and only the
// bills of the last three months.
const (
	tradeBillReady    = 8 * time.Hour
	fundFlowBillReady = 10 * time.Hour
	billMonths        = 3
)

// fileState is the emulator's state for bill downloads, media uploads and
// platform certificates. Its zero value is ready to use.
type fileState struct {
	billSize atomic.Int64 // 0: DefaultBillSize; < 0: empty bills
	corrupt  atomic.Int64 // bill files still to corrupt

	mu      sync.Mutex
	tokens  map[string]billToken
	digests map[billSpec]*billDigest
	media   map[string]Media
	certs   *platformCerts
}

// billSpec names one generated bill. Equal specs give equal files.
type billSpec struct {
	kind string // "tradebill" or "fundflowbill"
	date string // bill_date, YYYY-MM-DD
	typ  string // bill_type or account_type
	size int64  // at least this many bytes of rows
}

// billToken is what a download_url token stands for.
type billToken struct {
	spec    billSpec
	gzip    bool
	expires time.Time
}

// billDigest is a bill's SHA-1 and length, computed once per spec.
type billDigest struct {
	once sync.Once
	sum  string
	size int64
}

// SetBillSize sets the size in bytes of the bill files served from now on:
// the rows are generated until the file holds at least n bytes, then the
// summary is added. The files are generated while they are sent and never
// held in memory, so n may be large (a benchmark downloads 1 GiB). A
// negative n gives bills with a header and summary but no rows. SetBillSize
// is safe for concurrent use.
func (s *Server) SetBillSize(n int64) {
	if n == 0 {
		n = DefaultBillSize
	}
	s.files.billSize.Store(n)
}

// CorruptBills makes the next n bill files served differ from their
// announced digest by one byte, as a file damaged on the way would.
func (s *Server) CorruptBills(n int) {
	s.files.corrupt.Store(int64(n))
}

func (s *Server) billSize() int64 {
	n := s.files.billSize.Load()
	switch {
	case n == 0:
		return DefaultBillSize
	case n < 0:
		return 0
	}
	return n
}

// applyTradeBill is GET /v3/bill/tradebill: the download_url and digest of
// the day's trade bill.
func (s *Server) applyTradeBill(c *call) (any, *apiError) {
	return s.applyBill(c, "tradebill", "bill_type", "ALL",
		"ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND", "ALL_SPECIAL", "SUC_SPECIAL", "REF_SPECIAL")
}

// applyFundFlowBill is GET /v3/bill/fundflowbill: the download_url and
// digest of the day's fund flow bill.
func (s *Server) applyFundFlowBill(c *call) (any, *apiError) {
	return s.applyBill(c, "fundflowbill", "account_type", "BASIC", "BASIC", "OPERATION", "FEES")
}

// billAnswer is the answer of a bill application.
type billAnswer struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

func (s *Server) applyBill(c *call, kind, typeParam, typeDefault string, types ...string) (any, *apiError) {
	q, e := parseQuery(c)
	if e != nil {
		return nil, e
	}
	date := q.Get("bill_date")
	if date == "" {
		return nil, paramError("query", "bill_date", nil, "is required")
	}
	day, err := time.ParseInLocation(time.DateOnly, date, cst)
	if err != nil {
		return nil, paramError("query", "bill_date", shortValue(date), "must be a date in the form yyyy-MM-DD")
	}
	if _, e := queryMerchantID(q, "sub_mchid", false); e != nil {
		return nil, e
	}
	typ := q.Get(typeParam)
	if typ == "" {
		typ = typeDefault
	}
	if !oneOf(typ, types) {
		return nil, paramError("query", typeParam, shortValue(typ), "must be one of "+joinComma(types))
	}
	tar := q.Get("tar_type")
	if tar != "" && tar != "GZIP" {
		return nil, paramError("query", "tar_type", shortValue(tar), "must be GZIP or absent")
	}
	if e := s.checkBillDate(kind, day); e != nil {
		return nil, e
	}
	u, sum := s.billURL(billSpec{kind: kind, date: date, typ: typ, size: s.billSize()}, tar == "GZIP")
	return billAnswer{HashType: "SHA1", HashValue: sum, DownloadURL: u}, nil
}

// billURL returns a fresh download_url of the bill spec names, valid for
// DownloadURLLifetime, and the bill's SHA-1.
func (s *Server) billURL(spec billSpec, gz bool) (string, string) {
	d := s.digest(spec)
	token := randomString(48, alnum)
	s.files.mu.Lock()
	if s.files.tokens == nil {
		s.files.tokens = map[string]billToken{}
	}
	now := s.now()
	for t, b := range s.files.tokens {
		if now.After(b.expires) {
			delete(s.files.tokens, t)
		}
	}
	s.files.tokens[token] = billToken{spec: spec, gzip: gz, expires: now.Add(DownloadURLLifetime)}
	s.files.mu.Unlock()
	return s.URL + "v3/billdownload/file?token=" + token, d.sum
}

// wechatPayOrigin is the origin of WeChat Pay's API, which the URLs of the
// description's example answers name.
const wechatPayOrigin = "https://api.mch.weixin.qq.com/"

// localURLs points the URLs of ans, a schema-driven answer to in, that name
// WeChat Pay's API host at the emulator, so that a client following them
// stays on the loopback interface: a download_url (or a URL of the bill
// download) becomes a fresh download URL of a fund flow bill the emulator
// serves, announced by the hash_value and hash_type beside it; any other
// URL keeps its path on the emulator.
func (s *Server) localURLs(ans []byte, in *opRequest) []byte {
	for _, path := range originPaths(gjson.ParseBytes(ans), "") {
		rest := strings.TrimPrefix(gjson.GetBytes(ans, path).Str, wechatPayOrigin)
		parent, key := "", path
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent, key = path[:i+1], path[i+1:]
		}
		if key != "download_url" && !strings.HasPrefix(rest, "v3/billdownload/file") {
			ans, _ = sjson.SetBytes(ans, path, s.URL+rest)
			continue
		}
		spec := billSpec{kind: "fundflowbill", date: s.LatestBillDate(), typ: "BASIC", size: s.billSize()}
		u, sum := s.billURL(spec, in.query.Get("tar_type") == "GZIP")
		ans, _ = sjson.SetBytes(ans, path, u)
		if gjson.GetBytes(ans, parent+"hash_value").Exists() {
			ans, _ = sjson.SetBytes(ans, parent+"hash_value", sum)
			ans, _ = sjson.SetBytes(ans, parent+"hash_type", "SHA1")
		}
	}
	return ans
}

// originPaths returns the sjson paths, below prefix, of the strings in v
// that start with wechatPayOrigin.
func originPaths(v gjson.Result, prefix string) []string {
	if v.Type == gjson.String {
		if strings.HasPrefix(v.Str, wechatPayOrigin) {
			return []string{strings.TrimSuffix(prefix, ".")}
		}
		return nil
	}
	var out []string
	i := 0
	v.ForEach(func(k, el gjson.Result) bool {
		name := k.Str
		if v.IsArray() {
			name = strconv.Itoa(i)
			i++
		}
		if plainKey(name) {
			out = append(out, originPaths(el, prefix+name+".")...)
		}
		return true
	})
	return out
}

// checkBillDate refuses a bill date as WeChat Pay does: 400
// INVALID_REQUEST for a day in the future or more than three months ago,
// 400 STATEMENT_CREATING for a day whose bill is not generated yet.
func (s *Server) checkBillDate(kind string, day time.Time) *apiError {
	now := s.now().In(cst)
	today := midnight(now)
	date := day.Format(time.DateOnly)
	if day.After(today) {
		return invalidRequest("bill_date " + date + " is in the future: no bill exists for it")
	}
	if earliest := today.AddDate(0, -billMonths, 0); day.Before(earliest) {
		return invalidRequest("bill_date " + date + " is more than three months ago: only bills from " +
			earliest.Format(time.DateOnly) + " on can be applied for")
	}
	ready, what := tradeBillReady, "trade bill"
	if kind == "fundflowbill" {
		ready, what = fundFlowBillReady, "fund flow bill"
	}
	if at := day.AddDate(0, 0, 1).Add(ready); now.Before(at) {
		return newError(http.StatusBadRequest, CodeStatementCreating, "the "+what+" of "+date+
			" is being generated: it can be downloaded from "+at.Format("2006-01-02 15:04")+" China time")
	}
	return nil
}

// midnight returns the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// LatestBillDate returns the most recent bill date, as YYYY-MM-DD, whose
// trade and fund flow bills the server serves at its current time (Now):
// yesterday, China time, from 10:00; the day before yesterday until then.
// Tests that download bills use it so that they pass whatever the date:
// the server refuses, as WeChat Pay does, a day whose bill is not generated
// yet (today's, and yesterday's before 08:00 for a trade bill or 10:00 for
// a fund flow bill) and days more than three months ago. It needs no
// started server: a zero Server's clock is time.Now.
func (s *Server) LatestBillDate() string {
	now := s.now().In(cst)
	day := midnight(now).AddDate(0, 0, -1)
	if now.Before(day.AddDate(0, 0, 1).Add(fundFlowBillReady)) {
		day = day.AddDate(0, 0, -1)
	}
	return day.Format(time.DateOnly)
}

// digest returns the SHA-1 and length of the bill spec names, generating
// the bill once to compute them.
func (s *Server) digest(spec billSpec) *billDigest {
	s.files.mu.Lock()
	if s.files.digests == nil {
		s.files.digests = map[billSpec]*billDigest{}
	}
	d, ok := s.files.digests[spec]
	if !ok {
		d = &billDigest{}
		s.files.digests[spec] = d
	}
	s.files.mu.Unlock()
	d.once.Do(func() {
		h := sha1.New()
		n, _ := io.CopyBuffer(h, newBillReader(spec), make([]byte, 64<<10))
		d.sum, d.size = hex.EncodeToString(h.Sum(nil)), n
	})
	return d
}

// serveBillFile is GET /v3/billdownload/file?token=...: the bill file,
// unsigned, as WeChat Pay sends it.
func (s *Server) serveBillFile(x *exchange) {
	r := x.r
	if e := s.authenticate(r, nil); e != nil {
		x.fail(e)
		return
	}
	s.setAuthenticated(x.rec)
	if x.fault != nil && x.fault.Kind == FaultError {
		x.fail(faultError(x.fault))
		return
	}
	token := r.URL.Query().Get("token")
	s.files.mu.Lock()
	b, ok := s.files.tokens[token]
	s.files.mu.Unlock()
	if !ok || s.now().After(b.expires) {
		x.fail(invalidRequest("the download token is unknown or has expired: apply for the bill again"))
		return
	}
	d := s.digest(b.spec)
	var src io.Reader = newBillReader(b.spec)
	if s.takeCorrupt() {
		src = &flipReader{r: src, at: d.size / 2}
	}
	h := x.w.Header()
	h.Set("Request-ID", x.requestID)
	h.Set("Content-Type", "application/octet-stream")
	if !b.gzip {
		h.Set("Content-Length", strconv.FormatInt(d.size, 10))
	}
	s.finishRecord(x.rec, http.StatusOK)
	x.w.WriteHeader(http.StatusOK)
	buf := make([]byte, 32<<10)
	if !b.gzip {
		io.CopyBuffer(x.w, src, buf)
		return
	}
	zw, _ := gzip.NewWriterLevel(x.w, gzip.BestSpeed)
	if _, err := io.CopyBuffer(zw, src, buf); err == nil {
		zw.Close()
	}
}

// flipReader changes the byte at offset at.
type flipReader struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if i := f.at - f.off; i >= 0 && i < int64(n) {
		p[i] ^= 0x01
	}
	f.off += int64(n)
	return n, err
}

// Bill layouts, after the WeChat Pay documents: a header, detail rows whose
// fields start with a backquote (so that spreadsheets keep long numbers
// whole), a summary header and a summary row, lines ending in CRLF.
const (
	tradeBillHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类," +
		"应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率," +
		"订单金额,申请退款金额,费率备注\r\n"
	tradeBillSummary    = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
	fundFlowBillHeader  = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\r\n"
	fundFlowBillSummary = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n"
)

// billReader generates a bill line by line from a generator seeded by its
// spec, so that the same spec always reads the same bytes and no more than
// one line is ever held.
type billReader struct {
	spec    billSpec
	day     []byte // "2026-11-22"
	digits  []byte // "20261122"
	rng     uint64
	line    []byte
	off     int
	written int64 // bytes of the lines made so far
	row     int64
	state   int // 0 header, 1 rows, 2 summary header, 3 summary, 4 done

	// totals for the summary; amounts in fen
	count, in, out        int64
	sum, refund, fee, bal int64
	inAmount, outAmount   int64
}

func newBillReader(spec billSpec) *billReader {
	h := fnv.New64a()
	io.WriteString(h, spec.kind+"|"+spec.date+"|"+spec.typ)
	digits := make([]byte, 0, 8)
	for i := 0; i < len(spec.date); i++ {
		if c := spec.date[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	return &billReader{spec: spec, day: []byte(spec.date), digits: digits, rng: h.Sum64(), line: make([]byte, 0, 512), bal: 100000000}
}

// next returns the next pseudo-random number (splitmix64).
func (b *billReader) next() uint64 {
	b.rng += 0x9e3779b97f4a7c15
	z := b.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (b *billReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if b.off == len(b.line) {
			if !b.fill() {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
		}
		c := copy(p[n:], b.line[b.off:])
		b.off += c
		n += c
	}
	return n, nil
}

// fill makes the next line; it reports false at the end of the bill.
func (b *billReader) fill() bool {
	b.line, b.off = b.line[:0], 0
	trade := b.spec.kind == "tradebill"
	switch b.state {
	case 0:
		if trade {
			b.line = append(b.line, tradeBillHeader...)
		} else {
			b.line = append(b.line, fundFlowBillHeader...)
		}
		b.state = 1
	case 1:
		if b.written >= b.spec.size {
			b.state = 2
			return b.fill()
		}
		if trade {
			b.tradeRow()
		} else {
			b.fundRow()
		}
		b.row++
	case 2:
		if trade {
			b.line = append(b.line, tradeBillSummary...)
		} else {
			b.line = append(b.line, fundFlowBillSummary...)
		}
		b.state = 3
	case 3:
		b.line = append(b.line, '`')
		b.line = strconv.AppendInt(b.line, b.count, 10)
		if trade {
			for _, v := range [...]int64{b.sum - b.refund, b.refund, 0, b.fee, b.sum, b.refund} {
				b.line = append(b.line, ",`"...)
				b.line = appendYuan(b.line, v)
			}
		} else {
			b.line = append(b.line, ",`"...)
			b.line = strconv.AppendInt(b.line, b.in, 10)
			b.line = append(b.line, ",`"...)
			b.line = appendYuan(b.line, b.inAmount)
			b.line = append(b.line, ",`"...)
			b.line = strconv.AppendInt(b.line, b.out, 10)
			b.line = append(b.line, ",`"...)
			b.line = appendYuan(b.line, b.outAmount)
		}
		b.line = append(b.line, "\r\n"...)
		b.state = 4
	default:
		return false
	}
	b.written += int64(len(b.line))
	return true
}

// appendTime appends the bill date and a time of day that grows with the
// row number.
func (b *billReader) appendTime() {
	sec := b.row % 86400
	b.line = append(b.line, '`')
	b.line = append(b.line, b.day...)
	b.line = append(b.line, ' ')
	b.line = appendPad(b.line, sec/3600, 2)
	b.line = append(b.line, ':')
	b.line = appendPad(b.line, sec/60%60, 2)
	b.line = append(b.line, ':')
	b.line = appendPad(b.line, sec%60, 2)
}

// appendID appends prefix, the bill date's digits and the row number.
func (b *billReader) appendID(prefix string, width int) {
	b.line = append(b.line, prefix...)
	b.line = append(b.line, b.digits...)
	b.line = appendPad(b.line, b.row, width)
}

func (b *billReader) field(s string) {
	b.line = append(b.line, ",`"...)
	b.line = append(b.line, s...)
}

func (b *billReader) tradeRow() {
	status := "SUCCESS"
	switch b.spec.typ {
	case "REFUND", "REF_SPECIAL", "RECHARGE_REFUND":
		status = "REFUND"
	case "ALL", "ALL_SPECIAL":
		if b.next()%10 == 0 {
			status = "REFUND"
		}
	}
	amount := int64(b.next()%100000) + 1
	fee := (amount*6 + 500) / 1000
	refund := int64(0)
	if status == "REFUND" {
		refund = amount
		b.refund += refund
	}
	b.count++
	b.sum += amount
	b.fee += fee

	b.appendTime()
	b.field("wx2421b1c4370ec43b")
	b.field(DefaultMchID)
	b.field("0")
	b.field("")
	b.line = append(b.line, ",`"...)
	b.appendID("4200000", 12)
	b.line = append(b.line, ",`"...)
	b.appendID("T", 12)
	b.line = append(b.line, ",`oUpF8u"...)
	for i, r := 0, b.next(); i < 22; i, r = i+1, r>>3 {
		if i == 20 {
			r = b.next()
		}
		b.line = append(b.line, alnum[r%uint64(len(alnum))])
	}
	b.field("JSAPI")
	b.field(status)
	b.field("OTHERS")
	b.field("CNY")
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, amount-refund)
	b.field("0.00")
	if refund > 0 {
		b.line = append(b.line, ",`"...)
		b.appendID("5030000", 12)
		b.line = append(b.line, ",`"...)
		b.appendID("R", 12)
		b.line = append(b.line, ",`"...)
		b.line = appendYuan(b.line, refund)
		b.field("0.00")
		b.field("ORIGINAL")
		b.field("SUCCESS")
	} else {
		b.field("0")
		b.field("0")
		b.field("0.00")
		b.field("0.00")
		b.field("")
		b.field("")
	}
	b.field("wxpaytest 商品")
	b.field("")
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, fee)
	b.field("0.60%")
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, amount)
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, refund)
	b.field("")
	b.line = append(b.line, "\r\n"...)
}

func (b *billReader) fundRow() {
	amount := int64(b.next()%100000) + 1
	income := b.next()%3 != 0
	b.count++
	kind, name, dir := "交易", "交易收款", "收入"
	if income {
		b.in++
		b.inAmount += amount
		b.bal += amount
	} else {
		b.out++
		b.outAmount += amount
		b.bal -= amount
		kind, name, dir = "退款", "退款", "支出"
	}
	b.appendTime()
	b.line = append(b.line, ",`"...)
	b.appendID("4200000", 12)
	b.line = append(b.line, ",`"...)
	b.appendID("1900000109", 14)
	b.field(name)
	b.field(kind)
	b.field(dir)
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, amount)
	b.line = append(b.line, ",`"...)
	b.line = appendYuan(b.line, b.bal)
	b.field("system")
	b.field("")
	b.line = append(b.line, ",`"...)
	b.appendID("T", 12)
	b.line = append(b.line, "\r\n"...)
}

// appendYuan appends an amount in fen as yuan with two decimals.
func appendYuan(dst []byte, fen int64) []byte {
	if fen < 0 {
		dst = append(dst, '-')
		fen = -fen
	}
	dst = strconv.AppendInt(dst, fen/100, 10)
	dst = append(dst, '.', byte('0'+fen/10%10), byte('0'+fen%10))
	return dst
}

// appendPad appends n in decimal, left-padded with zeros to width.
func appendPad(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

// takeCorrupt uses up one of the bill corruptions CorruptBills asked for,
// and reports whether there was one.
func (s *Server) takeCorrupt() bool {
	for {
		n := s.files.corrupt.Load()
		if n <= 0 {
			return false
		}
		if s.files.corrupt.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
