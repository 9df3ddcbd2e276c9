#!/usr/bin/env bash
# The unwinding benchmark's arm64 build (make bench ARCH=arm64) under qemu-user:
# every unwinder it times must return the recursion's frames (the benchmark
# exits 1 otherwise), fp-checked ending cleanly at fpb_root's x29 = 0.  Figures
# are not checked: under emulation they mean little, and no test here depends
# on timing.
source "$(dirname "$0")/common.bash"

"$qemu" "$build/bench/unwind" --tsv --depths 8,32 >"$tmp/bench.tsv" 2>&1; rc=$?
cat "$tmp/bench.tsv"
[ $rc -eq 0 ] || fail "bench/unwind (arm64) exit $rc, want 0"
for u in fp-raw fp-checked glibc-backtrace; do
  for d in 8 32; do
    awk -F'\t' -v u=$u -v d=$d '$1 == u && $2 == d && $3 >= d { ok = 1 } END { exit !ok }' \
      "$tmp/bench.tsv" || fail "no $u row at depth $d with at least $d frames"
  done
done

[ $fails -eq 0 ] && echo "PASS: bench/unwind on arm64: fp-raw, fp-checked and glibc-backtrace walk the recursion"
exit $fails
