#!/usr/bin/env bash
# gdb backtraces through a thunk made by rt_cgo_export: a breakpoint
# in the goroutine function ce_go_work, called from C through the thunk, shows
# in `bt` ce_go_work, rt_cgocallbackg, rt_cgocallback, the thunk BY NAME (gdb
# learns it, with its CFI, through the GDB JIT interface: export.c) and the C
# caller below it, for a foreign thread (c_foreign_loop) and for C entered with
# rt_cgocall (c_cgocall_loop, then down to rt_goexit), with no
# "Backtrace stopped".
set -u
build=${FPT_BUILD:-build}
prog=$build/progs/cgo_export
command -v gdb >/dev/null || { echo "skip: gdb not installed"; exit 77; }
# make SAN=address: LeakSanitizer cannot run under ptrace (it would fail the
# program at exit); the unwinding checks are the same without it.  (g0 stacks
# lie below the goroutine stacks there too: stack.c.)
if nm "$prog" 2>/dev/null | grep -q ' __asan_init$'; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }

# Two hits: one from each caller (-f 1: one foreign thread).  The foreign
# thread and the goroutine race for the first hit, so take hits until both
# callers were seen (at most 20).
cmds=(-ex 'set pagination off' -ex 'set print thread-events off' -ex 'break ce_go_work' -ex run)
for _ in $(seq 20); do cmds+=(-ex 'echo @@BT\n' -ex bt -ex continue); done
out=$(timeout 180 gdb -nx -q -batch "${cmds[@]}" -ex kill --args "$prog" -t 30 -f 1 2>&1)
if echo "$out" | grep -q 'ptrace: Operation not permitted'; then
  echo "skip: gdb cannot ptrace here"; exit 77
fi

fail=0
bts=$(echo "$out" | awk '/^@@BT/ { n++; next } /^#/ { print n "\t" $0 }')
pick() { # the first bt that holds $1
  local k
  k=$(echo "$bts" | awk -F'\t' -v w="$1" '$2 ~ w { print $1; exit }')
  [ -n "$k" ] && echo "$bts" | awk -F'\t' -v k="$k" '$1 == k { print $2 }'
}
expect_order() { # label, text, names in caller order
  local label=$1 text=$2; shift 2
  local line prev=-1
  for name in "$@"; do
    line=$(echo "$text" | grep -n -m1 -E "(in | )$name \(" | cut -d: -f1)
    if [ -z "$line" ] || [ "$line" -le "$prev" ]; then
      echo "FAIL: $label: frame $name missing or out of order"; fail=1; return
    fi
    prev=$line
  done
}
fbt=$(pick c_foreign_loop)
cbt=$(pick c_cgocall_loop)
echo "--- bt in ce_go_work, called through the thunk from a foreign thread:"; echo "$fbt"
echo "--- bt in ce_go_work, called through the thunk from C under rt_cgocall:"; echo "$cbt"
expect_order foreign "$fbt" ce_go_work rt_cgocallbackg rt_cgocallback export_work_foreign \
  c_foreign_loop foreign start_thread
expect_order cgocall "$cbt" ce_go_work rt_cgocallbackg rt_cgocallback export_work_cgocall \
  c_cgocall_loop rt_asmcgocall rt_cgocall cgocaller rt_goexit
echo "$cbt" | tail -1 | grep -q ' rt_goexit ' || { echo "FAIL: the rt_cgocall bt does not end at rt_goexit"; fail=1; }
if echo "$out" | grep -q 'Backtrace stopped'; then
  echo "FAIL: gdb stopped a backtrace early:"; echo "$out" | grep 'Backtrace stopped'; fail=1
fi
[ $fail -eq 0 ] && echo "PASS: gdb names the thunks (JIT interface) and unwinds through them to the C callers"
exit $fail
