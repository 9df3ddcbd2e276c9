#!/usr/bin/env bash
# Real Go: a thread that runtime.clone made (tests/progs/go/threads, run with
# GODEBUG=schedtrace=1,scheddetail=1 so that sysmon, on its own thread, prints
# thousands of parked goroutines at every tick), stock Go 1.19 and with seed
# 003's fix, from both sources, both backends (go_common.bash).  Go 1.19's
# clone child starts mstart with its parent's BP, so a chain through mstart
# goes on into the parent thread's stack: fp-leak at runtime.mstart on both
# runtimes.  Only cgo's C code may call mstart (pthread threads, go_cgo.sh):
# without cgo, whatever the chain finds past mstart is that leak.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

for flavor in stock fixed; do go_build threads $flavor >/dev/null || exit 1; done
# After the builds: the go command would trace its own scheduler too.
export GODEBUG=schedtrace=1,scheddetail=1
mstart_leak='^  fp-leak +[0-9]+ samples +at runtime\.mstart(\.abi0)? '
for flavor in stock fixed; do
  go_check_sources threads $flavor "$mstart_leak" "$mstart_leak" .
done

[ "$fails" -eq 0 ] && echo "go_threads: all checks passed"
[ "$fails" -eq 0 ]
