#!/usr/bin/env bash
# Runs every benchmark in BUILD/bench/ with its default (table) output.
# Benchmarks report figures; they do not pass or fail.
set -u
build=${1:-build}
status=0
for b in "$build"/bench/*; do
  [ -x "$b" ] || continue
  echo "=== $(basename "$b")"
  "$b" || status=1
done
exit $status
