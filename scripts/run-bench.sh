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
# Scripted benchmarks (tools compared with peers that are programs too).
for s in bench/*.sh; do
  [ -e "$s" ] || continue
  echo "=== $(basename "$s" .sh)"
  bash "$s" "$build" || status=1
done
exit $status
