package wxpaytest

import (
	"strings"
	"sync"

	"github.com/wxpay-chain/wxpay/catalog"
)

// HandWritten returns the APIv3 operations the emulator answers with
// hand-written endpoints, which keep state (refunds, bills, uploaded media)
// and apply WeChat Pay's business rules, as "METHOD template" in the
// catalogue's spelling, in the order of catalog.All.
func HandWritten() []string {
	hand, _ := coverage()
	return append([]string(nil), hand...)
}

// SchemaDriven returns the APIv3 operations of package catalog that the
// emulator answers from their schema, statelessly: every catalogued
// operation but the hand-written ones and the notification schema
// ("POST v3/webhooks", which WeChat Pay sends rather than answers), as
// "METHOD template", in the order of catalog.All.
func SchemaDriven() []string {
	_, schema := coverage()
	return append([]string(nil), schema...)
}

var coverage = sync.OnceValues(func() (hand, schema []string) {
	handOps := map[*catalog.Operation]bool{}
	for _, rt := range routes {
		if op, ok := catalog.Lookup(rt.method, patternTemplate(rt.pattern)); ok {
			handOps[op] = true
		}
	}
	for _, rt := range rawRoutes {
		if op, ok := catalog.Lookup(rt.method, rt.path); ok {
			handOps[op] = true
		}
	}
	for _, op := range catalog.All() {
		switch {
		case handOps[op]:
			hand = append(hand, op.String())
		case callable(op):
			schema = append(schema, op.String())
		}
	}
	return hand, schema
})

// patternTemplate writes a route pattern as a template: "*" as "{_}",
// which catalog.Lookup matches with any placeholder.
func patternTemplate(pattern []string) string {
	segs := make([]string, len(pattern))
	for i, p := range pattern {
		if p == "*" {
			p = "{_}"
		}
		segs[i] = p
	}
	return strings.Join(segs, "/")
}
