#!/usr/bin/env bash
# The README's libfpunwind example, taken from the README itself: install into a
# temporary prefix, compile with the pkg-config line shown there, run it, and
# check it prints frames and a clean or region end.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The first ```c block of the README is the example program.
awk '/^```c$/ {on=1; next} on && /^```$/ {exit} on {print}' README.md > "$tmp/example.c"
grep -q fpu_walk_here "$tmp/example.c" || { echo "README example not found"; exit 1; }

make --no-print-directory -s install PREFIX="$tmp/prefix" >/dev/null
# Under make SAN=..., the library is instrumented: so must the example be.
cc -std=c11 -Wall -Werror -fno-omit-frame-pointer ${SAN:+-fsanitize=$SAN} "$tmp/example.c" \
   $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs fpunwind) \
   -o "$tmp/example"
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/example")
echo "$out"
echo "$out" | grep -q '^#0 0x' || { echo "no frames printed"; exit 1; }
# Above main the chain enters libc, built without frame pointers: the end is
# whatever its saved rbp happens to be, but it must be a named end, not a crash.
echo "$out" | grep -Eq '^[0-9]+ frames, end: (clean|region-top|out-of-bounds|not-increasing|misaligned)$' \
  || { echo "unexpected end line"; exit 1; }
