#!/usr/bin/env bash
# make install into a temporary prefix: bin/fptrace, its man page (rendered by
# man -l), libfprt with fprt.h and fprt.pc, libfpunwind with every public
# header and fpunwind.pc.  A goroutine program and a libfpunwind program build
# against the installed copies through pkg-config alone, and make uninstall
# removes every installed file again, and nothing else.
source "$(dirname "$0")/common.bash"
prefix=$tmp/prefix
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
sanflags=${SAN:+-fsanitize=$SAN}

make --no-print-directory -s install BUILD="$B" PREFIX="$prefix" > "$tmp/install.log" 2>&1 ||
  { fail "make install: $(tail -5 "$tmp/install.log")"; exit 1; }

want="bin/fptrace share/man/man1/fptrace.1 lib/libfprt.a lib/libfpunwind.a
      lib/libfpunwind_core.a lib/libfpunwind.so lib/libfpunwind.so.0
      lib/pkgconfig/fprt.pc lib/pkgconfig/fpunwind.pc"
for h in libfpunwind/include/*.h runtime/include/*.h; do want+=" include/$(basename "$h")"; done
for f in $want; do [ -e "$prefix/$f" ] || fail "not installed: $f"; done

# Every public header stands alone with only the installed include directory.
for h in libfpunwind/include/*.h runtime/include/*.h; do
  echo "#include <$(basename "$h")>" |
    cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" -x c - 2> "$tmp/hdr.err" ||
    { fail "installed $(basename "$h") does not compile alone"; head -3 "$tmp/hdr.err"; }
done

# The installed fptrace runs from anywhere and knows its version.
(cd "$tmp" && "$prefix/bin/fptrace" --version) > "$tmp/version" || fail "installed fptrace --version"
version=$(sed -n 's/^fptrace //p' "$tmp/version")
[ -n "$version" ] || fail "no version: $(cat "$tmp/version")"
[ "$(pkg-config --modversion fprt)" = "$version" ] || fail "fprt.pc version $(pkg-config --modversion fprt), fptrace $version"
[ "$(pkg-config --modversion fpunwind)" = "$version" ] || fail "fpunwind.pc version differs from fptrace $version"

# The man page renders, without groff warnings, for the same version, and
# documents every option of every command.
man_page=$prefix/share/man/man1/fptrace.1
MANWIDTH=80 man -l "$man_page" > "$tmp/man.txt" 2> "$tmp/man.err" || fail "man -l failed: $(cat "$tmp/man.err")"
groff -man -ww -z "$man_page" 2> "$tmp/groff.err"; [ -s "$tmp/groff.err" ] && fail "groff warns: $(head -3 "$tmp/groff.err")"
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CLASSES "EXIT STATUS" EXAMPLES; do
  grep -q "^$section" "$tmp/man.txt" || fail "man page has no $section section"
done
grep -q "fptrace $version" "$tmp/man.txt" || fail "man page is not for fptrace $version"
for opt in -F -o -i --perf --snapshot-max --format --kind --backend --top --max-defects --strict --output-report --help --version; do
  grep -qe "$opt" "$tmp/man.txt" || fail "man page does not document $opt"
done
for cls in match leaf-window fp-skips fp-truncated fp-leak fp-stale fp-diverge dwarf-fail; do
  grep -qE "^ +$cls( |\$)" "$tmp/man.txt" || fail "man page does not define class $cls"
done

# A goroutine program against the installed fprt, through pkg-config only.
cat > "$tmp/gor.c" <<'C'
#include <fprt.h>
#include <stdio.h>

static rt_chan *results;

static void square(void *arg)
{
	long n = (long)arg;
	long sq = n * n;
	rt_chan_send(results, &sq);
}

static int body(int argc, char **argv)
{
	(void)argc; (void)argv;
	long sum = 0, v;
	results = rt_chan_new(sizeof(long), 0);
	for (long i = 1; i <= 10; i++)
		rt_go(square, (void *)i);
	for (int i = 0; i < 10; i++) {
		rt_chan_recv(results, &v);
		sum += v;
	}
	printf("sum of squares %ld\n", sum);
	return 0;
}

int main(int argc, char **argv) { return rt_main(body, argc, argv); }
C
cc -std=c11 -Wall -Werror $sanflags "$tmp/gor.c" $(pkg-config --cflags --libs fprt) -o "$tmp/gor" 2> "$tmp/cc.err" ||
  { fail "cannot build against the installed fprt: $(head -5 "$tmp/cc.err")"; }
pkg-config --cflags fprt | grep -q -- -fno-omit-frame-pointer || fail "fprt.pc does not ask for frame pointers"
out=$("$tmp/gor" 2>&1)
[ "$out" = "sum of squares 385" ] || fail "the installed fprt program printed: $out"

# A program using every libfpunwind header against the installed library.
cat > "$tmp/fpu.c" <<'C'
#include <fpunwind.h>
#include <fpu_sample.h>
#include <fpu_record.h>
#include <fpu_dwarf.h>
#include <stdio.h>
int main(void)
{
	printf("%s %s\n", fpu_end_name(FPU_END_CLEAN), fpu_class_name(FPU_CLASS_FP_LEAK));
	return 0;
}
C
cc -std=c11 -Wall -Werror $sanflags "$tmp/fpu.c" $(pkg-config --cflags --libs fpunwind) -o "$tmp/fpu" 2> "$tmp/cc.err" ||
  fail "cannot build against the installed libfpunwind: $(head -5 "$tmp/cc.err")"
out=$(LD_LIBRARY_PATH=$prefix/lib "$tmp/fpu" 2>&1)
[ "$out" = "clean fp-leak" ] || fail "the libfpunwind program printed: $out"

# make uninstall removes what make install put there, and leaves the rest.
touch "$prefix/lib/not-ours.a" "$prefix/include/not-ours.h"
make --no-print-directory -s uninstall BUILD="$B" PREFIX="$prefix" > "$tmp/uninstall.log" 2>&1 ||
  fail "make uninstall: $(tail -5 "$tmp/uninstall.log")"
left=$(cd "$prefix" && find . \( -type f -o -type l \) | sort | tr '\n' ' ')
[ "$left" = "./include/not-ours.h ./lib/not-ours.a " ] || fail "after make uninstall: $left"

echo "install: $fails failure(s)"
[ "$fails" -eq 0 ]
