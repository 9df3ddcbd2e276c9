#!/usr/bin/env bash
# A FIFO never hangs report or check: not as the -i input, not as a mapped
# module named by a perf.data MMAP2 record, not as one named by a .fpt MAPPING
# record.  Only regular files are opened (O_NONBLOCK + fstat).  A hang shows as
# exit 124 from timeout (generous: the run itself takes well under a second).
source "$(dirname "$0")/common.bash"

# run_fpt WHAT ARGS...: fptrace under timeout; output in $tmp/out, exit in $rc
run_fpt() {
  local what=$1; shift
  timeout 120 "$F" "$@" >"$tmp/out" 2>&1
  rc=$?
  if [ "$rc" -eq 124 ]; then fail "$what: fptrace $* hung on a FIFO (killed by timeout)"
  elif [ "$rc" -gt 124 ]; then fail "$what: fptrace $* died (exit $rc): $(tail -2 "$tmp/out")"; fi
}

# 1. the input itself
mkfifo "$tmp/input.fifo"
for cmd in check report; do
  run_fpt "-i FIFO" "$cmd" -i "$tmp/input.fifo"
  [ "$rc" -eq 1 ] && grep -q "input.fifo: offset 0: not a regular file (a FIFO)" "$tmp/out" ||
    fail "$cmd -i FIFO: exit $rc, want 1 and 'not a regular file (a FIFO)': $(head -2 "$tmp/out")"
done

# 2. a perf.data whose MMAP2 record names a FIFO
mkfifo "$tmp/module.fifo"
cc -O1 -g tests/integration/many_mmaps.c -o "$tmp/many_mmaps" || { fail "cannot build many_mmaps.c"; exit 1; }
"$tmp/many_mmaps" fuzz/corpus/fuzz_perfdata/pipe-dwarf-128.data "$tmp/fifo.data" 1 "$tmp/module.fifo" ||
  { fail "cannot write the perf.data"; exit 1; }
run_fpt "perf.data MMAP2 of a FIFO" check -i "$tmp/fifo.data"
grep -q "module.fifo: not a regular file (a FIFO): no CFI for it" "$tmp/out" ||
  fail "perf.data MMAP2 of a FIFO: no warning naming it: $(head -3 "$tmp/out")"

# 3. a .fpt whose MAPPING record names a FIFO: record the yield scenario in
#    process, then point the program's own mapping at a FIFO whose path has
#    the same length, and fix the checksums.
cflags="-std=c11 -D_GNU_SOURCE -O1 -g -Ilibfpunwind/include"
# against whichever flavour of the core library this build has (make SAN=...)
cc $cflags fuzz/tools/fpt_mutate.c "$B/lib/libfpunwind_core.a" -o "$tmp/mut" 2>/dev/null ||
  cc $cflags -fsanitize=address,undefined fuzz/tools/fpt_mutate.c "$B/lib/libfpunwind_core.a" -o "$tmp/mut" ||
  { fail "cannot build fuzz/tools/fpt_mutate.c"; exit 1; }
cp "$B/progs/yield" "$tmp/yield"
"$F" record -F 200 -o "$tmp/y.fpt" -- "$tmp/yield" -t 0.3 >/dev/null 2>"$tmp/rec.err" ||
  { fail "cannot record the yield scenario: $(head -2 "$tmp/rec.err")"; exit 1; }
fifo=$tmp/$(printf 'f%.0s' $(seq 1 ${#tmp}))
fifo=${fifo:0:$(( ${#tmp} + 6 ))}    # same length as "$tmp/yield"
mkfifo "$fifo"
OLD="$tmp/yield" NEW="$fifo" perl -0777 -pi -e 's/\Q$ENV{OLD}\E(?=\0|[^\/a-z])/$ENV{NEW}/g' "$tmp/y.fpt"
grep -qa "$fifo" "$tmp/y.fpt" || fail "the MAPPING path was not rewritten"
"$tmp/mut" fixcrc "$tmp/y.fpt" || fail "fixcrc"
for cmd in check report; do
  run_fpt ".fpt MAPPING of a FIFO" "$cmd" -i "$tmp/y.fpt"
  grep -q "not a regular file (a FIFO): no CFI for it" "$tmp/out" ||
    fail "$cmd, .fpt MAPPING of a FIFO: no warning naming it: $(head -3 "$tmp/out")"
done

[ "$fails" -eq 0 ] && echo "ok: a FIFO as input, as a perf.data module and as a .fpt module: one message, no hang"
exit $((fails > 0))
