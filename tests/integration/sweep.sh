#!/usr/bin/env bash
# The instruction sweep (tests/sweep): every instruction of every stack-switch
# routine of fprt, single-stepped under ptrace, sampled as the profiler would
# sample it, walked, unwound by libdw and libunwind and compared: 0 defects,
# and every instruction reached but the ones listed below.  Then seed 003
# injected (mcall-bp-leak): the sweep must fail (exit 3) with fp-leak in
# rt_mcall.  No skip: ptrace is a kernel feature, objdump comes with gcc.
source "$(dirname "$0")/common.bash"
sweep=$B/sweep/sweep
[ -x "$sweep" ] || { echo "FAIL: $sweep not built"; exit 1; }

"$sweep" --verbose >"$tmp/out" 2>"$tmp/err"
rc=$?
grep -v 'pcs swept:' "$tmp/out"
[ $rc -eq 0 ] || { fail "the sweep exited $rc, want 0"; head -40 "$tmp/err"; }
grep -q ' 0 defects$' "$tmp/out" || fail "the sweep did not report 0 defects"

# Instructions never reached, as objdump prints them.  Only these may be:
# rt_mcall's path for a call on g0 (fatal: badmcall) and the ud2 after its
# call of fn, which never returns; the ud2 after the calls that never return
# in rt_morestack, rt_goexit and rt_mstart_asm; rt_goexit's nop (goroutines
# return to rt_goexit+1, like Go's goexit+PCQuantum).
unreachable='rt_goexit nop
rt_goexit ud2
rt_mcall call <rt_badmcall2>
rt_mcall jmp <rt_badmcall>
rt_mcall mov %rsi,%rdi
rt_mcall ud2
rt_morestack ud2
rt_mstart_asm ud2'
unswept() { # routine: its instructions whose offset the sweep did not list
  local sym=$1 base= line addr ins off
  local swept=" $(awk -v r="$sym" '$1 == r { f = 1; next }
			f && /pcs swept:/ { $1 = $2 = ""; print; exit }' "$tmp/out") "
  while IFS=$'\t' read -r addr ins; do
    if [[ $addr =~ ^([0-9a-f]+)\ \<$sym\>:$ ]]; then base=$((16#${BASH_REMATCH[1]})); continue; fi
    [[ -n $base && $addr =~ ^\ +([0-9a-f]+):$ ]] || continue
    off=$(printf '+%#x' $((16#${BASH_REMATCH[1]} - base)))
    ins=$(echo "$ins" | sed -e 's/ *#.*//' -e 's/[0-9a-f]* </</' -e 's/  */ /g' -e 's/ $//')
    [[ $swept == *" $off "* ]] || echo "$sym $ins"
  done < <(objdump -d --no-show-raw-insn --disassemble="$sym" "$sweep")
}
for r in rt_gogo rt_mcall rt_systemstack rt_stack_check rt_morestack rt_asmcgocall \
	 rt_cgocallback_asm rt_goexit rt_mstart_asm; do
  grep -q "^$r " "$tmp/out" || fail "no line for $r"
  unswept "$r"
done | sort >"$tmp/unswept"
if [ "$(cat "$tmp/unswept")" != "$(echo "$unreachable" | sort)" ]; then
  fail "instructions not swept differ from the documented ones:"
  diff <(echo "$unreachable" | sort) "$tmp/unswept"
fi
# the thunk (not in the executable): its 8 instructions, push %rbp ... ret
grep -q '^sweep_thunk (rt_cgo_export) *8 ' "$tmp/out" ||
  fail "the thunk's 8 instructions were not all swept"

FPRT_INJECT=mcall-bp-leak "$sweep" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ] || fail "with mcall-bp-leak the sweep exited $rc, want 3"
for b in libdw libunwind; do
  grep -q "^DEFECT rt_mcall+0x[0-9a-f]* ([a-z0-9 ]*): fp-leak by $b" "$tmp/err" ||
    { fail "with mcall-bp-leak no fp-leak in rt_mcall by $b"; head -20 "$tmp/err"; }
done
grep '^rt_mcall ' "$tmp/out"

[ $fails -eq 0 ] && echo "PASS: 0 defects in every switch routine, every instruction swept" \
  "but the documented ones; seed 003 injected is caught"
exit $((fails > 0))
