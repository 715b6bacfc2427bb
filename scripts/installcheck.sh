#!/usr/bin/env bash
# Does what README.md's Install section says, in a fresh module beside a
# copy of this checkout, then runs the README's Quick start against
# `wxpay emulator` started as a process of its own, in the directory where
# the emulator wrote its wxpay.json. The commands (the ```sh block after the
# <!-- installcheck --> marker) and the program (the first ```go block of
# "## Quick start") are read from the README itself, so the two cannot
# drift apart.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
emu_pid=""
cleanup() {
	if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# The README assumes the checkout at ../wxpay, beside the user's module.
ln -s "$repo" "$work/wxpay"
mkdir "$work/yourapp"
cd "$work/yourapp"

block="$(awk '/<!-- installcheck -->/{f=1; next} f && /^```sh/{g=1; next} g && /^```/{exit} g' "$repo/README.md")"
if [ -z "$block" ]; then
	echo "installcheck: no \`\`\`sh block after <!-- installcheck --> in README.md" >&2
	exit 1
fi
awk '/^## Quick start/{f=1; next} f && /^## /{exit} f && /^```go/{g=1; next} g && /^```/{exit} g' "$repo/README.md" >main.go
if ! grep -q '^package main' main.go; then
	echo "installcheck: no \`\`\`go program under \"## Quick start\" in README.md" >&2
	exit 1
fi

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
go build -o "$work/quickstart" .

# The emulator, as the README starts it, on a free port.
(cd "$repo" && go build -o "$work/wxpay-cli" ./cmd/wxpay)
"$work/wxpay-cli" emulator --addr 127.0.0.1:0 --dir "$work/emu" >"$work/emu.out" 2>"$work/emu.err" &
emu_pid=$!
for _ in $(seq 600); do
	grep -q '^Stop with Ctrl-C' "$work/emu.out" 2>/dev/null && break
	kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emu.out" "$work/emu.err" >&2; echo "installcheck: wxpay emulator exited" >&2; exit 1; }
	sleep 0.1
done
grep -q '^Stop with Ctrl-C' "$work/emu.out" || { echo "installcheck: wxpay emulator did not start in 60 s" >&2; exit 1; }
head -1 "$work/emu.out"

echo "installcheck: running the README's Quick start in $work/emu (beside its wxpay.json):"
out="$(cd "$work/emu" && "$work/quickstart")"
echo "$out"
[ "$out" = "PROCESSING 888" ] || { echo "installcheck: want \"PROCESSING 888\"" >&2; exit 1; }

kill "$emu_pid"
wait "$emu_pid" || true
emu_pid=""
grep -q 'stopped after 1 requests' "$work/emu.err" || { cat "$work/emu.err" >&2; echo "installcheck: the emulator did not get exactly the one request" >&2; exit 1; }
echo "installcheck: ok"
