#!/usr/bin/env bash
# fptrace end to end: record/check/report on real programs through
# perf_event_open, every output format read back by its real consumer, and the
# bad-input rules (one line, documented exit status, never a crash).
source "$(dirname "$0")/common.bash"
expect_exit() { # want, description, command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" -eq "$want" ] || { fail "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; }
  # Errors are one line on stderr; a crash would say so.
  if [ "$want" -ne 0 ] && [ "$want" -ne 3 ]; then
    [ "$(wc -l < "$tmp/err")" -ge 1 ] || fail "$what: no error message"
    grep -qiE 'segmentation|core dumped|abort' "$tmp/err" && fail "$what: crashed"
  fi
  return 0
}

need_perf_event

# A plain C program with a known chain and one function built without frame
# pointers: fp-skips must name it.
cat > "$tmp/prog.c" <<'C'
#include <time.h>
void nofp(volatile double *x);
__attribute__((noinline)) void leafwork(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
__attribute__((noinline)) void caller_of_nofp(volatile double *x) { nofp(x); __asm__ volatile("" ::: "memory"); }
int main(void) { volatile double x = 0; time_t t0 = time(0); while (time(0) - t0 < 2) caller_of_nofp(&x); return 0; }
C
cat > "$tmp/nofp.c" <<'C'
void leafwork(volatile double *x);
__attribute__((noinline)) void nofp(volatile double *x) { leafwork(x); leafwork(x); __asm__ volatile("" ::: "memory"); }
C
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/prog.c" -o "$tmp/prog.o" &&
cc -O2 -g -fomit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/nofp.o" &&
cc "$tmp/prog.o" "$tmp/nofp.o" -o "$tmp/prog" || { fail "cannot build test program"; exit 1; }

expect_exit 0 "record" "$F" record -o "$tmp/p.fpt" -- "$tmp/prog"
grep -q "exited with status 0" "$tmp/err" || fail "record does not report the exit status"
expect_exit 3 "check finds fp-skips" "$F" check -i "$tmp/p.fpt"
grep -qE "fp-skips +[0-9]+ samples +at nofp " "$tmp/out" || { fail "fp-skips not attributed to nofp"; head -30 "$tmp/out"; }
grep -q "hiding its caller caller_of_nofp" "$tmp/out" || fail "the hidden caller is not named"
expect_exit 0 "check with a budget" "$F" check -i "$tmp/p.fpt" --max-defects 1000000
expect_exit 3 "check both backends" "$F" check -i "$tmp/p.fpt" --backend both --format json
grep -q '"fp-skips":' "$tmp/out" || fail "json check output"
grep -q '"verdict":"fail","exit_status":3,"reason":"[0-9]* defect samples in the code under test, more than --max-defects 0' "$tmp/out" ||
  fail "json check output lacks the verdict: $(head -c 200 "$tmp/out")"
expect_exit 0 "json check within a budget" "$F" check -i "$tmp/p.fpt" --format json --max-defects 1000000
grep -q '"verdict":"ok","exit_status":0,' "$tmp/out" || fail "json verdict ok: $(head -c 200 "$tmp/out")"
expect_exit 0 "report text" "$F" report -i "$tmp/p.fpt"
grep -q leafwork "$tmp/out" || fail "report text lacks leafwork"
expect_exit 0 "report folded" "$F" report -i "$tmp/p.fpt" --format folded -o "$tmp/p.folded"
grep -qE '^.*;main;caller_of_nofp;nofp;leafwork [0-9]+$' "$tmp/p.folded" || fail "folded stack main;caller_of_nofp;nofp;leafwork missing"
expect_exit 0 "report svg" "$F" report -i "$tmp/p.fpt" --format svg -o "$tmp/p.svg"
xmllint --noout "$tmp/p.svg" 2>/dev/null || fail "svg is not valid XML"
expect_exit 0 "report pprof" "$F" report -i "$tmp/p.fpt" --format pprof -o "$tmp/p.pb.gz"
if command -v go >/dev/null; then
  go tool pprof -top "$tmp/p.pb.gz" > "$tmp/pprof.txt" 2>&1 || fail "go tool pprof cannot read the profile"
  grep -q leafwork "$tmp/pprof.txt" || fail "go tool pprof does not show leafwork"
fi
expect_exit 0 "report json" "$F" report -i "$tmp/p.fpt" --format json

# The same program with every function built with frame pointers: clean.
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/fp.o" &&
cc "$tmp/prog.o" "$tmp/fp.o" -o "$tmp/prog_fp" || fail "cannot build the clean program"
expect_exit 0 "record --perf clean" "$F" record --perf -o "$tmp/clean.fpt" -- "$tmp/prog_fp"
expect_exit 0 "check on the clean program" "$F" check -i "$tmp/clean.fpt"

# pprof: go tool pprof -raw sees the same sample total as fptrace.
if command -v go >/dev/null; then
  want=$("$F" report -i "$tmp/p.fpt" --format json | sed -n 's/.*"samples":\([0-9]*\).*/\1/p')
  got=$(go tool pprof -raw "$tmp/p.pb.gz" 2>/dev/null |
        awk '/^Samples:/ {on=1; getline; next} /^Locations/ {on=0} on && NF {n += $1} END {print n+0}')
  [ -n "$want" ] && [ "$want" = "$got" ] || fail "pprof sample total: go tool pprof -raw $got, fptrace $want"
fi
grep -q '>leafwork' "$tmp/p.svg" || grep -q 'leafwork (' "$tmp/p.svg" || fail "svg lacks the leafwork frame"

# Hand-written assembly that uses rbp as a general register (with correct CFI,
# so DWARF gets through it): every chain through it is broken, and check must
# blame it by name.
cat > "$tmp/clobber.S" <<'ASM'
	.text
	.globl	clobber
	.type	clobber, @function
clobber:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	movabsq	$0x123456789, %rbp
	call	callee
	popq	%rbp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	clobber, .-clobber
	.section .note.GNU-stack,"",@progbits
ASM
cat > "$tmp/clobber_main.c" <<'C'
#include <time.h>
void clobber(volatile double *x);
__attribute__((noinline)) void callee(volatile double *x) {
	volatile char frame[32]; /* a frame of its own: its record saves the clobbered rbp */
	for (int i = 0; i < 2000; i++) { *x = *x * 1.0000001 + 0.5; frame[i & 31] = (char)i; }
}
int main(void) { volatile double x = 0; time_t t0 = time(0); while (time(0) - t0 < 2) clobber(&x); return 0; }
C
cc -O2 -g -fno-omit-frame-pointer "$tmp/clobber_main.c" "$tmp/clobber.S" -o "$tmp/clobber" ||
  fail "cannot build the rbp-clobbering program"
expect_exit 0 "record the rbp clobber" "$F" record -o "$tmp/cl.fpt" -- "$tmp/clobber"
expect_exit 3 "check the rbp clobber" "$F" check -i "$tmp/cl.fpt"
grep -qE 'fp-(truncated|diverge) +[0-9]+ samples +at clobber ' "$tmp/out" ||
  { fail "the rbp clobber is not blamed on clobber"; sed -n '/Defects in the code/,+8p' "$tmp/out"; }

# A program that crashes: samples kept, the report says how it ended.
cat > "$tmp/crash.c" <<'C'
#include <time.h>
int main(void) { volatile long n = 0; time_t t0 = time(0); while (time(0) - t0 < 1) n++; *(volatile int *)0 = 1; return 0; }
C
cc -O1 -g -fno-omit-frame-pointer "$tmp/crash.c" -o "$tmp/crash"
# (record exits 128 + SIGSEGV, the program's fate; its stderr names the signal)
"$F" record -o "$tmp/c.fpt" -- "$tmp/crash" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 139 ] || fail "record a crashing program: exit $rc, want 139 (128 + SIGSEGV)"
grep -q "killed by signal 11" "$tmp/err" || fail "crash not reported: $(cat "$tmp/err")"
"$F" check -i "$tmp/c.fpt" > "$tmp/out" 2>&1
grep -q "killed by signal 11" "$tmp/out" || fail "check does not say how the program ended"

# Bad input.
expect_exit 2 "no command" "$F"
expect_exit 2 "unknown command" "$F" frobnicate
expect_exit 2 "unknown flag" "$F" check --frobnicate
expect_exit 2 "bad -F" "$F" record -F zero -- true
expect_exit 2 "bad format" "$F" report -i "$tmp/p.fpt" --format png
expect_exit 2 "record without a command" "$F" record
expect_exit 1 "missing program" "$F" record -o "$tmp/x.fpt" -- "$tmp/does-not-exist"
grep -q "No such file" "$tmp/err" || fail "missing program message"
expect_exit 1 "missing file" "$F" check -i "$tmp/none.fpt"
grep -q "none.fpt" "$tmp/err" || fail "missing file not named"
# A check that cannot judge says so in JSON too, with its exit status and reason.
expect_exit 1 "missing file, json" "$F" check -i "$tmp/none.fpt" --format json
grep -q '^{"verdict":"error","exit_status":1,"reason":".*none.fpt' "$tmp/out" ||
  fail "json check of a missing file: $(cat "$tmp/out")"
: > "$tmp/empty.fpt"
expect_exit 1 "empty file" "$F" report -i "$tmp/empty.fpt"
head -c 3000 "$tmp/p.fpt" > "$tmp/trunc.fpt"
expect_exit 1 "truncated file" "$F" check -i "$tmp/trunc.fpt"
grep -q "offset" "$tmp/err" || fail "truncation offset not named"
cp "$tmp/p.fpt" "$tmp/flip.fpt"
printf '\xff' | dd of="$tmp/flip.fpt" bs=1 seek=2000 conv=notrunc 2>/dev/null
expect_exit 1 "corrupt file" "$F" report -i "$tmp/flip.fpt"
head -c 4096 /dev/urandom > "$tmp/random.fpt"
expect_exit 1 "random file" "$F" check -i "$tmp/random.fpt"
expect_exit 1 "unwritable output" "$F" report -i "$tmp/p.fpt" --format pprof -o /nonexistent-dir/p.pb.gz

echo "fptrace_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
