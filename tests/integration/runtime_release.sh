#!/usr/bin/env bash
# The release runtime (build/lib/libfprt.a) has no injectable regressions and
# refuses FPRT_INJECT with a fatal error instead of ignoring it; without it the
# same program runs fine.  "No injectable regressions" is checked in the
# archive itself, not only in its behaviour: no symbol that holds or reads an
# injection flag (rt_injected, the public query that answers false, is the one
# exception), and no injection's name, as a string or as a debug-info name,
# anywhere in it.  The names come from the checked runtime, so a new injection
# is covered without editing this script.
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

# The injections the checked runtime knows: its refusal of an unknown name lists them.
cc $san -std=c11 -D_GNU_SOURCE -O2 -fno-omit-frame-pointer -pthread -rdynamic \
  -I"$root/libfpunwind/include" -I"$root/runtime/include" \
  "$root/tests/progs/switch.c" -o "$tmp/switch-checked" \
  "$build/lib/libfprt-checked.a" "$build/lib/libfpunwind_core.a" -pthread ||
  { echo "FAIL: cannot link a program against libfprt-checked.a"; exit 1; }
known=$(FPRT_INJECT=no-such-regression "$tmp/switch-checked" 2>&1 |
  sed -n 's/^fatal error: FPRT_INJECT: unknown regression "no-such-regression" (known: \(.*\))$/\1/p')
names=$(echo "$known" | tr -d ' ' | tr ',' '\n')
[ "$(echo "$names" | grep -c .)" -ge 6 ] ||
  { echo "FAIL: the checked runtime lists too few injections: \"$known\""; fail=1; }
syms=$(nm -A "$build/lib/libfprt.a" 2>&1) || { echo "FAIL: nm: $syms"; exit 1; }
strs=$(strings -a "$build/lib/libfprt.a")
checked_syms=$(nm "$build/lib/libfprt-checked.a")
bad=$(echo "$syms" | grep -i inject | grep -vE ' T rt_injected$')
[ -z "$bad" ] || { echo "FAIL: injection symbols in the release runtime:"; echo "$bad"; fail=1; }
echo "$checked_syms" | grep -q ' rt_inject$' ||
  { echo "FAIL: the checked runtime has no rt_inject symbol: this check looks for nothing"; fail=1; }
checked_strs=$(strings -a "$build/lib/libfprt-checked.a")
for n in $names; do
  echo "$checked_strs" | grep -qF -- "$n" ||
    { echo "FAIL: \"$n\" is not in the checked runtime either: the check below proves nothing"; fail=1; }
  for form in "$n" "${n//-/_}"; do
    if echo "$strs" | grep -qF -- "$form"; then
      echo "FAIL: \"$form\" is in the release runtime"; fail=1
    fi
  done
done
[ $fail -eq 0 ] &&
  echo "release archive: no injection symbol, none of $(echo "$names" | grep -c .) injection names"

out=$("$tmp/switch-release" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = OK ] || { echo "FAIL: release switch: rc $rc: $out"; fail=1; }
out=$(FPRT_INJECT=mcall-bp-leak "$tmp/switch-release" 2>&1); rc=$?
echo "$out" | head -1
[ $rc -eq 2 ] || { echo "FAIL: FPRT_INJECT on the release runtime exited $rc, not 2"; fail=1; }
echo "$out" | grep -q '^fatal error: FPRT_INJECT="mcall-bp-leak": this is the release runtime' ||
  { echo "FAIL: message: $out"; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
