#!/usr/bin/env bash
# fptrace record -p PID: attach to a running C program (two threads burning
# CPU until a stop file appears), stop at SIGINT, and at --duration; the
# program goes on untouched and, once told to stop, ends normally (exit 0);
# the recording holds its samples, from both threads, named.  Also the usage
# errors of -p.  And -p A,B: two programs sampled at once, each its own
# section of the file, both running on.  The waits below wait for a state (a file, a process gone);
# their 60 s bound only turns a failure into a message instead of a hang.
source "$(dirname "$0")/common.bash"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

need_perf_event --perf

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

# -p A,B: two programs at once.  Each waits for a go file (sleeping), does a
# fixed amount of work while both are sampled, says so, then sleeps until a
# stop file: the work, not a time, decides what is sampled.
cat > "$tmp/pair.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
volatile unsigned long sink;
static void wait_for(const char *path)
{
	while (access(path, F_OK) != 0)
		usleep(10000);
}
__attribute__((noinline)) static void work_of_a(void)
{
	for (unsigned long i = 0; i < 200000000ul; i++)
		sink += i ^ (sink >> 3);
}
__attribute__((noinline)) static void work_of_b(void)
{
	for (unsigned long i = 0; i < 200000000ul; i++)
		sink += i ^ (sink >> 5);
}
int main(int argc, char **argv)   /* a|b go done stop */
{
	if (argc != 5)
		return 2;
	wait_for(argv[2]);
	if (!strcmp(argv[1], "a"))
		work_of_a();
	else
		work_of_b();
	fclose(fopen(argv[3], "w"));
	wait_for(argv[4]);
	return 0;
}
EOF
cc -O1 -g -fno-omit-frame-pointer -o "$tmp/pair" "$tmp/pair.c" || { fail "cc pair"; exit 1; }
"$tmp/pair" a "$tmp/go" "$tmp/done_a" "$tmp/stop2" &
pa=$!; pids+=("$pa")
"$tmp/pair" b "$tmp/go" "$tmp/done_b" "$tmp/stop2" &
pb=$!; pids+=("$pb")
"$F" record -p "$pa,$pb" -o "$tmp/p.fpt" 2> "$tmp/p.err" &
fpid=$!; pids+=("$fpid")
# sampling is on once PROCESS and the mappings follow the 32-byte header
wait_until "fptrace to attach to both" size_at_least "$tmp/p.fpt" 1000
touch "$tmp/go"
wait_until "a's work" test -e "$tmp/done_a"
wait_until "b's work" test -e "$tmp/done_b"
kill -INT "$fpid"
wait "$fpid"; rc=$?
[ $rc -eq 0 ] || fail "record -p $pa,$pb, then SIGINT: exit $rc: $(cat "$tmp/p.err")"
grep -q "^fptrace: detached from processes $pa, $pb; [1-9][0-9]* samples" "$tmp/p.err" ||
  fail "record -p A,B: no 'detached' line: $(cat "$tmp/p.err")"
touch "$tmp/stop2"
wait "$pa"; rc=$?
[ $rc -eq 0 ] || fail "process a exited $rc after the detach, not 0"
wait "$pb"; rc=$?
[ $rc -eq 0 ] || fail "process b exited $rc after the detach, not 0"
"$F" report -i "$tmp/p.fpt" --format folded > "$tmp/p.folded" 2> "$tmp/r.err" ||
  fail "report of -p A,B: $(cat "$tmp/r.err")"
grep -q 'main;work_of_a' "$tmp/p.folded" || fail "-p A,B: no sample of a in work_of_a"
grep -q 'main;work_of_b' "$tmp/p.folded" || fail "-p A,B: no sample of b in work_of_b"
"$F" report -i "$tmp/p.fpt" --format folded --pid "$pb" > "$tmp/pb.folded" 2> "$tmp/r.err" ||
  fail "report --pid $pb: $(cat "$tmp/r.err")"
grep -q 'work_of_b' "$tmp/pb.folded" && ! grep -q 'work_of_a' "$tmp/pb.folded" ||
  fail "report --pid $pb (b): not b's stacks alone: $(cat "$tmp/pb.folded")"

# usage
"$F" record -p 999999999 -o "$tmp/x.fpt" 2> "$tmp/x.err"; rc=$?
[ $rc -eq 1 ] && grep -q -- "-p 999999999: no such process" "$tmp/x.err" ||
  fail "-p of no process: exit $rc: $(cat "$tmp/x.err")"
for bad in 1,,2 abc 0 ,1; do
  "$F" record -p "$bad" -o "$tmp/x.fpt" 2> "$tmp/x.err"; rc=$?
  [ $rc -eq 2 ] || fail "-p '$bad': exit $rc, want 2 (usage): $(cat "$tmp/x.err")"
done
"$F" record -p "$$,999999999" -o "$tmp/x.fpt" 2> "$tmp/x.err"; rc=$?
[ $rc -eq 1 ] && grep -q -- "-p 999999999: no such process" "$tmp/x.err" ||
  fail "-p of a process and no process: exit $rc: $(cat "$tmp/x.err")"
"$F" record -p "$$" -o "$tmp/x.fpt" -- true 2> "$tmp/x.err"; rc=$?
[ $rc -eq 2 ] || fail "-p with a command: exit $rc, want 2: $(cat "$tmp/x.err")"
"$F" record --duration 1 -o "$tmp/x.fpt" -- true 2> "$tmp/x.err"; rc=$?
[ $rc -eq 2 ] || fail "--duration without -p: exit $rc, want 2: $(cat "$tmp/x.err")"

[ "$fails" -eq 0 ] && echo "ok: attached, detached at SIGINT and at --duration; the program ran on and exited 0; -p A,B sampled both, which ran on and exited 0"
exit $((fails > 0))
