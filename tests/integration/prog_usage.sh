#!/usr/bin/env bash
# Every scenario program in build/progs answers a bad flag, a stray argument and
# a malformed value with its usage line and exit 2 (cpuwork -x used to read a
# NULL optarg and die by SIGSEGV).
source "$(dirname "$0")/common.bash"

# expect_usage WHAT PROG ARGS...: exit 2 and a "usage: PROG" line on stderr
expect_usage() {
  local what=$1 prog=$2; shift 2
  timeout 60 "$B/progs/$prog" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq 2 ] && grep -q "^usage: $prog" "$tmp/err" ||
    fail "$prog $* ($what): exit $rc, stderr: $(head -3 "$tmp/err" | tr '\n' ' ')"
}

n=0
for p in "$B"/progs/*; do
  [ -x "$p" ] && [ -f "$p" ] || continue
  prog=$(basename "$p")
  expect_usage "unknown flag" "$prog" -x
  expect_usage "stray argument" "$prog" stray1 stray2 stray3
  n=$((n + 1))
done
[ "$n" -ge 13 ] || fail "only $n scenario programs in $B/progs"

# malformed values: each program's own flags
expect_usage "flag without its value" cpuwork -g
expect_usage "not a number" cpuwork -n lots
expect_usage "not a number" yield -t soon
expect_usage "negative" grow -g -5
expect_usage "out of range" soak -g 0
expect_usage "out of range" cgo_export -f 99
expect_usage "not a number" cgo_callback_grow -w x
expect_usage "not a number" crash -t x
expect_usage "not a number" mallocstress -t 1s
expect_usage "unknown mode" fpchain sideways
expect_usage "not a number" fpchain main x
expect_usage "not a number" stackshare -n many

[ "$fails" -eq 0 ] && echo "ok: $n scenario programs answer bad arguments with a usage line"
exit $((fails > 0))
