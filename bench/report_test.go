package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// runResults are the figures of the 2026-11-23 run at concurrency 16 (see
// docs/performance.md), a run without errors.
func runResults() map[string]result {
	r := func(name string, ok int64, cpu, allocs float64) result {
		return result{Client: name, Seconds: 1, OK: ok, CPUus: cpu, Allocs: allocs, EmuCPUus: -1}
	}
	return map[string]result{
		"wxpay-openssl": r("wxpay-openssl", 1401, 1096, 30.1),
		"wxpay-go":      r("wxpay-go", 1053, 1583, 35.1),
		"wechatpay-go":  r("wechatpay-go", 945, 1752, 129.1),
		"gopay":         r("gopay", 998, 1697, 161.1),
		"floor-openssl": r("floor-openssl", 2087, 946, 7.0),
		"floor-go":      r("floor-go", 1281, 1553, 11.0),
	}
}

func TestRatios(t *testing.T) {
	got := map[string]ratioRow{}
	for _, r := range ratios(runResults()) {
		got[r.conclusion] = r
	}
	for _, want := range []ratioRow{
		{"wxpay+OpenSSL calls/s = **1.48 x** wechatpay-go", "1401 / 945 calls/s", "≥ 3 x: not met"},
		{"wxpay+OpenSSL calls/s = **1.40 x** gopay", "1401 / 998 calls/s", "≥ 3 x: not met"},
		{"wxpay+crypto/rsa calls/s = **1.11 x** wechatpay-go", "1053 / 945 calls/s", "≥ 1.1 x: met"},
		{"wxpay+OpenSSL client CPU/call = **1.16 x** libcrypto floor", "1096 / 946 µs (+150 µs)", "≤ 1.25 x: met"},
		{"wxpay+crypto/rsa client CPU/call = **1.02 x** crypto/rsa floor", "1583 / 1553 µs (+30 µs)", "≤ 1.1 x: met"},
		{"crypto/rsa floor CPU/call = **1.64 x** libcrypto floor", "1553 / 946 µs (+607 µs)", "—"},
		{"ceiling: wechatpay-go client CPU/call = **1.85 x** libcrypto floor", "1752 / 946 µs (+806 µs)", "—"},
		{"wxpay+OpenSSL allocs/call outside the crypto = **0.20 x** wechatpay-go's", "23 / 118 (each minus its floor's)", "≤ 1/3 x: met"},
	} {
		if g, ok := got[want.conclusion]; !ok {
			t.Errorf("no ratio %q among %v", want.conclusion, got)
		} else if g != want {
			t.Errorf("ratio %q = %+v, want %+v", want.conclusion, g, want)
		}
	}
}

// A client that failed gives no ratio: a ratio of a failed run would be
// a false conclusion.
func TestRatiosSkipFailedRuns(t *testing.T) {
	m := runResults()
	r := m["wechatpay-go"]
	r.Errors = 3
	m["wechatpay-go"] = r
	for _, row := range ratios(m) {
		if strings.Contains(row.conclusion, "wechatpay-go") {
			t.Errorf("ratio %q from a run with errors", row.conclusion)
		}
	}
}

func TestReportMarkdown(t *testing.T) {
	main := config{16, baseBodySize}
	res := map[config]map[string]result{main: runResults(), {1, baseBodySize}: runResults()}
	cfg := driverConfig{clients: clientNames, mainC: 16, mainBody: baseBodySize, d: time.Second, warm: time.Second / 2, rounds: 1, args: []string{"-d", "1s"}}
	var out bytes.Buffer
	report(&out, cfg, []config{main, {1, baseBodySize}}, res, time.Minute, 0.5)
	for _, want := range []string{
		"- run: `bench -d 1s`",
		"### Concurrency 16, 100-byte body\n\n| client | calls/s |",
		"| wxpay, OpenSSL backend | 1401 | 1096 (0+0) | 30.1 |",
		"#### Ratios (this run, concurrency 16, 100-byte body)\n\n| conclusion | from | target |\n| --- | --- | --- |\n",
		"### Scaling with concurrency (100-byte body)",
		"| wxpay+OpenSSL / wechatpay-go | 1.48 x | 1.48 x |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report:\n%s\nlacks %q", out.String(), want)
		}
	}
}
