#!/usr/bin/env bash
# bench/audit.sh BUILD — how long fptrace audit takes, next to a plain
# `objdump -d` of the same objects in the same run (both decode every
# instruction; audit also reads the CFI, the symbols and the DWARF producers).
#   1. a program, its libc and ld.so: AUDIT_BENCH_RUNS (default 5) alternating
#      runs of each, medians;
#   2. --system: AUDIT_BENCH_SYSTEM_RUNS (default 1) alternating runs over the
#      library directories, objects and functions per second
#      (AUDIT_BENCH_SYSTEM=0 skips it: objdump of every library takes minutes).
# Figures only; nothing passes or fails on time.
set -u
build=${1:-build}
F=$build/bin/fptrace
runs=${AUDIT_BENCH_RUNS:-5}
sys_runs=${AUDIT_BENCH_SYSTEM_RUNS:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

prog=$build/progs/yield
"$F" audit --format json "$prog" > "$tmp/prog.json" 2>/dev/null || { echo "audit of $prog failed"; exit 1; }
mapfile -t objs < <(python3 -c '
import json, sys
for m in json.load(open(sys.argv[1]))["modules"]:
    print(m["path"])' "$tmp/prog.json")
funcs=$(python3 -c '
import json, sys
print(sum(m.get("functions_total", 0) for m in json.load(open(sys.argv[1]))["modules"]))' "$tmp/prog.json")

: > "$tmp/a"; : > "$tmp/o"
for i in $(seq "$runs"); do
  t0=$(now); "$F" audit "$prog" > /dev/null 2>&1; t1=$(now)
  objdump -d "${objs[@]}" > /dev/null 2>&1; t2=$(now)
  calc "$t1 - $t0" >> "$tmp/a"
  calc "$t2 - $t1" >> "$tmp/o"
done
a=$(median < "$tmp/a"); o=$(median < "$tmp/o")
echo "audit of $(basename "$prog") + its libraries (${#objs[@]} objects: ${objs[*]##*/}), $funcs functions, median of $runs:"
printf '  fptrace audit  %.3f s  (%.0f functions/s)\n' "$a" "$(calc "$funcs / $a")"
printf '  objdump -d     %.3f s\n' "$o"
printf '  audit / objdump = %.2f\n' "$(calc "$a / $o")"

[ "${AUDIT_BENCH_SYSTEM:-1}" = 0 ] && exit 0
"$F" audit --system --format json > "$tmp/sys.json" 2>/dev/null
mapfile -t sysobjs < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["ranking"]:
    print(r["path"])' "$tmp/sys.json")
read -r nobj nfunc < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); print(d["objects"], d["functions"])' "$tmp/sys.json")
: > "$tmp/sa"; : > "$tmp/so"
for i in $(seq "$sys_runs"); do
  t0=$(now); "$F" audit --system > /dev/null 2>&1; t1=$(now)
  objdump -d "${sysobjs[@]}" > /dev/null 2>&1; t2=$(now)
  calc "$t1 - $t0" >> "$tmp/sa"
  calc "$t2 - $t1" >> "$tmp/so"
done
sa=$(median < "$tmp/sa"); so=$(median < "$tmp/so")
echo "audit --system: $nobj objects, $nfunc functions, median of $sys_runs:"
printf '  fptrace audit --system  %.1f s  (%.1f objects/s, %.0f functions/s)\n' "$sa" \
  "$(calc "$nobj / $sa")" "$(calc "$nfunc / $sa")"
printf '  objdump -d, same objects %.1f s\n' "$so"
printf '  audit / objdump = %.2f\n' "$(calc "$sa / $so")"
