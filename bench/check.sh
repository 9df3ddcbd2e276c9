#!/usr/bin/env bash
# bench/check.sh BUILD — `fptrace check -i` against `perf report --stdio -g` on
# the same perf.data, recorded with `perf record -e cpu-clock --call-graph dwarf`
# (this VM has no PMU) of a small C program, at several sizes:
#   CHECK_BENCH_SIZES  samples per file (default "1000 10000 100000"; each file
#                      takes about 8.5 KB per sample and SIZE/CHECK_BENCH_HZ CPU
#                      seconds to record)
#   CHECK_BENCH_HZ     sampling rate (default 10000)
#   CHECK_BENCH_PAIRS  alternating runs of the two tools per file (default 5)
# For each file: the median of the per-pair ratios perf/fptrace (above 1:
# fptrace faster) with their spread (min-max), in wall time and in CPU time
# (user + sys: steadier on a machine shared with other work), and both tools'
# median peak RSS.  Then bytes per sample of `fptrace record` against perf's
# on the same workload, median of paired runs with their spread
# (CHECK_BENCH_BPS_PAIRS, default 5; CHECK_BENCH_BPS_SAMPLES per run, default
# 10000), and fptrace record's own peak RSS (it reads its output again at the
# end, to count the samples).
# check keeps the no-FP summary's audit counts in a cache (audit_cache.c):
# the pairs run with one in the scratch directory, warmed by the run that
# counts the samples; "no cache" is one more check per file with the cache off
# (FPTRACE_CACHE_DIR=""), what the first check on a machine costs.
# Figures only; nothing passes or fails on time.
set -u
build=${1:-build}
F=$(realpath "$build/bin/fptrace")
sizes=${CHECK_BENCH_SIZES:-1000 10000 100000}
hz=${CHECK_BENCH_HZ:-10000}
pairs=${CHECK_BENCH_PAIRS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FPTRACE_CACHE_DIR=$tmp/cache

command -v perf >/dev/null || { echo "check: perf is not installed (scripts/deps.sh)"; exit 1; }
command -v python3 >/dev/null || { echo "check: python3 is not installed (scripts/deps.sh)"; exit 1; }

# The workload: a recursion of varying depth over a leaf loop, a libc call
# (qsort: libc's CFI and symbols too) and an inlined helper, running until
# it has used the CPU seconds it is given, so samples = seconds x rate.
cat > "$tmp/work.c" <<'C'
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
static double cpu_now(void) { struct timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static inline unsigned long mix(unsigned long x) { return x ^ (x >> 7) ^ (sink << 3); }
__attribute__((noinline)) static void leaf(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += mix(i); }
static int cmp(const void *a, const void *b) { unsigned x = *(const unsigned *)a, y = *(const unsigned *)b; return (x > y) - (x < y); }
__attribute__((noinline)) static void sorter(unsigned seed) { unsigned v[512]; for (int i = 0; i < 512; i++) v[i] = seed = seed * 1103515245u + 12345u; qsort(v, 512, sizeof v[0], cmp); sink += v[7]; }
__attribute__((noinline)) static void descend(unsigned long n, int d) { if (d) descend(n, d - 1); else leaf(n); sink++; }
__attribute__((noinline)) static void unit(unsigned long u) { descend(20000, (int)(u % 13)); if (u % 3 == 0) sorter((unsigned)u); }
int main(int argc, char **argv) { double secs = argc > 1 ? atof(argv[1]) : 1.0, t0 = cpu_now(); for (unsigned long u = 0; cpu_now() - t0 < secs; u++) unit(u); return 0; }
C
cc -O1 -g -fno-omit-frame-pointer "$tmp/work.c" -o "$tmp/work" || { echo "check: cc failed"; exit 1; }

calc() { awk "BEGIN { print $* }"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
spread0() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}'; }
spread3() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f-%.3f", lo, hi}'; }
# run OUT CMD...: append "wall cpu rss_kb" of CMD (its output discarded) to OUT
# (wait4's rusage of the child, to the microsecond: /usr/bin/time prints CPU
# in hundredths of a second, and a small file's check takes about one)
run() {
  local out=$1; shift
  python3 -c '
import os, subprocess, sys, time
t = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, r = os.wait4(p.pid, 0)
wall = time.monotonic() - t
with open(sys.argv[1], "w") as f:
    print("%.4f %.4f %.4f %d" % (wall, r.ru_utime, r.ru_stime, r.ru_maxrss), file=f)
sys.exit(os.waitstatus_to_exitcode(status) & 255)' "$tmp/time" "$@" 2> "$tmp/run.err"
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then   # check: 3 = defects found, a verdict
    echo "check: '$*' failed (exit $rc): $(head -3 "$tmp/run.err")" >&2
    return 1
  fi
  awk '{ printf "%s %.4f %s\n", $1, $2 + $3, $4 }' "$tmp/time" >> "$out"
}

echo "machine: $(nproc) CPUs, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "perf record -e cpu-clock -F $hz --call-graph dwarf (8 KB stack dumps) of a C program;"
echo "fptrace check -i FILE against perf report -i FILE --stdio -g, $pairs alternating pairs;"
echo "ratio = perf report / fptrace check (above 1: fptrace faster), median [min-max]; RSS: medians"
printf '%9s %9s %9s | %8s %8s %16s | %8s %8s %16s | %8s %8s | %s\n' samples "file MB" B/sample \
  "check s" "report s" "wall ratio" "check s" "report s" "CPU ratio" "check MB" "report MB" \
  "no cache: wall CPU s"
for size in $sizes; do
  data=$tmp/p$size.data
  secs=$(calc "$size / $hz")
  if ! (cd "$tmp" && perf record -q -e cpu-clock -F "$hz" --call-graph dwarf -o "$data" \
          ./work "$secs" > "$tmp/rec.log" 2>&1); then
    echo "check: perf record failed: $(head -3 "$tmp/rec.log")"; exit 1
  fi
  n=$("$F" check --format json -i "$data" 2> /dev/null |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["samples"])')
  bytes=$(stat -c %s "$data")
  : > "$tmp/f"; : > "$tmp/p"; : > "$tmp/cold"
  FPTRACE_CACHE_DIR= run "$tmp/cold" "$F" check -i "$data" || exit 1
  for i in $(seq "$pairs"); do
    if [ $((i % 2)) = 1 ]; then
      run "$tmp/f" "$F" check -i "$data" || exit 1
      run "$tmp/p" perf report -i "$data" --stdio -g || exit 1
    else
      run "$tmp/p" perf report -i "$data" --stdio -g || exit 1
      run "$tmp/f" "$F" check -i "$data" || exit 1
    fi
  done
  paste -d' ' "$tmp/f" "$tmp/p" | awk '{ print $4 / $1, $5 / $2 }' > "$tmp/ratios"
  fw=$(cut -d' ' -f1 "$tmp/f" | median); pw=$(cut -d' ' -f1 "$tmp/p" | median)
  fc=$(cut -d' ' -f2 "$tmp/f" | median); pc=$(cut -d' ' -f2 "$tmp/p" | median)
  fm=$(cut -d' ' -f3 "$tmp/f" | median); pm=$(cut -d' ' -f3 "$tmp/p" | median)
  rw=$(cut -d' ' -f1 "$tmp/ratios" | median); sw=$(cut -d' ' -f1 "$tmp/ratios" | spread)
  rc=$(cut -d' ' -f2 "$tmp/ratios" | median); sc=$(cut -d' ' -f2 "$tmp/ratios" | spread)
  printf '%9s %9.1f %9.0f | %8.3f %8.3f %5.2f %-10s | %8.3f %8.3f %5.2f %-10s | %8.1f %8.1f | %.3f %.3f\n' \
    "$n" "$(calc "$bytes / 1048576")" "$(calc "$bytes / $n")" "$fw" "$pw" "$rw" "[$sw]" \
    "$fc" "$pc" "$rc" "[$sc]" "$(calc "$fm / 1024")" "$(calc "$pm / 1024")" \
    "$(cut -d' ' -f1 "$tmp/cold")" "$(cut -d' ' -f2 "$tmp/cold")"
  rm -f "$data"
done

# Bytes per sample, fptrace record (perf_event_open, its own stack dumps
# trimmed to what unwinding can reach) against perf record --call-graph dwarf,
# on the same workload and rate (CHECK_BENCH_BPS_SAMPLES, default 10000:
# enough that the mappings and the header are not what is measured), in
# CHECK_BENCH_BPS_PAIRS (default 5) pairs alternating which goes first: the
# main thread's stack lies at a random distance below the top of [stack], so
# one run says little.  Samples as each tool counts them.
secs=$(calc "${CHECK_BENCH_BPS_SAMPLES:-10000} / $hz")
: > "$tmp/r"; : > "$tmp/bps"
record_perf() {
  (cd "$tmp" && perf record -e cpu-clock -F "$hz" --call-graph dwarf -o perf.data \
     ./work "$secs" > /dev/null 2> "$tmp/perf.log") ||
    { echo "check: perf record failed: $(head -3 "$tmp/perf.log")" >&2; return 1; }
  pn=$(sed -n 's/.*(\([0-9]*\) samples).*/\1/p' "$tmp/perf.log")
  [ -n "$pn" ] && [ "$pn" -gt 0 ] ||
    { echo "check: no sample count from perf record: $(head -3 "$tmp/perf.log")" >&2; return 1; }
  pb=$(calc "$(stat -c %s "$tmp/perf.data") / $pn")
}
record_fptrace() {
  run "$tmp/r" "$F" record -F "$hz" -o "$tmp/w.fpt" -- "$tmp/work" "$secs" || return 1
  fn=$(sed -n 's/.*; \([0-9]*\) samples in .*/\1/p' "$tmp/run.err")
  [ -n "$fn" ] && [ "$fn" -gt 0 ] ||
    { echo "check: no sample count from fptrace record: $(head -3 "$tmp/run.err")" >&2; return 1; }
  fb=$(calc "$(stat -c %s "$tmp/w.fpt") / $fn")
}
for i in $(seq "${CHECK_BENCH_BPS_PAIRS:-5}"); do
  if [ $((i % 2)) = 1 ]; then
    record_perf || exit 1; record_fptrace || exit 1
  else
    record_fptrace || exit 1; record_perf || exit 1
  fi
  echo "$fb $pb $(calc "$fb / $pb") $fn $pn" >> "$tmp/bps"
done
printf 'bytes per sample, %s CPU seconds at %s Hz, %s pairs, median [min-max]: ' "$secs" "$hz" \
  "$(wc -l < "$tmp/bps")"
printf 'fptrace record %.0f [%s], perf record --call-graph dwarf %.0f [%s]\n' \
  "$(cut -d' ' -f1 "$tmp/bps" | median)" "$(cut -d' ' -f1 "$tmp/bps" | spread0)" \
  "$(cut -d' ' -f2 "$tmp/bps" | median)" "$(cut -d' ' -f2 "$tmp/bps" | spread0)"
printf 'fptrace/perf = %.3f [%s] (target <= 0.25); samples per run: fptrace %s, perf %s\n' \
  "$(cut -d' ' -f3 "$tmp/bps" | median)" "$(cut -d' ' -f3 "$tmp/bps" | spread3)" \
  "$(cut -d' ' -f4 "$tmp/bps" | median)" "$(cut -d' ' -f5 "$tmp/bps" | median)"
printf 'fptrace record peak RSS %.1f MB (median)\n' "$(calc "$(cut -d' ' -f3 "$tmp/r" | median) / 1024")"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
