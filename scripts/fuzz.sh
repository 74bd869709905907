#!/usr/bin/env bash
# Runs every fuzz target in the module for a short while each (default 100000 executions): `scripts/fuzz.sh 30s` or `scripts/fuzz.sh 100000x`.
set -euo pipefail
fuzztime=${1:-100000x}
cd "$(dirname "$0")/.."
found=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' || true)
  for target in $targets; do
    found=1
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 0s "$pkg"
  done
done
[ "$found" = 1 ] || echo "no fuzz targets yet"
