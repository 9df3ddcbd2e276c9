# Sourced by the arm64 integration scripts (tests/arm64/*.sh, run by
# scripts/run-tests-arm64.sh): FPT_BUILD is the arm64 build, QEMU runs an arm64
# program.  Gives $build, $qemu, $fptrace (the host's, built if missing: arm64
# recordings are checked on the host), need_host, $tmp (removed at exit), fail() and
# $fails, record_arm64 and code_defects.
set -u
build=${FPT_BUILD:?FPT_BUILD: the arm64 build directory}
qemu=${QEMU:-qemu-aarch64-static}
host_build=${FPT_HOST_BUILD:-build}
fptrace=$host_build/bin/fptrace
# need_host TARGET...: the host's (amd64) build of these files, made if missing.
# Not with the make that runs this script's flags: they say ARCH=arm64.
need_host() {
  local t
  for t in "$@"; do
    [ -x "$t" ] && continue
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory ARCH=amd64 \
      BUILD="$host_build" "$t" >/dev/null || { echo "FAIL: cannot build the host's $t"; exit 1; }
  done
}
need_host "$fptrace"
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

# code_defects REPORT: a check report's defects in the code under test and its
# verdict without the system-library clause and the exit status: what two
# checks of one file on two machines must agree on (the vDSO each machine can
# name differs, and with it the system-library lines).
code_defects() {
  awk '/^Defects in the code under test:/ { on = 1 }
       /^Defects in system libraries/ { on = 0 }
       on { print }' "$1"
  sed -En '/^verdict:/ { s/;.*//; s/ \(exit [0-9]+\)$//; p }' "$1"
}
