package catalog

import (
	"net/url"
	"slices"
	"strings"

	"github.com/wxpay-chain/wxpay"
)

// node is a tree of path segments: literal children, one placeholder child,
// and the operations whose template ends here.
type node struct {
	lit map[string]*node
	ph  *node
	ops []*Operation
}

func (n *node) insert(op *Operation) {
	for _, seg := range op.segs {
		n = n.child(seg)
	}
	n.ops = append(n.ops, op)
}

// child returns the child for a template segment, "" for a placeholder.
func (n *node) child(seg string) *node {
	if seg == "" {
		if n.ph == nil {
			n.ph = &node{}
		}
		return n.ph
	}
	if n.lit == nil {
		n.lit = map[string]*node{}
	}
	c := n.lit[seg]
	if c == nil {
		c = &node{}
		n.lit[seg] = c
	}
	return c
}

// sortOps orders the operations of each node: more constrained path
// parameters first (so "{applyment_id}" of format numeric is tried before
// "{business_code}"), then by template.
func (n *node) sortOps() {
	slices.SortStableFunc(n.ops, func(a, b *Operation) int {
		if a.specific != b.specific {
			return b.specific - a.specific
		}
		return strings.Compare(a.Template, b.Template)
	})
	for _, c := range n.lit {
		c.sortOps()
	}
	if n.ph != nil {
		n.ph.sortOps()
	}
}

// trailing is the segment key of a trailing slash.
const trailing = "/"

// splitPath splits a path (no query) into segments, dropping one leading
// '/' and turning a trailing '/' into the segment trailing.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	segs := strings.Split(p, "/")
	if segs[len(segs)-1] == "" {
		segs[len(segs)-1] = trailing
	}
	return segs
}

// Lookup returns the operation for method and a path template in any chain
// spelling: "v3/refund/domestic/refunds/{out_refund_no}",
// "/V3/Refund/Domestic/Refunds/_out_refund_no_", with "$x$" or "<x>"
// placeholders, segments in camelCase ("applyAbnormalRefund"). A trailing
// slash is written "/" or as a last segment "_empty_".
//
// Placeholders are matched by position, not by name: "{id}" finds the
// operation the catalogue writes "{out_refund_no}". When two operations
// differ only by the names of their placeholders, the one whose names are
// given is returned, and none if neither's are.
func Lookup(method, template string) (*Operation, bool) {
	segs, tmpl, ok := normalize(template)
	if !ok {
		return nil, false
	}
	method = strings.ToUpper(method)
	n := get().root
	for _, seg := range segs {
		if seg == "" {
			n = n.ph
		} else {
			n = n.lit[seg]
		}
		if n == nil {
			return nil, false
		}
	}
	var found *Operation
	count := 0
	for _, op := range n.ops {
		if op.Method != method {
			continue
		}
		if op.Template == tmpl {
			return op, true
		}
		found = op
		count++
	}
	return found, count == 1
}

// normalize turns a template in chain spelling into segments (placeholders
// as "") and the normalised template.
func normalize(template string) (segs []string, tmpl string, ok bool) {
	template, _, _ = strings.Cut(template, "?")
	raw := splitPath(template)
	if len(raw) == 0 {
		return nil, "", false
	}
	var b strings.Builder
	for i, seg := range raw {
		if seg == trailing {
			segs = append(segs, trailing)
			b.WriteByte('/')
			continue
		}
		norm, err := wxpay.NormalizeSegment(seg)
		if err != nil {
			return nil, "", false
		}
		if norm == "" {
			// "_empty_", the PHP typings' trailing slash: as for
			// wxpay.Chain, it only ends a path, after a segment.
			if i != len(raw)-1 || i == 0 {
				return nil, "", false
			}
			segs = append(segs, trailing)
			b.WriteByte('/')
			continue
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(norm)
		if _, isPH := placeholder(norm); isPH {
			segs = append(segs, "")
		} else {
			segs = append(segs, norm)
		}
	}
	return segs, b.String(), true
}

// Match returns the operation that a concrete request path calls and the
// values of its path parameters (unescaped), such as
// Match("POST", "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund").
// The leading '/' is optional and a query ("?limit=10") is ignored. When
// several templates match, a literal segment wins over a placeholder, the
// earlier segment deciding; among templates that differ only by their
// placeholders, the one whose path parameters accept the values wins.
func Match(method, path string) (*Operation, map[string]string, bool) {
	op, segs := match(method, path)
	if op == nil {
		return nil, nil, false
	}
	return op, pathValues(op, segs), true
}

func match(method, path string) (*Operation, []string) {
	path, _, _ = strings.Cut(path, "?")
	segs := splitPath(path)
	if len(segs) == 0 {
		return nil, nil
	}
	return get().root.match(strings.ToUpper(method), segs, segs), segs
}

// match finds an operation for the remaining segments rest of all, literal
// children first.
func (n *node) match(method string, all, rest []string) *Operation {
	if len(rest) == 0 {
		var first *Operation
		for _, op := range n.ops {
			if op.Method != method {
				continue
			}
			if first == nil {
				first = op
			}
			if op.pathAccepts(all) {
				return op
			}
		}
		return first
	}
	seg := rest[0]
	if c := n.lit[seg]; c != nil {
		if op := c.match(method, all, rest[1:]); op != nil {
			return op
		}
	}
	if n.ph != nil && seg != trailing && seg != "" {
		return n.ph.match(method, all, rest[1:])
	}
	return nil
}

// pathAccepts reports whether the path parameters pass their checks.
func (op *Operation) pathAccepts(segs []string) bool {
	if op.specific == 0 {
		return true
	}
	c := checker{}
	for i, name := range op.phNames {
		if p := op.param("path", name); p != nil {
			c.text(p.Schema, unescape(segs[op.phIdx[i]]), "path:"+name)
		}
	}
	return len(c.problems) == 0
}

func pathValues(op *Operation, segs []string) map[string]string {
	vals := make(map[string]string, len(op.phNames))
	for i, name := range op.phNames {
		vals[name] = unescape(segs[op.phIdx[i]])
	}
	return vals
}

func unescape(seg string) string {
	if strings.IndexByte(seg, '%') < 0 {
		return seg
	}
	if v, err := url.PathUnescape(seg); err == nil {
		return v
	}
	return seg
}

// param returns the parameter called name in in, or nil.
func (op *Operation) param(in, name string) *Param {
	for i := range op.Params {
		if p := &op.Params[i]; p.In == in && p.Name == name {
			return p
		}
	}
	return nil
}
