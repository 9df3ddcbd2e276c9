# go_common.bash — the real Go runtime for the go_*.sh scripts (sourced after
# common.bash).  Each program under tests/progs/go/NAME is built twice:
#   stock  Debian's Go as installed (Go 1.19 still has seed 003's bug: mcall
#          keeps BP);
#   fixed  the same Go with seed 003's one-line fix (MOVQ $0, BP right after
#          the SP switch in runtime·mcall) patched into an overlay copy of
#          GOROOT made here: symlinks to the system's files, a real copy of
#          src/runtime only.  The system's Go is never changed.
# Builds go to $B/go (GOCACHE there too, no network: GOFLAGS=-mod=mod,
# GOPROXY=off), once per source and GOROOT: later scripts reuse them.
# go_perf_source FILE.fpt NAME FLAVOR ARGS...: `fptrace record --perf`;
# go_perf_dwarf FILE.data NAME FLAVOR ARGS...: `perf record --call-graph dwarf`.

command -v go >/dev/null 2>&1 || { echo "FAIL: go is not installed (scripts/deps.sh installs golang-go)"; exit 1; }
command -v perf >/dev/null 2>&1 || { echo "FAIL: perf is not installed (scripts/deps.sh installs linux-perf)"; exit 1; }

# FPT_KEEP_FAILED=DIR: a script that failed leaves its scratch files (check
# outputs, .fpt, perf.data) in DIR/SCRIPT.PID, to study a rare failure.
trap '[ -n "${FPT_KEEP_FAILED:-}" ] && [ "$fails" -ne 0 ] && mkdir -p "$FPT_KEEP_FAILED" &&
      cp -a "$tmp" "$FPT_KEEP_FAILED/$(basename "$0" .sh).$$"; rm -rf "$tmp"' EXIT

GO_DIR=$B/go
GO_STOCK_ROOT=$(go env GOROOT)
GO_FIXED_ROOT=$GO_DIR/goroot-fixed
export GOCACHE=$GO_DIR/cache GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on
mkdir -p "$GO_DIR/bin" "$GOCACHE"

# The overlay GOROOT with the fix; made once, atomically (a rename), so that
# two scripts never see half of one.
go_fixed_goroot() {
  [ -f "$GO_FIXED_ROOT/.fptrace-fixed" ] && return 0
  local t=$GO_DIR/goroot-fixed.$$ src
  rm -rf "$t" && mkdir -p "$t/src" || return 1
  for f in "$GO_STOCK_ROOT"/*; do
    [ "$(basename "$f")" = src ] || ln -s "$(readlink -f "$f")" "$t/$(basename "$f")"
  done
  src=$(readlink -f "$GO_STOCK_ROOT/src")
  for f in "$src"/*; do
    [ "$(basename "$f")" = runtime ] || ln -s "$f" "$t/src/$(basename "$f")"
  done
  cp -a "$src/runtime" "$t/src/runtime" || return 1
  # Seed 003 (Go commit 9c1d19a): clear BP once SP is g0's, before fn runs.
  sed -i 's|^\(\tMOVQ\t(g_sched+gobuf_sp)(R14), SP\t// sp = g0.sched.sp\)$|\1\n\tMOVQ\t$0, BP\t// clear frame pointer, as caller may execute on another M|' \
    "$t/src/runtime/asm_amd64.s"
  grep -q 'MOVQ	$0, BP	// clear frame pointer, as caller may execute on another M' \
    "$t/src/runtime/asm_amd64.s" || { echo "FAIL: could not patch runtime·mcall in $src/runtime/asm_amd64.s"; return 1; }
  touch "$t/.fptrace-fixed"
  rm -rf "$GO_FIXED_ROOT" && mv "$t" "$GO_FIXED_ROOT"
}

# go_build NAME FLAVOR [VAR=value...]: builds with that environment and prints
# the binary's path; rebuilt only when a source is newer than it.
go_build() {
  local name=$1 flavor=$2; shift 2
  local dir=$PWD/tests/progs/go/$name out=$GO_DIR/bin/$name-$flavor root=$GO_STOCK_ROOT
  [ $# -eq 0 ] || out=$out-$(printf '%s\n' "$@" | md5sum | cut -c1-8)   # one binary per environment
  if [ "$flavor" = fixed ]; then go_fixed_goroot || return 1; root=$GO_FIXED_ROOT; fi
  if [ -x "$out" ] && [ -z "$(find "$dir" -newer "$out" -type f)" ]; then echo "$out"; return 0; fi
  (cd "$dir" && env GOROOT="$root" "$@" go build -o "$out.tmp" . >"$GO_DIR/build-$name-$flavor.log" 2>&1) ||
    { echo "FAIL: go build $name ($flavor): $(tail -5 "$GO_DIR/build-$name-$flavor.log")" >&2; return 1; }
  mv "$out.tmp" "$out" && echo "$out"
}

# The share of dwarf-fail in a check's class table, 0..100 (one backend's column;
# with --backend both the worse of the two).
dwarf_fail_percent() {
  awk '$1 == "dwarf-fail" { a = $3; b = NF >= 5 ? $5 : "0%"; sub("%", "", a); sub("%", "", b)
                           print int(a + 0 > b + 0 ? a : b) }' "$1"
}

# Defect lines ("  fp-leak  N samples  at FUNC (module)") of a check output.
defect_sites() { grep -E '^  fp-[a-z]+ +[0-9]+ samples +at ' "$1"; }

# The same, of the code under test only: not the system libraries' section,
# where libc's functions built without frame pointers are reported (the
# C rule: a frame without a record hides its caller) but do not fail.
defect_sites_under_test() {
  sed '/^Defects in system libraries/,/^$/d' "$1" | grep -E '^  fp-[a-z]+ +[0-9]+ samples +at '
}

# Where DWARF (or a stack copy that starts at SP: duffzero, duffcopy), not
# the frame pointers, is what is wrong: never a defect.  runtime.systemstack
# is a legal crossing too, but Go 1.19's has no frame record of its own and
# hides its caller: there fp-skips is right and any other class is not.
GO_FALSE_ALARM='at (runtime\.(rt0_go|goexit|gogo|nanotime1|walltime|walltime1|asmcgocall|cgocallback|duffzero|duffcopy)(\.abi0)?|gogo|time\.now|crosscall2) '
# Go 1.19's own frame-pointer defects, which the fixed runtime (seed 003's
# fix only) keeps: morestack keeps BP for newstack, clone's child inherits
# the parent thread's BP (a sample in clone's child half, between the
# syscall and its CALL of mstart, and every one under mstart leaks into
# the parent's g0 stack), systemstack and the gcWriteBarrier register thunks
# ("NOSPLIT, $0", calling gcWriteBarrier) have no frame record and hide
# their callers.
GO119_OWN='at runtime\.(morestack|clone|mstart|systemstack|gcWriteBarrier[A-Z0-9]*)(\.abi0)? '
GO_SYSTEMSTACK_OTHER='^  fp-(truncated|leak|stale|diverge|clobbered) +[0-9]+ samples +at runtime\.systemstack(\.abi0)? '


# go_judge LABEL FLAVOR OUT EXIT MUST_STOCK MUST_FIXED ALLOWED_FIXED
#   MUST_*: a regex of defect lines that must be there (stock exits 3);
#   ALLOWED_FIXED: the only defect lines the fixed runtime may show ('' for
#   none, '.' for any); never one at runtime.mcall nor a false alarm.
go_judge() {
  local label=$1 flavor=$2 out=$3 rc=$4 must_stock=$5 must_fixed=$6 allowed=$7 pct bad
  pct=$(dwarf_fail_percent "$out")
  [ -n "$pct" ] && [ "$pct" -lt 5 ] || fail "$label: dwarf-fail ${pct:-?}% of samples, want < 5%"
  grep -q '^Go program (go1\.' "$out" || fail "$label: the Go runtime was not detected"
  bad=$(defect_sites "$out" | grep -E "$GO_FALSE_ALARM") &&
    fail_lines "$label: a false alarm where DWARF is what is wrong" "$bad"
  bad=$(defect_sites "$out" | grep -E "$GO_SYSTEMSTACK_OTHER") &&
    fail_lines "$label: a defect at runtime.systemstack that is not fp-skips (it hides its caller)" "$bad"
  local must=$must_stock
  [ "$flavor" = fixed ] && must=$must_fixed
  if [ -n "$must" ]; then
    [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 3"
    defect_sites "$out" | grep -qE "$must" ||
      { fail_lines "$label: no defect line matching /$must/ among" "$(defect_sites "$out")"; sed -n 1,40p "$out"; }
  fi
  [ "$flavor" = fixed ] || return 0
  bad=$(defect_sites "$out" | grep -E 'at runtime\.mcall ') &&
    fail_lines "$label: a defect at runtime.mcall in the fixed runtime" "$bad"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "$label: exit $rc, want 0 or 3"
  if [ "$allowed" != . ] && bad=$(defect_sites "$out" | grep -vE "${allowed:-^$}"); then
    fail_lines "$label: defects other than /${allowed:-none}/" "$bad"; sed -n 1,60p "$out"
  fi
}

# go_check_sources NAME FLAVOR MUST_STOCK MUST_FIXED ALLOWED_FIXED [ARGS...]:
# the program from both sources, fptrace run --perf (libdw, then the same
# file with libunwind) and perf record --call-graph dwarf with the largest
# stack copy perf makes (both backends).
go_check_sources() {
  local name=$1 flavor=$2 ms=$3 mf=$4 allowed=$5 exe; shift 5
  exe=$(go_build "$name" "$flavor") || return 1
  "$F" run --perf -F 999 -o "$tmp/$name-$flavor.fpt" -- "$exe" "$@" >"$tmp/$name-$flavor.run" 2>&1
  go_judge "$name run --perf ($flavor)" "$flavor" "$tmp/$name-$flavor.run" $? "$ms" "$mf" "$allowed"
  "$F" check -i "$tmp/$name-$flavor.fpt" --backend libunwind >"$tmp/$name-$flavor.unw" 2>&1
  go_judge "$name check --backend libunwind ($flavor)" "$flavor" "$tmp/$name-$flavor.unw" $? "$ms" "$mf" "$allowed"
  perf record -q -e cpu-clock -F 999 --call-graph dwarf,65528 -o "$tmp/$name-$flavor.data" -- "$exe" "$@" \
    >"$tmp/$name-$flavor.perf.log" 2>&1 || fail "perf record $name ($flavor): $(head -3 "$tmp/$name-$flavor.perf.log")"
  "$F" check -i "$tmp/$name-$flavor.data" --backend both >"$tmp/$name-$flavor.dwarf" 2>&1
  go_judge "$name check -i perf.data ($flavor)" "$flavor" "$tmp/$name-$flavor.dwarf" $? "$ms" "$mf" "$allowed"
}
