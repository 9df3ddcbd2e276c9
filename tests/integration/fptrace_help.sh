#!/usr/bin/env bash
# fptrace's help and usage errors: every command's --help (and `fptrace help
# CMD`, the same text) names exactly the options the parser accepts for it,
# each with its default; a usage error is one line on stderr that points to
# --help, exit 2; --version prints the version.
source "$(dirname "$0")/common.bash"

commands="record report check run help"
# Every option of every command, with a value where it takes one.
all_options="-F=5 -o=x -i=x -e=task-clock -c=1000 -p=1 --duration=1 --no-inherit --perf --snapshot-max=64 --format=text --kind=all --backend=libdw --top=3 --max-defects=1 --strict --output-report=x --pid=1"

for cmd in $commands; do
  "$F" "$cmd" --help > "$tmp/help.$cmd" 2> "$tmp/err" || fail "$cmd --help: exit $?"
  [ -s "$tmp/err" ] && fail "$cmd --help wrote to stderr: $(head -1 "$tmp/err")"
  head -1 "$tmp/help.$cmd" | grep -q "^usage: fptrace $cmd" || fail "$cmd --help: no synopsis"
  "$F" help "$cmd" > "$tmp/help2.$cmd" || fail "help $cmd: exit $?"
  cmp -s "$tmp/help.$cmd" "$tmp/help2.$cmd" || fail "help $cmd differs from $cmd --help"
  [ "$cmd" = help ] && continue
  grep -q "^exit status:" "$tmp/help.$cmd" || fail "$cmd --help: no exit status"
  for spec in $all_options; do
    opt=${spec%%=*}
    args=("$opt"); [ "$spec" != "$opt" ] && args+=("${spec#*=}")
    # The parser's view: an option that does not apply says so.
    "$F" "$cmd" "${args[@]}" --frobnicate > /dev/null 2> "$tmp/err"
    if grep -q "does not apply" "$tmp/err"; then accepted=0; else accepted=1; fi
    # The help's view: an option line starts with two spaces and the option.
    if grep -qE "^  $opt( |$)" "$tmp/help.$cmd"; then documented=1; else documented=0; fi
    [ $accepted = $documented ] ||
      fail "$cmd: $opt accepted=$accepted but documented=$documented in --help"
    # A documented option states its default, or is a switch that is off by default.
    if [ $documented = 1 ] && [ "$spec" != "$opt" ]; then
      awk -v o="$opt" '$1 == o {on=1} on {print} on && /\)\.?$/ {exit}' "$tmp/help.$cmd" |
        grep -q "default" || fail "$cmd --help: $opt has no default"
    fi
  done
done
# One default for --kind, said in the help of each command that takes it.
for cmd in report check run; do
  grep -A1 -E '^  --kind' "$tmp/help.$cmd" | grep -q "(default all)" ||
    fail "$cmd --help does not say --kind defaults to all"
done
"$F" help > "$tmp/overview" || fail "help: exit $?"
cmp -s "$tmp/overview" <("$F" --help) || fail "fptrace help and fptrace --help differ"
for cmd in record report check run; do
  grep -qE "^  $cmd " "$tmp/overview" || fail "the overview does not list $cmd"
done

"$F" --version > "$tmp/version" || fail "--version: exit $?"
grep -qE '^fptrace [0-9]+\.[0-9]+' "$tmp/version" || fail "--version: $(cat "$tmp/version")"

usage_error() { # description, command...
  local what=$1; shift
  "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  [ $rc -eq 2 ] || fail "$what: exit $rc, want 2"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || { fail "$what: not one line on stderr"; head -5 "$tmp/err"; }
  grep -q -- "--help" "$tmp/err" || fail "$what: does not point to --help: $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "$what: wrote to stdout"
  return 0
}
usage_error "no command" "$F"
usage_error "unknown command" "$F" frobnicate
usage_error "unknown option" "$F" check --frobnicate
grep -q "fptrace check: unknown option '--frobnicate' (see 'fptrace check --help')" "$tmp/err" ||
  fail "unknown option message: $(cat "$tmp/err")"
usage_error "option of another command" "$F" report --strict
usage_error "missing value" "$F" report --format
usage_error "bad value" "$F" check --kind sometimes
grep -q "'sometimes'" "$tmp/err" || fail "the bad value is not named: $(cat "$tmp/err")"
usage_error "record without a command" "$F" record
usage_error "help for an unknown command" "$F" help frobnicate
usage_error "stray argument" "$F" report extra

echo "fptrace_help: $fails failure(s)"
[ "$fails" -eq 0 ]
