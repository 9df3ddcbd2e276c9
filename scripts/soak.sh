#!/usr/bin/env bash
# Stress and soak of the profiler and the runtime.  `make soak` runs
# each scenario for SOAK_SECONDS (default 60); tests/integration/soak_short.sh
# runs the same with 3 seconds inside make test.
#
# full: 10,000 goroutines passing tokens on a ring and 64 threads fprt did not
# create calling back into goroutine code, with every stack check moving the
# stack and old stacks made PROT_NONE.  mallocstress: a signal handler that
# called malloc or took a lock would deadlock here.
#
# Each scenario runs under fptrace record at 9973 Hz and must: finish (a
# deadlock is caught by a timeout of 3x its duration + 60 s), print OK, have
# every dropped sample counted in the file, and cross-check with zero
# malignant samples in the code under test.  Prints one figure line each.
set -u
build=${1:-build}
secs=${SOAK_SECONDS:-60}
F=$build/bin/fptrace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

scenario() { # name, env, program args...
  local name=$1 env=$2; shift 2
  local limit=$((secs * 3 + 60))
  local start=$(date +%s.%N)
  env $env timeout -s KILL $limit "$F" record -F 9973 -o "$tmp/$name.fpt" -- "$@" \
      > "$tmp/$name.out" 2> "$tmp/$name.err"
  local rc=$? end=$(date +%s.%N)
  if [ $rc -ne 0 ] || ! grep -q '^OK' "$tmp/$name.out"; then
    echo "FAIL $name: exit $rc (137 = killed at the ${limit}s deadlock limit)"
    tail -n 5 "$tmp/$name.err" "$tmp/$name.out"
    fails=$((fails + 1)); return
  fi
  "$F" check -i "$tmp/$name.fpt" --format json > "$tmp/$name.json" 2> "$tmp/$name.cerr"
  local crc=$?
  local samples=$(sed -n 's/^{"samples":\([0-9]*\).*/\1/p' "$tmp/$name.json")
  local defects=$(sed -n 's/.*"defects":\([0-9]*\).*/\1/p' "$tmp/$name.json")
  local drops=$("$F" check -i "$tmp/$name.fpt" 2>/dev/null | sed -n 's/.*), \([0-9]*\) dropped$/\1/p')
  printf '%-14s %6.1f s  %8s samples  %6s dropped  %4s defects  check exit %d\n' \
    "$name" "$(echo "$end - $start" | bc)" "${samples:-?}" "${drops:-?}" "${defects:-?}" $crc
  if [ $crc -ne 0 ]; then
    fails=$((fails + 1)); head -40 "$tmp/$name.cerr"; "$F" check -i "$tmp/$name.fpt" | head -40
  fi
}

scenario full "FPRT_DEBUG=stackforcemove,stackfaultonfree FPTRACE_WALL_HZ=1" "$build/progs/soak" -t "$secs"
scenario mallocstress "" "$build/progs/mallocstress" -t "$secs"
scenario yield-moving "FPRT_DEBUG=stackforcemove,stackfaultonfree" "$build/progs/yield" -t "$secs"
scenario grow-moving "FPRT_DEBUG=stackforcemove,stackfaultonfree" "$build/progs/grow" -k 1024 -g 16
echo "soak: $fails failure(s)"
[ $fails -eq 0 ]
