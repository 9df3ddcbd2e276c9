#!/usr/bin/env bash
# report/check --pid PID[,PID...]: a recording of a shell wrapper that burns
# CPU itself, then runs a program (`fptrace record -- sh -c 'loop; ./prog'`)
# holds both processes, each its own section; --pid CHILD gives only the
# program's stacks, --pid SHELL only the shell's, both pids everything.  The
# same on the perf.data that `perf record --call-graph dwarf` writes of the
# same wrapper.  A pid that is not in the file: one line naming the pids
# there, exit 1; a malformed list: exit 2.  The work is counted in loop
# iterations, never in time.
source "$(dirname "$0")/common.bash"

need_perf_event --perf

cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
volatile unsigned long sink;
__attribute__((noinline)) void wrapped_work(void)
{
	for (unsigned long i = 0; i < 300000000ul; i++)
		sink += i ^ (sink >> 3);
}
int main(int argc, char **argv)
{
	FILE *f = fopen(argv[1], "w");   /* its pid, for --pid */
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	wrapped_work();
	return 0;
}
EOF
cc -O1 -g -fno-omit-frame-pointer -o "$tmp/prog" "$tmp/prog.c" || { fail "cc"; exit 1; }

# the shell records its own pid, loops (its own samples: about twice prog's,
# so that the shell, the started program, is the file's first process), then
# runs prog
wrapper='echo $$ > "$1/sh.pid"; i=0; while [ $i -lt 600000 ]; do i=$((i+1)); done; "$1/prog" "$1/child.pid"; true'

sum() { awk '{n += $NF} END {print n + 0}' "$1"; }

# Check the folded reports of file $1 (label $2) with --pid; $3: what the
# report without --pid holds, every process (all) or the most sampled.
check_split() {
  local in=$1 what=$2 sh child
  sh=$(cat "$tmp/sh.pid") child=$(cat "$tmp/child.pid")
  "$F" report -i "$in" --format folded > "$tmp/all.folded" 2> "$tmp/r.err" ||
    { fail "$what: report: $(cat "$tmp/r.err")"; return; }
  "$F" report -i "$in" --format folded --pid "$child" > "$tmp/child.folded" 2> "$tmp/r.err" ||
    { fail "$what: report --pid $child (prog): $(cat "$tmp/r.err")"; return; }
  "$F" report -i "$in" --format folded --pid "$sh" > "$tmp/sh.folded" 2> "$tmp/r.err" ||
    { fail "$what: report --pid $sh (sh): $(cat "$tmp/r.err")"; return; }
  "$F" report -i "$in" --format folded --pid "$sh,$child" > "$tmp/both.folded" 2>/dev/null
  local n_all n_child n_sh n_both
  n_all=$(sum "$tmp/all.folded") n_child=$(sum "$tmp/child.folded")
  n_sh=$(sum "$tmp/sh.folded") n_both=$(sum "$tmp/both.folded")
  [ "$(awk '/wrapped_work/ {n += $NF} END {print n + 0}' "$tmp/child.folded")" -ge 10 ] ||
    fail "$what: --pid $child (prog): too few samples in wrapped_work: $(head -3 "$tmp/child.folded")"
  [ "$n_sh" -ge 1 ] || fail "$what: --pid $sh (sh): no samples of the shell's loop"
  grep -q wrapped_work "$tmp/sh.folded" && fail "$what: --pid $sh (sh) shows prog's wrapped_work"
  [ "$n_both" -eq $((n_sh + n_child)) ] ||
    fail "$what: --pid $sh,$child: $n_both samples, want the shell's $n_sh + prog's $n_child"
  # without --pid: a .fpt gives every process, perf.data the most sampled one
  local want_all=$((n_sh + n_child))
  [ "$3" = busiest ] && want_all=$((n_sh > n_child ? n_sh : n_child))
  [ "$n_all" -eq "$want_all" ] || fail "$what: without --pid $n_all samples, want $want_all ($3)"
  echo "$what: sh $n_sh samples, prog $n_child samples, all $n_all"
}

"$F" record -o "$tmp/w.fpt" -- sh -c "$wrapper" sh "$tmp" 2> "$tmp/w.err" ||
  fail "record of the wrapper: exit $?: $(cat "$tmp/w.err")"
check_split "$tmp/w.fpt" ".fpt" all
child=$(cat "$tmp/child.pid")
# the first process is the shell, whose fate END tells; prog's is not recorded
sh=$(cat "$tmp/sh.pid")
head1=$("$F" check -i "$tmp/w.fpt" 2>&1 | head -1)
case $head1 in *"(pid $sh, exited with status 0)"*) ;; *) fail "check: not the shell's fate first: $head1" ;; esac
head1=$("$F" check -i "$tmp/w.fpt" --pid "$child" 2>&1 | head -1)
case $head1 in *"$tmp/prog"*"(pid $child, how it ended is not recorded)"*) ;;
  *) fail "check --pid $child: not prog, or the shell's fate given as prog's: $head1" ;; esac

# a pid not in the recording: one line naming the ones there, exit 1
for cmd in report check; do
  "$F" $cmd -i "$tmp/w.fpt" --pid 999999999 > /dev/null 2> "$tmp/x.err"; rc=$?
  [ $rc -eq 1 ] || fail "$cmd --pid 999999999: exit $rc, want 1: $(cat "$tmp/x.err")"
  [ "$(wc -l < "$tmp/x.err")" -eq 1 ] && grep -q -- "--pid 999999999: no such process.*$child prog" "$tmp/x.err" ||
    fail "$cmd --pid 999999999: want one line naming the file's processes: $(cat "$tmp/x.err")"
done
for bad in abc 0 1,,2 ,1 1,; do
  "$F" report -i "$tmp/w.fpt" --pid "$bad" > /dev/null 2> "$tmp/x.err"; rc=$?
  [ $rc -eq 2 ] || fail "report --pid '$bad': exit $rc, want 2 (usage): $(cat "$tmp/x.err")"
done

# the same wrapper under perf record: perf.data has the pids natively
if ! command -v perf > /dev/null 2>&1; then
  fail "perf is not installed (scripts/deps.sh installs it)"
elif (cd "$tmp" && perf record -q -e cpu-clock --call-graph dwarf -o w.data -- sh -c "$wrapper" sh "$tmp" > perf.log 2>&1); then
  check_split "$tmp/w.data" "perf.data" busiest
  "$F" report -i "$tmp/w.data" --pid 999999999 > /dev/null 2> "$tmp/x.err"; rc=$?
  [ $rc -eq 1 ] && grep -q -- "--pid 999999999: no samples of that process" "$tmp/x.err" ||
    fail "perf.data --pid 999999999: exit $rc: $(cat "$tmp/x.err")"
else
  fail "perf record: $(head -3 "$tmp/perf.log")"
fi

[ "$fails" -eq 0 ] && echo "ok: --pid splits the shell's samples from its child's, in .fpt and perf.data"
exit $((fails > 0))
