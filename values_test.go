package wxpay

import "testing"

func TestCloseTo(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"jsno", "json", true}, {"jsn", "json", true}, {"jsonn", "json", true}, {"JSON", "json", true},
		{"header", "headers", true}, {"refundid", "refund_id", true}, {"xyz", "json", false}, {"query", "json", false},
	} {
		if got := closeTo(tt.a, tt.b); got != tt.want {
			t.Errorf("closeTo(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
