#!/usr/bin/env bash
# The arm64 suites under qemu-user (make test-arm64): each Criterion binary in
# BUILD/tests/, then the arm64 integration scripts tests/arm64/*.sh (exit 0
# pass, else fail: nothing here may skip).  $QEMU runs an arm64 binary.
# Last line "suites: N passed, N failed, N skipped"; non-zero if any failed.
set -u
build=${1:-build-arm64}
export FPT_BUILD=$(cd "$build" && pwd)
export QEMU=${QEMU:-qemu-aarch64-static}
# The runtime suite runs scenario programs (tests/runtime/helpers.c run_prog):
# without binfmt_misc the kernel cannot exec an arm64 binary, the emulator can.
export FPRT_TEST_EXEC_WRAPPER=$(command -v "$QEMU")
passed=0 failed=0 failures=()

run_suite() { # name, command...
  local name=$1; shift
  echo "=== $name (arm64, qemu-user)"
  "$@"
  local rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed+1))
  else
    failed=$((failed+1)); failures+=("$name (exit $rc)")
  fi
}

for t in "$build"/tests/*; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  # --jobs 2: the machine has two cores; the tests do not depend on timing.
  run_suite "criterion $(basename "$t")" $QEMU "$t" --jobs=2
done
for t in tests/arm64/*.sh; do
  [ -e "$t" ] || continue
  run_suite "integration $(basename "$t" .sh)" bash "$t"
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
echo "suites: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
