# Sourced by the arm64 integration scripts (tests/arm64/*.sh, run by
# scripts/run-tests-arm64.sh): FPT_BUILD is the arm64 build, QEMU runs an arm64
# program.  Gives $build, $qemu, $fptrace (the host's, built if missing: arm64
# recordings are checked on the host), $tmp (removed at exit), fail() and
# $fails, and record_arm64.
set -u
build=${FPT_BUILD:?FPT_BUILD: the arm64 build directory}
qemu=${QEMU:-qemu-aarch64-static}
fptrace=${FPT_HOST_BUILD:-build}/bin/fptrace
[ -x "$fptrace" ] || make --no-print-directory "$fptrace" >/dev/null ||
  { echo "FAIL: cannot build the host's $fptrace"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# record_arm64 OUT.fpt [VAR=value...] -- PROG ARGS...: PROG (build/progs) under
# qemu with fprt's in-process profiler writing OUT.fpt; PROG's output in
# $tmp/prog.out; returns PROG's exit status.
record_arm64() {
  local out=$1; shift
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  local prog=$1; shift
  env "${vars[@]}" FPTRACE_OUT="$out" "$qemu" "$build/progs/$prog" "$@" >"$tmp/prog.out" 2>&1
}
