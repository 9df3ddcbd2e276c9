#!/usr/bin/env bash
# The instruction sweep (tests/sweep): every instruction of every stack-switch
# routine of fprt, single-stepped under ptrace, sampled as the profiler would
# sample it, walked, unwound by libdw and libunwind and compared: 0 defects.
# Then seed 003 injected (mcall-bp-leak): the sweep must fail (exit 3) with
# fp-leak in rt_mcall.  No skip: ptrace is a kernel feature, not a tool.
source "$(dirname "$0")/common.bash"
sweep=$B/sweep/sweep
[ -x "$sweep" ] || { echo "FAIL: $sweep not built"; exit 1; }

"$sweep" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
[ $rc -eq 0 ] || { fail "the sweep exited $rc, want 0"; head -40 "$tmp/err"; }
grep -q ' 0 defects$' "$tmp/out" || fail "the sweep did not report 0 defects"
# every routine has its line (the sweep itself exits 1 if one was never reached)
for r in rt_gogo rt_mcall rt_systemstack rt_stack_check rt_morestack rt_asmcgocall \
	 rt_cgocallback_asm rt_goexit rt_mstart_asm 'sweep_thunk (rt_cgo_export)'; do
  grep -qF "$r " "$tmp/out" || fail "no line for $r"
done

FPRT_INJECT=mcall-bp-leak "$sweep" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ] || fail "with mcall-bp-leak the sweep exited $rc, want 3"
for b in libdw libunwind; do
  grep -q "^DEFECT rt_mcall+0x[0-9a-f]* ([a-z0-9 ]*): fp-leak by $b" "$tmp/err" ||
    { fail "with mcall-bp-leak no fp-leak in rt_mcall by $b"; head -20 "$tmp/err"; }
done
grep '^rt_mcall ' "$tmp/out"

[ $fails -eq 0 ] && echo "PASS: 0 defects in every switch routine; seed 003 injected is caught"
exit $((fails > 0))
