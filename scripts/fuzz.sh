#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (default 30s).
# CI runs it with a short FUZZTIME as a smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-30s}"
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/\|^./interop/' | sort | while read -r f; do
	dir="$(dirname "$f")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -c6-); do
		echo "== $dir $name ($t)"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$dir"
	done
done
