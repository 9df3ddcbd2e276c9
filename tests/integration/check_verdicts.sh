#!/usr/bin/env bash
# fptrace check's verdicts beyond the frame-pointer classes, on programs built
# here and sampled with perf_event_open:
#   - dwarf-fail in the code under test above 1% of the samples fails the
#     check (exit 3), naming the module, the function and DWARF's reason;
#   - the same program with correct CFI passes, with --strict too: losing
#     only libc's start-up frames below main is root-window, not a defect.
source "$(dirname "$0")/common.bash"

need_perf_event

# Half of the CPU time in a frame-pointer function whose CFI computes the CFA
# from its loop counter: DWARF cannot unwind any sample there.  The program
# does a fixed amount of work (about a second), not a loop on the clock: libc's
# clock_gettime keeps no frame pointer, and a sample landing in it would be a
# real fp-skips hiding main, which --strict rightly counts.  Nothing of the
# clean program may run in libc but start-up and exit.
cat > "$tmp/prog.c" <<'C'
void cfi_spin(long n);
volatile double sink;
__attribute__((noinline)) void leafwork(void) { for (int i = 0; i < 20000; i++) sink = sink * 1.0000001 + 0.5; }
__attribute__((noinline)) void work(void) { cfi_spin(200000); leafwork(); __asm__ volatile("" ::: "memory"); }
int main(void) { for (int i = 0; i < 8000; i++) work(); return 0; }
C
cfi_spin() { # the CFA rule after the push
  cat <<ASM
	.text
	.globl	cfi_spin
	.type	cfi_spin, @function
cfi_spin:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa $1, 16
1:	decq	%rdi
	jnz	1b
	popq	%rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	cfi_spin, .-cfi_spin
	.section .note.GNU-stack,"",@progbits
ASM
}
cfi_spin rdi > "$tmp/broken.S"
cfi_spin rbp > "$tmp/right.S"
cc -O2 -g -fno-omit-frame-pointer "$tmp/prog.c" "$tmp/broken.S" -o "$tmp/broken" &&
cc -O2 -g -fno-omit-frame-pointer "$tmp/prog.c" "$tmp/right.S" -o "$tmp/right" ||
  { fail "cannot build the test programs"; exit 1; }

"$F" record -o "$tmp/b.fpt" -- "$tmp/broken" > /dev/null 2>&1 || fail "record broken"
"$F" check -i "$tmp/b.fpt" > "$tmp/bcheck" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "broken CFI: check exit $rc, want 3"
grep -qE '^verdict: [0-9]+ dwarf-fail samples \([0-9.]+%\) in the code under test, above 1\.0%: FAIL' \
  "$tmp/bcheck" || fail "no dwarf-fail verdict"
grep -qE '^  most in broken at cfi_spin: read outside the stack snapshot' "$tmp/bcheck" ||
  fail "the verdict does not name the module, function and reason"
# Off every stack no snapshot size helps: no hint to raise it.
grep -q 'raise fptrace record --snapshot-max' "$tmp/bcheck" && fail "snapshot hint for broken CFI"
[ $fails -eq 0 ] || sed -n '/^class/,$p' "$tmp/bcheck"
"$F" check -i "$tmp/b.fpt" --format json > "$tmp/bjson" 2>&1
grep -qE '"dwarf_fail_under_test":[1-9]' "$tmp/bjson" || fail "json lacks dwarf_fail_under_test"

"$F" record -o "$tmp/r.fpt" -- "$tmp/right" > /dev/null 2>&1 || fail "record right"
"$F" check -i "$tmp/r.fpt" > "$tmp/rcheck" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "right CFI: check exit $rc, want 0"; sed -n '/^class/,$p' "$tmp/rcheck"; }
grep -q 'dwarf-fail samples (' "$tmp/rcheck" && fail "dwarf-fail verdict on correct CFI"
# A clean program on Debian: libc's start-up frames below main have no frame
# pointers, and losing only them is root-window, benign even with --strict.
"$F" check -i "$tmp/r.fpt" --strict > "$tmp/rstrict" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "right CFI: check --strict exit $rc, want 0"; sed -n '/^class/,$p' "$tmp/rstrict"; }
grep -qE '^root-window +[1-9][0-9]* ' "$tmp/rstrict" || fail "no root-window samples counted"

echo "check_verdicts: $fails failure(s)"
[ $fails -eq 0 ]
