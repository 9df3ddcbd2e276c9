#!/usr/bin/env bash
# A module built without frame pointers is one line in check and report, not
# a site per function; check --all-sites lists its sites.  Decided from the
# module's code (fptrace audit's verdicts), so a module built with frame
# pointers keeps its one broken function listed.
#   - a small C library built with -fomit-frame-pointer, called from a program
#     built with frame pointers that has one function without them;
#   - Debian's python3.11, built without frame pointers.
source "$(dirname "$0")/common.bash"

need_perf_event

# libnofp.so: six functions that call (and work after the call, so that it
# is no tail call), none keeps a frame record: a sample in one, or in the
# leaf it calls, loses main from the frame-pointer chain.  The work is a
# fixed amount (no clock: libc's clock_gettime has no frame pointers).
cat > "$tmp/lib.c" <<'C'
volatile double sink;
__attribute__((noinline)) void lib_leaf(int n) { for (int i = 0; i < n; i++) sink = sink * 1.0000001 + 0.5; }
#define WORK(name) \
  __attribute__((noinline)) void name(int n) { \
    volatile double x = 0; for (int i = 0; i < n; i++) x = x * 0.9999999 + 0.25; \
    lib_leaf(n / 4); sink += x; }
WORK(lib_a) WORK(lib_b) WORK(lib_c) WORK(lib_d) WORK(lib_e) WORK(lib_f)
C
# The program: built with frame pointers, but for one function (own_nofp).
cat > "$tmp/own.c" <<'C'
void lib_leaf(int n);
__attribute__((noinline)) void own_nofp(int n)
{ volatile double x = 0; lib_leaf(1); for (int i = 0; i < n; i++) x = x * 1.0000001 + 0.5; lib_leaf(1); }
C
cat > "$tmp/prog.c" <<'C'
void lib_a(int), lib_b(int), lib_c(int), lib_d(int), lib_e(int), lib_f(int), own_nofp(int);
__attribute__((noinline)) void caller(int n) { own_nofp(n); __asm__ volatile("" ::: "memory"); }
int main(void)
{
	for (int i = 0; i < 400; i++) {
		lib_a(20000); lib_b(20000); lib_c(20000); lib_d(20000); lib_e(20000); lib_f(20000);
		caller(40000);
	}
	return 0;
}
C
cc -O2 -g -fomit-frame-pointer -fPIC -shared "$tmp/lib.c" -o "$tmp/libnofp.so" &&
cc -O2 -g -fomit-frame-pointer -c "$tmp/own.c" -o "$tmp/own.o" &&
cc -O2 -g -fno-omit-frame-pointer "$tmp/prog.c" "$tmp/own.o" -L"$tmp" -lnofp \
  -Wl,-rpath,"$tmp" -o "$tmp/prog" || { fail "cannot build the test programs"; exit 1; }

"$F" record -o "$tmp/p.fpt" -- "$tmp/prog" > /dev/null 2> "$tmp/rec.err" ||
  { fail "record: $(cat "$tmp/rec.err")"; exit 1; }
"$F" check -i "$tmp/p.fpt" > "$tmp/check" 2>&1
# The summary: in the code under test (the library is not a system one).
summary='^  libnofp\.so: built without frame pointers \([0-9]+ of [0-9]+ functions that call keep no frame record\), [0-9]+ sites?, [0-9]+ samples? \([0-9.]+% of all\)$'
sed -n '/^Defects in the code under test:/,/^Defects in system/p' "$tmp/check" |
  grep -qE "$summary" || fail "check: no summary line for libnofp.so"
grep -qE '^  fp-[a-z]+ +[0-9]+ samples +at .*\(libnofp\.so\)' "$tmp/check" &&
  fail "check lists libnofp.so's sites without --all-sites"
# The program is built with frame pointers: its one broken function stays a site.
grep -qE '^  fp-skips +[0-9]+ samples +at own_nofp \(prog\), hiding its caller caller$' "$tmp/check" ||
  fail "check: own_nofp's site is not listed"
grep -qE '^  prog: built without frame pointers' "$tmp/check" && fail "prog summarized as built without frame pointers"
[ "$fails" -eq 0 ] || sed -n '/^Defects/,$p' "$tmp/check"

"$F" check -i "$tmp/p.fpt" --all-sites > "$tmp/all" 2>&1
n=$(grep -cE '^  fp-[a-z]+ +[0-9]+ samples +at lib_[a-f]?[a-z]* \(libnofp\.so\)' "$tmp/all")
[ "$n" -ge 2 ] || { fail "check --all-sites lists $n sites of libnofp.so, want several"; sed -n '/^Defects/,$p' "$tmp/all"; }
grep -q 'built without frame pointers' "$tmp/all" && fail "check --all-sites still summarizes"

"$F" report -i "$tmp/p.fpt" > "$tmp/report" 2>&1
grep -qE "^# ${summary#^  }" "$tmp/report" || { fail "report: no summary line for libnofp.so"; head -5 "$tmp/report"; }
"$F" check -i "$tmp/p.fpt" --format json > "$tmp/json" 2>&1
grep -qE '"modules_without_frame_pointers":\[\{"module":"[^"]*/libnofp\.so","system":false,"sites":[1-9]' "$tmp/json" ||
  fail "check json: libnofp.so not among modules_without_frame_pointers"
grep -qE '"module":"[^"]*/prog","system":false,"sites"' "$tmp/json" && fail "check json: prog summarized"

# Debian's python3.11: hundreds of functions in the profile, one line.
py=/usr/bin/python3
[ -x "$py" ] || { fail "$py is missing (scripts/deps.sh installs python3-jsonschema)"; exit 1; }
"$F" record -o "$tmp/py.fpt" -- "$py" -c 'sum(len(str(i)) for i in range(2000000))' \
  > /dev/null 2> "$tmp/rec.err" || { fail "record python3: $(cat "$tmp/rec.err")"; exit 1; }
"$F" check -i "$tmp/py.fpt" > "$tmp/pycheck" 2>&1
grep -qE '^  python3\.[0-9]+: built without frame pointers \([0-9]+ of [0-9]+ functions that call keep no frame record\), [0-9]+ sites?' "$tmp/pycheck" ||
  { fail "check: no summary line for python3"; sed -n '/^Defects/,$p' "$tmp/pycheck" | head -20; }
grep -qE '^  fp-[a-z]+ +[0-9]+ samples +at .*\(python3\.[0-9]+\)' "$tmp/pycheck" &&
  fail "check lists python3's sites without --all-sites"
"$F" check -i "$tmp/py.fpt" --all-sites > "$tmp/pyall" 2>&1
grep -qE '^  fp-[a-z]+ +[0-9]+ samples +at .*\(python3\.[0-9]+\)' "$tmp/pyall" ||
  fail "check --all-sites lists no site of python3"

echo "report_nofp: $fails failure(s)"
[ "$fails" -eq 0 ]
