#!/usr/bin/env bash
# CPU and wall samples of one recording of an fprt program (yield: goroutines
# that spin, yield and park on channels): report and check without --kind are
# the same as with --kind all; the text report gives each kind a table of its
# own; a parked goroutine's wall stack ends in the function that parked it.
source "$(dirname "$0")/common.bash"

"$F" record -o "$tmp/y.fpt" -- "$B/progs/yield" -t 1 > /dev/null 2> "$tmp/rec.err" ||
  { fail "record yield: $(cat "$tmp/rec.err")"; exit 1; }

"$F" report -i "$tmp/y.fpt" > "$tmp/r.default" 2>&1
"$F" report -i "$tmp/y.fpt" --kind all > "$tmp/r.all" 2>&1
cmp -s "$tmp/r.default" "$tmp/r.all" || fail "report: the default is not --kind all"
grep -qE "^# .*: [0-9]+ samples, [0-9]+ cpu at 997 Hz \([0-9.]+ s of CPU\), [0-9]+ wall at 97 Hz" "$tmp/r.default" ||
  { fail "report: no sample counts per kind"; head -3 "$tmp/r.default"; }
grep -qE "^# cpu: [0-9.]+(s|ms|us) of CPU time$" "$tmp/r.default" ||
  { fail "report: no cpu table"; head -5 "$tmp/r.default"; }
grep -qE "^# wall: [0-9.]+(s|ms|us) of goroutine time off CPU$" "$tmp/r.default" ||
  { fail "report: no wall table"; head -5 "$tmp/r.default"; }
"$F" report -i "$tmp/y.fpt" --kind cpu > "$tmp/r.cpu" 2>&1
grep -q "^# wall:" "$tmp/r.cpu" && fail "report --kind cpu has a wall table"

"$F" check -i "$tmp/y.fpt" --format json > "$tmp/c.default" 2>&1
"$F" check -i "$tmp/y.fpt" --format json --kind all > "$tmp/c.all" 2>&1
cmp -s "$tmp/c.default" "$tmp/c.all" || fail "check: the default is not --kind all"
grep -qE '"wall":[1-9]' "$tmp/c.default" || fail "check: no wall samples checked"

# A parked goroutine resumes at the return address of its call into the
# scheduler; the stack must end in that caller (rt_gopark), not in the code
# inlined after the call.
"$F" report -i "$tmp/y.fpt" --kind wall --format folded > "$tmp/wall.folded"
grep -qE ';rt_chan_recv;rt_gopark [0-9]+$' "$tmp/wall.folded" ||
  { fail "no wall stack ends in rt_chan_recv;rt_gopark"; head -5 "$tmp/wall.folded"; }
grep -E ';rt_getg [0-9]+$' "$tmp/wall.folded" && fail "wall stacks end in the inlined rt_getg"

echo "report_kinds: $fails failure(s)"
[ "$fails" -eq 0 ]
