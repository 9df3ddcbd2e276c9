#!/usr/bin/env bash
# fptrace audit against check, on recordings: (1) the caller that the one
# -fomit-frame-pointer function hides is the one check names; (2) real
# workloads (a scenario program, Debian's gzip and python3): every culprit
# check reports in a system library is no-frame or clobbers-rbp in audit, or
# a leaf sampled while a breaking function was its caller (audit_agree.py
# says which).  Prints the agreement figures.
source "$(dirname "$0")/common.bash"
command -v python3 >/dev/null || { fail "python3 is needed to read the JSON"; exit 1; }

need_perf_event

# (1) The hidden caller.  The loop runs until enough samples hit nofp's
# call (a count, not a time: the machine may be loaded).
cat > "$tmp/prog.c" <<'C'
#include <stdlib.h>
void nofp(volatile double *x);
__attribute__((noinline)) void leafwork(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
__attribute__((noinline)) void caller_of_nofp(volatile double *x) { nofp(x); __asm__ volatile("" ::: "memory"); }
int main(int argc, char **argv) { volatile double x = 0; long n = argc > 1 ? atol(argv[1]) : 200000; for (long i = 0; i < n; i++) caller_of_nofp(&x); return 0; }
C
cat > "$tmp/nofp.c" <<'C'
void leafwork(volatile double *x);
__attribute__((noinline)) void nofp(volatile double *x) { leafwork(x); leafwork(x); __asm__ volatile("" ::: "memory"); }
C
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/prog.c" -o "$tmp/prog.o" &&
cc -O2 -g -fomit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/nofp.o" &&
cc "$tmp/prog.o" "$tmp/nofp.o" -o "$tmp/prog" || { fail "cannot build the test program"; exit 1; }
"$F" record -o "$tmp/p.fpt" -- "$tmp/prog" 2>/dev/null || fail "record prog"
"$F" check -i "$tmp/p.fpt" > "$tmp/check.txt" 2>&1
check_hidden=$(sed -n 's/.*fp-skips .* at nofp (prog), hiding its caller \([^ ]*\).*/\1/p' "$tmp/check.txt" | head -1)
[ -n "$check_hidden" ] || { fail "check names no fp-skips at nofp"; sed -n '/Defects in the code/,+4p' "$tmp/check.txt"; }
"$F" audit -i "$tmp/p.fpt" > "$tmp/audit.txt" 2>&1
audit_line=$(grep -E '^  nofp \(prog, no-frame\): on' "$tmp/audit.txt")
[ -n "$audit_line" ] || { fail "audit -i does not weigh nofp"; sed -n '/Weighed/,+5p' "$tmp/audit.txt"; }
audit_hidden=$(sed -n 's/.*hides its caller in [0-9.]*%: \([^ ,]*\) .*/\1/p' <<<"$audit_line")
[ "$audit_hidden" = "$check_hidden" ] && [ "$check_hidden" = caller_of_nofp ] ||
  fail "hidden caller: check says '$check_hidden', audit says '$audit_hidden' ($audit_line)"
echo "audit: nofp hides '$audit_hidden' for audit and '$check_hidden' for check"
# The same weighed by a perf.data recording.
perf record -q -F 499 --call-graph dwarf,16384 -o "$tmp/p.data" -- "$tmp/prog" >/dev/null 2>&1 ||
  fail "perf record of the test program"
"$F" audit -i "$tmp/p.data" > "$tmp/audit_perf.txt" 2>&1 || fail "audit -i perf.data: exit $?"
grep -qE '^  nofp \(prog, no-frame\): on .*hides its caller in [0-9.]+%: caller_of_nofp ' "$tmp/audit_perf.txt" ||
  { fail "audit -i perf.data does not say nofp hides caller_of_nofp"; sed -n '/Weighed/,+3p' "$tmp/audit_perf.txt"; }

# (2) Real workloads.
seq 1 2000000 > "$tmp/nums.txt"
cat > "$tmp/work.py" <<'P'
import json, re
data = [{"k": i, "v": str(i) * 3} for i in range(20000)]
for _ in range(15):
    s = json.dumps(data)
    d = json.loads(s)
    sorted(d, key=lambda x: x["v"])
    re.findall(r"\d+", s[:200000])
P
run_workload() { # label, command...
  local label=$1; shift
  "$F" record -o "$tmp/$label.fpt" -- "$@" >/dev/null 2>"$tmp/$label.rec" || { fail "record $label: $(cat "$tmp/$label.rec")"; return; }
  "$F" check -i "$tmp/$label.fpt" --format json > "$tmp/$label.check" 2>"$tmp/$label.err"
  local rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { fail "check $label: exit $rc: $(cat "$tmp/$label.err")"; return; }
  "$F" audit -i "$tmp/$label.fpt" --format json > "$tmp/$label.audit" 2>"$tmp/$label.err" ||
    { fail "audit -i $label: exit $?: $(cat "$tmp/$label.err")"; return; }
  python3 tests/integration/audit_agree.py "$tmp/$label.check" "$tmp/$label.audit" "$label" > "$tmp/$label.agree" ||
    { fail "$label: a system-library culprit audit does not explain"; grep UNEXPLAINED "$tmp/$label.agree"; }
  grep -E "culprits in" "$tmp/$label.agree"
  cat "$tmp/$label.agree" >> "$tmp/all.agree"
}
: > "$tmp/all.agree"
run_workload mallocstress "$B/progs/mallocstress" -t 1
run_workload gzip gzip -9 -c "$tmp/nums.txt"
run_workload python3 /usr/bin/python3 "$tmp/work.py"
# The total over the workloads; the test means something only if check found
# culprits in system libraries at all.
awk '/culprits in system libraries/ { gsub(",", ""); n += $6; a += $8; e += $10; u += $12 }
     END { printf "audit: agreement with check on system-library culprits: %d of %d agree, %d explained by a breaking caller, %d unexplained\n", a, n, e, u }' "$tmp/all.agree" | tee "$tmp/total"
n=$(awk '{print $(NF-9)}' "$tmp/total")
[ "${n:-0}" -gt 0 ] || fail "check found no culprit in a system library: nothing was compared"

echo "audit_agreement: $fails failure(s)"
[ "$fails" -eq 0 ]
