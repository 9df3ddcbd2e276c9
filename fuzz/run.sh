#!/usr/bin/env bash
# fuzz/run.sh BUILD SECONDS [TARGET...] — run each libFuzzer target (default: all
# built in BUILD/fuzz/) for SECONDS over its seed corpus.  The seed corpus
# fuzz/corpus/<target>/ is only read: new inputs go to BUILD/fuzz/corpus/<target>/
# and crashing inputs to BUILD/fuzz/artifacts/.  Prints one summary line per
# target ("<target>: <execs> execs in <s> s, <n> crashes"; s is the time it
# actually ran: a crash stops a target early) and exits 1 if any
# target found a crash, a leak or a timeout.
set -u
build=${1:-build}
secs=${2:-60}
shift 2 || true
cd "$(dirname "$0")/.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$build"/fuzz/fuzz_*; do [ -x "$b" ] && targets+=("$(basename "$b")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz/run.sh: no targets in $build/fuzz (make fuzz-build)"; exit 1; }
rc=0
mkdir -p "$build/fuzz/artifacts" "$build/fuzz/logs"
for t in "${targets[@]}"; do
  work="$build/fuzz/corpus/$t"
  seeds="fuzz/corpus/$t"
  mkdir -p "$work" "$seeds"
  log="$build/fuzz/logs/$t.log"
  # -error_exitcode/-timeout_exitcode: libFuzzer's default 77 would read as "skipped".
  start=$SECONDS
  "$build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1
  r=$?
  took=$((SECONDS - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(grep -c '^artifact_prefix=\|Test unit written to' "$log")
  echo "$t: ${execs:-?} execs in $took s, $crashes crashes (exit $r, log $log)"
  if [ $r -ne 0 ]; then
    rc=1
    grep -m 20 -E 'ERROR|SUMMARY|#[0-9]+ 0x|fuzz_[a-z_]+: .*:[0-9]+:|Test unit written' "$log" | sed 's/^/    /'
  fi
done
exit $rc
