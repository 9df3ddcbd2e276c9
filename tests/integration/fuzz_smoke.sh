#!/usr/bin/env bash
# A short run of every libFuzzer target (fuzz/fuzz_*.c) over its seed corpus:
# each seed (the regressions included) must pass, then FUZZ_SMOKE_SECONDS
# (default 10) of fuzzing must find nothing.  Builds the targets with clang
# (make fuzz-build); skips (77) when clang or its libFuzzer runtime is missing.
# The long runs are `make fuzz FUZZ_SECONDS=N`.
source "$(dirname "$0")/common.bash"
secs=${FUZZ_SMOKE_SECONDS:-10}
cc=${FUZZ_CC:-clang}

command -v "$cc" >/dev/null 2>&1 || { echo "skip: $cc not found (libFuzzer needs clang)"; exit 77; }
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" 2>"$tmp/probe.err"; then
  echo "skip: $cc cannot link -fsanitize=fuzzer,address,undefined (install libclang-rt-14-dev): $(head -1 "$tmp/probe.err")"
  exit 77
fi

# MAKEFLAGS from an outer make (SAN=..., -j) must not leak into this build.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$B" FUZZ_CC="$cc" fuzz-build >"$tmp/build.log" 2>&1; then
  echo "FAIL: make fuzz-build"; tail -20 "$tmp/build.log"; exit 1
fi

ran=0
for bin in "$B"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  t=$(basename "$bin")
  seeds=fuzz/corpus/$t
  mkdir -p "$tmp/$t"
  ran=$((ran + 1))
  # 1. Every committed seed and regression input, once.
  if [ -d "$seeds" ] && ls "$seeds"/* >/dev/null 2>&1; then
    if ! "$bin" -runs=0 -error_exitcode=1 "$seeds" >"$tmp/$t.seeds.log" 2>&1; then
      echo "FAIL: $t: a seed input fails"; grep -m 10 -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z_]+: ' "$tmp/$t.seeds.log" | sed 's/^/    /'
      fails=$((fails + 1)); continue
    fi
  fi
  # 2. A short fuzzing run; new inputs go to a scratch directory, not the repo.
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$tmp/$t-" \
    "$tmp/$t" $( [ -d "$seeds" ] && echo "$seeds") >"$tmp/$t.log" 2>&1
  r=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t.log" | tail -1)
  if [ $r -ne 0 ]; then
    echo "FAIL: $t found a crash in $secs s (exit $r):"
    grep -m 20 -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|fuzz_[a-z_]+: .*:[0-9]+:' "$tmp/$t.log" | sed 's/^/    /'
    for a in "$tmp/$t"-*; do [ -e "$a" ] && { mkdir -p "$B/fuzz/artifacts"; cp "$a" "$B/fuzz/artifacts/"; echo "    input kept in $B/fuzz/artifacts/$(basename "$a")"; }; done
    fails=$((fails + 1))
  else
    echo "ok: $t: ${execs:-?} executions in $secs s"
  fi
done
[ $ran -gt 0 ] || { echo "FAIL: no fuzz targets built"; exit 1; }
[ $fails -eq 0 ]
