#!/usr/bin/env bash
# libdw (eu-stack) unwinds across rt_systemstack like gdb does: build/progs/switch
# stops itself (SIGSTOP) in on_g0, a function called through rt_systemstack
# on g0; eu-stack must show that thread's frames from on_g0 through
# rt_systemstack into the goroutine (goroutine_b, goroutine_a) and end cleanly
# at the goroutine base rt_goexit (CFI: DW_CFA_def_cfa_expression on g0,
# rip undefined in rt_goexit).
set -u
build=${FPT_BUILD:-build}
prog=$build/progs/switch
command -v eu-stack >/dev/null || { echo "skip: eu-stack (elfutils) not installed"; exit 77; }
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }
pid=
tmp=$(mktemp -d); trap '[ -n "$pid" ] && kill -CONT $pid 2>/dev/null; rm -rf "$tmp"' EXIT

SWITCH_STOP=1 "$prog" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 100); do   # wait until it has stopped itself
  [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = T ] && break
  sleep 0.1
done
timeout 60 eu-stack -p $pid >"$tmp/stack" 2>&1
kill -CONT $pid
wait $pid; rc=$?
if grep -q 'Operation not permitted' "$tmp/stack"; then
  echo "skip: eu-stack cannot attach here"; exit 77
fi
# the thread whose stack holds on_g0
thread=$(awk -v RS='TID ' '/on_g0/{print "TID " $0}' "$tmp/stack")
echo "$thread"
fail=0
order=$(echo "$thread" | awk '$1 ~ /^#/ {print $3}' | tr '\n' ' ')
case "$order" in
  *"on_g0 rt_systemstack goroutine_b goroutine_a "*) ;;
  *) echo "FAIL: frames not on_g0 -> rt_systemstack -> goroutine_b -> goroutine_a: $order"; fail=1 ;;
esac
last=$(echo "$thread" | awk '$1 ~ /^#/ {f=$3} END {print f}')
[ "$last" = rt_goexit ] || { echo "FAIL: the chain ends at $last, not rt_goexit"; fail=1; }
tid=$(echo "$thread" | head -1 | awk '{print $2}' | tr -d :)
if grep -q "dwfl_thread_getframes tid $tid " "$tmp/stack"; then
  echo "FAIL: libdw reported an error for that thread:"; grep "tid $tid " "$tmp/stack"; fail=1
fi
[ $rc -eq 0 ] && grep -q '^OK$' "$tmp/out" || { echo "FAIL: switch exited $rc:"; cat "$tmp/out"; fail=1; }
[ $fail -eq 0 ] && echo "PASS: libdw crosses rt_systemstack into the goroutine and stops at rt_goexit"
exit $fail
