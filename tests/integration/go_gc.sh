#!/usr/bin/env bash
# Real Go: runtime.GC marking a heap of linked nodes (tests/progs/go/gcmark),
# stock Go 1.19 and with seed 003's fix, from both sources, both backends
# (go_common.bash).  The mark work runs on g0 under runtime.systemstack, which
# in Go 1.19 has no frame record of its own ("NOSPLIT, $0-8") and calls fn
# with its caller's BP: every chain through it goes from fn to the caller's
# caller.  On both runtimes that is fp-skips at runtime.systemstack, never a
# legal crossing (to-switch) nor another class there; the fixed runtime has
# no defect at runtime.mcall.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

systemstack_skips='^  fp-skips +[0-9]+ samples +at runtime\.systemstack(\.abi0)? '
for flavor in stock fixed; do
  go_check_sources gcmark $flavor "$systemstack_skips" "$systemstack_skips" . 20
done

[ "$fails" -eq 0 ] && echo "go_gc: all checks passed"
[ "$fails" -eq 0 ]
