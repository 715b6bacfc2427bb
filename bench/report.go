package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
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

// short are the names the ratios use.
var short = map[string]string{
	"wxpay-openssl": "wxpay+OpenSSL",
	"wxpay-go":      "wxpay+crypto/rsa",
	"wechatpay-go":  "wechatpay-go",
	"gopay":         "gopay",
	"floor-openssl": "libcrypto floor",
	"floor-go":      "crypto/rsa floor",
}

// header prints the heading and the machine line of the report; the driver
// prints it before the runs.
func header(w io.Writer, m machineInfo) {
	fmt.Fprintf(w, "## Results on %s\n\n**Machine:** %s\n\n", m.title(), m.line())
}

// report prints the Markdown report that follows the header: the tables,
// the ratios measured in this run, the client set-up and the run's
// conditions.
func report(w io.Writer, cfg driverConfig, configs []config, res map[config]map[string]result, took time.Duration, load0 float64) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("- run: `bench %s`: %s measured per client and configuration after a %s warm-up, %d round(s), each figure from the round with the median calls/s; %s in all",
		strings.Join(cfg.args, " "), cfg.d, cfg.warm, cfg.rounds, took.Round(time.Second))
	p("- one-minute load average: %.2f before the runs, %.2f after (the benchmark itself keeps every core busy; other work on the machine inflates the figures)", load0, loadAvg())
	p("")

	main := config{cfg.mainC, cfg.mainBody}
	p("### Concurrency %d, %d-byte body", main.conc, main.body)
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
	if rows := ratios(res[main]); len(rows) > 0 {
		p("#### Ratios (this run, concurrency %d, %d-byte body)", main.conc, main.body)
		p("")
		p("| conclusion | from | target |")
		p("| --- | --- | --- |")
		ceiling := false
		for _, r := range rows {
			p("| %s | %s | %s |", r.conclusion, r.from, r.target)
			ceiling = ceiling || strings.HasPrefix(r.conclusion, "ceiling: ")
		}
		p("")
		if ceiling {
			p("The ceiling is the largest factor by which a client signing with libcrypto can use less CPU per call than wechatpay-go on this machine: none goes below the libcrypto floor.")
			p("")
		}
	}

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
	scaling(p, cfg.clients, res, fmt.Sprintf("Scaling with concurrency (%d-byte body)", cfg.mainBody), concs, func(c config) string { return fmt.Sprintf("c=%d", c.conc) })
	scaling(p, cfg.clients, res, fmt.Sprintf("Scaling with body size (concurrency %d)", cfg.mainC), bodies, func(c config) string { return fmt.Sprintf("%d B", c.body) })

	p("### Client set-up")
	p("")
	for _, name := range cfg.clients {
		if r, ok := res[main][name]; ok && r.Setup != "" {
			p("- %s: %s", labels[name], r.Setup)
		}
	}
	p("")
}

// scaling prints a table of calls/s and CPU per call across configurations,
// with the calls/s ratios of the wxpay clients to wechatpay-go in each.
func scaling(p func(string, ...any), clients []string, res map[config]map[string]result, title string, cs []config, head func(config) string) {
	if len(cs) < 2 {
		return
	}
	p("### %s", title)
	p("")
	p("calls/s, and client CPU µs per call in brackets; the last rows are calls/s ratios within each column.")
	p("")
	h, sep := "| client |", "| --- |"
	for _, c := range cs {
		h += " " + head(c) + " |"
		sep += " ---: |"
	}
	p("%s", h)
	p("%s", sep)
	for _, name := range clients {
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
	for _, a := range []string{"wxpay-openssl", "wxpay-go"} {
		if !slices.Contains(clients, a) || !slices.Contains(clients, "wechatpay-go") {
			continue
		}
		row := "| " + short[a] + " / wechatpay-go |"
		for _, c := range cs {
			if x, ok := callsRatio(res[c], a, "wechatpay-go"); ok {
				row += fmt.Sprintf(" %.2f x |", x)
			} else {
				row += " n/a |"
			}
		}
		p("%s", row)
	}
	p("")
}

// clean reports whether every named client ran without errors.
func clean(m map[string]result, names ...string) bool {
	for _, n := range names {
		r, ok := m[n]
		if !ok || r.Errors != 0 || r.OK == 0 {
			return false
		}
	}
	return true
}

// callsRatio is a's calls/s over b's.
func callsRatio(m map[string]result, a, b string) (float64, bool) {
	if !clean(m, a, b) {
		return 0, false
	}
	return rate(m[a]) / rate(m[b]), true
}

// ratioRow is one conclusion of a run, stated as a ratio of two of its
// figures.
type ratioRow struct{ conclusion, from, target string }

// ratios states the conclusions of one configuration of a run, each as a
// ratio of two figures of that run, against the project's targets.
func ratios(m map[string]result) []ratioRow {
	var rows []ratioRow
	target := func(x float64, atLeast bool, want float64) string {
		op, ok := "≤", x <= want
		if atLeast {
			op, ok = "≥", x >= want
		}
		v := "met"
		if !ok {
			v = "not met"
		}
		w := strconv.FormatFloat(want, 'f', -1, 64)
		if want == 1.0/3 {
			w = "1/3"
		}
		return fmt.Sprintf("%s %s x: %s", op, w, v)
	}
	calls := func(a, b string, want float64) {
		x, ok := callsRatio(m, a, b)
		if !ok {
			return
		}
		rows = append(rows, ratioRow{
			fmt.Sprintf("%s calls/s = **%.2f x** %s", short[a], x, short[b]),
			fmt.Sprintf("%.0f / %.0f calls/s", rate(m[a]), rate(m[b])),
			target(x, true, want)})
	}
	cpu := func(prefix, a, b string, want float64) {
		if !clean(m, a, b) {
			return
		}
		x := m[a].CPUus / m[b].CPUus
		t := "—"
		if want > 0 {
			t = target(x, false, want)
		}
		what := "client CPU/call"
		if strings.HasPrefix(a, "floor-") {
			what = "CPU/call"
		}
		rows = append(rows, ratioRow{
			fmt.Sprintf("%s%s %s = **%.2f x** %s", prefix, short[a], what, x, short[b]),
			fmt.Sprintf("%.0f / %.0f µs (%+.0f µs)", m[a].CPUus, m[b].CPUus, m[a].CPUus-m[b].CPUus),
			t})
	}
	allocs := func(a, aFloor string) {
		if !clean(m, a, aFloor, "wechatpay-go", "floor-go") {
			return
		}
		x := m[a].Allocs - m[aFloor].Allocs
		y := m["wechatpay-go"].Allocs - m["floor-go"].Allocs
		rows = append(rows, ratioRow{
			fmt.Sprintf("%s allocs/call outside the crypto = **%.2f x** wechatpay-go's", short[a], x/y),
			fmt.Sprintf("%.0f / %.0f (each minus its floor's)", x, y),
			target(x/y, false, 1.0/3)})
	}
	calls("wxpay-openssl", "wechatpay-go", 3)
	calls("wxpay-openssl", "gopay", 3)
	calls("wxpay-go", "wechatpay-go", 1.1)
	cpu("", "wxpay-openssl", "floor-openssl", 1.25)
	cpu("", "wxpay-go", "floor-go", 1.1)
	cpu("", "wechatpay-go", "floor-go", 0)
	cpu("", "floor-go", "floor-openssl", 0)
	cpu("ceiling: ", "wechatpay-go", "floor-openssl", 0)
	allocs("wxpay-openssl", "floor-openssl")
	allocs("wxpay-go", "floor-go")
	return rows
}
