#!/usr/bin/env bash
# C coroutines on glibc's makecontext/swapcontext (tests/progs/ucontext_coro.c),
# from both sources (`fptrace run --perf`, and `perf record --call-graph dwarf`
# + `fptrace check -i perf.data`), both DWARF backends:
#   plain   a coroutine is entered with the rbp getcontext captured in main,
#           so its chain runs on past __start_context into main's stack:
#           fp-leak at the coroutine's entry, exit 3;
#   --rbp0  the context's rbp is 0 before the first switch: no defect in the
#           program (libc's own frames without frame pointers are reported
#           apart and do not fail the check).
# Needs libc's symbol table for __start_context (libc6-dbg, scripts/deps.sh).
source "$(dirname "$0")/common.bash"
command -v perf >/dev/null 2>&1 || { echo "FAIL: perf is not installed (scripts/deps.sh installs linux-perf)"; exit 1; }
prog=$B/progs/ucontext_coro
[ -x "$prog" ] || { echo "FAIL: $prog is not built (make all)"; exit 1; }

judge() { # label variant out exit
  local label=$1 variant=$2 out=$3 rc=$4
  if [ "$variant" = plain ]; then
    [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 3"
    grep -qE '^  fp-leak +[0-9]+ samples +at coro_entry \(ucontext_coro\)' "$out" ||
      { fail "$label: no fp-leak at coro_entry"; sed -n 1,40p "$out"; }
    grep -q '__start_context starts a ucontext coroutine' "$out" || fail "$label: the trampoline is not named"
  else
    [ "$rc" -eq 0 ] || { fail "$label: exit $rc, want 0"; sed -n 1,40p "$out"; }
    grep -A1 '^Defects in the code under test:' "$out" | grep -q '^  none' ||
      fail "$label: defects in the program with rbp = 0 at entry"
  fi
}

for variant in plain rbp0; do
  args=(); [ $variant = rbp0 ] && args=(--rbp0)
  "$F" run --perf -F 999 -o "$tmp/$variant.fpt" -- "$prog" "${args[@]}" 20000 >"$tmp/run" 2>&1
  judge "run --perf ($variant)" $variant "$tmp/run" $?
  perf record -q -e cpu-clock -F 999 --call-graph dwarf -o "$tmp/$variant.data" -- "$prog" "${args[@]}" 20000 \
    >"$tmp/perf.log" 2>&1 || fail "perf record ($variant): $(head -3 "$tmp/perf.log")"
  "$F" check -i "$tmp/$variant.data" --backend both >"$tmp/dwarf" 2>&1
  judge "check -i perf.data, both backends ($variant)" $variant "$tmp/dwarf" $?
done

[ "$fails" -eq 0 ] && echo "ucontext_coro: all checks passed"
[ "$fails" -eq 0 ]
