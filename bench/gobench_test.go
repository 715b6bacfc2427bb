package main

import (
	"bytes"
	"strings"
	"testing"
)

const goBenchOK = `goos: linux
goarch: amd64
pkg: github.com/wxpay-chain/wxpay
cpu: AMD EPYC
BenchmarkDownloadBill/1GiB-2         	       1	2318000000 ns/op	 463.20 MB/s	         1.500 peak-heap-MiB	        23.35 peak-RSS-MiB
PASS
ok  	github.com/wxpay-chain/wxpay	9.123s
`

func TestFormatGoBench(t *testing.T) {
	var out, echo bytes.Buffer
	cmd := "go test -run '^$' -bench 'DownloadBill/1GiB' -benchtime 1x ."
	if err := formatGoBench(strings.NewReader(goBenchOK), &out, &echo, cmd); err != nil {
		t.Fatalf("formatGoBench: %v", err)
	}
	if echo.String() != goBenchOK {
		t.Errorf("echo = %q, want the input", echo.String())
	}
	for _, want := range []string{
		"### Library benchmark: DownloadBill/1GiB\n",
		"`" + cmd + "` in github.com/wxpay-chain/wxpay",
		"| benchmark | time/op | MB/s | peak-heap-MiB | peak-RSS-MiB |\n| --- | ---: | ---: | ---: | ---: |\n",
		"| DownloadBill/1GiB | 2.318s | 463.2 | 1.5 | 23.35 |\n",
		"peak RSS = **0.36 x** the 64 MiB goal (met)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown:\n%s\nlacks %q", out.String(), want)
		}
	}
}

func TestFormatGoBenchFailures(t *testing.T) {
	for name, in := range map[string]string{
		"no results":   "PASS\nok  \tgithub.com/wxpay-chain/wxpay\t0.1s\n",
		"build failed": "# github.com/wxpay-chain/wxpay\n./x.go:1:1: syntax error\nFAIL\tgithub.com/wxpay-chain/wxpay [build failed]\n",
		"failed bench": strings.Replace(goBenchOK, "PASS\nok  ", "--- FAIL: BenchmarkDownloadBill/1GiB\nFAIL\nexit status 1\nFAIL", 1),
		"no ok line":   strings.Replace(goBenchOK, "ok  \tgithub.com/wxpay-chain/wxpay\t9.123s\n", "signal: killed\n", 1),
		"bad number":   strings.Replace(goBenchOK, "463.20", "fast", 1),
	} {
		var out, echo bytes.Buffer
		if err := formatGoBench(strings.NewReader(in), &out, &echo, "go test"); err == nil {
			t.Errorf("%s: formatGoBench succeeded, want an error; printed:\n%s", name, out.String())
		}
	}
}

func TestTrimProcs(t *testing.T) {
	for in, want := range map[string]string{"DownloadBill/1GiB-2": "DownloadBill/1GiB", "Post/openssl-16": "Post/openssl", "Sign": "Sign", "Post/a-b": "Post/a-b"} {
		if got := trimProcs(in); got != want {
			t.Errorf("trimProcs(%q) = %q, want %q", in, got, want)
		}
	}
}
