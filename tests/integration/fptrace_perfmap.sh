#!/usr/bin/env bash
# fptrace names frames in code generated at run time from the process's perf
# map (perf-integration/src/perfmap_names.c): cgo_export run with FPRT_PERFMAP=1 under
# `fptrace record`; the folded report shows the C caller, the thunk by its
# name, then rt_cgocallback, on the way to the goroutine function.
source "$(dirname "$0")/common.bash"
pid=
trap 'rm -rf "$tmp"; [ -z "$pid" ] || rm -f "/tmp/perf-$pid.map"' EXIT
cp "$B/progs/cgo_export" "$tmp/cgo_export"
FPRT_PERFMAP=1 "$F" record -F 999 -o "$tmp/c.fpt" -- "$tmp/cgo_export" -t 2 -f 1 \
  >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: record: $(cat "$tmp/err")"; exit 1; }
pid=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' < <("$F" check -i "$tmp/c.fpt" 2>&1 | head -1))
grep -q '^OK' "$tmp/out" || { echo "FAIL: cgo_export did not print OK"; cat "$tmp/out" "$tmp/err"; exit 1; }
"$F" report -i "$tmp/c.fpt" --kind cpu --format folded >"$tmp/folded" 2>&1 ||
  { echo "FAIL: report"; cat "$tmp/folded"; exit 1; }
n=$(grep -c 'c_cgocall_loop;export_work_cgocall;rt_cgocallback;' "$tmp/folded")
echo "pid ${pid:-?}: $n folded stacks name the thunk export_work_cgocall between C and rt_cgocallback"
grep -m1 'export_work_cgocall' "$tmp/folded"
if [ "$n" -eq 0 ]; then
  if ! grep -q 'ce_go_work' "$tmp/folded"; then
    echo "skip: no CPU sample landed in the exported function"; exit 77
  fi
  echo "FAIL: the thunk is not named from /tmp/perf-PID.map"; grep ce_go_work "$tmp/folded" | head -3; exit 1
fi
echo PASS
