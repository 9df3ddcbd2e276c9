#!/usr/bin/env bash
# gdb unwinds across fprt's stack switches exactly where the FP rules say
# (DESIGN.md "Frame-pointer rules"; the CFI in runtime/arch/amd64/*.S):
#   - a breakpoint in a function called through rt_systemstack shows, in `bt`,
#     the goroutine frames under rt_systemstack down to the goroutine base
#     (rt_goexit), with no "Backtrace stopped" complaint;
#   - a breakpoint in the function rt_mcall runs (rt_gosched_m) shows rt_mcall
#     as the last frame (seed 003: the chain ends at mcall);
#   - rt_newstack (run by rt_morestack on g0) ends at rt_morestack, and an M's
#     first function on g0 (mstart1) ends at the thread base rt_mstart_asm.
set -u
build=${FPT_BUILD:-build}
prog=$build/progs/switch
command -v gdb >/dev/null || { echo "skip: gdb not installed"; exit 77; }
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }
# make SAN=address: LeakSanitizer cannot run under ptrace (it would fail the
# program at exit); the unwinding checks are the same without it.
if nm "$prog" 2>/dev/null | grep -q ' U __asan_init'; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

out=$(timeout 120 gdb -nx -q -batch \
  -ex 'set pagination off' -ex 'set print thread-events off' \
  -ex 'break on_g0' -ex 'break rt_gosched_m' \
  -ex 'run' -ex 'echo @@SYSTEMSTACK\n' -ex 'bt' \
  -ex 'continue' -ex 'echo @@MCALL\n' -ex 'bt' \
  -ex 'continue' "$prog" 2>&1)
if echo "$out" | grep -q 'ptrace: Operation not permitted'; then
  echo "skip: gdb cannot ptrace here"; exit 77
fi

fail=0
sys=$(echo "$out" | sed -n '/^@@SYSTEMSTACK/,/^@@MCALL/p' | grep '^#')
mc=$(echo "$out" | sed -n '/^@@MCALL/,$p' | grep '^#')
echo "--- bt in on_g0 (called through rt_systemstack):"; echo "$sys"
echo "--- bt in rt_gosched_m (run by rt_mcall):"; echo "$mc"

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
expect_order systemstack "$sys" on_g0 rt_systemstack goroutine_b goroutine_a realmain
last=$(echo "$sys" | tail -1)
echo "$last" | grep -q 'rt_goexit' || { echo "FAIL: systemstack bt does not end at rt_goexit: $last"; fail=1; }
last=$(echo "$mc" | tail -1)
echo "$last" | grep -q ' rt_mcall ' || { echo "FAIL: mcall bt does not end at rt_mcall: $last"; fail=1; }
[ "$(echo "$mc" | wc -l)" -eq 2 ] || { echo "FAIL: mcall bt has frames past rt_mcall"; fail=1; }
if echo "$out" | grep -q 'Backtrace stopped'; then
  echo "FAIL: gdb stopped a backtrace early:"; echo "$out" | grep 'Backtrace stopped'; fail=1
fi
echo "$out" | grep -q '^OK$' || { echo "FAIL: switch did not print OK"; echo "$out" | tail -5; fail=1; }

last_frame() { # prog args..., breakpoint: the bt at the first hit, last line
  local bp=$1; shift
  timeout 120 gdb -nx -q -batch -ex 'set pagination off' -ex "break $bp" -ex run \
    -ex bt -ex kill --args "$@" 2>&1 | grep -E '^#|Backtrace stopped'
}
bt=$(last_frame rt_newstack "$build/progs/grow" -g 1 -k 32)
echo "--- bt in rt_newstack:"; echo "$bt"
echo "$bt" | tail -1 | grep -q ' rt_morestack ' || { echo "FAIL: rt_newstack bt does not end at rt_morestack"; fail=1; }
bt=$(last_frame mstart1 "$prog")
echo "--- bt in mstart1:"; echo "$bt"
echo "$bt" | tail -1 | grep -q ' rt_mstart_asm ' || { echo "FAIL: mstart1 bt does not end at rt_mstart_asm"; fail=1; }
[ $fail -eq 0 ] && echo "PASS: gdb crosses rt_systemstack into the goroutine and stops at rt_mcall, rt_morestack, rt_mstart_asm"
exit $fail
