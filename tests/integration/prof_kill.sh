#!/usr/bin/env bash
# A profiled fprt program that is killed outright, or that crashes, leaves a
# .fpt that reads up to its last complete record, and fptrace says how the
# program ended.  (SIGKILL runs no handler: the writer thread's last drain is
# what is there; fptrace cuts any half-written record and appends END.)
source "$(dirname "$0")/common.bash"
cp "$B/progs/yield" "$B/progs/crash" "$tmp/"

# SIGKILL mid-run: find the child by its path, let it run a while, kill it.
"$F" record -F 4999 -o "$tmp/k.fpt" -- "$tmp/yield" -t 30 > /dev/null 2> "$tmp/kerr" &
rec=$!
pid=
for _ in $(seq 100); do
  pid=$(pgrep -f "^$tmp/yield" | head -1)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || fail "the profiled program did not start"
sleep 1.5
[ -n "$pid" ] && kill -KILL "$pid"
wait $rec
rc=$?
[ $rc -eq 137 ] || fail "record exited $rc after the program was killed, want 137 (128 + SIGKILL)"
grep -q "killed by signal 9" "$tmp/kerr" || fail "record does not say the program was killed: $(cat "$tmp/kerr")"
"$F" report -i "$tmp/k.fpt" > "$tmp/kreport" 2>&1 || fail "report on the killed program's file: $(cat "$tmp/kreport")"
"$F" check -i "$tmp/k.fpt" > "$tmp/kcheck" 2>&1
grep -q "killed by signal 9" "$tmp/kcheck" || fail "check does not say how it ended: $(head -3 "$tmp/kcheck")"
grep -qE '^[0-9]+ samples' "$tmp/kcheck" || fail "no samples kept after SIGKILL"

# A crash: the runtime's fatal error exits 2; the samples so far are kept.
"$F" record -F 4999 -o "$tmp/c.fpt" -- "$tmp/crash" -t 1 > /dev/null 2> "$tmp/cerr"
rc=$?
[ $rc -eq 2 ] || fail "record exited $rc after the crash, want the program's 2"
grep -q "exited with status 2" "$tmp/cerr" || fail "crash: $(tail -3 "$tmp/cerr")"
grep -q "fatal error" "$tmp/cerr" || fail "the runtime's fatal error is not on stderr"
"$F" check -i "$tmp/c.fpt" > "$tmp/ccheck" 2>&1
grep -q "exited with status 2" "$tmp/ccheck" || fail "check does not say the program exited 2: $(head -3 "$tmp/ccheck")"

echo "prof_kill: $fails failure(s)"
[ $fails -eq 0 ]
