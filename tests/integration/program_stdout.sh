#!/usr/bin/env bash
# fptrace's output never mixes with the program's: under record and run the
# program's stdout is byte for byte what it is without fptrace (gzip -c into a
# file; fate, an fprt program profiled in process and with --perf).  run's
# check and profile go to stderr, or to --output-report FILE; report and check,
# which run no program, print to stdout.
source "$(dirname "$0")/common.bash"

perf_ok=1
perf_event_works --perf || perf_ok=0
if [ "$perf_ok" -eq 0 ]; then
  echo "note: perf_event_open not permitted here: gzip and --perf parts not run"
  [ "${CI:-}" != true ] || fail "CI=true: the perf_event_open parts must run"
fi

# same WHAT REF OUT: byte for byte
same() {
  cmp -s "$2" "$3" || fail "$1: stdout differs from the program's own ($(cmp "$2" "$3" 2>&1 | head -1))"
}

# gzip, as the README's users run it: sampled with perf_event_open.
if [ "$perf_ok" -eq 1 ]; then
  seq 1 400000 >"$tmp/data"
  gzip -c "$tmp/data" >"$tmp/ref.gz" || fail "gzip alone failed"
  for cmd in run record; do
    # run may find defects (3): Debian builds gzip without frame pointers
    "$F" $cmd -o "$tmp/gz.fpt" -- gzip -c "$tmp/data" >"$tmp/out.gz" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || { [ $cmd = run ] && [ "$rc" -eq 3 ]; } ||
      fail "fptrace $cmd -- gzip: exit $rc: $(tail -3 "$tmp/err")"
    same "fptrace $cmd -- gzip -c" "$tmp/ref.gz" "$tmp/out.gz"
    gzip -dc "$tmp/out.gz" | cmp -s - "$tmp/data" || fail "fptrace $cmd -- gzip: out.gz does not decompress to the input"
  done
fi

# fate prints 500 lines; in process and --perf.
"$B/progs/fate" -n 500 >"$tmp/ref.txt" || fail "fate alone failed"
modes=("")
[ "$perf_ok" -eq 1 ] && modes+=(--perf)
for flag in "${modes[@]}"; do
  name=${flag:-in-process}
  # --max-defects: the output is tested here, not fprt's chains
  for cmd in record "run --max-defects 1000"; do
    "$F" $cmd $flag -o "$tmp/f.fpt" -- "$B/progs/fate" -n 500 >"$tmp/out.txt" 2>"$tmp/err" ||
      fail "$name: fptrace $cmd -- fate: exit $?: $(tail -3 "$tmp/err")"
    same "$name: fptrace $cmd -- fate" "$tmp/ref.txt" "$tmp/out.txt"
  done
  # run's report is on stderr (run was the last command above)
  grep -q '^verdict: ok: ' "$tmp/err" || fail "$name: run: no verdict on stderr: $(head -3 "$tmp/err")"
  grep -qE '^ +[0-9.]+% .* fate_mix \(fate\)$' "$tmp/err" || fail "$name: run: no profile on stderr"

  # --output-report FILE: the report there, stderr keeps fptrace's own lines
  "$F" run $flag --max-defects 1000 --output-report "$tmp/report.txt" -o "$tmp/f.fpt" -- "$B/progs/fate" -n 500 \
    >"$tmp/out.txt" 2>"$tmp/err" || fail "$name: run --output-report: exit $?"
  same "$name: fptrace run --output-report" "$tmp/ref.txt" "$tmp/out.txt"
  grep -q '^verdict: ok: ' "$tmp/report.txt" || fail "$name: no verdict in the --output-report file"
  grep -qE '^ +[0-9.]+% .* fate_mix \(fate\)$' "$tmp/report.txt" || fail "$name: no profile in the --output-report file"
  grep -q '^verdict' "$tmp/err" && fail "$name: the verdict is on stderr too with --output-report"
  tail -1 "$tmp/err" | grep -q "^fptrace: $B/progs/fate exited with status 0;" ||
    fail "$name: run --output-report: how the program ended is not the last line on stderr: $(tail -1 "$tmp/err")"
done

# The program does not inherit the report file (fptrace opens it before the
# program starts): no descriptor of the program points at it.
if [ "$perf_ok" -eq 1 ]; then
  "$F" run --output-report "$tmp/inherit.txt" -o "$tmp/sh.fpt" -- sh -c 'for f in /proc/$$/fd/*; do readlink "$f"; done' \
    >"$tmp/fds" 2>/dev/null
  grep -q "inherit.txt" "$tmp/fds" && fail "the program inherited the --output-report file: $(grep inherit.txt "$tmp/fds")"
  grep -q "^/" "$tmp/fds" || fail "the fd listing of the program is empty: $(cat "$tmp/fds")"
fi

# A report file that cannot be written: one line, exit 1, the program not run.
"$F" run --output-report "$tmp/no/such/dir/r.txt" -o "$tmp/never.fpt" -- "$B/progs/fate" -n 5 \
  >"$tmp/out.txt" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "unwritable --output-report: exit $rc, want 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^fptrace run: --output-report $tmp/no/such/dir/r.txt: No such file or directory$" "$tmp/err" ||
  fail "unwritable --output-report: $(cat "$tmp/err")"
[ -s "$tmp/out.txt" ] || [ -e "$tmp/never.fpt" ] && fail "unwritable --output-report: the program ran anyway"
"$F" record --output-report "$tmp/r.txt" -- true 2>"$tmp/err"
[ $? -eq 2 ] || fail "record --output-report: want usage error 2"

# check and report run no program: their output is on stdout.
"$F" check -i "$tmp/f.fpt" >"$tmp/out.txt" 2>"$tmp/err"
grep -q '^verdict: ok: ' "$tmp/out.txt" || fail "check: no verdict on stdout"
"$F" report -i "$tmp/f.fpt" >"$tmp/out.txt" 2>"$tmp/err"
grep -q 'fate_mix (fate)$' "$tmp/out.txt" || fail "report: no profile on stdout"

[ "$fails" -eq 0 ] && echo "ok: the program's stdout is its own under record and run (${#modes[@]} mode(s))"
exit $((fails > 0))
