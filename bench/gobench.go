package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// benchLine is one result line of `go test -bench`.
type benchLine struct {
	name   string
	values map[string]float64 // by unit: "ns/op", "MB/s", "peak-RSS-MiB", ...
}

// goBench is what a `go test -bench` run printed.
type goBench struct {
	pkg    string
	lines  []benchLine
	units  []string // in order of first appearance
	failed bool     // a FAIL line, a panic, or no "ok" line
}

// parseGoBench reads the output of `go test -bench`, echoing it to echo.
func parseGoBench(r io.Reader, echo io.Writer) (goBench, error) {
	var g goBench
	seen := map[string]bool{}
	ok := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := sc.Text()
		fmt.Fprintln(echo, l)
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "ok":
			ok = true
		case f[0] == "FAIL" || f[0] == "--- FAIL:" || strings.HasPrefix(l, "panic:"):
			g.failed = true
		case f[0] == "pkg:" && len(f) > 1:
			g.pkg = f[1]
		case strings.HasPrefix(f[0], "Benchmark") && len(f) >= 4 && len(f)%2 == 0:
			if _, err := strconv.Atoi(f[1]); err != nil {
				continue // a log line that starts with a benchmark name
			}
			b := benchLine{name: trimProcs(strings.TrimPrefix(f[0], "Benchmark")), values: map[string]float64{}}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return g, fmt.Errorf("benchmark line %q: %q is not a number", l, f[i])
				}
				b.values[f[i+1]] = v
				if !seen[f[i+1]] {
					seen[f[i+1]] = true
					g.units = append(g.units, f[i+1])
				}
			}
			g.lines = append(g.lines, b)
		}
	}
	if err := sc.Err(); err != nil {
		return g, err
	}
	g.failed = g.failed || !ok
	return g, nil
}

// trimProcs removes the -GOMAXPROCS suffix of a benchmark name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// peakRSSGoal is the 1 GiB bill download's goal for the peak resident set.
const peakRSSGoal = 64

// markdown prints the benchmark results of command as a Markdown table,
// with the peak resident set as a ratio of its goal where the benchmark
// reports it.
func (g goBench) markdown(w io.Writer, command string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	names := make([]string, len(g.lines))
	for i, b := range g.lines {
		names[i] = b.name
	}
	p("### Library benchmark: %s", strings.Join(names, ", "))
	p("")
	p("`%s` in %s:", command, g.pkg)
	p("")
	h, sep := "| benchmark |", "| --- |"
	for _, u := range g.units {
		if u == "ns/op" {
			u = "time/op"
		}
		h += " " + u + " |"
		sep += " ---: |"
	}
	p("%s", h)
	p("%s", sep)
	for _, b := range g.lines {
		row := "| " + b.name + " |"
		for _, u := range g.units {
			v, ok := b.values[u]
			switch {
			case !ok:
				row += " |"
			case u == "ns/op":
				row += " " + time.Duration(v).Round(time.Millisecond).String() + " |"
			default:
				row += " " + strconv.FormatFloat(v, 'f', -1, 64) + " |"
			}
		}
		p("%s", row)
	}
	p("")
	for _, b := range g.lines {
		if v, ok := b.values["peak-RSS-MiB"]; ok {
			verdict := "met"
			if v >= peakRSSGoal {
				verdict = "not met"
			}
			p("- %s: peak RSS = **%.2f x** the %d MiB goal (%s)", b.name, v/peakRSSGoal, peakRSSGoal, verdict)
		}
	}
	p("")
}

// formatGoBench turns the output of command, a `go test -bench` run, read
// from in, into Markdown on out, echoing the output to echo. It fails when
// the test run failed or printed no result.
func formatGoBench(in io.Reader, out, echo io.Writer, command string) error {
	g, err := parseGoBench(in, echo)
	if err != nil {
		return err
	}
	if len(g.lines) == 0 {
		return fmt.Errorf("no benchmark results in the go test output")
	}
	g.markdown(out, command)
	if g.failed {
		return fmt.Errorf("the go test run failed (see its output above)")
	}
	return nil
}
