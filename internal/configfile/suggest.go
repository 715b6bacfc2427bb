package configfile

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/wxpay-chain/wxpay/internal/keytext"
)

// UnknownName quotes an unknown setting name, with the known name it was
// probably meant to be. A name that might be a piece of key text (long, or
// in mixed case with nothing it resembles) is not shown.
func UnknownName(k string, known []string) string {
	guess := suggest(k, known)
	if !nameShown(k, guess != "") {
		return "(name not shown)"
	}
	if guess != "" {
		return fmt.Sprintf("%q (did you mean %q?)", k, guess)
	}
	return strconv.Quote(k)
}

func nameShown(k string, resembles bool) bool {
	if len(k) > 64 || !keytext.Showable(k) {
		return false
	}
	for _, c := range k {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return resembles || strings.ToUpper(k) == k || strings.ToLower(k) == k
}

// suggest returns the name of known that k most likely misspells, or "".
// Names are compared in lower case without '_', '-' and '.': equal, one
// within two edits of the other, or one holding the other.
func suggest(k string, known []string) string {
	nk := normName(k)
	if len(nk) < 3 || len(nk) > 40 {
		return ""
	}
	best, bestDist := "", 3
	for _, name := range known {
		n := normName(name)
		d := editDistance(nk, n)
		if d > 2 && (strings.Contains(nk, n) || strings.Contains(n, nk)) {
			d = 2
		}
		if d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

func normName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
