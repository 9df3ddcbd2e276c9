#!/usr/bin/env bash
# The fprt in-process profiler end to end: fptrace record detects an fprt
# program, the runtime samples every M with its own CPU timer and writes CPU
# and wall (off-CPU goroutine) samples with THREAD records; check finds no
# defect as built, and catches seed 003 (mcall-bp-leak) in process: the
# checked walker refuses the g0 -> goroutine step at rt_mcall.
source "$(dirname "$0")/common.bash"

# A private copy: a rebuild during the run must not turn the path "(deleted)".
cp "$B/progs/yield" "$tmp/yield"

"$F" record -F 1999 -o "$tmp/y.fpt" -- "$tmp/yield" -t 4 > "$tmp/out" 2> "$tmp/err" ||
  fail "record: $(cat "$tmp/err")"
grep -q '^OK' "$tmp/out" || fail "yield did not print OK: $(cat "$tmp/out" "$tmp/err")"
"$F" report -i "$tmp/y.fpt" --kind all > "$tmp/report" 2>&1 || fail "report failed"
grep -qE '[0-9]+ cpu at 1999 Hz' "$tmp/report" || fail "no CPU samples: $(head -3 "$tmp/report")"
grep -qE '[0-9]+ wall at 97 Hz' "$tmp/report" || fail "no wall samples: $(head -3 "$tmp/report")"
"$F" report -i "$tmp/y.fpt" --kind wall --format folded > "$tmp/wall.folded" || fail "wall folded"
grep -q 'rt_chan_recv;rt_gopark' "$tmp/wall.folded" ||
  fail "wall samples do not show goroutines parked in channel receives"
total=$(sed -n 's/^# .*: \([0-9]*\) samples.*/\1/p' "$tmp/report")
[ "${total:-0}" -ge 2000 ] || fail "only ${total:-0} samples; the clean check needs at least 2000"
"$F" report -i "$tmp/y.fpt" --kind cpu --format folded > "$tmp/cpu.folded" || fail "folded"
grep -q 'yielder;spin' "$tmp/cpu.folded" || fail "CPU stacks lack yielder;spin"
"$F" check -i "$tmp/y.fpt" > "$tmp/check" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "check on the runtime as built: exit $rc"; cat "$tmp/check"; }

# Seed 003 in process.  A CPU sample must land on g0 inside rt_mcall's callee
# for the leak to show; sample faster and longer until one does (bounded).
found=0
for attempt in 1 2 3; do
  FPRT_INJECT=mcall-bp-leak "$F" record -F 4999 -o "$tmp/l.fpt" -- "$tmp/yield" -t 3 >/dev/null 2>&1
  "$F" check -i "$tmp/l.fpt" > "$tmp/lcheck" 2>&1
  rc=$?
  if [ $rc -eq 3 ] && grep -qE 'fp-(leak|stale) +[0-9]+ samples +at rt_mcall' "$tmp/lcheck"; then
    found=1; break
  fi
done
[ $found -eq 1 ] || { fail "seed 003 not caught in process (last exit $rc)"; head -30 "$tmp/lcheck"; }
# Stacks that move on every check, sampled fast: every move is in the file as a
# REGION_EVENT, and no sample may see a stale or broken chain (copystack must
# have relocated every saved frame pointer before the next sample).
cp "$B/progs/grow" "$tmp/grow"
FPRT_DEBUG=stackforcemove "$F" record -F 9973 -o "$tmp/g.fpt" -- "$tmp/grow" -k 512 -g 4 \
  > "$tmp/gout" 2>&1 || fail "record grow: $(cat "$tmp/gout")"
"$F" check -i "$tmp/g.fpt" > "$tmp/gcheck" 2>&1
rc=$?
# 1: too fast to be sampled at all on this machine (no samples) is not a failure.
if [ $rc -ne 1 ]; then
  [ $rc -eq 0 ] || { fail "check under stackforcemove: exit $rc"; head -30 "$tmp/gcheck"; }
  grep -qE 'stacks: [1-9][0-9]* moved' "$tmp/gcheck" || fail "no stack moves recorded"
fi

echo "prof_inprocess: $(grep -c . "$tmp/cpu.folded") cpu stacks; $fails failure(s)"
[ $fails -eq 0 ]
