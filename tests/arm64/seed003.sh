#!/usr/bin/env bash
# Seed 003's arm64 half, recorded on arm64 and checked on the host.  yield runs
# under qemu-user with fprt's in-process profiler (FPTRACE_OUT), clean and with
# FPRT_INJECT=mcall-bp-leak (rt_mcall loads g0.sched.bp into x29, as Go's arm64
# mcall did before commit 9c1d19a1); the host's fptrace (x86-64) checks both
# .fpt files with libdw's aarch64 backend: clean exits 0; injected exits 3 with
# fp-leak at rt_mcall, the FP chain going on from rt_mcall into rt_mstart_asm
# (the frame g0.sched.bp names: "it looks like mstart calls mcall").  Then the
# injected file's header claims another machine (EM_ARM): one line, exit 1.
# Run by scripts/run-tests-arm64.sh: FPT_BUILD is the arm64 build, QEMU runs an
# arm64 program; the host's fptrace is built if it is not there yet.
set -u
build=${FPT_BUILD:?FPT_BUILD: the arm64 build directory}
qemu=${QEMU:-qemu-aarch64-static}
fptrace=${FPT_HOST_BUILD:-build}/bin/fptrace
[ -x "$fptrace" ] || make --no-print-directory "$fptrace" >/dev/null ||
  { echo "FAIL: cannot build the host's $fptrace"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

record() { # OUT [INJECTION]
  if ! env ${2:+FPRT_INJECT=$2} FPTRACE_OUT="$1" "$qemu" "$build/progs/yield" -t 3 \
       >"$tmp/yield.out" 2>&1; then
    echo "FAIL: yield ${2:-clean} under $qemu failed:"; cat "$tmp/yield.out"; exit 1
  fi
}

record "$tmp/clean.fpt"
record "$tmp/leak.fpt" mcall-bp-leak

"$fptrace" check -i "$tmp/clean.fpt" >"$tmp/clean.txt" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/clean.txt"
[ $rc -eq 0 ] || { echo "FAIL: clean yield (arm64) checked exit $rc, want 0"; cat "$tmp/clean.txt"; fail=1; }

"$fptrace" check -i "$tmp/leak.fpt" >"$tmp/leak.txt" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/leak.txt"
[ $rc -eq 3 ] || { echo "FAIL: mcall-bp-leak yield (arm64) checked exit $rc, want 3"; fail=1; }
grep -Eq '^  fp-leak +[0-9]+ samples +at rt_mcall \(yield\)' "$tmp/leak.txt" ||
  { echo "FAIL: no fp-leak at rt_mcall"; cat "$tmp/leak.txt"; fail=1; }
grep -Eq '^ +#[0-9]+ +rt_mcall +' "$tmp/leak.txt" && grep -Eq '^ +>#[0-9]+ +rt_mstart_asm ' "$tmp/leak.txt" ||
  { echo "FAIL: the leaked chain does not go on from rt_mcall into rt_mstart_asm"; fail=1; }

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
  { echo "FAIL: unsupported machine: exit $rc, want 1 and the line: $want"; fail=1; }

[ $fail -eq 0 ] && echo "PASS: seed 003 on arm64: clean checks clean, mcall-bp-leak is fp-leak at rt_mcall"
exit $fail
