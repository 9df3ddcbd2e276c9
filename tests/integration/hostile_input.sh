#!/usr/bin/env bash
# Hostile input: `fptrace report` and `fptrace check` on every kind of damaged
# .fpt file.  A small real file is recorded from a tiny C program built here
# (or, where perf_event_open is not allowed, of an fprt scenario), then:
#   - truncated at every record boundary (+-1) and at >= 500 other offsets
#   - >= 500 single bytes flipped (every byte when the file is small enough)
#   - 40 flipped bytes with every checksum fixed up afterwards, so the damage
#     reaches the decoders and the DWARF analysis instead of the CRC check
#   - a zero-length file, a record claiming a 4 GiB - 1 payload, 20 random
#     files (10 behind a valid file header)
# Rules: exit 1 with exactly one line on stderr that names the offset (the
# record or header at fault: checked against the record boundaries), or 0/3
# when the damage leaves a valid prefix (a truncation at a record boundary; a
# prefix too short to check may also exit 1, with one line naming no offset);
# never a crash (exit >= 128, a sanitizer report), never more than 1 GiB of
# address space (ulimit -v; under ASan, whose shadow needs terabytes of it,
# hard_rss_limit_mb and max_allocation_size_mb do that job).
# FPT_HOSTILE_N sets the number of sampled offsets (default 500, 150 under ASan).
source "$(dirname "$0")/common.bash"
cases=0
[ -x "$F" ] || { echo "FAIL: $F not built"; exit 1; }
# A private copy: a concurrent `make` relinking build/bin/fptrace must not turn
# thousands of runs into "Permission denied".
cp "$F" "$tmp/fptrace" && F=$tmp/fptrace || { echo "FAIL: cannot copy $F"; exit 1; }

asan=0
if nm "$F" 2>/dev/null | grep -q __asan_init || ldd "$F" 2>/dev/null | grep -q libasan; then
  asan=1
fi
N=${FPT_HOSTILE_N:-$([ $asan = 1 ] && echo 150 || echo 500)}
# Leaks are reported by the leak checker as errors; allocations must stay small.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1024:max_allocation_size_mb=1024:allocator_may_return_null=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# The mutation helper, against whichever flavour of the core library this build has.
mut=$tmp/fpt_mutate
cflags="-std=c11 -D_GNU_SOURCE -O1 -g -Ilibfpunwind/include"
if ! cc $cflags fuzz/tools/fpt_mutate.c "$B/lib/libfpunwind_core.a" -o "$mut" 2>"$tmp/cc.err" &&
   ! cc $cflags -fsanitize=address,undefined fuzz/tools/fpt_mutate.c "$B/lib/libfpunwind_core.a" -o "$mut" 2>>"$tmp/cc.err"; then
  fail "cannot build fuzz/tools/fpt_mutate.c"; cat "$tmp/cc.err"; exit 1
fi

# The victim: a real recording of a tiny program, kept small by --snapshot-max
# (perf_event_open), else of the fprt yield scenario (in-process profiler).
cat > "$tmp/tiny.c" <<'C'
#include <time.h>
__attribute__((noinline)) void leaf(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
__attribute__((noinline)) void mid(volatile double *x) { leaf(x); __asm__ volatile("" ::: "memory"); }
int main(void) { volatile double x = 0; clock_t t0 = clock(); while (clock() - t0 < CLOCKS_PER_SEC / 20) mid(&x); return 0; }
C
orig=$tmp/orig.fpt
cc -O2 -g -fno-omit-frame-pointer "$tmp/tiny.c" -o "$tmp/tiny" || { fail "cannot build the test program"; exit 1; }
if "$F" record -F 200 --snapshot-max 256 -o "$orig" -- "$tmp/tiny" >/dev/null 2>"$tmp/rec.err" &&
   "$mut" bounds "$orig" | awk 'END { exit NR < 4 }'; then
  what="recorded from $tmp/tiny"
elif [ -x "$B/progs/yield" ] &&
     "$F" record -F 500 --snapshot-max 256 -o "$tmp/yield.fpt" -- "$B/progs/yield" >/dev/null 2>>"$tmp/rec.err" &&
     "$mut" trim "$tmp/yield.fpt" "$orig" 12000 && "$mut" bounds "$orig" | awk 'END { exit NR < 4 }'; then
  # No perf_event_open here: the fprt in-process profiler needs none.
  what="recorded in process from $B/progs/yield, trimmed"
else
  echo "skip: cannot record a .fpt file here: $(head -2 "$tmp/rec.err" | tr '\n' ' ')"; exit 77
fi
size=$(stat -c %s "$orig")
"$mut" bounds "$orig" > "$tmp/bounds"
echo "victim: $size bytes, $(($(wc -l < "$tmp/bounds") - 1)) records, $what"
for cmd in report check; do
  "$F" $cmd -i "$orig" >/dev/null 2>"$tmp/err"; r=$?
  [ $r -eq 0 ] || [ $r -eq 3 ] || { fail "$cmd on the undamaged file: exit $r"; cat "$tmp/err"; exit 1; }
done

mapfile -t bounds < "$tmp/bounds"
declare -A isb
for b in "${bounds[@]}"; do isb[$b]=1; done
is_boundary() { [ -n "${isb[$1]:-}" ]; }
# The record (or file header, 0) holding byte p: the last boundary <= p.
record_of() {
  local p=$1 r=0 b
  if [ "$p" -ge 24 ]; then for b in "${bounds[@]}"; do [ "$b" -le "$p" ] && r=$b; done; fi
  echo "$r"
}

# From here on every process is limited to 1 GiB of address space (not under
# ASan: its shadow memory alone reserves terabytes).
[ $asan = 1 ] || ulimit -v 1048576

# run FILE WHAT PREFIX_OK WANT_OFFSET: both commands under the rules above.
# WANT_OFFSET: the offset the message must name ("" = any offset, "-" = the
# message need not name one, for damage behind fixed-up checksums).
run() {
  local file=$1 what=$2 prefix_ok=$3 want=$4 cmd r lines msg off
  for cmd in report check; do
    cases=$((cases + 1))
    "$F" $cmd -i "$file" >/dev/null 2>"$tmp/err"; r=$?
    if [ $r -ge 128 ] || grep -qE 'Sanitizer|runtime error|Segmentation|core dumped|Aborted' "$tmp/err"; then
      fail "$cmd, $what: crashed (exit $r)"; head -20 "$tmp/err" | sed 's/^/    /'; cp "$file" "$B/hostile-crash-$cmd-$cases.fpt"; continue
    fi
    case $r in
      0|3)
        [ "$prefix_ok" = 1 ] || { fail "$cmd, $what: exit $r on a damaged file"; sed 's/^/    /' "$tmp/err"; }
        continue ;;
      1) ;;
      *) fail "$cmd, $what: exit $r"; sed 's/^/    /' "$tmp/err"; continue ;;
    esac
    lines=$(wc -l < "$tmp/err")
    msg=$(head -1 "$tmp/err")
    [ "$lines" -eq 1 ] || { fail "$cmd, $what: $lines lines on stderr, want 1"; sed 's/^/    /' "$tmp/err" | head -5; continue; }
    # A valid prefix may hold too little to check ("no samples to check", no
    # sample DWARF could unwind): one line naming no offset is right then.
    [ "$prefix_ok" = 1 ] && continue
    [ "$want" = "-" ] && continue
    off=$(sed -n 's/.*: offset \([0-9][0-9]*\): .*/\1/p' <<<"$msg")
    [ -n "$off" ] || { fail "$cmd, $what: message names no offset: $msg"; continue; }
    [[ $msg == *"$file"* ]] || fail "$cmd, $what: message does not name the file: $msg"
    if [ -n "$want" ] && [ "$off" != "$want" ]; then
      # A flipped header field is reported at that field (major at 8, length at 12).
      if ! { [ "$want" = 0 ] && [ "$off" -lt 24 ]; }; then
        fail "$cmd, $what: message names offset $off, want $want: $msg"
      fi
    fi
  done
}

# Offsets to try: every one when the file is small, else N spread evenly, plus
# every record boundary and its neighbours and the whole file header.
offsets() {
  { seq 0 40
    while read -r b; do echo $((b - 1)); echo "$b"; echo $((b + 1)); done < "$tmp/bounds"
    if [ "$size" -le "$N" ]; then seq 0 $((size - 1)); else
      awk -v n="$N" -v s="$size" 'BEGIN { for (i = 0; i < n; i++) print int(i * s / n) + (i * 7) % int(s / n) }'; fi
  } | awk -v s="$size" '$1 >= 0 && $1 < s' | sort -n -u
}

# 1. Truncations.
t0=$SECONDS ntr=0
for t in $(offsets); do
  head -c "$t" "$orig" > "$tmp/t.fpt"
  ntr=$((ntr + 1))
  if [ "$t" -ge 24 ] && is_boundary "$t"; then
    run "$tmp/t.fpt" "truncated at $t (a record boundary)" 1 ""
  else
    run "$tmp/t.fpt" "truncated at $t" 0 "$(record_of "$t")"
  fi
done
echo "truncations: $ntr offsets in $((SECONDS - t0)) s"

# 2. Single flipped bytes (xor 0xff; every bit of the byte changes).
t0=$SECONDS nfl=0
flip() { "$mut" flip "$1" "$2" "$3"; }
for p in $(offsets); do
  flip "$orig" "$tmp/f.fpt" "$p"
  nfl=$((nfl + 1))
  run "$tmp/f.fpt" "byte $p flipped" 0 "$(record_of "$p")"
done
echo "flips: $nfl offsets in $((SECONDS - t0)) s"

# 3. Flips behind fixed-up checksums: the decoders and the analysis see them.
t0=$SECONDS nfx=0
for p in $(awk -v s="$size" 'BEGIN { srand(8); for (i = 0; i < 40; i++) print int(rand() * s) }' | sort -n -u); do
  flip "$orig" "$tmp/x.fpt" "$p"
  "$mut" fixcrc "$tmp/x.fpt"
  nfx=$((nfx + 1))
  # A flipped length field may still leave a consistent prefix behind.
  run "$tmp/x.fpt" "byte $p flipped, checksums fixed" 1 "-"
done
echo "flips with checksums fixed: $nfx in $((SECONDS - t0)) s"

# 4. Zero length, a 4 GiB record, random files.
: > "$tmp/empty.fpt"
run "$tmp/empty.fpt" "an empty file" 0 0
"$mut" hugelen "$orig" "$tmp/huge.fpt"
run "$tmp/huge.fpt" "a record claiming a 4 GiB - 1 payload" 0 "$size"
for i in $(seq 1 20); do
  n=$(( (i * 7919) % 9000 + i ))
  if [ $((i % 2)) = 0 ]; then
    { head -c 24 "$orig"; head -c "$n" /dev/urandom; } > "$tmp/r.fpt"
    run "$tmp/r.fpt" "random bytes behind a valid header ($n)" 0 24
  else
    head -c "$n" /dev/urandom > "$tmp/r.fpt"
    run "$tmp/r.fpt" "random bytes ($n)" 0 0
  fi
done

echo "hostile input: $cases runs of report/check, $fails failures"
[ $fails -eq 0 ]
