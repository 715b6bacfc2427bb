#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (default 30s).
# CI runs it with a short FUZZTIME as a smoke test.
#
# With a short -fuzztime, Go's fuzzing coordinator sometimes stops with
# "context deadline exceeded" although no input failed; such a run is tried
# again (twice at most). A run that found a failing input is never retried.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-30s}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/\|^./interop/' | sort | while read -r f; do
	dir="$(dirname "$f")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -c6-); do
		for try in 1 2 3; do
			echo "== $dir $name ($t)"
			if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$dir" >"$out" 2>&1; then
				tail -2 "$out"
				break
			fi
			cat "$out"
			if grep -q 'Failing input written to\|panic:' "$out" || ! grep -q 'context deadline exceeded' "$out" || [ "$try" = 3 ]; then
				exit 1
			fi
			echo "   (the fuzzing coordinator timed out without a failing input; trying again)"
		done
	done
done
