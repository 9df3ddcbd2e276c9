#!/usr/bin/env bash
# fptrace record -p PID: attach to a running C program (two threads burning
# CPU until a stop file appears), stop at SIGINT, and at --duration; the
# program goes on untouched and, once told to stop, ends normally (exit 0);
# the recording holds its samples, from both threads, named.  Also the usage
# errors of -p.  The waits below wait for a state (a file, a process gone);
# their 60 s bound only turns a failure into a message instead of a hang.
source "$(dirname "$0")/common.bash"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

if ! "$F" record --perf -o "$tmp/probe.fpt" -- true 2>/dev/null; then
  [ "${CI:-}" != true ] || { echo "FAIL: CI=true: perf_event_open must work"; exit 1; }
  echo "skip: perf_event_open not permitted here"; exit 77
fi

wait_until() {
  local what=$1 i; shift
  for i in $(seq 1200); do "$@" && return 0; sleep 0.05; done
  fail "waited 60 s for: $what"; return 1
}
size_at_least() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

cat > "$tmp/target.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
volatile unsigned long sink;
static const char *stop;
__attribute__((noinline)) static void attach_spin(void)
{
	while (access(stop, F_OK) != 0)
		for (unsigned long i = 0; i < 1000000; i++)
			sink += i ^ (sink >> 3);
}
__attribute__((noinline)) static void *attach_thread(void *arg)
{
	(void)arg;
	attach_spin();
	return NULL;
}
int main(int argc, char **argv)
{
	pthread_t t;
	stop = argv[1];
	pthread_create(&t, NULL, attach_thread, NULL);
	FILE *f = fopen(argv[2], "w");   /* ready: both threads run */
	fclose(f);
	attach_spin();
	pthread_join(t, NULL);
	return argc == 3 ? 0 : 9;
}
EOF
cc -O1 -g -fno-omit-frame-pointer -pthread -o "$tmp/target" "$tmp/target.c" || { fail "cc"; exit 1; }

"$tmp/target" "$tmp/stop" "$tmp/ready" &
target=$!; pids+=("$target")
wait_until "the target to run" test -e "$tmp/ready"

# attach, until SIGINT once samples are in the file
"$F" record -p "$target" -o "$tmp/a.fpt" 2> "$tmp/a.err" &
fpid=$!; pids+=("$fpid")
wait_until "samples in the recording" size_at_least "$tmp/a.fpt" 200000
kill -INT "$fpid"
wait "$fpid"; rc=$?
[ $rc -eq 0 ] || fail "record -p, then SIGINT: exit $rc: $(cat "$tmp/a.err")"
grep -q "^fptrace: detached from process $target; [1-9][0-9]* samples" "$tmp/a.err" ||
  fail "record -p: no 'detached' line: $(cat "$tmp/a.err")"
kill -0 "$target" 2>/dev/null || fail "the target did not survive the detach"

# attach again, for a duration: it returns by itself
"$F" record -p "$target" --duration 0.5 -o "$tmp/d.fpt" 2> "$tmp/d.err"; rc=$?
[ $rc -eq 0 ] || fail "record -p --duration 0.5: exit $rc: $(cat "$tmp/d.err")"
kill -0 "$target" 2>/dev/null || fail "the target did not survive the second detach"

# the target ends normally once told to
touch "$tmp/stop"
wait "$target"; rc=$?
[ $rc -eq 0 ] || fail "the target exited $rc after the detach, not 0"

# its samples, from both threads, with its frames named
"$F" report -i "$tmp/a.fpt" --format folded > "$tmp/a.folded" 2> "$tmp/r.err" ||
  fail "report of the attached recording: $(cat "$tmp/r.err")"
grep -q 'main;attach_spin' "$tmp/a.folded" || fail "no sample of the main thread in attach_spin"
grep -q 'attach_thread;attach_spin' "$tmp/a.folded" || fail "no sample of the second thread"
head1=$("$F" check -i "$tmp/a.fpt" 2>&1 | head -1)
case $head1 in *"(pid $target,"*) ;; *) fail "check names another process: $head1" ;; esac

# usage
"$F" record -p 999999999 -o "$tmp/x.fpt" 2> "$tmp/x.err"; rc=$?
[ $rc -eq 1 ] && grep -q -- "-p 999999999: no such process" "$tmp/x.err" ||
  fail "-p of no process: exit $rc: $(cat "$tmp/x.err")"
"$F" record -p 1,2 -o "$tmp/x.fpt" 2> "$tmp/x.err"; rc=$?
[ $rc -eq 2 ] || fail "-p 1,2: exit $rc, want 2 (usage): $(cat "$tmp/x.err")"
"$F" record -p "$$" -o "$tmp/x.fpt" -- true 2> "$tmp/x.err"; rc=$?
[ $rc -eq 2 ] || fail "-p with a command: exit $rc, want 2: $(cat "$tmp/x.err")"
"$F" record --duration 1 -o "$tmp/x.fpt" -- true 2> "$tmp/x.err"; rc=$?
[ $rc -eq 2 ] || fail "--duration without -p: exit $rc, want 2: $(cat "$tmp/x.err")"

[ "$fails" -eq 0 ] && echo "ok: attached, detached at SIGINT and at --duration; the program ran on and exited 0"
exit $((fails > 0))
