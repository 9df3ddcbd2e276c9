#!/usr/bin/env bash
# A perf.data with 20,000 and 100,000 executable MMAP2 records of one file
# (each address twice): check must neither abort in libdw nor run out of file
# descriptors and blame the input ("cannot open: Too many open files").  Modules
# are loaded once per file and address, at most RLIMIT_NOFILE / 4 of them, and
# what is left out is said in one warning.  Run with 1024 descriptors (the
# usual default) and, as the reported abort had it, with a memory limit.
source "$(dirname "$0")/common.bash"

cc -O1 -g tests/integration/many_mmaps.c -o "$tmp/many_mmaps" || { fail "cannot build many_mmaps.c"; exit 1; }
# ASan's shadow needs terabytes of address space: there the memory limit is
# ASan's own (hard_rss_limit_mb), not ulimit -v.
memlimit="ulimit -v 2000000"
if nm "$F" 2>/dev/null | grep -q __asan_init; then
  memlimit="export ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}hard_rss_limit_mb=2000"
fi
for n in 20000 100000; do
  "$tmp/many_mmaps" fuzz/corpus/fuzz_perfdata/pipe-dwarf-128.data "$tmp/m.data" "$n" "$(type -P true)" ||
    { fail "cannot write the perf.data with $n mappings"; continue; }
  for limits in "ulimit -n 1024" "ulimit -n 1024; $memlimit"; do
    (eval "$limits"; exec "$F" check -i "$tmp/m.data") >"$tmp/out" 2>&1
    rc=$?
    what="$n mappings ($limits)"
    [ "$rc" -lt 4 ] || fail "$what: exit $rc: $(tail -3 "$tmp/out")"
    ! grep -qi "too many open files\|assertion" "$tmp/out" || fail "$what: $(grep -i 'too many\|assertion' "$tmp/out" | head -1)"
    grep -q "^fptrace: warning: $((n / 2 + 3)) executable mappings: 256 modules loaded, [0-9]* more left out (open-file budget 256: RLIMIT_NOFILE 1024 / 4)" "$tmp/out" ||
      fail "$what: no warning about the modules left out: $(head -3 "$tmp/out")"
  done
done
[ "$fails" -eq 0 ] && echo "ok: 20,000 and 100,000 mappings: modules deduplicated and bounded, one warning"
exit $((fails > 0))
