#!/usr/bin/env bash
# Real Go with cgo (tests/progs/go/cgo): Go calls C, C calls back into Go
# through //export.  The C code is built with Go's default CGO_CFLAGS (-O2 -g,
# so gcc omits frame pointers) and with -fno-omit-frame-pointer, each on the
# stock and the fixed runtime, each checked from both sources:
#   no FP  fp-skips at the cgo wrapper _cgo_<hash>_Cfunc_cwork (the cgo call
#          whose C frames vanish), with the CGO_CFLAGS hint;
#   FP     no defect at the C code nor at the crossings (asmcgocall,
#          cgocallback, crosscall2) or the thread start (mstart called by C);
#          only Go 1.19's own (mcall on stock, morestack);
#   all    dwarf-fail under 5% of samples, with libdw and with libunwind.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

c_code='at (cspin|cwork|_cgo_[0-9a-f]+_Cfunc_cwork|crosscall2|runtime\.(asmcgocall|cgocallback|mstart)(\.abi0)?) '

judge() { # label flavor cflags out exit
  local label=$1 flavor=$2 cflags=$3 out=$4 rc=$5 pct
  pct=$(dwarf_fail_percent "$out")
  [ -n "$pct" ] && [ "$pct" -lt 5 ] || fail "$label: dwarf-fail ${pct:-?}% of samples, want < 5%"
  grep -q '^Go program (go1\.' "$out" || fail "$label: the Go runtime was not detected"
  if [ "$cflags" = nofp ]; then
    [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 3"
    # The culprit is the cgo call the Go code made (the wrapper cwork is
    # entered through), fp-skips: its C frames vanish from the chain.
    defect_sites "$out" | grep -qE '^  fp-skips +[0-9]+ samples +at _cgo_[0-9a-f]+_Cfunc_cwork ' ||
      { fail "$label: no fp-skips at the cgo wrapper _cgo_..._Cfunc_cwork"; sed -n 1,40p "$out"; }
    if defect_sites "$out" | grep -E 'at (cspin|cwork) '; then
      fail "$label: a defect at the C functions instead of their cgo wrapper"
    fi
    grep -qF "cgo C code built without frame pointers; build with CGO_CFLAGS='-O2 -g -fno-omit-frame-pointer'" "$out" ||
      fail "$label: no CGO_CFLAGS hint"
  else
    if defect_sites "$out" | grep -E "$c_code"; then fail "$label: a defect at C code built with frame pointers"; fi
    local own='at runtime\.(morestack|mcall|systemstack)(\.abi0)? '
    [ "$flavor" = fixed ] && own='at runtime\.(morestack|systemstack)(\.abi0)? '
    if defect_sites_under_test "$out" | grep -vE "$own"; then fail "$label: defects other than Go 1.19's own"; fi
  fi
}

for flavor in stock fixed; do
  for cflags in nofp fp; do
    flags='-O2 -g'; [ $cflags = fp ] && flags='-O2 -g -fno-omit-frame-pointer'
    exe=$(go_build cgo $flavor "CGO_CFLAGS=$flags") || exit 1
    "$F" run --perf -F 999 -o "$tmp/$flavor-$cflags.fpt" -- "$exe" 20000 >"$tmp/run" 2>&1
    judge "run --perf ($flavor, $cflags)" $flavor $cflags "$tmp/run" $?
    # libunwind reads the C code's .eh_frame_hdr of this non-PIE executable.
    "$F" check -i "$tmp/$flavor-$cflags.fpt" --backend libunwind >"$tmp/unw" 2>&1
    judge "check --backend libunwind ($flavor, $cflags)" $flavor $cflags "$tmp/unw" $?
    perf record -q -e cpu-clock -F 999 --call-graph dwarf -o "$tmp/$flavor-$cflags.data" -- "$exe" 20000 \
      >"$tmp/perf.log" 2>&1 || fail "perf record ($flavor, $cflags): $(head -3 "$tmp/perf.log")"
    "$F" check -i "$tmp/$flavor-$cflags.data" --backend both >"$tmp/dwarf" 2>&1
    judge "check -i perf.data, both backends ($flavor, $cflags)" $flavor $cflags "$tmp/dwarf" $?
  done
done

[ "$fails" -eq 0 ] && echo "go_cgo: all checks passed"
[ "$fails" -eq 0 ]
