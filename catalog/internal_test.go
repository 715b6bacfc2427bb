package catalog

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestResponseExamples: every answer's Example has every required field
// and passes the checks a request would (the emulator answers with them).
func TestResponseExamples(t *testing.T) {
	n := 0
	for _, op := range get().ops {
		if op.Response == nil {
			continue
		}
		ex := op.Response.Example()
		if !gjson.ValidBytes(ex) {
			t.Errorf("%v: response example is not JSON: %s", op, ex)
			continue
		}
		c := checker{}
		c.value(op.Response, gjson.ParseBytes(ex))
		if len(c.problems) > 0 {
			t.Errorf("%v: response example fails: %v", op, c.problems)
		}
		n++
	}
	t.Logf("%d response examples pass", n)
}
