#!/usr/bin/env bash
# A verdict says what it rests on:
#   - check of a `perf record --call-graph fp` file (no user stack dumps, so
#     DWARF cannot check a frame) exits 1 and says to record with
#     --call-graph dwarf, in text and in JSON;
#   - when fewer than half of the samples could be unwound with DWARF (here a
#     deep program recorded with a 64-byte stack copy) and no defect was found,
#     check exits 1 and names the cure; the same program with the full copy
#     is clean (exit 0);
#   - with fewer than 100 samples, check says how few the verdict rests on and
#     run suggests a higher -F or a longer run; with more, neither is said.
# The programs spin for a fixed CPU time, so sample counts do not depend on load.
source "$(dirname "$0")/common.bash"

if ! (cd "$tmp" && perf record -q -e cpu-clock -o probe.data -- true >probe.log 2>&1); then
  echo "skip: perf cannot record here: $(head -3 "$tmp/probe.log" | tr '\n' ' ')"; exit 77
fi

# main -> deep x20 (256-byte frames) -> spin for argv[2] seconds of CPU
cat > "$tmp/deep.c" <<'C'
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
static double cpu_now(void) { struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
__attribute__((noinline)) void spin(double s) { double t0 = cpu_now(); while (cpu_now() - t0 < s) for (unsigned long i = 0; i < 300000; i++) sink += i ^ (sink >> 3); }
__attribute__((noinline)) void deep(int n, double s) { volatile char pad[256]; pad[n % 256] = (char)n; if (n) deep(n - 1, s); else spin(s); sink += pad[n % 256]; }
int main(int argc, char **argv) { deep(atoi(argv[1]), atof(argv[2])); return 0; }
C
cc -O1 -g -fno-omit-frame-pointer "$tmp/deep.c" -o "$tmp/deep" || { fail "cc: cannot build the test program"; exit 1; }

# --call-graph fp: exit 1, one line saying why, and the JSON error object.
(cd "$tmp" && perf record -q -e cpu-clock -F 499 --call-graph fp -o fp.data -- ./deep 20 0.5 >perf.log 2>&1) ||
  fail "perf record --call-graph fp: $(head -3 "$tmp/perf.log")"
"$F" check -i "$tmp/fp.data" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "check of a --call-graph fp perf.data: exit $rc, want 1"
grep -qE "^fptrace check: $tmp/fp.data: no user stack dumps in [0-9]+ of [0-9]+ samples: record with --call-graph dwarf" "$tmp/err" ||
  fail "check of --call-graph fp does not say why: $(cat "$tmp/err")"
grep -q '^verdict' "$tmp/out" && fail "check of --call-graph fp printed a verdict: $(grep '^verdict' "$tmp/out")"
"$F" check -i "$tmp/fp.data" --format json >"$tmp/out" 2>/dev/null
rc=$?
[ "$rc" -eq 1 ] && grep -q '^{"verdict":"error","exit_status":1,"reason":".*no user stack dumps' "$tmp/out" ||
  fail "check --format json of --call-graph fp: exit $rc: $(cat "$tmp/out")"

# A 64-byte stack copy of a deep stack: DWARF unwinds (almost) nothing.
"$F" record --perf --snapshot-max 64 -o "$tmp/small.fpt" -- "$tmp/deep" 20 0.5 2>"$tmp/err" ||
  fail "record --snapshot-max 64: $(tail -3 "$tmp/err")"
"$F" check -i "$tmp/small.fpt" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "check of 64-byte stack copies: exit $rc, want 1"
grep -qE '^verdict: cannot judge: only [0-9]+ of [0-9]+ samples \([0-9.]+%\) could be unwound with DWARF, fewer than 50%: .*raise fptrace record --snapshot-max.* \(exit 1\)$' "$tmp/out" ||
  fail "check of 64-byte stack copies does not say why: $(grep -A1 '^verdict' "$tmp/out")"
"$F" record --perf -o "$tmp/full.fpt" -- "$tmp/deep" 20 0.5 2>"$tmp/err" || fail "record: $(tail -3 "$tmp/err")"
"$F" check -i "$tmp/full.fpt" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "check of full stack copies: exit $rc, want 0: $(grep '^verdict' "$tmp/out")"

# Enough samples (~500 at 997 Hz): nothing said.
grep -q 'the verdict rests on' "$tmp/out" && fail "check of ~500 samples says the verdict rests on few"
"$F" run --perf -o "$tmp/many.fpt" -- "$tmp/deep" 3 0.5 >/dev/null 2>"$tmp/err" || fail "run of ~500 samples: exit $?"
grep -qE 'the verdict rests on|raise -F' "$tmp/err" && fail "run of ~500 samples says they are few: $(grep -E 'rests on|raise -F' "$tmp/err")"

# Few samples (~25 at 50 Hz for 0.5 s of CPU): check and run say so.
"$F" run --perf -F 50 -o "$tmp/few.fpt" -- "$tmp/deep" 3 0.5 >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "run of few samples: exit $rc, want 0: $(grep '^verdict' "$tmp/err")"
grep -qE '^the verdict rests on [0-9]+ samples \(fewer than 100\)' "$tmp/err" ||
  fail "run's check does not say the verdict rests on few samples: $(grep -A1 '^verdict' "$tmp/err")"
grep -qE '^fptrace run: only [0-9]+ samples: raise -F \(now 50 Hz\) or let the program run longer$' "$tmp/err" ||
  fail "run does not suggest a higher -F: $(tail -3 "$tmp/err")"
"$F" check -i "$tmp/few.fpt" >"$tmp/out" 2>&1
grep -qE '^the verdict rests on [0-9]+ samples \(fewer than 100\)' "$tmp/out" ||
  fail "check does not say the verdict rests on few samples: $(grep -A1 '^verdict' "$tmp/out")"

[ "$fails" -eq 0 ] && echo "ok: check says what its verdict rests on"
exit $((fails > 0))
