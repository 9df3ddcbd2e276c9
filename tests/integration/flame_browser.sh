#!/usr/bin/env bash
# The SVG flame graph in a real browser (Debian's chromium, driven by
# playwright-core from npm, which never downloads a browser of its own): the
# page loads without script errors, frames are named, a frame-pointer defect
# (fp-skips from a function built without frame pointers) is painted and
# marked while the benign leaf window is not, and zoom, search, the icicle view
# and the "defects only" highlight work.  Screenshots land in $B/flame-browser/.
source "$(dirname "$0")/common.bash"
npm_dir=$B/npm

need_perf_event
for tool in chromium node npm; do
  command -v "$tool" >/dev/null || { fail "$tool is not installed (scripts/deps.sh installs it)"; exit 1; }
done
# playwright-core is pinned and kept out of git, under the build directory.
if [ ! -d "$npm_dir/node_modules/playwright-core" ]; then
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-save --no-audit --no-fund playwright-core@1.64.1 \
    >"$tmp/npm.log" 2>&1 || { fail "npm install playwright-core"; cat "$tmp/npm.log"; exit 1; }
fi

# A fixed amount of work (not a duration): nofp has no frame pointer, so
# samples in leafwork lose caller_of_nofp from the FP chain (fp-skips).
cat > "$tmp/prog.c" <<'C'
void nofp(volatile double *x);
__attribute__((noinline)) void leafwork(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
__attribute__((noinline)) void caller_of_nofp(volatile double *x) { nofp(x); __asm__ volatile("" ::: "memory"); }
int main(void) { volatile double x = 0; for (int i = 0; i < 100000; i++) caller_of_nofp(&x); return 0; }
C
cat > "$tmp/nofp.c" <<'C'
void leafwork(volatile double *x);
__attribute__((noinline)) void nofp(volatile double *x) { leafwork(x); leafwork(x); __asm__ volatile("" ::: "memory"); }
C
cc -O2 -g -fno-omit-frame-pointer -c "$tmp/prog.c" -o "$tmp/prog.o" &&
cc -O2 -g -fomit-frame-pointer -c "$tmp/nofp.c" -o "$tmp/nofp.o" &&
cc "$tmp/prog.o" "$tmp/nofp.o" -o "$tmp/prog" || { fail "cannot build test program"; exit 1; }

"$F" record -F 999 -o "$tmp/p.fpt" -- "$tmp/prog" 2>"$tmp/err" || { fail "record"; cat "$tmp/err"; exit 1; }
"$F" report -i "$tmp/p.fpt" --format svg -o "$tmp/flame.svg" || { fail "report svg"; exit 1; }
out=$B/flame-browser
mkdir -p "$out"
cp "$tmp/flame.svg" "$out/"
NODE_PATH=$npm_dir/node_modules node tests/integration/flame_browser.cjs "$tmp/flame.svg" "$out" ||
  fail "the flame graph in chromium (see $out/*.png)"
[ "$fails" -eq 0 ] || exit 1
echo "flame graph in chromium: ok (screenshots in $out)"
