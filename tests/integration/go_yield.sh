#!/usr/bin/env bash
# Real Go: goroutines calling runtime.Gosched in a loop (tests/progs/go/yield),
# built with Debian's Go 1.19 as it is (runtime·mcall keeps BP: seed 003) and
# with seed 003's fix patched into a copy of GOROOT, each checked from both
# sources and with both DWARF backends (go_common.bash):
#   stock  fp-leak at runtime.mcall, exit 3;
#   fixed  no defect at runtime.mcall, no false alarm where DWARF, not the
#          frame pointers, is wrong (rt0_go, goexit, gogo, the vDSO calls);
#          any other defect is one of Go 1.19's own (morestack keeps BP,
#          clone's child inherits it);
#   both   dwarf-fail under 5% of samples.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

mcall_leak='^  fp-leak +[0-9]+ samples +at runtime\.mcall '
go_check_sources yield stock "$mcall_leak" '' "$GO119_OWN"
go_check_sources yield fixed "$mcall_leak" '' "$GO119_OWN"

[ "$fails" -eq 0 ] && echo "go_yield: all checks passed"
[ "$fails" -eq 0 ]
