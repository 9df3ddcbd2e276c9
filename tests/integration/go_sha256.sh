#!/usr/bin/env bash
# Real Go: crypto/sha256 (tests/progs/go/sha256).  Go 1.19's block assembly
# uses BP as a table register ("#define TBL BP"), so a chain read there starts
# from SHA-256 constants.  From both sources, stock and fixed runtime, the
# defect must be named as such: fp-clobbered at crypto/sha256.block, never a
# plain divergence; dwarf-fail stays under 5%.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

for flavor in stock fixed; do
  exe=$(go_build sha256 $flavor) || exit 1
  "$F" run --perf -F 999 -o "$tmp/$flavor.fpt" -- "$exe" 3000 >"$tmp/$flavor.run" 2>&1
  rc=$?
  perf record -q -e cpu-clock -F 999 --call-graph dwarf -o "$tmp/$flavor.data" -- "$exe" 3000 \
    >"$tmp/$flavor.perf.log" 2>&1 || fail "perf record ($flavor): $(head -3 "$tmp/$flavor.perf.log")"
  "$F" check -i "$tmp/$flavor.data" --backend both >"$tmp/$flavor.dwarf" 2>&1
  for out in run dwarf; do
    label="$out ($flavor)"
    [ "$out" = dwarf ] && rc=$(grep -q 'verdict: .*FAIL' "$tmp/$flavor.dwarf" && echo 3 || echo 0)
    [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 3"
    defect_sites "$tmp/$flavor.$out" | grep -qE '^  fp-clobbered +[0-9]+ samples +at crypto/sha256\.block(\.abi0)? ' ||
      { fail_lines "$label: no fp-clobbered at crypto/sha256.block among" "$(defect_sites "$tmp/$flavor.$out")"
        sed -n 1,40p "$tmp/$flavor.$out"; }
    grep -q 'uses BP as a general register' "$tmp/$flavor.$out" || fail "$label: BP as a register is not said"
    bad=$(defect_sites "$tmp/$flavor.$out" | grep -E '^  fp-diverge .* at crypto/sha256') &&
      fail_lines "$label: a divergence at sha256 instead of fp-clobbered" "$bad"
    pct=$(dwarf_fail_percent "$tmp/$flavor.$out")
    [ -n "$pct" ] && [ "$pct" -lt 5 ] || fail "$label: dwarf-fail ${pct:-?}% of samples, want < 5%"
  done
done

[ "$fails" -eq 0 ] && echo "go_sha256: all checks passed"
[ "$fails" -eq 0 ]
