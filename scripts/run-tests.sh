#!/usr/bin/env bash
# Runs every test suite: the Criterion binaries in BUILD/tests/, then the
# end-to-end scripts in tests/integration/*.sh (exit 0 pass, 77 skip, else fail).
# Prints each suite's own summary and a last line "N passed, N failed, N skipped"
# over the suites, and exits non-zero if any suite failed.
# CI=true: a skip is a failure (every tool a test needs is installed by
# scripts/deps.sh, so a skip there means a test did not run), named with the
# suite's own "skip: reason" line.
# FPT_INTEGRATION="a.sh b.sh": run these scripts instead of tests/integration/*.sh.
set -u
build=${1:-build}
export FPT_BUILD=$(cd "$build" && pwd)
passed=0 failed=0 skipped=0 failures=() details=()

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() { # name, command...
  local name=$1; shift
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 77 ] && [ "${CI:-}" = true ]; then
    local why
    why=$(grep -m1 -i '^skip' "$log" || echo "no reason given")
    echo "--- $name: skipped, and CI=true makes a skip a failure: $why"
    failed=$((failed+1)); failures+=("$name (skipped in CI: $why)")
    return
  fi
  case $rc in
    0)  passed=$((passed+1)) ;;
    77) skipped=$((skipped+1)); echo "--- $name: skipped" ;;
    *)  failed=$((failed+1)); failures+=("$name (exit $rc)")
        # CI shows only the tail of this output: repeat what failed (Criterion's
        # [FAIL] and assertion lines, a script's FAIL line) next to the summary.
        while IFS= read -r line; do
          details+=("  $name: $line")
        done < <(grep -a -E '^\[FAIL\]|^\[----\] .*(Assertion|:[0-9]+:)|CRASH|[Tt]imed out|^FAIL|: FAIL|^not ok' "$log" | head -12) ;;
  esac
}

# --jobs 2: the machine has two cores; the tests do not depend on timing.
# Under AddressSanitizer, one job: libcriterion 2.4.1's runner itself leaks a
# 48-byte calloc (libcriterion.so.3+0x1a332) when it runs two workers of the
# tools suite at once, and LeakSanitizer then fails the suite at the runner's
# exit with every test passed.
jobs=2
case ${SAN:-} in *address*) jobs=1 ;; esac
for t in "$build"/tests/*; do
  [ -x "$t" ] || continue
  run_suite "criterion $(basename "$t")" "$t" --jobs=$jobs
done
# FPT_SUITES=criterion: the Criterion binaries only (make test-san).
integration=(tests/integration/*.sh)
[ -n "${FPT_INTEGRATION:-}" ] && read -r -a integration <<<"$FPT_INTEGRATION"
[ "${FPT_SUITES:-all}" = criterion ] && integration=()
for t in "${integration[@]}"; do
  [ -e "$t" ] || continue
  run_suite "integration $(basename "$t" .sh)" bash "$t"
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
[ ${#details[@]} -eq 0 ] || printf '%s\n' "${details[@]}"
echo "suites: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
