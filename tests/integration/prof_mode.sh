#!/usr/bin/env bash
# The in-process profiler's CPU sample source: a perf_event_open task-clock
# event per M by default (so the asked rate is the real one), the CPU-time
# timer when asked with FPRT_PROF_MODE=timer (or when perf events are
# refused), and the file, check and report all say which one ran.
source "$(dirname "$0")/common.bash"

cp "$B/progs/cpuwork" "$tmp/cpuwork"

# mode expected-line-in-check
record_and_expect() {
  local mode=$1 want=$2 out=$tmp/$1.fpt
  FPRT_PROF_MODE=$mode "$F" record -F 997 -o "$out" -- "$tmp/cpuwork" -n 8000 \
    > "$tmp/$mode.out" 2>&1 || { fail "record ($mode): $(cat "$tmp/$mode.out")"; return; }
  "$F" check -i "$out" > "$tmp/$mode.check" 2>&1
  grep -q "^cpu sampling: $want" "$tmp/$mode.check" ||
    fail "FPRT_PROF_MODE=$mode: check does not say '$want': $(head -4 "$tmp/$mode.check")"
  grep -qE '^[0-9]+ samples \([1-9][0-9]* cpu' "$tmp/$mode.check" ||
    fail "FPRT_PROF_MODE=$mode: no CPU samples: $(head -4 "$tmp/$mode.check")"
  "$F" report -i "$out" > "$tmp/$mode.report" 2>&1
  grep -q "^# cpu sampling: $want" "$tmp/$mode.report" ||
    fail "FPRT_PROF_MODE=$mode: report does not say '$want': $(head -3 "$tmp/$mode.report")"
}

# The default picks perf events where the kernel allows them, as it does for
# the perf tests of this suite; perf-event insists (a fatal error otherwise).
record_and_expect auto 'perf-event (task-clock per thread) at 997 Hz'
record_and_expect perf-event 'perf-event (task-clock per thread) at 997 Hz'
record_and_expect timer 'timer (CPU-time timer per thread, as asked), 997 Hz asked'

# Refused by the kernel (a seccomp filter here, as in a container): the timer
# takes over and the file says why; perf-event insists, with the error.
noperf() {
  local mode=$1 out=$tmp/noperf-$1.fpt
  FPRT_PROF_MODE=$mode "$B/progs/noperf" env FPTRACE_OUT="$out" "$tmp/cpuwork" -n 8000 \
    > "$tmp/noperf-$mode.out" 2>&1
}
noperf auto || fail "auto under noperf: $(cat "$tmp/noperf-auto.out")"
"$F" check -i "$tmp/noperf-auto.fpt" > "$tmp/noperf.check" 2>&1
grep -q '^cpu sampling: timer (CPU-time timer per thread; perf_event_open refused: Permission denied)' \
  "$tmp/noperf.check" || fail "refused perf events: $(head -3 "$tmp/noperf.check")"
# No fptrace record, so no END from a wait status: the header says so, and
# does not call a complete file cut short.
grep -q '(pid [0-9]*, no end record: recorded without fptrace record, or cut short)' \
  "$tmp/noperf.check" || fail "FPTRACE_OUT alone, the end: $(head -1 "$tmp/noperf.check")"
grep -qE '^[0-9]+ samples \([1-9][0-9]* cpu' "$tmp/noperf.check" ||
  fail "no CPU samples on the timer: $(head -4 "$tmp/noperf.check")"
noperf perf-event
rc=$?
[ $rc -eq 2 ] && grep -q 'FPRT_PROF_MODE=perf-event: perf_event_open(task-clock) failed: Permission denied' \
  "$tmp/noperf-perf-event.out" || fail "perf-event refused: exit $rc, $(head -2 "$tmp/noperf-perf-event.out")"

# A mode the runtime does not know is a fatal usage error naming it.
FPRT_PROF_MODE=fast FPTRACE_OUT=$tmp/bad.fpt "$tmp/cpuwork" -n 1000 > "$tmp/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'FPRT_PROF_MODE=fast: must be auto, perf-event or timer' "$tmp/bad.out" ||
  fail "FPRT_PROF_MODE=fast: exit $rc, $(head -2 "$tmp/bad.out")"

echo "prof_mode: $fails failure(s)"
[ $fails -eq 0 ]
