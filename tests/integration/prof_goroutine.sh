#!/usr/bin/env bash
# Goroutine ids as pprof labels: an fprt program's own samples (fptrace record
# on build/progs/yield) know their goroutine, and `report --format pprof`
# labels each sample goroutine=<id>, so `go tool pprof -tags` lists the
# goroutines and `-tagfocus=goroutine=N` picks one.  A program sampled from
# outside (record --perf) has no goroutine to name: no such label.
source "$(dirname "$0")/common.bash"
command -v go >/dev/null 2>&1 || { echo "FAIL: go is not installed (scripts/deps.sh installs golang-go)"; exit 1; }
cp "$B/progs/yield" "$tmp/yield"   # a rebuild during the run must not delete it

"$F" record -F 999 -o "$tmp/y.fpt" -- "$tmp/yield" -t 2 > "$tmp/out" 2>&1 || fail "record: $(tail -3 "$tmp/out")"
"$F" report -i "$tmp/y.fpt" --format pprof -o "$tmp/y.pb.gz" || fail "report pprof"
go tool pprof -tags "$tmp/y.pb.gz" > "$tmp/tags" 2>&1 || fail "go tool pprof -tags: $(head -3 "$tmp/tags")"
# " goroutine: Total 30.4s" then one "  2.0s ( 6.62%): 11" line per goroutine.
ids=$(awk '/^ *goroutine: Total/ {on=1; next} on && /^ *$/ {on=0} on && /%\): [0-9]+$/ {print $NF}' "$tmp/tags" | sort -un)
[ "$(echo "$ids" | grep -c .)" -ge 4 ] || { fail "fewer than 4 goroutines labelled: '$ids'"; cat "$tmp/tags"; }
# One goroutine's samples are its own: the label narrows the profile.
one=$(echo "$ids" | tail -1)
go tool pprof -raw -tagfocus="goroutine=$one" "$tmp/y.pb.gz" > "$tmp/one" 2>&1 || fail "tagfocus goroutine=$one"
grep -q "goroutine:\[$one\]" "$tmp/one" || fail "tagfocus goroutine=$one kept no sample of it"
if grep -oE 'goroutine:\[[0-9]+\]' "$tmp/one" | grep -v "goroutine:\[$one\]"; then
  fail "tagfocus goroutine=$one kept other goroutines' samples"
fi

command -v perf >/dev/null 2>&1 || { echo "FAIL: perf is not installed (scripts/deps.sh installs linux-perf)"; exit 1; }
"$F" record --perf -o "$tmp/p.fpt" -- "$tmp/yield" -t 1 > "$tmp/pout" 2>&1 || fail "record --perf: $(tail -3 "$tmp/pout")"
"$F" report -i "$tmp/p.fpt" --format pprof -o "$tmp/p.pb.gz" || fail "report pprof (--perf)"
go tool pprof -tags "$tmp/p.pb.gz" > "$tmp/ptags" 2>&1
grep -q 'goroutine:' "$tmp/ptags" && fail "a goroutine label on samples taken from outside the process"

[ "$fails" -eq 0 ] && echo "prof_goroutine: $(echo "$ids" | grep -c .) goroutines labelled"
[ "$fails" -eq 0 ]
