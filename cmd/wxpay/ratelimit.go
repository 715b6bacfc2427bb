package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// rateLimitFlag is the --rate-limit flag of wxpay emulator: given alone it
// turns the emulator's rate limit on; "=N" sets the limit of the operations
// no WeChat Pay document gives one for, "=METHOD PATH=N" that of one
// operation (N "none" lifts it). It may be repeated.
type rateLimitFlag struct {
	on    bool
	limit wxpaytest.RateLimit
}

func (f *rateLimitFlag) IsBoolFlag() bool { return true }

func (f *rateLimitFlag) String() string { return "" }

func (f *rateLimitFlag) Set(v string) error {
	switch {
	case v == "true":
	case v == "false":
		*f = rateLimitFlag{}
		return nil
	case strings.Contains(v, "="):
		i := strings.LastIndex(v, "=")
		key, n := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:])
		if !strings.Contains(key, " ") {
			return fmt.Errorf("%q: want N, or METHOD PATH=N such as \"POST v3/refund/domestic/refunds=10\"", v)
		}
		limit := -1
		if n != "none" {
			var err error
			if limit, err = positive(n); err != nil {
				return fmt.Errorf("%q: %v", v, err)
			}
		}
		if f.limit.Ops == nil {
			f.limit.Ops = map[string]int{}
		}
		f.limit.Ops[key] = limit
	default:
		n, err := positive(v)
		if err != nil {
			return fmt.Errorf("%q: %v", v, err)
		}
		f.limit.PerSecond = n
	}
	f.on = true
	return nil
}

// positive parses a limit in requests a second.
func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive number of requests a second")
	}
	return n, nil
}

// apply turns the rate limit of srv on when the flag was given.
func (f *rateLimitFlag) apply(srv *wxpaytest.Server) error {
	if !f.on {
		return nil
	}
	if err := srv.SetRateLimit(&f.limit); err != nil {
		return usagef("emulator", "--rate-limit: %s", strings.TrimPrefix(err.Error(), "wxpaytest: "))
	}
	return nil
}

// print says which limits apply, when on.
func (f *rateLimitFlag) print(w io.Writer) {
	if !f.on {
		return
	}
	per := f.limit.PerSecond
	if per == 0 {
		per = wxpaytest.DefaultRateLimit
	}
	fmt.Fprint(w, "\nRate limit on: requests over an operation's limit in a second are answered 429 FREQUENCY_LIMITED.\n")
	// A documented figure is shown unless an --rate-limit replaces it:
	// any limit replaces that of all requests, none that of erroneous ones.
	const abnormal, refunds = "POST v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund", "POST v3/refund/domestic/refunds"
	if _, ok := f.override(abnormal); !ok {
		fmt.Fprintf(w, "\t150 a second for %s\n", abnormal)
	}
	if n, ok := f.override(refunds); !ok || n > 0 {
		fmt.Fprintf(w, "\t6 erroneous requests a second for %s\n", refunds)
	}
	keys := make([]string, 0, len(f.limit.Ops))
	for k := range f.limit.Ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := f.limit.Ops[k]; n < 0 {
			fmt.Fprintf(w, "\tnone for %s\n", k)
		} else {
			fmt.Fprintf(w, "\t%d a second for %s\n", n, k)
		}
	}
	fmt.Fprintf(w, "\t%d a second for every other operation\n", per)
}

// override returns the limit --rate-limit gives the operation key names
// ("METHOD template", as the catalogue spells it), whatever spelling of the
// template the flag used.
func (f *rateLimitFlag) override(key string) (int, bool) {
	for k, n := range f.limit.Ops {
		method, tmpl, _ := strings.Cut(strings.TrimSpace(k), " ")
		op, ok := catalog.Lookup(strings.ToUpper(method), strings.TrimSpace(tmpl))
		if ok && op.Method+" "+op.Template == key {
			return n, true
		}
	}
	return 0, false
}
