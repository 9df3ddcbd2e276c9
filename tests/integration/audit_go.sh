#!/usr/bin/env bash
# fptrace audit on real Go 1.19 binaries (go_common.bash builds them, stock
# and with seed 003's fix).  Go's compiler makes its frame record without a
# push (SUBQ $N,SP; MOVQ BP,N-8(SP); LEAQ N-8(SP),BP) and its CFI is always
# rsp-based, so a reading of GCC's prologue alone calls every Go function
# clobbers-rbp.  What must hold:
#   - no Go function clobbers rbp: the compiled ones keep a frame record,
#     gogo's rbp load from the gobuf is a stack switch, not a clobber;
#   - every function that breaks the chain is hand-written assembly (its
#     name ends in .abi0, or it is one of the ABIInternal assembly routines
#     listed below), the ones `check` names in go_sched.sh and go_cgo.sh;
#   - runtime.mcall tells the two runtimes apart, as seed 003 does: stock
#     calls fn on g0 with the goroutine's rbp (no-frame, and the evidence
#     names the switch), fixed ends the chain at the switch (frame).
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/go_common.bash"

# The ABIInternal assembly routines of Go 1.19's runtime (asm_amd64.s):
# no .abi0 suffix, no frame record.
asm_internal='^(runtime\.mcall|runtime\.gcWriteBarrier[A-Z0-9]*|runtime\.osyield|gosave_systemstack_switch|gogo)$'

for flavor in stock fixed; do
  bin=$(go_build pingpong $flavor) || { fail "go build pingpong ($flavor)"; continue; }
  "$F" audit --format json "$bin" > "$tmp/$flavor.json" 2>"$tmp/$flavor.err" ||
    { fail "audit pingpong-$flavor: exit $?: $(head -3 "$tmp/$flavor.err")"; continue; }
  python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["modules"][0]
for f in m["functions"]:
    print(f["verdict"], f["name"], f["evidence"], sep="\t")' "$tmp/$flavor.json" > "$tmp/$flavor.v"
  clob=$(awk -F'\t' '$1 == "clobbers-rbp"' "$tmp/$flavor.v")
  [ -z "$clob" ] || fail_lines "pingpong-$flavor: Go functions called clobbers-rbp" "$(echo "$clob" | head -5)"
  compiled_breaking=$(awk -F'\t' '$1 == "no-frame" || $1 == "clobbers-rbp"' "$tmp/$flavor.v" |
    awk -F'\t' -v re="$asm_internal" '$2 !~ /\.abi0$/ && $2 !~ re')
  [ -z "$compiled_breaking" ] ||
    fail_lines "pingpong-$flavor: compiled Go functions that break the chain" "$(echo "$compiled_breaking" | head -5)"
  grep -qP "^frame\tmain\.main\t\+0x[0-9a-f]+: mov \[rsp\+[0-9]+\], rbp; lea rbp, \[rsp\+[0-9]+\] \(Go's frame record\)" "$tmp/$flavor.v" ||
    fail "pingpong-$flavor: main.main is not a frame with Go's setup: $(grep -P '\tmain\.main\t' "$tmp/$flavor.v")"
  frames=$(awk -F'\t' '$1 == "frame"' "$tmp/$flavor.v" | wc -l); total=$(wc -l < "$tmp/$flavor.v")
  [ $((frames * 100)) -ge $((total * 80)) ] || fail "pingpong-$flavor: only $frames of $total functions are frame"
  echo "  pingpong-$flavor: $frames of $total functions frame; mcall: $(grep -P '\truntime\.mcall\t' "$tmp/$flavor.v" | cut -f1)"
done
grep -qP "^no-frame\truntime\.mcall\t.*after a stack switch with the old stack's rbp: \+0x[0-9a-f]+: mov rsp, " "$tmp/stock.v" ||
  fail "stock runtime.mcall is not no-frame after the stack switch: $(grep -P '\truntime\.mcall\t' "$tmp/stock.v")"
grep -qP "^frame\truntime\.mcall\tends the frame chain at a stack switch" "$tmp/fixed.v" ||
  fail "fixed runtime.mcall does not end the chain at the switch: $(grep -P '\truntime\.mcall\t' "$tmp/fixed.v")"
grep -qP "^leaf\tgogo\t" "$tmp/fixed.v" || fail "gogo is not a leaf: $(grep -P '\tgogo\t' "$tmp/fixed.v")"

[ "$fails" -eq 0 ] && echo "audit_go: all checks passed"
[ "$fails" -eq 0 ]
