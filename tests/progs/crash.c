/*
 * crash: goroutines do CPU work for -t SECONDS, then one of them writes through
 * a null pointer.  The runtime's fault handler prints the fatal error and the
 * tracebacks and exits 2; the profile written so far must stay readable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

static uint64_t deadline;

__attribute__((noinline)) static uint64_t work(uint64_t x)
{
	for (int i = 0; i < 5000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

static void busy(void *arg)
{
	uint64_t x = (uintptr_t)arg;
	for (;;) {
		x = work(x);
		rt_gosched();
	}
}

/* The crash is the point: UBSan (make SAN=undefined) would report the null
 * store and exit 1 before the fault reaches the runtime's handler. */
__attribute__((noinline, no_sanitize("undefined")))
static void crash_now(uint64_t x)
{
	volatile int *volatile null = NULL;
	*null = (int)x;
}

static int realmain(int argc, char **argv)
{
	double secs = 1;
	int c;
	while ((c = getopt(argc, argv, "t:")) != -1)
		if (c == '?' || !prog_seconds(optarg, &secs))
			return prog_usage("crash [-t SECONDS]", c == '?' ? NULL : optarg);
	if (optind != argc)
		return prog_usage("crash [-t SECONDS]", argv[optind]);
	deadline = rt_nanotime() + (uint64_t)(secs * 1e9);
	for (uintptr_t i = 0; i < 4; i++)
		rt_go(busy, (void *)(i + 1));
	uint64_t x = 1;
	while (rt_nanotime() < deadline) {
		x = work(x);
		rt_gosched();
	}
	crash_now(x);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
