#!/usr/bin/env bash
# The release runtime (build/lib/libfprt.a) has no injectable regressions and
# refuses FPRT_INJECT with a fatal error instead of ignoring it; without it the
# same program runs fine.
set -u
build=${FPT_BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# make SAN=...: the archives are instrumented, so the link needs the runtimes
san=
if nm "$build/lib/libfprt.a" 2>/dev/null | grep -q ' U __asan_'; then
  san=-fsanitize=address,undefined
elif nm "$build/lib/libfprt.a" 2>/dev/null | grep -q ' U __tsan_'; then
  san=-fsanitize=thread
fi
cc $san -std=c11 -D_GNU_SOURCE -O2 -fno-omit-frame-pointer -pthread -rdynamic \
  -I"$root/libfpunwind/include" -I"$root/runtime/include" \
  "$root/tests/progs/switch.c" -o "$tmp/switch-release" \
  "$build/lib/libfprt.a" "$build/lib/libfpunwind_core.a" -pthread ||
  { echo "FAIL: cannot link a program against libfprt.a"; exit 1; }
fail=0
out=$("$tmp/switch-release" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = OK ] || { echo "FAIL: release switch: rc $rc: $out"; fail=1; }
out=$(FPRT_INJECT=mcall-bp-leak "$tmp/switch-release" 2>&1); rc=$?
echo "$out" | head -1
[ $rc -eq 2 ] || { echo "FAIL: FPRT_INJECT on the release runtime exited $rc, not 2"; fail=1; }
echo "$out" | grep -q '^fatal error: FPRT_INJECT="mcall-bp-leak": this is the release runtime' ||
  { echo "FAIL: message: $out"; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
