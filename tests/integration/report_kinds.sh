#!/usr/bin/env bash
# CPU and wall samples of one recording of an fprt program (yield: goroutines
# that spin, yield and park on channels): report and check without --kind are
# the same as with --kind all; the text report gives each kind a table of its
# own; a parked goroutine's wall stack ends in the function that parked it;
# in pprof, wall time is a sample type of its own (go tool pprof reads it).
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
# scheduler; the stack must end in that caller (rt_gopark, inlined into the
# function that parks), not in the code inlined after the call.
"$F" report -i "$tmp/y.fpt" --kind wall --format folded > "$tmp/wall.folded"
grep -qE ';rt_chan_recv;rt_gopark( \(inlined\))? [0-9]+$' "$tmp/wall.folded" ||
  { fail "no wall stack ends in rt_chan_recv;rt_gopark"; head -5 "$tmp/wall.folded"; }
grep -E ';rt_getg [0-9]+$' "$tmp/wall.folded" && fail "wall stacks end in the inlined rt_getg"

# pprof: cpu/nanoseconds and wall/nanoseconds are two sample types.  Each
# total, as go tool pprof adds it up, is the time fptrace's own tables give
# that kind (the CPU total once counted every wall second as CPU time).
"$F" report -i "$tmp/y.fpt" --format pprof -o "$tmp/y.pb.gz" || fail "report pprof"
"$F" report -i "$tmp/y.fpt" --format json > /dev/null || fail "report json"
command -v go > /dev/null || fail "go is missing (scripts/deps.sh installs golang-go)"
go tool pprof -raw "$tmp/y.pb.gz" > "$tmp/y.raw" 2>&1 || fail "go tool pprof -raw: $(head -3 "$tmp/y.raw")"
grep -qx 'samples/count cpu/nanoseconds\[dflt\] wall/nanoseconds' "$tmp/y.raw" ||
  { fail "pprof sample types are not samples, cpu, wall"; sed -n '/^Samples:/,+1p' "$tmp/y.raw"; }
ns() { # "15.54s" / "299.9ms" / "80us" -> nanoseconds
  awk -v t="$1" 'BEGIN { n = t + 0; u = t; sub(/^[0-9.]+/, "", u);
    f = u == "s" ? 1e9 : u == "ms" ? 1e6 : u == "us" ? 1e3 : u == "ns" ? 1 : -1;
    printf "%.0f\n", f < 0 ? -1 : n * f }'
}
same() { # a b: within 0.5% (both are rounded to 4 digits when printed)
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d * 200 <= a) }'
}
for kind in cpu wall; do
  go tool pprof -sample_index=$kind -top "$tmp/y.pb.gz" > "$tmp/top.$kind" 2>&1 ||
    { fail "go tool pprof -sample_index=$kind: $(head -3 "$tmp/top.$kind")"; continue; }
  grep -qx "Type: $kind" "$tmp/top.$kind" || fail "pprof -sample_index=$kind: no 'Type: $kind'"
  got=$(sed -n 's/^Showing nodes accounting for .* of \([0-9.]*[mun]*s\) total$/\1/p' "$tmp/top.$kind")
  want=$(sed -n "s/^# $kind: \([0-9.]*[mun]*s\) .*/\1/p" "$tmp/r.default")
  same "$(ns "$got")" "$(ns "$want")" ||
    fail "pprof $kind total $got, fptrace report says $want"
done
grep -qE ' rt_gopark( \(inlined\))?$' "$tmp/top.wall" || { fail "pprof wall view lacks rt_gopark"; head -12 "$tmp/top.wall"; }

echo "report_kinds: $fails failure(s)"
[ "$fails" -eq 0 ]
