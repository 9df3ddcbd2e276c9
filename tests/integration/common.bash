# common.bash — the preamble the integration scripts share (sourced, not run:
# the runner takes only *.sh).  From the project root: B is the build
# directory, F the fptrace binary, tmp a scratch directory removed on exit;
# fail "what" prints a failure and counts it in fails.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
B=${FPT_BUILD:-$PWD/build}
F=$B/bin/fptrace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# fail_lines WHAT LINES: a FAIL line that carries the offending lines
# themselves, joined with " | ": CI repeats only a script's FAIL lines next
# to its summary, so a line printed apart would be lost there.
fail_lines() {
  fail "$1: $(printf '%s\n' "$2" | sed 's/^ *//; s/  */ /g' | paste -sd'|' | sed 's/|/ | /g')"
}

# perf_event_works [RECORD FLAGS...]: whether `fptrace record` can sample
# with perf_event_open here (no flag: a plain binary; --perf: an fprt one);
# the refusal, if any, is left in $tmp/probe.err.
perf_event_works() {
  "$F" record "$@" -o "$tmp/probe.fpt" -- true 2>"$tmp/probe.err"
}

# need_perf_event [RECORD FLAGS...]: a script that cannot run without
# perf_event_open stops here when kernel.perf_event_paranoid refuses it:
# a skip (77) on a developer's machine, a failure under CI=true, where
# every sampling test must run.  A probe that fails for any other reason
# is a failure with fptrace's own line.
need_perf_event() {
  perf_event_works "$@" && return 0
  if grep -q perf_event_paranoid "$tmp/probe.err"; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: CI=true: perf_event_open must work: $(head -1 "$tmp/probe.err")"; exit 1
    fi
    echo "skip: perf_event_open not permitted here: $(head -1 "$tmp/probe.err")"
    [ "$fails" -eq 0 ] || exit 1   # what ran before the probe failed: not a skip
    exit 77
  fi
  echo "FAIL: fptrace record${*:+ $*} -- true: $(head -3 "$tmp/probe.err")"; exit 1
}
