#!/usr/bin/env bash
# scripts/run-tests.sh under CI=true counts a skipped suite (exit 77) as a
# failure and prints the suite's reason; without CI it stays a skip.
source "$(dirname "$0")/common.bash"

mkdir -p "$tmp/build/tests"
printf '%s\n' 'echo "skip: pretend perf is missing"' 'exit 77' >"$tmp/skipper.sh"

FPT_INTEGRATION="$tmp/skipper.sh" CI=true bash scripts/run-tests.sh "$tmp/build" >"$tmp/ci.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "CI=true: a skipped suite passed (run-tests.sh exit 0)"
grep -q "FAILED: integration skipper (skipped in CI: skip: pretend perf is missing)" "$tmp/ci.out" ||
  { fail "CI=true: the skip's reason is not in the failure list"; cat "$tmp/ci.out"; }

env -u CI FPT_INTEGRATION="$tmp/skipper.sh" bash scripts/run-tests.sh "$tmp/build" >"$tmp/dev.out" 2>&1 ||
  { fail "without CI: a skip failed the run"; cat "$tmp/dev.out"; }
grep -q "suites: 0 passed, 0 failed, 1 skipped" "$tmp/dev.out" ||
  { fail "without CI: not counted as a skip"; cat "$tmp/dev.out"; }

[ "$fails" -eq 0 ] && echo "ok: CI=true turns a skip into a failure that names the reason"
exit $((fails > 0))
