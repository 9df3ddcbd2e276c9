#!/usr/bin/env bash
# The profiler across cgo on arm64 (seed 000), recorded under qemu-user and
# checked on the host, as tests/integration/prof_cgo.sh does on amd64:
#  - clean: libdw's aarch64 backend unwinds CPU samples inside a callback
#    through its three stack segments (callback on the goroutine, C on g0,
#    the goroutine's caller: the CFI of runtime/arch/arm64/cgo.S); wall samples
#    of the goroutine in C; no defect.
#  - syscallbp-untracked,syscallbp-nocheck: the stale syscallbp reaches the
#    wall samples, and check reports fp-stale naming the stack that moved.
source "$(dirname "$0")/common.bash"

record_arm64 "$tmp/c.fpt" FPTRACE_HZ=4999 -- cgo_callback_grow -c 30 -w 100 ||
  { fail "the clean scenario: $(tail -n 5 "$tmp/prog.out")"; exit 1; }
"$fptrace" check -i "$tmp/c.fpt" > "$tmp/check" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/check"
[ $rc -eq 0 ] || { fail "check on the clean run: exit $rc"; sed -n '1,40p' "$tmp/check"; }
"$fptrace" report -i "$tmp/c.fpt" --kind cpu --format folded > "$tmp/cpu.folded"
grep -q 'calls_c;rt_cgocall;rt_asmcgocall;rt_asmcgocall;c_function;rt_cgocallback;rt_cgocallback_asm;rt_cgocallbackg;deep' \
  "$tmp/cpu.folded" || fail "no CPU stack unwound through all three segments of a callback"
"$fptrace" report -i "$tmp/c.fpt" --kind wall --format folded > "$tmp/wall.folded"
grep -q 'calls_c;rt_cgocall' "$tmp/wall.folded" || fail "no wall sample of the goroutine in C"
# AArch64's mapping symbols ($x, $d) name no function: libc's code without a
# symbol gets a made name (sub_...), never "$x".
grep -E '(^|;)\$[xd](\.[0-9]+)?( |;)' "$tmp/cpu.folded" "$tmp/wall.folded" &&
  fail "frames named by an AArch64 mapping symbol"

# The program itself fails too (its tracebacks in C are wrong): exit 1.  The
# wall sampler at 997 Hz: the stale window is each callback's linger only.
record_arm64 "$tmp/s.fpt" FPTRACE_HZ=4999 FPTRACE_WALL_HZ=997 FPRT_INJECT=syscallbp-untracked,syscallbp-nocheck -- \
  cgo_callback_grow -w 200
"$fptrace" check -i "$tmp/s.fpt" > "$tmp/scheck" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/scheck"
[ $rc -eq 3 ] || fail "check on the seed-000 run: exit $rc, want 3"
grep -qE 'fp-stale +[0-9]+ samples +at rt_cgocall' "$tmp/scheck" || fail "no fp-stale at rt_cgocall"
grep -q 'points into the stack G[0-9]* left (copystack)' "$tmp/scheck" ||
  fail "the stale fp is not traced to the stack that moved"
[ $fails -eq 0 ] && echo "PASS: the profiler across cgo on arm64: clean, and seed 000's fp-stale at rt_cgocall"
exit $fails
