#!/usr/bin/env bash
# The profiler across cgo (seed 000):
#  - clean: CPU samples inside a callback have three stack segments
#    (callback on the goroutine, C on g0, the goroutine's caller) and DWARF
#    unwinds through all of them; wall samples of the goroutine in C after a
#    callback that moved its stack walk from syscallbp cleanly; no defect.
#  - syscallbp-untracked,syscallbp-nocheck: the stale syscallbp reaches the
#    wall samples, and check reports fp-stale naming the stack that moved.
source "$(dirname "$0")/common.bash"
cp "$B/progs/cgo_callback_grow" "$tmp/"

# rt_cgocallbackg keeps its frame on the goroutine stack while it calls
# rt_reentersyscall, as Go's cgocallbackg does: a tail call would leave rbp
# on g0 under an sp on the goroutine stack at reentersyscall's entry and
# exit, a crossing at a pc that is no transition (fp-leak once in CI).
tail_calls=$(objdump -d --no-show-raw-insn "$tmp/cgo_callback_grow" |
  awk '/^[0-9a-f]+ <rt_cgocallbackg>:/ { on = 1; next } on && /^$/ { exit } on' |
  grep -E 'jmp +[0-9a-f]+ <[a-z_]' | grep -v '<rt_cgocallbackg+')
[ -z "$tail_calls" ] || fail_lines "rt_cgocallbackg tail-calls" "$tail_calls"

"$F" record -F 4999 -o "$tmp/c.fpt" -- "$tmp/cgo_callback_grow" -c 30 -w 100 > "$tmp/out" 2> "$tmp/err" ||
  fail "record: $(tail -n 3 "$tmp/err")"
grep -q '^OK' "$tmp/out" || fail "the clean scenario failed: $(tail -n 5 "$tmp/err")"
"$F" check -i "$tmp/c.fpt" --backend both > "$tmp/check" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "check --backend both on the clean run: exit $rc"; sed -n '1,40p' "$tmp/check"; }
"$F" report -i "$tmp/c.fpt" --kind cpu --format folded > "$tmp/cpu.folded"
grep -q 'calls_c;rt_cgocall;rt_asmcgocall;rt_asmcgocall;c_function;rt_cgocallback;rt_cgocallback_asm;rt_cgocallbackg;deep' \
  "$tmp/cpu.folded" || fail "no CPU stack unwound through all three segments of a callback"
"$F" report -i "$tmp/c.fpt" --kind wall --format folded > "$tmp/wall.folded"
grep -q 'calls_c;rt_cgocall' "$tmp/wall.folded" || fail "no wall sample of the goroutine in C"

FPRT_INJECT=syscallbp-untracked,syscallbp-nocheck \
  "$F" record -F 4999 -o "$tmp/s.fpt" -- "$tmp/cgo_callback_grow" -w 200 > /dev/null 2>&1
"$F" check -i "$tmp/s.fpt" > "$tmp/scheck" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "check on the seed-000 run: exit $rc, want 3"
grep -qE 'fp-stale +[0-9]+ samples +at rt_cgocall' "$tmp/scheck" ||
  { fail "no fp-stale at rt_cgocall"; sed -n '/Defects in the code/,+6p' "$tmp/scheck"; }
grep -q 'points into the stack G[0-9]* left (copystack)' "$tmp/scheck" ||
  fail "the stale fp is not traced to the stack that moved"
echo "prof_cgo: $fails failure(s)"
[ $fails -eq 0 ]
