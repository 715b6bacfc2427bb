#!/usr/bin/env bash
# Proof that the emulator is faithful: real WeChat Pay clients nobody here
# wrote (the official Go SDK wechatpay-go and the npm package
# wechatpay-axios-plugin) drive the four seed endpoints against
# `wxpay emulator` running as a separate process, and wxpay sends the same
# chains as the Node plugin and reaches the same paths.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$(mktemp -d)"
emu_pid=""
cleanup() {
	if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/wxpay" ./cmd/wxpay
"$work/wxpay" emulator --addr 127.0.0.1:0 --dir "$work/emu" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do
	[ -s "$work/emu/wxpay.json" ] && break
	sleep 0.1
done
if [ ! -s "$work/emu/wxpay.json" ]; then
	echo "the emulator did not start:"; cat "$work/emulator.log"; exit 1
fi
echo "emulator: $(grep -o '"base_url": *"[^"]*"' "$work/emu/wxpay.json")"

echo "== wechatpay-go v0.2.21"
(cd "$root/interop/go" && go run . "$work/emu")

echo "== wechatpay-axios-plugin (npm)"
(cd "$root/interop/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node interop.js "$work/emu")

echo "== same chain from wxpay and from wechatpay-axios-plugin"
(cd "$root/interop/go" && go run ./samepath "$work/emu")
echo "interop: all passed"
