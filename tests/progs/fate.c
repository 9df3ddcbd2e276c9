/*
 * fate — scenario program: a fixed amount of CPU work, deterministic output on
 * stdout, then an end chosen on the command line, so that fptrace's exit status
 * and its silence on stdout can be tested in both record modes.
 *
 *   fate [-n UNITS] [-e STATUS | -s | -k]
 *
 *   -n  units of work (default 2000); each prints one line "unit I HASH"
 *   -e  return STATUS from main (default 0)
 *   -s  die of SIGSEGV: a store through a null pointer with the default action
 *       (the runtime's fault handler, which exits 2 as Go does, is tested by
 *       crash.c; here the program ends as a C program without it would)
 *   -k  die of SIGKILL, sent to itself
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

__attribute__((noinline)) static uint64_t fate_mix(uint64_t x)
{
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* The crash is the point: UBSan (make SAN=undefined) would report the null
 * store and exit 1 before the kernel's SIGSEGV. */
__attribute__((noinline, no_sanitize("undefined")))
static void fate_segv(uint64_t x)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigaction(SIGSEGV, &dfl, NULL);
	volatile int *volatile null = NULL;
	*null = (int)x;
}

static const char usage[] = "fate [-n UNITS] [-e STATUS | -s | -k]";

static int fatemain(int argc, char **argv)
{
	long units = 2000, status = 0;
	int end = 'e', c;
	while ((c = getopt(argc, argv, "n:e:sk")) != -1) {
		if (c == 's' || c == 'k') {
			end = c;
			continue;
		}
		/* '?' (unknown flag or missing value) comes with a NULL optarg */
		if (c == '?' || !prog_long(optarg, 0, c == 'e' ? 255 : 1L << 40,
					   c == 'e' ? &status : &units))
			return prog_usage(usage, c == '?' ? NULL : optarg);
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	uint64_t h = 0xcbf29ce484222325ull;
	for (long i = 0; i < units; i++) {
		h = fate_mix(h + (uint64_t)i);
		printf("unit %ld %016llx\n", i, (unsigned long long)h);
		rt_gosched();   /* through mcall and gogo, as a real program goes */
	}
	fflush(stdout);
	if (end == 's')
		fate_segv(h);
	if (end == 'k')
		kill(getpid(), SIGKILL);
	return (int)status;
}

int main(int argc, char **argv)
{
	return rt_main(fatemain, argc, argv);
}
