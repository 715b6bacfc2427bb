#!/usr/bin/env bash
# Does what README.md's Install section says, in a fresh module beside a
# copy of this checkout, and runs a program that calls the emulator: the
# commands are read from the README itself (the ```sh block after the
# <!-- installcheck --> marker), so the two cannot drift apart.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The README assumes the checkout at ../wxpay, beside the user's module.
ln -s "$repo" "$work/wxpay"
mkdir "$work/yourapp"
cd "$work/yourapp"

block="$(awk '/<!-- installcheck -->/{f=1; next} f && /^```sh/{g=1; next} g && /^```/{exit} g' "$repo/README.md")"
if [ -z "$block" ]; then
	echo "installcheck: no \`\`\`sh block after <!-- installcheck --> in README.md" >&2
	exit 1
fi

cat > main.go <<'GO'
package main

import (
	"fmt"
	"log"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

func main() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": wxpaytest.FixtureOutRefundNo,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Get("status").String(), resp.Verified)
}
GO

go mod init example.com/yourapp 2>/dev/null  # the user's own module
echo "installcheck: running the README's Install commands in $PWD:"
# Lines that fetch the checkout are the user's own step: skip them here.
while IFS= read -r line; do
	case "$line" in
	"" | "#"* | git\ clone*) continue ;;
	esac
	echo "+ $line"
	eval "$line"
done <<<"$block"

grep -q 'github.com/wxpay-chain/wxpay' go.mod || { echo "installcheck: go.mod does not require wxpay" >&2; exit 1; }
out="$(go run .)"
echo "$out"
[ "$out" = "ABNORMAL true" ] || { echo "installcheck: want \"ABNORMAL true\"" >&2; exit 1; }
echo "installcheck: ok"
