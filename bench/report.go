package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// labels are the names the tables show.
var labels = map[string]string{
	"wxpay-openssl": "wxpay, OpenSSL backend",
	"wxpay-go":      "wxpay, crypto/rsa backend",
	"wechatpay-go":  "wechatpay-go v0.2.21",
	"gopay":         "gopay v1.5.115",
	"floor-openssl": "floor: libcrypto sign+verify (no HTTP)",
	"floor-go":      "floor: crypto/rsa sign+verify (no HTTP)",
}

func rate(r result) float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.OK) / r.Seconds
}

func ms(us float64) string { return fmt.Sprintf("%.2f", us/1000) }

func errs(r result) string {
	if r.Errors < 0 {
		return "run failed: " + r.FirstError
	}
	if r.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", r.Errors, trim(r.FirstError, 80))
}

func trim(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// report prints the Markdown report.
func report(w io.Writer, cfg driverConfig, configs []config, res map[config]map[string]result, took time.Duration, load0 float64) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("## Machine")
	p("")
	for _, l := range machine() {
		p("- %s", l)
	}
	p("- one-minute load average: %.2f before the runs, %.2f after (2.0 = both cores busy; other work on the machine inflates the figures)", load0, loadAvg())
	p("- %s measured per client and configuration after a %s warm-up, %d round(s), each figure from the run with the median calls/s; the whole run took %s", cfg.d, cfg.warm, cfg.rounds, took.Round(time.Second))
	p("")

	main := config{cfg.mainC, cfg.mainBody}
	p("## Concurrency %d, %d-byte body", main.conc, main.body)
	p("")
	p("| client | calls/s | client CPU µs/call (user+sys) | allocs/call | bytes/call | p50 ms | p99 ms | errors | emulator CPU µs/call (cores busy) |")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
	for _, name := range cfg.clients {
		r, ok := res[main][name]
		if !ok {
			continue
		}
		emu := "n/a"
		if r.EmuCPUus >= 0 {
			emu = fmt.Sprintf("%.0f (%.2f)", r.EmuCPUus, r.EmuUtil)
		}
		p("| %s | %.0f | %.0f (%.0f+%.0f) | %.1f | %.0f | %s | %s | %s | %s |",
			labels[name], rate(r), r.CPUus, r.UserUs, r.SysUs, r.Allocs, r.Bytes, ms(r.P50us), ms(r.P99us), errs(r), emu)
	}
	p("")
	targets(p, res[main])

	var concs, bodies []config
	for _, c := range configs {
		if c.body == cfg.mainBody {
			concs = append(concs, c)
		}
		if c.conc == cfg.mainC {
			bodies = append(bodies, c)
		}
	}
	slices.SortFunc(concs, func(a, b config) int { return cmp.Compare(a.conc, b.conc) })
	slices.SortFunc(bodies, func(a, b config) int { return cmp.Compare(a.body, b.body) })
	scaling := func(title string, cs []config, head func(config) string) {
		if len(cs) < 2 {
			return
		}
		p("## %s", title)
		p("")
		p("calls/s, and client CPU µs per call in brackets.")
		p("")
		h, sep := "| client |", "| --- |"
		for _, c := range cs {
			h += " " + head(c) + " |"
			sep += " ---: |"
		}
		p("%s", h)
		p("%s", sep)
		for _, name := range cfg.clients {
			row := "| " + labels[name] + " |"
			for _, c := range cs {
				r, ok := res[c][name]
				switch {
				case !ok:
					row += " |"
				case r.Errors != 0:
					row += fmt.Sprintf(" %.0f (%.0f), %s |", rate(r), r.CPUus, errs(r))
				default:
					row += fmt.Sprintf(" %.0f (%.0f) |", rate(r), r.CPUus)
				}
			}
			p("%s", row)
		}
		p("")
	}
	scaling(fmt.Sprintf("Scaling with concurrency (%d-byte body)", cfg.mainBody), concs, func(c config) string { return fmt.Sprintf("c=%d", c.conc) })
	scaling(fmt.Sprintf("Scaling with body size (concurrency %d)", cfg.mainC), bodies, func(c config) string { return fmt.Sprintf("%d B", c.body) })

	p("## 1 GiB bill download")
	p("")
	p("Measured by the library's own benchmark, which make bench-compare runs after this table:")
	p("go test -run '^$' -bench 'DownloadBill/1GiB' -benchtime 1x . (peak-RSS-MiB column).")
	p("")
	p("## Client set-up")
	p("")
	for _, name := range cfg.clients {
		if r, ok := res[main][name]; ok && r.Setup != "" {
			p("- %s: %s", labels[name], r.Setup)
		}
	}
}

// targets prints the targets against the main configuration.
func targets(p func(string, ...any), m map[string]result) {
	type row struct{ what, measured, verdict string }
	var rows []row
	have := func(names ...string) bool {
		for _, n := range names {
			r, ok := m[n]
			if !ok || r.Errors != 0 || r.OK == 0 {
				return false
			}
		}
		return true
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	ratio := func(what, a, b string, want float64) {
		if !have(a, b) {
			return
		}
		x := rate(m[a]) / rate(m[b])
		rows = append(rows, row{what, fmt.Sprintf("%.2fx", x), verdict(x >= want)})
	}
	cpu := func(what, a, floor string, want float64) {
		if !have(a, floor) {
			return
		}
		x := m[a].CPUus / m[floor].CPUus
		rows = append(rows, row{what, fmt.Sprintf("%.2fx (%.0f vs %.0f µs)", x, m[a].CPUus, m[floor].CPUus), verdict(x <= want)})
	}
	allocs := func(what, a, aFloor string) {
		if !have(a, aFloor, "wechatpay-go", "floor-go") {
			return
		}
		x := m[a].Allocs - m[aFloor].Allocs
		y := m["wechatpay-go"].Allocs - m["floor-go"].Allocs
		rows = append(rows, row{what, fmt.Sprintf("%.0f vs %.0f (%.2fx)", x, y, x/y), verdict(x*3 <= y)})
	}
	ratio("wxpay+OpenSSL calls/s ≥ 3x wechatpay-go", "wxpay-openssl", "wechatpay-go", 3)
	ratio("wxpay+OpenSSL calls/s ≥ 3x gopay", "wxpay-openssl", "gopay", 3)
	cpu("wxpay+OpenSSL client CPU/call ≤ 1.25x libcrypto floor", "wxpay-openssl", "floor-openssl", 1.25)
	ratio("wxpay+crypto/rsa calls/s ≥ 1.1x wechatpay-go", "wxpay-go", "wechatpay-go", 1.1)
	cpu("wxpay+crypto/rsa client CPU/call ≤ 1.1x crypto/rsa floor", "wxpay-go", "floor-go", 1.1)
	allocs("wxpay+OpenSSL allocs/call, crypto excluded, ≤ 1/3 of wechatpay-go's", "wxpay-openssl", "floor-openssl")
	allocs("wxpay+crypto/rsa allocs/call, crypto excluded, ≤ 1/3 of wechatpay-go's", "wxpay-go", "floor-go")
	if len(rows) == 0 {
		return
	}
	p("### Targets (same run)")
	p("")
	p("| target | measured | |")
	p("| --- | --- | --- |")
	for _, r := range rows {
		p("| %s | %s | %s |", r.what, r.measured, r.verdict)
	}
	p("")
}
