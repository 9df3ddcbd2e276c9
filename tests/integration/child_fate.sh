#!/usr/bin/env bash
# The program's fate is passed on, in both record modes (in process: fate is an
# fprt program; --perf: perf_event_open):
#   - record exits with the program's status, 128+N when signal N killed it
#     (as time(1) and perf stat do), and says how it ended;
#   - run exits 4 when it found no defects but the program exited non-zero or
#     was killed, 0 when the program succeeded, and its last line says how the
#     program ended; defects (exit 3) win over the program's failure.
# The program does a fixed amount of CPU work, so the sample counts do not
# depend on the machine's load.
source "$(dirname "$0")/common.bash"
ulimit -c 0   # the SIGSEGV case must not spend its time writing a core

prog=$B/progs/fate
modes=("in-process:")
perf_event_works --perf && modes+=("--perf:--perf")
if [ ${#modes[@]} -ne 2 ]; then
  echo "note: perf_event_open not permitted here: --perf part not run"
  [ "${CI:-}" != true ] || fail "CI=true: the --perf part must run"
fi

# expect WANT_EXIT WANT_LAST_LINE WHAT COMMAND...: the exit status, and the
# last line on stderr (a grep -E pattern)
expect() {
  local want=$1 line=$2 what=$3; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || { fail "$what: exit $got, want $want"; tail -5 "$tmp/err" | sed 's/^/    /'; }
  tail -1 "$tmp/err" | grep -qE "$line" ||
    fail "$what: last line on stderr is not /$line/: $(tail -1 "$tmp/err")"
}

ends=("0:-e 0:exited with status 0;:0"
      "7:-e 7:exited with status 7;:4"
      "139:-s:was killed by signal 11 \(Segmentation fault\);:4"
      "137:-k:was killed by signal 9 \(Killed\);:4")
for m in "${modes[@]}"; do
  name=${m%%:*} flag=${m#*:}
  for e in "${ends[@]}"; do
    IFS=: read -r rec_exit args said run_exit <<<"$e"
    expect "$rec_exit" "^fptrace: $prog $said" "$name: record fate $args" \
      "$F" record $flag -o "$tmp/r.fpt" -- "$prog" -n 50 $args
    # --max-defects: what is tested here is the program's fate, not fprt's
    # chains (a stray defect sample would turn 0 or 4 into 3)
    expect "$run_exit" "^fptrace: $prog $said" "$name: run fate $args" \
      "$F" run $flag --max-defects 1000 -o "$tmp/run.fpt" -- "$prog" $args
    grep -q '^verdict: ok: ' "$tmp/err" || fail "$name: run fate $args: no clean verdict: $(grep verdict "$tmp/err")"
    # the file keeps how it ended, for check and report later
    "$F" check -i "$tmp/run.fpt" >"$tmp/check" 2>&1
    how=${said%;}
    head -1 "$tmp/check" | grep -qE "\(pid [0-9]+, ${how#was }\)$" ||
      fail "$name: check of fate $args does not say how it ended: $(head -1 "$tmp/check")"
  done
done

# Defects win: a program built without frame pointers in its middle function,
# which exits 7, makes run exit 3 (sampled with perf_event_open: not fprt).
cat > "$tmp/main.c" <<'C'
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
void cf_b(double s);
static double cpu_now(void) { struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
__attribute__((noinline)) void cf_spin(double s) { double t0 = cpu_now(); while (cpu_now() - t0 < s) for (unsigned long i = 0; i < 300000; i++) sink += i ^ (sink >> 3); }
__attribute__((noinline)) void cf_a(double s) { cf_b(s); sink++; }
int main(void) { cf_a(0.3); return 7; }
C
cat > "$tmp/b.c" <<'C'
extern volatile unsigned long sink;
void cf_spin(double s);
__attribute__((noinline)) void cf_b(double s) { cf_spin(s); sink++; __asm__ volatile("" ::: "memory"); }
C
if [ ${#modes[@]} -eq 2 ]; then
  cc -O1 -g -fno-omit-frame-pointer -c "$tmp/main.c" -o "$tmp/main.o" &&
    cc -O1 -g -fomit-frame-pointer -c "$tmp/b.c" -o "$tmp/b.o" &&
    cc "$tmp/main.o" "$tmp/b.o" -o "$tmp/nofp" || fail "cc: could not build the test program"
  expect 3 "^fptrace: $tmp/nofp exited with status 7;" "run of a program with defects that exits 7" \
    "$F" run -o "$tmp/nofp.fpt" -- "$tmp/nofp"
  grep -qE '^  fp-skips +[0-9]+ samples +at cf_b ' "$tmp/err" || fail "run: no fp-skips at cf_b"
fi

# A program that cannot be started is fptrace's error (1), for both commands.
for cmd in record run; do
  expect 1 "^fptrace $cmd: $tmp/does-not-exist: No such file or directory$" "$cmd a missing program" \
    "$F" $cmd -o "$tmp/x.fpt" -- "$tmp/does-not-exist"
done

[ "$fails" -eq 0 ] && echo "ok: ${#modes[@]} mode(s): the program's fate is passed on by record and run"
exit $((fails > 0))
