#!/usr/bin/env bash
# fptrace audit, static half: the verdicts on programs whose truth is known
# by construction.  (1) one function built -fomit-frame-pointer is the only
# no-frame function of its program's sources; (3) no false alarm on the
# project's own objects, hand-written assembly listed with its reason; (4) a
# planted rbp clobber is found with its instruction; the bad-input rules and
# the object sources (DT_NEEDED, -p PID).  The recorded half (agreement with
# check) is audit_agreement.sh.
source "$(dirname "$0")/common.bash"
command -v python3 >/dev/null || { fail "python3 is needed to read the JSON"; exit 1; }

# verdicts FILE: "verdict name producer" per function of the first module,
# from the JSON output.
verdicts() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["modules"][0]
for f in m.get("functions", []):
    print(f["verdict"], f["name"], f.get("producer", "-"), f["evidence"], sep="\t")
' "$1"
}

# (1) One function without frame pointers between two with them.
cat > "$tmp/prog.c" <<'C'
void nofp(volatile double *x);
__attribute__((noinline)) void leafwork(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
__attribute__((noinline)) void caller_of_nofp(volatile double *x) { nofp(x); __asm__ volatile("" ::: "memory"); }
int main(void) { volatile double x = 0; for (int i = 0; i < 100; i++) caller_of_nofp(&x); return 0; }
C
cat > "$tmp/nofp.c" <<'C'
void leafwork(volatile double *x);
__attribute__((noinline)) void nofp(volatile double *x) { leafwork(x); leafwork(x); __asm__ volatile("" ::: "memory"); }
C
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/prog.c" -o "$tmp/prog.o" &&
cc -O2 -g -fomit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/nofp.o" &&
cc "$tmp/prog.o" "$tmp/nofp.o" -o "$tmp/prog" || { fail "cannot build the test program"; exit 1; }
"$F" audit --format json "$tmp/prog" > "$tmp/prog.json" 2>"$tmp/err" || fail "audit prog: exit $?: $(cat "$tmp/err")"
verdicts "$tmp/prog.json" > "$tmp/prog.v"
# The program's own functions are those DWARF knows (a producer); _init and
# friends come from the toolchain's crt files.
own_noframe=$(awk -F'\t' '$3 != "-" && $1 == "no-frame" {print $2}' "$tmp/prog.v" | tr '\n' ' ')
[ "$own_noframe" = "nofp " ] || { fail "no-frame functions of the program: '$own_noframe', want 'nofp '"; cat "$tmp/prog.v"; }
grep -P '^no-frame\tnofp\t-fomit-frame-pointer\t.*call .*<leafwork> without a frame record \(CFA=rsp\+' "$tmp/prog.v" >/dev/null ||
  fail "nofp's evidence does not name the frameless call to leafwork: $(grep -P '\tnofp\t' "$tmp/prog.v")"
grep -P '^frame\tcaller_of_nofp\t' "$tmp/prog.v" >/dev/null || fail "caller_of_nofp is not frame"
grep -P '^leaf\tleafwork\t' "$tmp/prog.v" >/dev/null || fail "leafwork is not leaf"
# The same program with frame pointers everywhere: no no-frame function of its own.
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/fp.o" && cc "$tmp/prog.o" "$tmp/fp.o" -o "$tmp/prog_fp"
"$F" audit --format json "$tmp/prog_fp" > "$tmp/fp.json" 2>/dev/null
verdicts "$tmp/fp.json" | awk -F'\t' '$3 != "-" && $1 != "frame" && $1 != "leaf"' > "$tmp/fp.bad"
[ -s "$tmp/fp.bad" ] && fail "the all-frame-pointer program has breaking functions: $(cat "$tmp/fp.bad")"
# DT_NEEDED: libc and the interpreter come along, and text output counts them.
"$F" audit "$tmp/prog" > "$tmp/prog.txt" 2>&1
grep -q "libc.so.6 (needed by prog)" "$tmp/prog.txt" || fail "libc.so.6 not audited as a dependency"
grep -q "ld-linux-x86-64.so.2 (needed by prog)" "$tmp/prog.txt" || fail "the interpreter is not audited"
grep -qE "^  prog: [0-9]+ of [0-9]+ functions keep no frame record; [0-9]+ break" "$tmp/prog.txt" ||
  fail "no per-module summary line: $(head -3 "$tmp/prog.txt")"

# (4) A planted rbp clobber in hand-written assembly (with correct CFI).
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
# Zeroing rbp ends a chain: right in an outermost frame (_start), a
# truncation anywhere else.
	.globl	zeroer
	.type	zeroer, @function
zeroer:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	xorl	%ebp, %ebp
	call	callee
	popq	%rbp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	zeroer, .-zeroer
	.section .note.GNU-stack,"",@progbits
ASM
cat > "$tmp/clobber_main.c" <<'C'
void clobber(void);
void zeroer(void);
__attribute__((noinline)) void callee(void) { __asm__ volatile("" ::: "memory"); }
int main(void) { clobber(); zeroer(); return 0; }
C
cc -O2 -g -fno-omit-frame-pointer "$tmp/clobber_main.c" "$tmp/clobber.S" -o "$tmp/clobber" ||
  { fail "cannot build the clobber program"; exit 1; }
"$F" audit --format json "$tmp/clobber" > "$tmp/cl.json" 2>/dev/null
verdicts "$tmp/cl.json" > "$tmp/cl.v"
grep -P '^clobbers-rbp\tclobber\tassembler\t\+0x1: movabs rbp, 0x123456789 writes rbp$' "$tmp/cl.v" >/dev/null ||
  { fail "the planted clobber is not found with its instruction"; grep clobber "$tmp/cl.v"; }
grep -P '^clobbers-rbp\tzeroer\tassembler\t\+0x1: xor ebp, ebp zeroes rbp outside an outermost frame$' "$tmp/cl.v" >/dev/null ||
  { fail "zeroing rbp in a called function is not a clobber"; grep zeroer "$tmp/cl.v"; }
grep -P '^frame\t_start\t-\toutermost frame: CFI leaves rip undefined, \+0: xor ebp, ebp$' "$tmp/cl.v" >/dev/null ||
  { fail "_start (rbp zeroed in the outermost frame) is not frame"; grep _start "$tmp/cl.v"; }
[ "$(awk -F'\t' '$1 == "clobbers-rbp"' "$tmp/cl.v" | wc -l)" -eq 2 ] || fail "more than the planted clobbers: $(grep clobbers "$tmp/cl.v")"

# (3) No false alarm on the project's own objects (all built with
# -fno-omit-frame-pointer): every function the C compiler made is frame or
# leaf.  Hand-written assembly and the toolchain's startup code are listed.
objs=("$B/bin/fptrace" "$B/lib/libfpunwind.so")
for p in "$B"/progs/*; do [ -x "$p" ] && head -c 4 "$p" | grep -q ELF && objs+=("$p"); done
[ ${#objs[@]} -ge 5 ] || fail "too few project objects to audit: ${objs[*]}"
: > "$tmp/exceptions"
for o in "${objs[@]}"; do
  "$F" audit --format json "$o" > "$tmp/o.json" 2>"$tmp/err" || { fail "audit $o: $(cat "$tmp/err")"; continue; }
  verdicts "$tmp/o.json" > "$tmp/o.v"
  [ -s "$tmp/o.v" ] || fail "$o: no functions"
  while IFS=$'\t' read -r v name prod ev; do
    case "$v:$prod" in
      frame:*|leaf:*) ;;
      *:assembler) printf '%s: %s, hand-written assembly (%s)\n' "$name" "$v" "$ev" >> "$tmp/exceptions" ;;
      *:-) printf '%s: %s, toolchain startup code from the crt files, no DWARF (%s)\n' "$name" "$v" "$ev" >> "$tmp/exceptions" ;;
      *) fail "false alarm in $(basename "$o"): $name is $v ($ev) [producer $prod]" ;;
    esac
  done < "$tmp/o.v"
done
echo "audit: functions of the project's ${#objs[@]} objects that are neither frame nor leaf (count of objects):"
sort "$tmp/exceptions" | uniq -c | sed 's/^/  /'

# Bad input: one line each, the rest is still audited, exit 1.
printf 'not an elf' > "$tmp/text.so"
head -c 3000 "$tmp/prog" > "$tmp/trunc"
cp "$tmp/prog" "$tmp/arm64"
printf '\xb7\x00' | dd of="$tmp/arm64" bs=1 seek=18 conv=notrunc 2>/dev/null   # e_machine = EM_AARCH64
cc -shared -o "$tmp/libgone.so" -x c /dev/null && cc "$tmp/prog.o" "$tmp/fp.o" -L"$tmp" -Wl,--no-as-needed -lgone -o "$tmp/needs_gone" &&
  rm "$tmp/libgone.so" || fail "cannot build the program with a missing library"
"$F" audit "$tmp/text.so" "$tmp/trunc" "$tmp/arm64" "$tmp/needs_gone" "$tmp/prog" > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "bad input: exit $rc, want 1"
grep -q "text.so: not an ELF file" "$tmp/err" || fail "non-ELF not named: $(cat "$tmp/err")"
grep -q "trunc: truncated ELF" "$tmp/err" || fail "truncation not named"
grep -q "arm64: ELF for aarch64" "$tmp/err" || fail "the other architecture is not named"
grep -q "libgone.so: library not found (needed by .*needs_gone)" "$tmp/err" || fail "missing library not named"
[ "$(wc -l < "$tmp/err")" -eq 4 ] || { fail "want 4 error lines, got $(wc -l < "$tmp/err")"; cat "$tmp/err"; }
grep -q "^$tmp/prog$" "$tmp/out" || fail "the good program was not audited after the bad ones"
grep -q "^$tmp/needs_gone$" "$tmp/out" || fail "the program with a missing library was not audited"
grep -qiE 'segmentation|core dumped|abort' "$tmp/err" && fail "crashed on bad input"
"$F" audit > /dev/null 2>&1; [ $? -eq 2 ] || fail "no argument: want usage exit 2"
"$F" audit --format xml "$tmp/prog" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad --format: want exit 2"
"$F" audit -p 0 > /dev/null 2>&1; [ $? -eq 2 ] || fail "-p 0: want exit 2"

# -p PID: the objects a live process maps.
sleep 600 & pid=$!
# Until the child has exec'ed sleep, it is a copy of bash.
until [ "$(readlink /proc/$pid/exe)" = "$(readlink -f "$(command -v sleep)")" ]; do sleep 0.05; done
"$F" audit -p $pid > "$tmp/pid.txt" 2>&1 || fail "audit -p: exit $?"
kill $pid 2>/dev/null; wait $pid 2>/dev/null
grep -q "^/.*libc.so.6$" "$tmp/pid.txt" || fail "audit -p does not audit the process's libc"
grep -q "/sleep$" "$tmp/pid.txt" || fail "audit -p does not audit the program"

# --system over one directory (FPTRACE_AUDIT_DIRS; the whole system is make
# bench's): every shared object ranked, each with its Debian package, and a
# progress line when stderr is a terminal.
gconv=/usr/lib/x86_64-linux-gnu/gconv
FPTRACE_AUDIT_DIRS=$gconv "$F" audit --system --format json > "$tmp/sys.json" 2>"$tmp/err" ||
  fail "audit --system: exit $?: $(cat "$tmp/err")"
python3 - "$tmp/sys.json" "$gconv" <<'P' || fail "audit --system ranking"
import json, os, sys
d = json.load(open(sys.argv[1]))
files = [f for f in os.listdir(sys.argv[2]) if ".so" in f and os.path.isfile(os.path.join(sys.argv[2], f))]
r = d["ranking"]
assert d["objects"] == len(r) == len(files), (d["objects"], len(r), len(files))
shares = [x["breaking_share"] for x in r]
assert shares == sorted(shares, reverse=True), "not ranked by breaking share"
utf16 = [x for x in r if x["path"].endswith("/UTF-16.so")]
assert utf16 and utf16[0]["package"].startswith("libc6"), utf16
assert all(x["package"] for x in r), [x["path"] for x in r if not x["package"]]
P
script -qc "FPTRACE_AUDIT_DIRS=$gconv $F audit --system --top 1" /dev/null > "$tmp/tty.txt" 2>&1
grep -aq "\[1/[0-9]*\] $gconv/" "$tmp/tty.txt" || fail "no progress line on a terminal"
grep -aq "shared objects, [0-9]* functions audited in" "$tmp/tty.txt" || fail "no --system summary"

echo "audit: $fails failure(s)"
[ "$fails" -eq 0 ]
