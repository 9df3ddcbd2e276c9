#!/usr/bin/env bash
# Seed 003's arm64 half, recorded on arm64 and checked on the host.  yield runs
# under qemu-user with fprt's in-process profiler, clean and with
# FPRT_INJECT=mcall-bp-leak (rt_mcall loads g0.sched.bp into x29, as Go's arm64
# mcall did before commit 9c1d19a1); the host's fptrace (x86-64) checks both
# .fpt files with libdw's aarch64 backend: clean exits 0; injected exits 3 with
# fp-leak at rt_mcall, the FP chain going on from rt_mcall into rt_mstart_asm
# (the frame g0.sched.bp names: "it looks like mstart calls mcall").  The arm64
# fptrace checks them too, with libdw (the host's verdicts) and with libunwind.
# Then the injected file's header claims another machine (EM_ARM): one line, exit 1.
source "$(dirname "$0")/common.bash"

record_arm64 "$tmp/clean.fpt" -- yield -t 3 || { fail "yield (clean)"; cat "$tmp/prog.out"; exit 1; }
record_arm64 "$tmp/leak.fpt" FPRT_INJECT=mcall-bp-leak -- yield -t 3 ||
  { fail "yield (mcall-bp-leak)"; cat "$tmp/prog.out"; exit 1; }

"$fptrace" check -i "$tmp/clean.fpt" >"$tmp/clean.txt" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/clean.txt"
[ $rc -eq 0 ] || { fail "clean yield (arm64) checked exit $rc, want 0"; cat "$tmp/clean.txt"; }

"$fptrace" check -i "$tmp/leak.fpt" >"$tmp/leak.txt" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/leak.txt"
[ $rc -eq 3 ] || fail "mcall-bp-leak yield (arm64) checked exit $rc, want 3"
grep -Eq '^  fp-leak +[0-9]+ samples +at rt_mcall \(yield\)' "$tmp/leak.txt" ||
  { fail "no fp-leak at rt_mcall"; cat "$tmp/leak.txt"; }
grep -Eq '^ +#[0-9]+ +rt_mcall +' "$tmp/leak.txt" && grep -Eq '^ +>#[0-9]+ +rt_mstart_asm ' "$tmp/leak.txt" ||
  fail "the leaked chain does not go on from rt_mcall into rt_mstart_asm"

# The same files checked on arm64 itself by the arm64 fptrace, under qemu: with
# libdw, what the host said of the code under test; with libunwind (its aarch64
# build unwinds only samples of the machine it runs on), the same verdicts.
arm_fptrace=$build/bin/fptrace
for backend in libdw libunwind; do
  for name in clean leak; do
    want=0; [ $name = leak ] && want=3
    out=$tmp/$name.$backend.arm64
    "$qemu" "$arm_fptrace" check --backend $backend -i "$tmp/$name.fpt" >"$out" 2>&1; rc=$?
    echo "--- $name.fpt checked on arm64 with $backend: exit $rc"
    [ $rc -eq $want ] || { fail "$name (arm64) checked on arm64 with $backend: exit $rc, want $want"; cat "$out"; }
  done
  grep -Eq '^  fp-leak +[0-9]+ samples +at rt_mcall \(yield\)' "$tmp/leak.$backend.arm64" ||
    fail "arm64 check with $backend: no fp-leak at rt_mcall"
done
for name in clean leak; do
  diff -u <(code_defects "$tmp/$name.txt") <(code_defects "$tmp/$name.libdw.arm64") >"$tmp/$name.diff" ||
    { fail "$name: the arm64 check (libdw) says otherwise than the host's of the code under test"; cat "$tmp/$name.diff"; }
done

# The same file from an architecture fptrace does not unwind: machine 40 at
# header bytes [24, 28), the header CRC-32C (bytes [0, 20) and [24, 32)) redone.
python3 - "$tmp/leak.fpt" "$tmp/arm32.fpt" <<'PY'
import struct, sys
def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
b = bytearray(open(sys.argv[1], 'rb').read())
hlen = struct.unpack_from('<I', b, 12)[0]
struct.pack_into('<I', b, 24, 40)
struct.pack_into('<I', b, 20, crc32c(b[24:hlen], crc32c(b[:20])))
open(sys.argv[2], 'wb').write(b)
PY
"$fptrace" check -i "$tmp/arm32.fpt" >"$tmp/arm32.txt" 2>&1; rc=$?
cat "$tmp/arm32.txt"
want="fptrace check: $tmp/arm32.fpt: recorded on an unsupported architecture (ELF machine 40): fptrace reads x86-64 and aarch64 recordings"
[ $rc -eq 1 ] && [ "$(cat "$tmp/arm32.txt")" = "$want" ] ||
  fail "unsupported machine: exit $rc, want 1 and the line: $want"

[ $fails -eq 0 ] && echo "PASS: seed 003 on arm64: clean checks clean, mcall-bp-leak is fp-leak at rt_mcall"
exit $fails
