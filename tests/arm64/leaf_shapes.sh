#!/usr/bin/env bash
# The aarch64 leaf shapes in the comparator.  build-arm64/arm64/leaf_shapes
# (tests/arm64/leaf_shapes/) writes, under qemu, one sample stopped in each
# shape of shapes.S with the registers and stack the code has there; the
# host's fptrace check classifies them from the CFI (libdw's aarch64 backend):
#   leaf (no stack), leafstack (locals, no record), setup (after stp x29, x30,
#   before mov x29, sp), after_ldp   x30 holds the return address, or x29 is
#                                    still the caller's: leaf-window (benign)
#   record (after mov x29, sp)       match
#   norecord (x30 saved beside x19, no record: -fomit-frame-pointer)
#                                    fp-skips at ls_norecord, hiding ls_caller
#   x29data (x29 saved, then data)   fp-truncated at ls_x29data itself
source "$(dirname "$0")/common.bash"

"$qemu" "$build/arm64/leaf_shapes" "$tmp/shapes.fpt" || { fail "leaf_shapes (arm64) did not run"; exit 1; }
"$fptrace" check -i "$tmp/shapes.fpt" >"$tmp/check.txt" 2>&1; rc=$?
sed -n '/^class/,/^verdict/p' "$tmp/check.txt"
[ $rc -eq 3 ] || fail "check exit $rc, want 3 (the two defect shapes)"
count() { awk -v c="$1" '$1 == c && $3 ~ /%$/ { print $2 }' "$tmp/check.txt"; }
for want in "match 1" "leaf-window 4" "fp-skips 1" "fp-truncated 1" "fp-clobbered 0" \
            "fp-diverge 0" "dwarf-fail 0" "unverified 0"; do
  set -- $want
  [ "$(count "$1")" = "$2" ] || fail "$1: $(count "$1") samples, want $2"
done
grep -Eq '^  fp-skips +1 samples +at ls_norecord \(leaf_shapes\), hiding its caller ls_caller$' "$tmp/check.txt" ||
  fail "no fp-skips at ls_norecord hiding ls_caller"
grep -Eq '^  fp-truncated +1 samples +at ls_x29data \(leaf_shapes\)$' "$tmp/check.txt" ||
  fail "no fp-truncated at ls_x29data"

[ $fails -eq 0 ] && echo "PASS: aarch64 leaf shapes: 4 leaf windows, a record, and the two frames without one"
exit $fails
