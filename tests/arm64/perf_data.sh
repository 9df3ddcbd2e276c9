#!/usr/bin/env bash
# A perf.data of arm64 samples read by `fptrace check` on the host.  qemu-user
# has no perf_event_open (the guest gets ENOSYS), so the file is made from a
# real arm64 run: yield under qemu with fprt's in-process profiler (clean, and
# with FPRT_INJECT=mcall-bp-leak, seed 003), whose CPU samples (x19..x30, sp,
# pc and the stack from sp) tests/arm64/fpt2perf.c writes as the perf.data of
# `perf record -e cpu-clock --call-graph dwarf` on an arm64 machine: HEADER_ARCH
# "aarch64", sample_regs_user the aarch64 mask, MMAP2 and SAMPLE records.  The
# host's fptrace must read the aarch64 registers (HEADER_ARCH) and unwind with
# libdw's aarch64 backend, and give the .fpt's verdicts: clean exits 0;
# injected exits 3 with fp-leak at rt_mcall, the chain going on into
# rt_mstart_asm.  Then a perf.data from a machine fptrace does not unwind
# (HEADER_ARCH "ppc64le"): one line, exit 1.
source "$(dirname "$0")/common.bash"

host=${FPT_HOST_BUILD:-build}
make --no-print-directory "$host/lib/libfpunwind_core.a" >/dev/null ||
  { echo "FAIL: cannot build the host's libfpunwind_core.a"; exit 1; }
cc -std=c11 -D_GNU_SOURCE -g -O2 -fno-omit-frame-pointer -Wall -Wextra -Werror \
   -Ilibfpunwind/include tests/arm64/fpt2perf.c "$host/lib/libfpunwind_core.a" -o "$tmp/fpt2perf" ||
  { echo "FAIL: cannot build tests/arm64/fpt2perf.c"; exit 1; }

record_arm64 "$tmp/clean.fpt" -- yield -t 3 || { fail "yield (clean)"; cat "$tmp/prog.out"; exit 1; }
record_arm64 "$tmp/leak.fpt" FPRT_INJECT=mcall-bp-leak -- yield -t 3 ||
  { fail "yield (mcall-bp-leak)"; cat "$tmp/prog.out"; exit 1; }

# check_both NAME WANT_RC: the .fpt and the perf.data made from it, both WANT_RC.
check_both() {
  local name=$1 want=$2 rc
  "$tmp/fpt2perf" "$tmp/$name.fpt" "$tmp/$name.data" || { fail "fpt2perf $name"; return; }
  for f in "$name.fpt" "$name.data"; do
    "$fptrace" check -i "$tmp/$f" >"$tmp/$f.txt" 2>&1; rc=$?
    echo "--- fptrace check -i $f: exit $rc"
    sed -n '/samples (/p; /^class/,/^verdict/p' "$tmp/$f.txt" | grep -Ev '^[a-z-]+ +0 +0\.00%'
    [ $rc -eq "$want" ] || { fail "$f (arm64) checked exit $rc, want $want"; cat "$tmp/$f.txt"; }
  done
  # Most samples unwound alike, not a verdict on samples nobody could read.
  local n m
  n=$(sed -nE 's/^([0-9]+) samples \(([0-9]+) cpu, 0 wall\).*/\2/p' "$tmp/$name.data.txt")
  m=$(awk '$1 == "match" { print $2 }' "$tmp/$name.data.txt")
  [ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "$m" ] && [ $((2 * m)) -gt "$n" ] ||
    fail "$name.data: ${m:-no} of ${n:-no} CPU samples match, want more than half"
  # ... and they are yield's: its goroutines spin, its scheduler runs under
  # rt_mcall (registers read as another machine's would name neither).
  "$fptrace" report --top 100000 -i "$tmp/$name.data" >"$tmp/$name.report" 2>&1
  grep -Eq ' spin \(yield\)$' "$tmp/$name.report" && grep -Eq ' rt_mcall \(yield\)$' "$tmp/$name.report" ||
    { fail "$name.data: the profile names neither spin nor rt_mcall"; head -12 "$tmp/$name.report"; }
}

check_both clean 0
check_both leak 3
grep -Eq '^  fp-leak +[0-9]+ samples +at rt_mcall \(yield\)' "$tmp/leak.data.txt" ||
  fail "leak.data: no fp-leak at rt_mcall"
grep -Eq '^ +#[0-9]+ +rt_mcall +' "$tmp/leak.data.txt" &&
  grep -Eq '^ +>#[0-9]+ +rt_mstart_asm ' "$tmp/leak.data.txt" ||
  fail "leak.data: the leaked chain does not go on from rt_mcall into rt_mstart_asm"

# HEADER_ARCH "aarch64" -> "ppc64le" (same length): an architecture fptrace
# does not unwind, named as perf wrote it.
python3 - "$tmp/leak.data" "$tmp/ppc.data" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
assert b.count(b'aarch64\0') == 1, 'HEADER_ARCH not found once'
open(sys.argv[2], 'wb').write(b.replace(b'aarch64\0', b'ppc64le\0'))
PY
"$fptrace" check -i "$tmp/ppc.data" >"$tmp/ppc.txt" 2>&1; rc=$?
cat "$tmp/ppc.txt"
want="fptrace check: $tmp/ppc.data: recorded on an unsupported architecture (ppc64le): fptrace reads x86-64 and aarch64 recordings"
[ $rc -eq 1 ] && [ "$(cat "$tmp/ppc.txt")" = "$want" ] ||
  fail "unsupported perf.data arch: exit $rc, want 1 and the line: $want"

[ $fails -eq 0 ] && echo "PASS: arm64 perf.data: clean checks clean, mcall-bp-leak is fp-leak at rt_mcall, as in the .fpt"
exit $fails
