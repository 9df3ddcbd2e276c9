#!/usr/bin/env bash
# `make` with no target builds everything (all is the default goal), as the
# README says: the CLI, the scenario programs, the tests, the benchmarks.
source "$(dirname "$0")/common.bash"

make -n BUILD="$tmp/b" >"$tmp/plan" 2>&1 || { fail "make -n failed"; head -5 "$tmp/plan"; }
for want in lib/libfpunwind.so lib/libfprt.a bin/fptrace progs/yield tests/unit bench; do
  grep -qE -- "(-o |ar rcs )$tmp/b/$want" "$tmp/plan" || fail "plain make does not build $want"
done
[ "$fails" -eq 0 ] && echo "ok: plain make builds libraries, CLI, programs, tests and benchmarks"
exit $((fails > 0))
