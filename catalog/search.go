package catalog

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/wxpay-chain/wxpay"
)

// Search returns the operations that match every word, best first. A word
// matches, case-insensitively, part of an operation's name ("退款"), its
// template ("refund", "domestic/refunds") or one of its tags ("基础支付");
// a word in chain spelling ("applyAbnormalRefund") matches its path form
// too. Operations whose name holds the words come first, then those whose
// template has them as whole segments; ties keep the order of All. No words
// returns All.
func Search(words ...string) []*Operation {
	type hit struct {
		op    *Operation
		score int
	}
	var forms [][]string
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			forms = append(forms, wordForms(w))
		}
	}
	var hits []hit
	for _, op := range get().ops {
		total := 0
		for _, f := range forms {
			s := wordScore(op, f)
			if s == 0 {
				total = -1
				break
			}
			total += s
		}
		if total >= 0 {
			hits = append(hits, hit{op, total})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return b.score - a.score })
	out := make([]*Operation, len(hits))
	for i, h := range hits {
		out[i] = h.op
	}
	return out
}

// wordForms returns the lower-cased word and, when different, its path
// form in chain spelling.
func wordForms(w string) []string {
	forms := []string{strings.ToLower(w)}
	if !strings.Contains(w, "/") {
		if n, err := wxpay.NormalizeSegment(w); err == nil && n != forms[0] {
			forms = append(forms, n)
		}
	}
	return forms
}

// wordScore rates how well one word (in its forms) matches op: 0 for not
// at all.
func wordScore(op *Operation, forms []string) int {
	best := 0
	name, tmpl, _ := strings.Cut(op.hay, "\x00")
	tmpl, tags, _ := strings.Cut(tmpl, "\x00")
	for _, f := range forms {
		switch {
		case strings.Contains(name, f):
			best = max(best, 4)
		case strings.Contains("/"+tmpl+"/", "/"+f+"/"):
			best = max(best, 3)
		case strings.Contains(tmpl, f):
			best = max(best, 2)
		case strings.Contains(tags, f):
			best = max(best, 1)
		}
	}
	return best
}

// maxSuggestions bounds the "did you mean" list; a path of more segments
// than maxSuggestSegments gets none, and segments are compared on their
// first maxSuggestSegmentLen bytes.
const (
	maxSuggestions       = 3
	maxSuggestSegments   = 24
	maxSuggestSegmentLen = 64
)

// Suggest returns the operations closest to method and path (a template in
// any chain spelling or a concrete path), as "METHOD template", best first:
// the "did you mean" of an UnknownEndpointError. Closeness is an edit
// distance over path segments, where a placeholder matches any value and
// two literal segments are as far apart as their spelling; a different
// method costs half a segment. Only reasonably close operations are given.
func Suggest(method, path string) []string {
	method = strings.ToUpper(method)
	path, _, _ = strings.Cut(path, "?")
	segs := splitPath(path)
	if len(segs) == 0 || len(segs) > maxSuggestSegments {
		return nil // no template is that long: nothing is close
	}
	for i, s := range segs {
		if len(s) > maxSuggestSegmentLen {
			s = s[:maxSuggestSegmentLen] // bounds the work on a hostile path
		}
		if n, err := wxpay.NormalizeSegment(s); err == nil && s != trailing {
			s = n
		}
		segs[i] = s
	}
	type cand struct {
		op   *Operation
		dist float64
	}
	limit := max(1.5, float64(len(segs))/3)
	var cands []cand
	for _, op := range get().ops {
		if diff := len(segs) - len(op.segs); float64(max(diff, -diff)) > limit {
			continue // each missing or extra segment costs 1
		}
		d := segDistance(segs, op.segs)
		if op.Method != method {
			d += 0.5
		}
		if d <= limit {
			cands = append(cands, cand{op, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.dist, b.dist) })
	var out []string
	for _, c := range cands[:min(len(cands), maxSuggestions)] {
		out = append(out, c.op.String())
	}
	return out
}

// segDistance is the edit distance between path segments and template
// segments (placeholders as ""), both at most maxSuggestSegments long.
func segDistance(path, tmpl []string) float64 {
	var prevBuf, curBuf [maxSuggestSegments + 1]float64
	if len(tmpl) > maxSuggestSegments {
		return math.Inf(1)
	}
	prev, cur := prevBuf[:len(tmpl)+1], curBuf[:len(tmpl)+1]
	for j := range prev {
		prev[j] = float64(j)
	}
	for i := 1; i <= len(path); i++ {
		cur[0] = float64(i)
		for j := 1; j <= len(tmpl); j++ {
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+segCost(path[i-1], tmpl[j-1]))
		}
		prev, cur = cur, prev
	}
	return prev[len(tmpl)]
}

// segCost is how far apart a path segment and a template segment are, from
// 0 (same, or a placeholder taking a value) to 1.
func segCost(p, t string) float64 {
	if t == "" {
		if _, isPH := placeholder(p); isPH || (p != trailing && p != "") {
			return 0
		}
		return 1
	}
	if p == t {
		return 0
	}
	if _, isPH := placeholder(p); isPH {
		return 1
	}
	d := levenshtein(p, t)
	return float64(d) / float64(max(len(p), len(t)))
}

// levenshtein is the edit distance between two strings, in bytes, on their
// first maxSuggestSegmentLen bytes.
func levenshtein(a, b string) int {
	a, b = a[:min(len(a), maxSuggestSegmentLen)], b[:min(len(b), maxSuggestSegmentLen)]
	var prevBuf, curBuf [maxSuggestSegmentLen + 1]int
	prev, cur := prevBuf[:len(b)+1], curBuf[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
