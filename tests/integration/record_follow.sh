#!/usr/bin/env bash
# fptrace record follows the programs that CMD's children exec, as perf record
# does: `fptrace record -- sh -c './prog; true'` profiles prog (the program
# that takes the most samples), not sh; --no-inherit samples sh alone.
source "$(dirname "$0")/common.bash"

need_perf_event --perf

cat > "$tmp/prog.c" <<'EOF'
volatile unsigned long sink;
__attribute__((noinline)) void wrapped_work(void)
{
	for (unsigned long i = 0; i < 300000000ul; i++)
		sink += i ^ (sink >> 3);
}
int main(void)
{
	wrapped_work();
	return 0;
}
EOF
cc -O1 -g -fno-omit-frame-pointer -o "$tmp/prog" "$tmp/prog.c" || { fail "cc"; exit 1; }

"$F" record -o "$tmp/w.fpt" -- sh -c "'$tmp/prog'; true" 2> "$tmp/w.err" ||
  fail "record of a wrapper: exit $?: $(cat "$tmp/w.err")"
"$F" report -i "$tmp/w.fpt" --format folded > "$tmp/w.folded" 2> "$tmp/r.err" ||
  fail "report: $(cat "$tmp/r.err")"
n=$(awk '/wrapped_work/ {n += $NF} END {print n + 0}' "$tmp/w.folded")
[ "$n" -ge 10 ] || fail "sh -c 'prog; true': $n samples in prog's wrapped_work, want the program's run ($(wc -l < "$tmp/w.folded") stacks)"
head1=$("$F" check -i "$tmp/w.fpt" 2>&1 | head -1)
case $head1 in *"$tmp/prog"*) ;; *) fail "the recording is not prog's: $head1" ;; esac

"$F" record --no-inherit -o "$tmp/n.fpt" -- sh -c "'$tmp/prog'; true" 2> "$tmp/n.err" ||
  fail "record --no-inherit: exit $?: $(cat "$tmp/n.err")"
"$F" report -i "$tmp/n.fpt" --format folded > "$tmp/n.folded" 2>/dev/null
grep -q wrapped_work "$tmp/n.folded" && fail "--no-inherit: prog was sampled"

[ "$fails" -eq 0 ] && echo "ok: sh -c 'prog; true' records prog ($n samples in wrapped_work); --no-inherit records sh alone"
exit $((fails > 0))
