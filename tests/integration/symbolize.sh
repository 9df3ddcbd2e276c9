#!/usr/bin/env bash
# Symbolization on real programs recorded with perf_event_open:
#  - vDSO frames are named (__vdso_clock_gettime in [vdso]) and DWARF unwinds
#    through them, from this process's own vDSO with the recorded build-id
#    (and an fprt program's own profile writer records the [vdso] mapping);
#  - a stripped binary's samples group by function ("sub_<start>", the start
#    of its .eh_frame FDE, as nm of the unstripped binary shows it), not one
#    row per address;
#  - inlined functions are marked "(inlined)", as perf marks them;
#  - separate debug info is found under /usr/lib/debug/.build-id/: Debian's
#    libc6-dbg names libc's static msort_with_tmp with its source file, which
#    libc.so.6 itself (no .symtab, no DWARF) cannot.
source "$(dirname "$0")/common.bash"

need_perf_event
record() { # name, command...
  local name=$1; shift
  "$F" record -o "$tmp/$name.fpt" -- "$@" >/dev/null 2>"$tmp/$name.err" ||
    { fail "record $name"; cat "$tmp/$name.err"; }
  "$F" report -i "$tmp/$name.fpt" --top 1000 >"$tmp/$name.txt" 2>&1 || fail "report $name"
  "$F" report -i "$tmp/$name.fpt" --format folded -o "$tmp/$name.folded" || fail "folded $name"
}

# ---- vDSO: a fixed number of clock_gettime calls.
cat > "$tmp/vdso.c" <<'C'
#include <time.h>
int main(void) { struct timespec ts; long s = 0;
  for (int i = 0; i < 3000000; i++) { clock_gettime(CLOCK_MONOTONIC, &ts); s += ts.tv_nsec; }
  return s == 1; }
C
cc -O2 -g -fno-omit-frame-pointer "$tmp/vdso.c" -o "$tmp/vdso" || { fail "build vdso.c"; exit 1; }
record vdso "$tmp/vdso"
# self%, self time, self samples (at least one), then the totals
grep -qE '^ +[0-9.]+% +[0-9.]+[a-zµ]*s +[1-9][0-9]* .* __vdso_clock_gettime \(\[vdso\]\)$' "$tmp/vdso.txt" ||
  { fail "no self samples in __vdso_clock_gettime ([vdso])"; head -12 "$tmp/vdso.txt"; }
grep -qE ' 0x[0-9a-f]+ \(\?\)$' "$tmp/vdso.txt" && { fail "unnamed addresses remain"; grep '(?)' "$tmp/vdso.txt"; }
grep -qE '(^|;)main;clock_gettime[^;]*;__vdso_clock_gettime [0-9]+$' "$tmp/vdso.folded" ||
  { fail "DWARF does not unwind through the vDSO to main"; head -5 "$tmp/vdso.folded"; }

# The in-process writer of an fprt program records the [vdso] mapping too.
"$F" record -o "$tmp/fprt.fpt" -- "$B/progs/cpuwork" >/dev/null 2>"$tmp/fprt.err" ||
  { fail "record an fprt program"; cat "$tmp/fprt.err"; }
grep -a -q '\[vdso\]' "$tmp/fprt.fpt" || fail "the fprt profile writer does not record the [vdso] mapping"

# ---- A stripped binary: two hot functions, long enough to be sampled at
# many addresses each.
cat > "$tmp/strip.c" <<'C'
__attribute__((noinline)) double hot_a(double x) { for (int i = 0; i < 4000; i++) x = x * 1.0000001 + (i & 7); return x; }
__attribute__((noinline)) double hot_b(double x) { for (int i = 0; i < 4000; i++) x = x * 0.9999999 - (i & 3); return x; }
int main(void) { volatile double x = 1; for (int i = 0; i < 40000; i++) x = hot_b(hot_a(x)); return x == 0; }
C
cc -O2 -fno-omit-frame-pointer "$tmp/strip.c" -o "$tmp/unstripped" || { fail "build strip.c"; exit 1; }
cp "$tmp/unstripped" "$tmp/stripped" && strip -s "$tmp/stripped"
nm "$tmp/stripped" 2>&1 | grep -q "no symbols" || fail "strip left a symbol table"
addr_a=$(nm "$tmp/unstripped" | awk '$3 == "hot_a" { sub(/^0+/, "", $1); print $1 }')
addr_b=$(nm "$tmp/unstripped" | awk '$3 == "hot_b" { sub(/^0+/, "", $1); print $1 }')
record stripped "$tmp/stripped"
for f in "sub_$addr_a" "sub_$addr_b"; do
  [ "$(grep -cE " $f \(stripped\)$" "$tmp/stripped.txt")" -eq 1 ] ||
    { fail "not one row for $f (stripped)"; head -12 "$tmp/stripped.txt"; }
done
grep -qE 'stripped\+0x' "$tmp/stripped.txt" && { fail "per-address rows in a stripped binary"; grep 'stripped+0x' "$tmp/stripped.txt" | head -5; }

# ---- Inlined frames and separate debug info, from Debian's libc6-dbg.
libc=$(ldd "$tmp/vdso" | awk '/libc\.so\.6/ { print $3 }')
bid=$(eu-readelf -n "$libc" | awk '/Build ID:/ { print $3 }')
[ -e "/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug" ] ||
  { fail "libc6-dbg has no debug file for $libc ($bid) (scripts/deps.sh installs it)"; exit 1; }
eu-readelf -S "$libc" | grep -qE '\.symtab|\.debug_info' && fail "$libc has its own symbols: the test proves nothing"
cat > "$tmp/qsort.c" <<'C'
#include <stdlib.h>
static int cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
int main(void) { enum { N = 1 << 20 }; int *v = malloc(N * sizeof *v); unsigned s = 1;
  for (int r = 0; r < 4; r++) { for (int i = 0; i < N; i++) v[i] = (int)(s = s * 1103515245u + 12345u); qsort(v, N, sizeof *v, cmp); }
  return v[0] == 42; }
C
cc -O2 -g -fno-omit-frame-pointer "$tmp/qsort.c" -o "$tmp/qsort" || { fail "build qsort.c"; exit 1; }
record qsort "$tmp/qsort"
"$F" report -i "$tmp/qsort.fpt" --format json --top 1000 >"$tmp/qsort.json" 2>&1
grep -qE '"function":"msort_with_tmp[^"]*","module":"[^"]*libc.so.6","file":"[^"]*msort.c"' "$tmp/qsort.json" ||
  { fail "libc's msort_with_tmp is not named from its debug file"; head -12 "$tmp/qsort.txt"; }
grep -qE ' msort_with_tmp \(inlined\) \(libc.so.6\)$' "$tmp/qsort.txt" ||
  { fail "the inlined msort_with_tmp is not marked (inlined)"; head -12 "$tmp/qsort.txt"; }
[ "$fails" -eq 0 ]
