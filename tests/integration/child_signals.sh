#!/usr/bin/env bash
# The program fptrace runs, and signals:
#   - SIGKILL to fptrace takes the program with it (PR_SET_PDEATHSIG), instead
#     of leaving it orphaned and running;
#   - a program started from a script that ignores SIGINT (`trap '' INT`, or a
#     background job) gets SIGINT back at its default, so the SIGINT fptrace
#     forwards stops it; no signal is left blocked either;
#   - SIGHUP sent to fptrace (a closed terminal session) is forwarded like
#     SIGINT and SIGTERM: the program ends by it and the recording is complete
#     (its END record says so), instead of fptrace dying of it.
# Both in-process (an fprt program) and --perf (where perf_event_open works).
# The waits below wait for a state (a process started, gone); their 60 s bound
# only turns a failure into a message instead of a hang.
source "$(dirname "$0")/common.bash"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# child_of PID: the pid of PID's child running PROG (empty if none yet)
child_of() {
  local st
  for st in /proc/[0-9]*/stat; do
    read -r -a f 2>/dev/null <"$st" || continue
    [ "${f[3]}" = "$1" ] && [ "$(readlink "${st%/stat}/exe" 2>/dev/null)" = "$2" ] && { echo "${f[0]}"; return; }
  done
}
# wait_until DESCRIPTION COMMAND...: poll until COMMAND succeeds
wait_until() {
  local what=$1 i; shift
  for i in $(seq 1200); do "$@" && return 0; sleep 0.05; done
  fail "waited 60 s for: $what"; return 1
}
running() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! running "$1"; }
# sigmask FIELD PID: the SigIgn/SigBlk mask of PID as a number
sigmask() { echo $((16#$(sed -n "s/^$1:\t*//p" "/proc/$2/status"))); }

prog=$B/progs/yield
modes=("in-process:")
perf_event_works --perf && modes+=("--perf:--perf")
if [ ${#modes[@]} -ne 2 ]; then
  echo "note: perf_event_open not permitted here: --perf part not run"
  [ "${CI:-}" != true ] || fail "CI=true: the --perf part must run"
fi

for m in "${modes[@]}"; do
  name=${m%%:*} flag=${m#*:}
  # fptrace started with SIGINT ignored; then SIGKILL to fptrace
  (trap '' INT; exec "$F" record $flag -o "$tmp/k.fpt" -- "$prog" -t 1000) >/dev/null 2>&1 &
  fpid=$!; pids+=("$fpid")
  child=
  wait_until "$name: the program under fptrace" eval 'child=$(child_of "$fpid" "$prog"); [ -n "$child" ]' || continue
  pids+=("$child")
  ign=$(sigmask SigIgn "$child") blk=$(sigmask SigBlk "$child")
  (( ign & (1 << 1) )) && fail "$name: the program ignores SIGINT (SigIgn $(printf %x "$ign"))"
  [ "$blk" -eq 0 ] || fail "$name: the program blocks signals (SigBlk $(printf %x "$blk"))"
  kill -KILL "$fpid"
  wait "$fpid" 2>/dev/null
  wait_until "$name: the program to die with fptrace (pid $child)" gone "$child"
done

for m in "${modes[@]}"; do
  name=${m%%:*} flag=${m#*:}
  "$F" record $flag -o "$tmp/h.fpt" -- "$prog" -t 1000 >/dev/null 2>&1 &
  fpid=$!; pids+=("$fpid")
  child=
  wait_until "$name: the program under fptrace" eval 'child=$(child_of "$fpid" "$prog"); [ -n "$child" ]' || continue
  pids+=("$child")
  # samples in the file first: the check below needs some
  wait_until "$name: samples in the recording" eval '[ "$(stat -c %s "$tmp/h.fpt" 2>/dev/null || echo 0)" -ge 65536 ]' || continue
  kill -HUP "$fpid"
  wait "$fpid" 2>/dev/null
  wait_until "$name: the program to end (pid $child)" gone "$child"
  head=$("$F" check -i "$tmp/h.fpt" 2>&1 | head -1)
  case $head in
    *"killed by signal 1 "*) ;;
    *) fail "$name: SIGHUP to fptrace: the recording should end with the program killed by signal 1; check says: $head" ;;
  esac
done

[ "$fails" -eq 0 ] && echo "ok: ${#modes[@]} mode(s): the program dies with fptrace, gets SIGINT at its default, and SIGHUP forwarded"
exit $((fails > 0))
