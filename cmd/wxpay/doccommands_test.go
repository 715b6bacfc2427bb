package main

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docBodies are the files the documented commands read with -d @FILE or
// from standard input: the bodies the guides show for each endpoint, in
// plain text (abnormal.json is the one docs/abnormal-refund.md writes).
var docBodies = map[string]string{
	"refund.json": `{"transaction_id":"4200000000202405200000000001","out_refund_no":"1217752501201407033233368101",` +
		`"reason":"商品已售完","notify_url":"https://weixin.qq.com","amount":{"refund":888,"total":888,"currency":"CNY"}}`,
	"ecommerce-refund.json": `{"sub_mchid":"1900000109","sp_appid":"wx8888888888888888","transaction_id":"4208450740201411110007820472",` +
		`"out_refund_no":"1217752501201407033233368019","reason":"商品已售完","amount":{"refund":888,"total":888,"currency":"CNY"},"notify_url":"https://weixin.qq.com","funds_account":"AVAILABLE"}`,
	"abnormal.json": `{"sub_mchid": "1900000109", "out_refund_no": "1217752501201407033233368018",
 "type": "USER_BANK_CARD", "bank_type": "ICBC_DEBIT",
 "bank_account": "6214830000000403", "real_name": "张三"}`,
}

// docCommand matches the first line of a wxpay call in a guide.
var docCommand = regexp.MustCompile(`^\s*(\$ )?wxpay (get|post|put|patch|delete) `)

// docCall is a wxpay call a guide shows, and, for a transcript of a call
// the check refuses ("$ wxpay ..." then its output), the lines it prints.
type docCall struct {
	cmd     string
	refusal []string
	fails   bool // a transcript of a call WeChat Pay answers with an error
}

// documentedCommands returns every wxpay call the README, the guides and
// the call command's usage show, continuation lines joined, by source.
func documentedCommands(t *testing.T) map[string][]docCall {
	t.Helper()
	texts := map[string]string{"wxpay -h": callUsage}
	files, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(files, "../../README.md") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[filepath.Base(f)] = string(b)
	}
	cmds := map[string][]docCall{}
	for src, text := range texts {
		lines := strings.Split(text, "\n")
		for i := 0; i < len(lines); i++ {
			if !docCommand.MatchString(lines[i]) {
				continue
			}
			cmd := strings.TrimPrefix(strings.TrimSpace(lines[i]), "$ ")
			for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
				i++
				cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(lines[i])
			}
			c := docCall{cmd: cmd, fails: i+1 < len(lines) && strings.HasPrefix(lines[i+1], "wxpay: ") && strings.Contains(lines[i+1], ": HTTP ")}
			if i+1 < len(lines) && strings.Contains(lines[i+1], "does not pass the catalogue's check") {
				for j := i + 1; j < len(lines) && !strings.HasPrefix(lines[j], "$ ") && !strings.HasPrefix(lines[j], "```"); j++ {
					c.refusal = append(c.refusal, lines[j])
				}
			}
			cmds[src] = append(cmds[src], c)
		}
	}
	return cmds
}

// TestDocumentedCommandsPass: every wxpay call the documentation shows
// passes the catalogue's check (it is not refused with exit 2) and runs
// against the emulator, but for the transcripts of a refusal, whose output
// must be the one shown.
func TestDocumentedCommandsPass(t *testing.T) {
	dir := t.TempDir()
	for name, body := range docBodies {
		writeFile(t, dir, name, body)
	}
	n, refused := 0, 0
	docs := documentedCommands(t)
	for _, src := range slices.Sorted(maps.Keys(docs)) {
		// Each source against an emulator of its own, its calls in order: a
		// guide's query finds the refund its apply made.
		h := setup(t)
		for _, c := range docs[src] {
			cmd, stdin := c.cmd, ""
			if line, file, ok := strings.Cut(cmd, " < "); ok {
				cmd, stdin = line, docBodies[strings.TrimSpace(file)]
			}
			words, err := shellWords(cmd)
			if err != nil {
				t.Errorf("%s: %q: %v", src, cmd, err)
				continue
			}
			for i, w := range words {
				if strings.HasPrefix(w, "@") && docBodies[w[1:]] != "" {
					words[i] = "@" + filepath.Join(dir, w[1:])
				}
			}
			if err := h.srv.SetRefundStatus("50000000382019052709732678859", "ABNORMAL"); err != nil {
				t.Fatal(err)
			}
			args := append(words[1:], "--config", h.config)
			before := h.srv.RequestCount()
			r := h.exec(t, invocation{stdin: stdin}, args...)
			if c.refusal != nil {
				// A transcript of a refusal: exactly what the guide shows, nothing sent.
				refused++
				if want := strings.Join(c.refusal, "\n"); r.code != exitUsage || strings.TrimSpace(r.stderr) != strings.TrimSpace(want) || h.srv.RequestCount() != before {
					t.Errorf("%s: %s: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", src, cmd, r.code, r.stderr, want)
				}
				continue
			}
			n++
			// As written, every call succeeds, but for the transcripts of
			// an error answer.
			if want := map[bool]int{false: exitOK, true: exitError}[c.fails]; r.code != want {
				t.Errorf("%s: %s: exit %d, want %d\n%s", src, cmd, r.code, want, r.stderr)
			}
		}
	}
	t.Logf("%d documented commands pass the check; %d transcripts of a refusal are printed as shown", n, refused)
	if refused < 2 {
		t.Errorf("only %d transcripts of a refusal found", refused)
	}
	if n < 15 {
		t.Errorf("only %d documented commands found", n)
	}
}
