#!/usr/bin/env bash
# Run every fuzz target in the module for the given time each (default 1m).
# A target fails the run when it finds an input that breaks it (the input
# is written under the package's testdata/fuzz, a regression seed from then
# on). Go's fuzzer sometimes ends a clean run with a bare "context deadline
# exceeded" when the time runs out mid-input (golang/go#48127): that is
# reported and not counted as a failure, as nothing failed. Minimizing a
# new input is bounded to 100 runs: by default it may take 60 s each, and
# a target whose inputs are whole captures spent a 10-minute run on 22
# inputs that way (3,400 runs a second with the bound).
set -uo pipefail
t=${1:-1m}
cd "$(dirname "$0")/.."
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r pkg dir; do
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $f ($t)"
    if go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 100x "$pkg" >"$log" 2>&1; then
      tail -n 2 "$log"
      continue
    fi
    if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "fuzz: $pkg $f: the fuzzer's time ran out mid-input (golang/go#48127); no failing input"
      continue
    fi
    cat "$log"
    fail=1
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
exit $fail
