#!/usr/bin/env bash
# make demo: fptrace on the `yield` scenario twice, with fprt as built and with
# seed 003 re-introduced (FPRT_INJECT=mcall-bp-leak: mcall keeps BP, so g0
# frames chain into a goroutine stack another M may be running).  Prints both
# check tables, writes a flame graph and a pprof profile of the second run.
set -u
build=${1:-build}
fptrace=$build/bin/fptrace
yield=$build/progs/yield
out=$build/demo
mkdir -p "$out"

run() { # title, inject, file
  echo
  echo "==== $1"
  echo "\$ ${2:+FPRT_INJECT=$2 }fptrace run -F 2999 -o $3 -- $yield -t 3"
  FPRT_INJECT=$2 "$fptrace" run -F 2999 -o "$3" -- "$yield" -t 3
}

run "fprt as built: mcall clears BP, chains end at rt_mcall" "" "$out/clean.fpt"
clean=$?
run "seed 003 re-introduced: mcall keeps BP" mcall-bp-leak "$out/leak.fpt"
leak=$?

"$fptrace" report -i "$out/leak.fpt" --format svg -o "$out/flame.svg" || exit 1
"$fptrace" report -i "$out/leak.fpt" --format pprof -o "$out/profile.pb.gz" || exit 1
"$fptrace" report -i "$out/clean.fpt" --format svg -o "$out/flame-clean.svg" || exit 1

# The flame graph as a picture, from Debian's chromium (scripts/deps.sh):
# headless, no network, a fresh profile, the window as big as the graph.
png() { # svg, png
  local h profile
  h=$(grep -o 'height="[0-9]*"' "$1" | head -1 | tr -dc 0-9)
  profile=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1200,"$h" \
    --screenshot="$2" "file://$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" >/dev/null 2>&1
  local rc=$?
  rm -rf "$profile"
  [ $rc -eq 0 ] && [ -s "$2" ] || { echo "demo: chromium could not render $1" >&2; return 1; }
}
png "$out/flame.svg" "$out/flame.png" || exit 1

# How many of the samples that pass through rt_mcall the checker caught: the
# leak is in every one of them (mcall keeps BP), so this should be most.
leaks=$("$fptrace" check -i "$out/leak.fpt" --kind cpu 2>/dev/null |
  sed -n 's/^  fp-leak *\([0-9]*\) samples *at rt_mcall .*/\1/p')
through=$("$fptrace" report -i "$out/leak.fpt" --kind cpu --format folded |
  awk '/(^|;)rt_mcall(;| )/ { n += $NF } END { print n + 0 }')

echo
echo "==== summary"
echo "seed 003:  fp-leak at rt_mcall in ${leaks:-0} of $through CPU samples through rt_mcall"
echo "clean run: fptrace check exit $clean (0 = no defects in the code under test)"
echo "seed 003:  fptrace check exit $leak (3 = frame-pointer defects found)"
echo "flame graph (frame-pointer defects coloured and marked): $out/flame.svg, as a picture: $out/flame.png"
echo "pprof profile: $out/profile.pb.gz  (go tool pprof -top $out/profile.pb.gz)"
# The demo fails only if fptrace itself failed or the seed went unnoticed.
[ "$clean" -eq 0 ] && [ "$leak" -eq 3 ]
