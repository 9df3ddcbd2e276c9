#!/usr/bin/env bash
# Real Go: goroutines calling runtime.Gosched in a loop (tests/progs/go/yield),
# built with Debian's Go 1.19 as it is (runtime·mcall keeps BP: seed 003) and
# with seed 003's fix patched into a copy of GOROOT.  Each is checked from both
# sources (`fptrace run --perf`, and `perf record --call-graph dwarf` + `fptrace
# check -i perf.data`) and with both DWARF backends:
#   stock  fp-leak at runtime.mcall, exit 3;
#   fixed  no defect at runtime.mcall, and no false alarm where DWARF, not the
#          frame pointers, is wrong (rt0_go, goexit, gogo, the vDSO calls);
#          any other defect is one of Go 1.19's own (morestack keeps BP,
#          clone's child inherits it);
#   both   dwarf-fail under 5% of samples.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

stock=$(go_build yield stock) || exit 1
fixed=$(go_build yield fixed) || exit 1

false_alarm='at (runtime\.(rt0_go|goexit|gogo|nanotime1|walltime|walltime1|asmcgocall|cgocallback)(\.abi0)?|gogo|time\.now|crosscall2) '
go119_defects='at runtime\.(morestack|mstart)(\.abi0)? '

# judge LABEL FLAVOR OUT EXIT
judge() {
  local label=$1 flavor=$2 out=$3 rc=$4 pct
  pct=$(dwarf_fail_percent "$out")
  [ -n "$pct" ] && [ "$pct" -lt 5 ] || fail "$label: dwarf-fail ${pct:-?}% of samples, want < 5%"
  if defect_sites "$out" | grep -E "$false_alarm"; then
    fail "$label: a false alarm where DWARF is what is wrong"
  fi
  if [ "$flavor" = stock ]; then
    [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 3"
    defect_sites "$out" | grep -qE '^  fp-leak +[0-9]+ samples +at runtime\.mcall ' ||
      { fail "$label: no fp-leak at runtime.mcall"; sed -n 1,40p "$out"; }
  else
    if defect_sites "$out" | grep -E 'at runtime\.mcall '; then
      fail "$label: a defect at runtime.mcall in the fixed runtime"
    fi
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 0 or 3"
    if defect_sites "$out" | grep -vE "$go119_defects"; then
      fail "$label: defects other than Go 1.19's own (morestack, mstart)"; sed -n 1,60p "$out"
    fi
  fi
  grep -q '^Go program (go1\.' "$out" || fail "$label: the Go runtime was not detected"
}

for flavor in stock fixed; do
  exe=${flavor/stock/$stock}; exe=${exe/fixed/$fixed}
  # Source 1: fptrace's own perf sampler; the same file with libunwind.
  "$F" run --perf -F 999 -o "$tmp/$flavor.fpt" -- "$exe" >"$tmp/$flavor.run" 2>&1
  judge "run --perf ($flavor)" $flavor "$tmp/$flavor.run" $?
  "$F" check -i "$tmp/$flavor.fpt" --backend libunwind >"$tmp/$flavor.unw" 2>&1
  judge "check --backend libunwind ($flavor)" $flavor "$tmp/$flavor.unw" $?
  # Source 2: perf record --call-graph dwarf, both backends.
  perf record -q -e cpu-clock -F 999 --call-graph dwarf -o "$tmp/$flavor.data" -- "$exe" \
    >"$tmp/$flavor.perf.log" 2>&1 || fail "perf record ($flavor): $(head -3 "$tmp/$flavor.perf.log")"
  "$F" check -i "$tmp/$flavor.data" --backend both >"$tmp/$flavor.dwarf" 2>&1
  judge "check -i perf.data ($flavor)" $flavor "$tmp/$flavor.dwarf" $?
done

[ "$fails" -eq 0 ] && echo "go_yield: all checks passed"
[ "$fails" -eq 0 ]
