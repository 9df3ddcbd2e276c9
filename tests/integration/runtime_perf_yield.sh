#!/usr/bin/env bash
# Seed 003 under Linux perf: `perf record --call-graph fp` on build/progs/yield.
# No callchain may have a frame above (a caller of) rt_mcall: mcall clears BP,
# so the g0 chain ends there.  With FPRT_INJECT=mcall-bp-leak (BP kept, the
# pre-fix behaviour) many do.  Prints both counts.
set -u
build=${FPT_BUILD:-build}
prog=$build/progs/yield
command -v perf >/dev/null || { echo "skip: perf not installed"; exit 77; }
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Samples whose user chain goes through rt_mcall (rt_mcall not the user leaf),
# and how many of those have frames after it.  perf script lists the leaf
# first.  Kernel frames (addresses from 0xffff800000000000 on) are not counted:
# a sample taken in the kernel (an interrupt's exit path, a reschedule IPI)
# lists the kernel's frames first, then the user chain from the interrupted
# user registers.  When those registers are rt_mcall's before its BP clearing
# (its xorl %ebp, %ebp), sp and BP are still the goroutine's, on the
# goroutine's own stack, so the chain legitimately goes on into the
# goroutine: rt_mcall is the user leaf there, not a frame below g0's code.
# Counting the kernel frames as the leaf made such a sample look like a leak
# in about one run in four.  The leaking chains go to $2 (shown on failure).
count() {
  perf script -i "$1" -F ip,sym,symoff 2>/dev/null | awk -v out="$2" '
    function flush() {
      if (seen) { through++; if (after) { leak++; if (leak <= 3) printf "%s\n", chain > out } }
      seen = 0; after = 0; n = 0; chain = ""
    }
    /^[[:space:]]*$/ { flush(); next }
    length($1) == 16 && $1 ~ /^ffff[89a-f]/ { next }   # kernel frame
    { chain = chain $0 "\n"; if (seen) after = 1; if ($2 ~ /^rt_mcall(\+|$)/ && n > 0) seen = 1; n++ }
    END { flush(); printf "%d %d\n", through + 0, leak + 0 }'
}

record() { # out.data, env...
  local out=$1; shift
  env "$@" perf record -q -e cpu-clock -F 2000 --call-graph fp -o "$out" \
    "$prog" -t 2 >"$tmp/stdout" 2>"$tmp/stderr"
}

if ! record "$tmp/fixed.data" FPRT_INJECT=; then
  if grep -qiE 'permission|not supported|perf_event_paranoid|No such file|access' "$tmp/stderr"; then
    echo "skip: perf cannot sample here: $(head -3 "$tmp/stderr" | tr '\n' ' ')"; exit 77
  fi
  echo "FAIL: perf record / yield failed:"; cat "$tmp/stderr"; exit 1
fi
grep -q '^OK' "$tmp/stdout" || { echo "FAIL: yield did not print OK"; cat "$tmp/stdout" "$tmp/stderr"; exit 1; }
read -r fixed_through fixed_leak < <(count "$tmp/fixed.data" "$tmp/fixed.chains")
record "$tmp/leak.data" FPRT_INJECT=mcall-bp-leak ||
  { echo "FAIL: yield with mcall-bp-leak failed"; cat "$tmp/stderr"; exit 1; }
read -r leak_through leak_leak < <(count "$tmp/leak.data" "$tmp/leak.chains")

echo "default:       $fixed_through samples through rt_mcall, $fixed_leak with frames above it"
echo "mcall-bp-leak: $leak_through samples through rt_mcall, $leak_leak with frames above it"
if [ "$fixed_through" -lt 5 ] && [ "$leak_through" -lt 5 ]; then
  echo "skip: too few samples in the scheduler to judge ($fixed_through, $leak_through)"; exit 77
fi
fail=0
[ "$fixed_leak" -eq 0 ] ||
  { echo "FAIL: callchains go past rt_mcall without the injection, e.g.:"; cat "$tmp/fixed.chains"; fail=1; }
# "many": the injected bug must show in most chains through mcall
[ "$leak_leak" -ge 5 ] && [ $((leak_leak * 2)) -ge "$leak_through" ] ||
  { echo "FAIL: mcall-bp-leak did not leak the chain past rt_mcall"; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
