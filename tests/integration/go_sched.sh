#!/usr/bin/env bash
# Real Go, the scheduler's other paths, stock Go 1.19 and with seed 003's fix
# (go_common.bash), from both sources and with both DWARF backends:
#   pingpong  channels, select, a timer and a ticker: goroutines park through
#             gopark/park_m (runtime.mcall) and timers read the vDSO clock on
#             g0.  Stock: fp-leak at runtime.mcall; fixed: only Go 1.19's
#             own defects (morestack; mstart: clone's child inherits BP;
#             systemstack: no frame record, fp-skips there).
#   recurse   new goroutines whose stacks grow three times each: morestack,
#             newstack, copystack.  Go 1.19's morestack keeps BP when it
#             switches to g0 (later Go clears it): fp-leak at
#             runtime.morestack on both runtimes, and never at mcall on the
#             fixed one.
#   duff      frames zeroed and copied by runtime.duffzero/duffcopy, whose
#             caller writes its frame record below SP, outside a perf stack
#             copy: never a defect there, and no dwarf-fail with either
#             backend (their step is the return address at SP).
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

mcall_leak='^  fp-leak +[0-9]+ samples +at runtime\.mcall '
morestack_leak='^  fp-leak +[0-9]+ samples +at runtime\.morestack(\.abi0)? '
for flavor in stock fixed; do
  go_check_sources pingpong $flavor "$mcall_leak" '' "$GO119_OWN"
  go_check_sources recurse $flavor "$morestack_leak" "$morestack_leak" .
  go_check_sources duff $flavor '' '' "$GO119_OWN"
  # A walk in a perf stack copy that stops in duffzero/duffcopy (rbp below
  # SP) blames their caller when the model does not know them: main.round.
  for out in run unw dwarf; do
    if defect_sites "$tmp/duff-$flavor.$out" | grep -E '^  fp-truncated '; then
      fail "duff ($flavor, $out): fp-truncated where the frame record lies below SP"
    fi
  done
done

[ "$fails" -eq 0 ] && echo "go_sched: all checks passed"
[ "$fails" -eq 0 ]
