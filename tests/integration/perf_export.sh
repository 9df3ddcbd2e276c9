#!/usr/bin/env bash
# Thunks from rt_cgo_export under Linux perf, on build/progs/cgo_export:
#   - FPRT_PERFMAP=1 + `perf record --call-graph fp`: `perf script` names the
#     thunks from /tmp/perf-PID.map, and chains hold the goroutine function
#     (ce_go_work), the thunk (export_work_*) and the C caller (c_*_loop) in
#     that order;
#   - FPRT_JITDUMP=1 + `perf record -k mono` + `perf inject --jit`: inject
#     succeeds and the injected file names the thunks from jitted-PID-N.so.
# Skipped (77) with the reason when perf cannot sample here; the jitdump part
# alone is skipped (with a note) when this perf has no `inject --jit`.
set -u
build=${FPT_BUILD:-build}
prog=$build/progs/cgo_export
command -v perf >/dev/null || { echo "skip: perf not installed"; exit 77; }
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }
tmp=$(mktemp -d)
maps=()
cleanup() { rm -rf "$tmp"; [ ${#maps[@]} -eq 0 ] || rm -f "${maps[@]}"; }
trap cleanup EXIT

if ! FPRT_PERFMAP=1 perf record -q -e cpu-clock -F 2000 --call-graph fp -o "$tmp/fp.data" \
    "$prog" -t 2 >"$tmp/stdout" 2>"$tmp/stderr"; then
  if grep -qiE 'permission|not supported|perf_event_paranoid|No such file|access' "$tmp/stderr"; then
    echo "skip: perf cannot sample here: $(head -3 "$tmp/stderr" | tr '\n' ' ')"; exit 77
  fi
  echo "FAIL: perf record / cgo_export failed:"; cat "$tmp/stdout" "$tmp/stderr"; exit 1
fi
grep -q '^OK' "$tmp/stdout" || { echo "FAIL: cgo_export did not print OK"; cat "$tmp/stdout" "$tmp/stderr"; exit 1; }
pid=$(perf script -i "$tmp/fp.data" -F pid 2>/dev/null | awk 'NF { print $1; exit }')
[ -n "$pid" ] || { echo "skip: perf recorded no samples"; exit 77; }
map=/tmp/perf-$pid.map
maps+=("$map")
fail=0
echo "--- $map:"; cat "$map" 2>/dev/null
for t in export_work_foreign export_work_cgocall; do
  grep -qE "^[0-9a-f]+ 20 $t\$" "$map" 2>/dev/null || { echo "FAIL: $map has no line for $t"; fail=1; }
done

# Per sample (leaf first): the chain goroutine function -> thunk -> C caller.
perf script -i "$tmp/fp.data" -F ip,sym 2>/dev/null >"$tmp/script"
read -r total work through example < <(awk '
  function flush() {
    if (n) {
      total++
      if (w) { work++; if (t > w && c > t && (ok == 0)) { through++; if (!ex) ex = NR0 } }
    }
    n = 0; w = 0; t = 0; c = 0; ok = 0
  }
  /^[[:space:]]*$/ { flush(); next }
  { if (n == 0) NR0 = NR; n++
    if (!w && $2 == "ce_go_work") w = n
    if (w && !t && $2 ~ /^export_work_(foreign|cgocall)$/) t = n
    if (t && !c && $2 ~ /^c_(foreign|cgocall)_loop$/) c = n }
  END { flush(); printf "%d %d %d %d\n", total + 0, work + 0, through + 0, ex + 0 }' "$tmp/script")
echo "fp: $total samples, $work in ce_go_work, $through with ce_go_work -> thunk -> C caller"
if [ "$example" -gt 0 ]; then
  echo "--- one of them (perf script, leaf first):"
  sed -n "$example,\$p" "$tmp/script" | awk 'NF == 0 { exit } { print }'
fi
if [ "$work" -lt 5 ]; then
  echo "skip: too few samples in ce_go_work to judge ($work)"; exit 77
fi
# every sample in ce_go_work comes through a thunk: most chains must show it
[ $((through * 10)) -ge $((work * 8)) ] ||
  { echo "FAIL: only $through of $work chains in ce_go_work go through a named thunk to C"; fail=1; }

# ---- jitdump -----------------------------------------------------------------
if ! perf inject --help 2>&1 | grep -q -- '--jit'; then
  echo "note: this perf has no 'inject --jit': jitdump part skipped"
else
  if FPRT_JITDUMP=1 FPRT_JITDUMP_DIR=$tmp perf record -q -k mono -e cpu-clock -F 2000 \
      --call-graph fp -o "$tmp/jit.data" "$prog" -t 1 >"$tmp/stdout" 2>"$tmp/stderr"; then
    ls "$tmp"/jit-*.dump >/dev/null 2>&1 || { echo "FAIL: FPRT_JITDUMP=1 wrote no jit-PID.dump"; fail=1; }
    if perf inject --jit -i "$tmp/jit.data" -o "$tmp/injected.data" 2>"$tmp/inject.err"; then
      n=$(perf script -i "$tmp/injected.data" -F ip,sym,dso 2>/dev/null |
          grep -cE 'export_work_(foreign|cgocall) \(.*jitted-[0-9]+-[0-9]+\.so\)')
      echo "jitdump: perf inject --jit succeeded; $n frames named from jitted-PID-N.so"
      ls "$tmp"/jitted-*.so >/dev/null 2>&1 || { echo "FAIL: perf inject wrote no jitted-*.so"; fail=1; }
      [ "$n" -gt 0 ] || { echo "FAIL: the injected file names no thunk"; fail=1; }
    else
      echo "FAIL: perf inject --jit failed:"; cat "$tmp/inject.err"; fail=1
    fi
  else
    echo "FAIL: perf record -k mono with FPRT_JITDUMP=1 failed:"; cat "$tmp/stderr"; fail=1
  fi
  pid=$(perf script -i "$tmp/jit.data" -F pid 2>/dev/null | awk 'NF { print $1; exit }')
  [ -z "$pid" ] || maps+=("/tmp/perf-$pid.map")
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
