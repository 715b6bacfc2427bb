package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/catalog"
)

// TestDownloadTypeChecked: a --type the bill endpoint does not take is
// refused before anything is sent, naming the flag and the values it takes;
// a value in lower case is the same value.
func TestDownloadTypeChecked(t *testing.T) {
	h := setup(t)
	out := filepath.Join(t.TempDir(), "bill.csv")
	date := h.srv.LatestBillDate()
	trade := "ALL, SUCCESS, REFUND, RECHARGE_REFUND, ALL_SPECIAL, SUC_SPECIAL, REF_SPECIAL"
	fund := "BASIC, OPERATION, FEES"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--type", "BOGUS"}, `--type "BOGUS": want a trade bill type (bill_type): ` + trade},
		{[]string{"--type", "BASIC"}, `--type "BASIC": want a trade bill type (bill_type): ` + trade + "; BASIC is a fund flow account type: add --fundflow"},
		{[]string{"--fundflow", "--type", "SUCCESS"}, `--type "SUCCESS": want a fund flow account type (account_type): ` + fund + "; SUCCESS is a trade bill type: drop --fundflow"},
		{[]string{"--fundflow", "--type", "all"}, `--type "all": want a fund flow account type (account_type): ` + fund + "; ALL is a trade bill type: drop --fundflow"},
		{[]string{"--fundflow", "--type", "NONE"}, `--type "NONE": want a fund flow account type (account_type): ` + fund},
		{[]string{"--type", ""}, `--type is empty: want a trade bill type (bill_type): ` + trade},
	} {
		args := append([]string{"--config", h.config, "download", "--date", date, "-o", out}, tc.args...)
		r := h.run(t, args...)
		wantCode(t, r, exitUsage, args...)
		if want := "wxpay: " + tc.want + "\nTry: wxpay download -h\n"; r.stderr != want {
			t.Errorf("wxpay %s:\nstderr %q\nwant   %q", strings.Join(args, " "), r.stderr, want)
		}
	}
	if n := h.srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written (%v)", out, err)
	}
	for _, args := range [][]string{{"--type", "success"}, {"--fundflow", "--type", "fees"}} {
		args = append([]string{"--config", h.config, "download", "--date", date, "-o", out}, args...)
		wantCode(t, h.run(t, args...), exitOK, args...)
	}
}

// TestDownloadTypesMatchCatalogue: the values --type takes are those the
// catalogue lists for bill_type and account_type.
func TestDownloadTypesMatchCatalogue(t *testing.T) {
	for _, bt := range []billTypes{tradeBill, fundFlowBill} {
		op, ok := catalog.Lookup("GET", bt.path)
		if !ok {
			t.Fatalf("GET %s is not in the catalogue", bt.path)
		}
		i := slices.IndexFunc(op.Params, func(p catalog.Param) bool { return p.In == "query" && p.Name == bt.param })
		if i < 0 {
			t.Fatalf("GET %s has no query parameter %s", bt.path, bt.param)
		}
		if diff := cmp.Diff(op.Params[i].Schema.Enum, bt.values); diff != "" {
			t.Errorf("%s values (-catalogue +download):\n%s", bt.param, diff)
		}
	}
}
