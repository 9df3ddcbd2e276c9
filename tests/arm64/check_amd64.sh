#!/usr/bin/env bash
# The reverse direction of seed003.sh: recorded on amd64, checked on arm64.
# yield runs on the host with fprt's in-process profiler, clean and with
# FPRT_INJECT=mcall-bp-leak (seed 003: rt_mcall leaves g0.sched.bp in rbp, as
# Go's mcall did before commit 9c1d19a1); the arm64 fptrace
# (build-arm64/bin/fptrace, under qemu) checks both .fpt files with the x86-64
# backend of its arm64 libdw and must give the host fptrace's verdicts: the same
# exit status (clean 0; injected 3, fp-leak at rt_mcall) and, line for line,
# the same defects in the code under test, chains included.
# Only system-library counts may differ: a sample in the vDSO is unwound on the
# host with the host's own vDSO image (dwarf_vdso.c: same build-id), which no
# arm64 process has, so there DWARF stops verifying at __vdso_clock_gettime
# (unverified, a benign class) instead of seeing libc's clock_gettime skip
# rt_nanotime (an fp-skips in a system library, which does not fail the check).
# Then the errors: a file that is not a recording gets the host's line, exit 1;
# --backend libunwind (native samples only) one line naming libdw, exit 1.
source "$(dirname "$0")/common.bash"

arm_fptrace=$build/bin/fptrace
[ -x "$arm_fptrace" ] || { fail "no $arm_fptrace (make ARCH=arm64 builds it)"; exit 1; }
yield=$host_build/progs/yield
need_host "$yield"

record_host() { # OUT.fpt [VAR=value...]
  local out=$1; shift
  env "$@" FPTRACE_OUT="$out" "$yield" -t 3 >"$tmp/prog.out" 2>&1 ||
    { fail "yield $* on the host: exit $?"; cat "$tmp/prog.out"; exit 1; }
}
record_host "$tmp/clean.fpt"
record_host "$tmp/leak.fpt" FPRT_INJECT=mcall-bp-leak

# check_both NAME WANT_RC: the host's and the arm64 fptrace's check of
# $tmp/NAME.fpt; both exit WANT_RC and say the same of the code under test.
check_both() {
  local name=$1 want=$2 hrc arc
  "$fptrace" check -i "$tmp/$name.fpt" >"$tmp/$name.host" 2>&1; hrc=$?
  "$qemu" "$arm_fptrace" check -i "$tmp/$name.fpt" >"$tmp/$name.arm64" 2>&1; arc=$?
  echo "--- $name.fpt checked on arm64 (host: exit $hrc)"
  sed -n '/^class/,/^verdict/p' "$tmp/$name.arm64"
  [ $hrc -eq "$want" ] || { fail "$name (amd64) checked on the host: exit $hrc, want $want"; cat "$tmp/$name.host"; }
  [ $arc -eq "$want" ] || { fail "$name (amd64) checked on arm64: exit $arc, want $want"; cat "$tmp/$name.arm64"; }
  code_defects "$tmp/$name.host" >"$tmp/$name.host.defects"
  code_defects "$tmp/$name.arm64" >"$tmp/$name.arm64.defects"
  [ -s "$tmp/$name.arm64.defects" ] || fail "$name: no defect section or verdict on arm64"
  diff -u "$tmp/$name.host.defects" "$tmp/$name.arm64.defects" >"$tmp/$name.diff" ||
    { fail "$name: the arm64 check says otherwise than the host's of the code under test"; cat "$tmp/$name.diff"; }
}

check_both clean 0
check_both leak 3
grep -Eq '^  fp-leak +[0-9]+ samples +at rt_mcall \(yield\)' "$tmp/leak.arm64" ||
  fail "arm64 check of the injected amd64 recording: no fp-leak at rt_mcall"

# Not a recording: the same one line as the host's, exit 1.
"$fptrace" check -i "$yield" >"$tmp/bad.host" 2>&1; hrc=$?
"$qemu" "$arm_fptrace" check -i "$yield" >"$tmp/bad.arm64" 2>&1; arc=$?
cat "$tmp/bad.arm64"
[ $hrc -eq 1 ] && [ $arc -eq 1 ] && [ "$(wc -l <"$tmp/bad.arm64")" -eq 1 ] &&
  cmp -s "$tmp/bad.host" "$tmp/bad.arm64" ||
  fail "not a recording: host exit $hrc ($(cat "$tmp/bad.host")), arm64 exit $arc, want 1 and the same one line"

# libunwind unwinds the machine it runs on only.
"$qemu" "$arm_fptrace" check --backend libunwind -i "$tmp/leak.fpt" >"$tmp/lu.arm64" 2>&1; arc=$?
cat "$tmp/lu.arm64"
want="fptrace check: libunwind here unwinds aarch64 samples only, these are x86-64's (--backend libdw unwinds them)"
[ $arc -eq 1 ] && [ "$(cat "$tmp/lu.arm64")" = "$want" ] ||
  fail "--backend libunwind on arm64: exit $arc, want 1 and the line: $want"

[ $fails -eq 0 ] && echo "PASS: amd64 recordings checked on arm64: clean checks clean, mcall-bp-leak is fp-leak at rt_mcall, as on the host"
exit $fails
