package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressQuietWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, time.Now())
	p.update(5 << 20)
	p.done()
	if buf.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f, time.Now()).on {
		t.Error("a regular file was taken for a terminal")
	}
}

func TestProgressDraws(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, time.Now().Add(-time.Second))
	p.on = true // as on a terminal
	p.update(3 << 20)
	p.update(4 << 20) // within 100 ms: not redrawn
	p.done()
	out := buf.String()
	// one draw for the first update, none for the second, one at the end
	if strings.Count(out, "\r") != 2 || !strings.Contains(out, "\r  3.0 MiB written") ||
		!strings.Contains(out, "\r  4.0 MiB written") || !strings.HasSuffix(out, "\n") {
		t.Errorf("progress output %q", out)
	}
	for n, want := range map[int64]string{12: "12 B", 2048: "2.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.00 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
