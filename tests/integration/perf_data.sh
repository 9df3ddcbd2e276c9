#!/usr/bin/env bash
# fptrace check/report on perf.data files made by the real `perf record`:
# --call-graph dwarf on a clean program (exit 0, the program's frames fine) and
# on one whose middle function is built without frame pointers (exit 3,
# fp-skips naming it); --call-graph fp (a warning: DWARF cannot run); broken
# files (exit 1, one line naming the offset, never a crash).
# Exit 77 (skip) with the reason when perf cannot record here.
source "$(dirname "$0")/common.bash"
expect_exit() { # want, description, command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" -eq "$want" ] || { fail "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; }
  if [ "$want" -ne 0 ] && [ "$want" -ne 3 ]; then
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$what: want one error line, got: $(cat "$tmp/err")"
    grep -q "offset [0-9]" "$tmp/err" || fail "$what: the error names no offset: $(cat "$tmp/err")"
  fi
  grep -qiE 'segmentation|core dumped|abort|sanitizer' "$tmp/err" && fail "$what: crashed"
  return 0
}

if ! command -v perf >/dev/null 2>&1; then
  echo "skip: perf is not installed"; exit 77
fi
if ! (cd "$tmp" && perf record -q -e cpu-clock -o probe.data -- true >probe.log 2>&1); then
  echo "skip: perf cannot record here: $(head -3 "$tmp/probe.log" | tr '\n' ' ')"; exit 77
fi

# main -> pd_a -> pd_b -> pd_spin, pd_b in its own object (built twice).
cat > "$tmp/main.c" <<'C'
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
void pd_b(double s);
static double cpu_now(void) { struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
__attribute__((noinline)) void pd_spin(double s) { double t0 = cpu_now(); while (cpu_now() - t0 < s) for (unsigned long i = 0; i < 300000; i++) sink += i ^ (sink >> 3); }
__attribute__((noinline)) void pd_a(double s) { pd_b(s); sink++; }
int main(int argc, char **argv) { pd_a(argc > 1 ? atof(argv[1]) : 1.0); return 0; }
C
cat > "$tmp/b.c" <<'C'
extern volatile unsigned long sink;
void pd_spin(double s);
__attribute__((noinline)) void pd_b(double s) { pd_spin(s); sink++; __asm__ volatile("" ::: "memory"); }
C
(cd "$tmp" &&
 cc -O1 -g -fno-omit-frame-pointer -c main.c -o main.o &&
 cc -O1 -g -fno-omit-frame-pointer -c b.c -o b_fp.o &&
 cc -O1 -g -fomit-frame-pointer -c b.c -o b_nofp.o &&
 cc main.o b_fp.o -o prog && cc main.o b_nofp.o -o prog_nofp) ||
  { echo "skip: no working C compiler (cc)"; exit 77; }

rec() { # out, perf options..., -- prog args
  local out=$1; shift
  (cd "$tmp" && perf record -q -e cpu-clock -o "$out" "$@" >perf.log 2>&1) ||
    { fail "perf record $*: $(head -3 "$tmp/perf.log")"; return 1; }
}

# Clean program: exit 0, no defect in the program's own frames.
if rec clean.data -F 499 --call-graph dwarf,16384 -- ./prog 1; then
  expect_exit 0 "check clean perf.data" "$F" check -i "$tmp/clean.data"
  grep -A1 "^Defects in the code under test:" "$tmp/out" | grep -q "^  none" ||
    { fail "defects in the clean program"; head -30 "$tmp/out"; }
  grep -qE "^[0-9]+ samples" "$tmp/out" || fail "check prints no sample count"
  expect_exit 0 "report clean perf.data" "$F" report -i "$tmp/clean.data"
  grep -q "pd_spin" "$tmp/out" || fail "report lacks pd_spin"
  expect_exit 0 "folded clean perf.data" "$F" report -i "$tmp/clean.data" --format folded -o "$tmp/clean.folded"
  grep -qE ';main;pd_a;pd_b;pd_spin [0-9]+$' "$tmp/clean.folded" || fail "folded stack main;pd_a;pd_b;pd_spin missing"
fi

# pd_b without frame pointers: exit 3, fp-skips at pd_b hiding pd_a.
if rec nofp.data -F 499 --call-graph dwarf,16384 -- ./prog_nofp 1; then
  expect_exit 3 "check no-FP perf.data" "$F" check -i "$tmp/nofp.data"
  grep -qE "fp-skips +[0-9]+ samples +at pd_b \(prog_nofp\), hiding its caller pd_a" "$tmp/out" ||
    { fail "fp-skips not attributed to pd_b"; head -30 "$tmp/out"; }
  expect_exit 3 "check no-FP perf.data, both backends" "$F" check -i "$tmp/nofp.data" --backend both
fi

# --call-graph fp: no stack dumps; said on stderr, the profile still works.
if rec fp.data -F 199 --call-graph fp -- ./prog 0.5; then
  expect_exit 0 "report --call-graph fp perf.data" "$F" report -i "$tmp/fp.data"
  grep -q "pd_spin" "$tmp/out" || fail "report of --call-graph fp lacks pd_spin"
  grep -q "no user stack dump.*--call-graph dwarf" "$tmp/err" ||
    fail "no warning about --call-graph fp: $(cat "$tmp/err")"
fi

# Broken files: one line, exit 1, the offset named.
if [ -s "$tmp/clean.data" ]; then
  head -c 60 "$tmp/clean.data" > "$tmp/short.data"
  expect_exit 1 "truncated header" "$F" check -i "$tmp/short.data"
  grep -q "truncated header" "$tmp/err" || fail "truncated header: $(cat "$tmp/err")"
  head -c 300000 "$tmp/clean.data" > "$tmp/cut.data"
  expect_exit 1 "truncated data section" "$F" check -i "$tmp/cut.data"
  cp "$tmp/clean.data" "$tmp/rec0.data"
  off=$(od -An -t u8 -j 40 -N 8 "$tmp/clean.data" | tr -d ' ')
  printf '\0\0' | dd of="$tmp/rec0.data" bs=1 seek=$((off + 6)) conv=notrunc status=none
  expect_exit 1 "record of size 0" "$F" report -i "$tmp/rec0.data"
  grep -q "offset $off: .*size 0 is smaller than its header" "$tmp/err" || fail "size-0 record: $(cat "$tmp/err")"
fi

[ "$fails" -eq 0 ] && echo "perf_data: all checks passed"
[ "$fails" -eq 0 ]
