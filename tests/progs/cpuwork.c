/*
 * cpuwork — scenario program: a CPU-bound fprt workload with a FIXED amount of
 * work (not a fixed time), the subject of bench/prof (profiler overhead) and
 * usable for `fptrace run` on anything that must spend its time computing.
 *
 *   cpuwork [-g GOROUTINES] [-n UNITS] [-d DEPTH] [-y EVERY]
 *
 *   -g  goroutines (default: one per P, so every P is busy)
 *   -n  units of work in all (default 4000), split evenly across goroutines;
 *       a unit is a call chain of DEPTH noinline frames (default 8) whose leaf
 *       mixes 4096 words; each frame keeps a few locals, so stacks look like
 *       ordinary code (a snapshot has something to copy)
 *   -y  rt_gosched() every EVERY units (default 16; 0: never), so the work
 *       also passes through mcall/gogo the way a real program does
 *
 * The work is deterministic: every goroutine's result depends only on its index,
 * and the checksum combines them in index order, so it is the same however the
 * goroutines were scheduled.  Prints "checksum <hex>" and "OK"; exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

#define MAX_G 1024
#define MAX_DEPTH 64
#define LEAF_WORDS 4096

static long units_per_g, extra_units;
static int depth = 8, every = 16, ngor;
static uint64_t results[MAX_G];
static rt_waitgroup wg;

__attribute__((noinline)) static uint64_t cw_leaf(uint64_t seed)
{
	uint64_t x = seed | 1, acc = 0;
	for (int i = 0; i < LEAF_WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0x9e3779b97f4a7c15ull + (acc >> 29);
	}
	return acc;
}

/* A frame with locals the compiler must keep on the stack. */
__attribute__((noinline)) static uint64_t cw_frame(uint64_t seed, int level)
{
	volatile uint64_t locals[6];
	for (int i = 0; i < 6; i++)
		locals[i] = seed + (uint64_t)i * level;
	uint64_t r = level <= 1 ? cw_leaf(seed) : cw_frame(seed * 31 + (uint64_t)level, level - 1);
	return r ^ locals[level % 6];
}

__attribute__((noinline)) static uint64_t cw_unit(uint64_t seed)
{
	return cw_frame(seed, depth);
}

static void worker(void *arg)
{
	long idx = (long)arg;
	long n = units_per_g + (idx < extra_units ? 1 : 0);
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)idx;
	for (long i = 0; i < n; i++) {
		h = (h ^ cw_unit(h + (uint64_t)i)) * 0x100000001b3ull;
		if (every > 0 && (i + 1) % every == 0)
			rt_gosched();
	}
	results[idx] = h;
	rt_wg_done(&wg);
}

static const char usage[] = "cpuwork [-g GOROUTINES] [-n UNITS] [-d DEPTH] [-y EVERY]";

static int cwmain(int argc, char **argv)
{
	long units = 4000;
	ngor = 0;
	int c;
	while ((c = getopt(argc, argv, "g:n:d:y:")) != -1) {
		long v;
		/* '?' (unknown flag or missing value) comes with a NULL optarg */
		if (c == '?' || !prog_long(optarg, 0, 1L << 40, &v))
			return prog_usage(usage, c == '?' ? NULL : optarg);
		switch (c) {
		case 'g': ngor = (int)v; break;
		case 'n': units = v; break;
		case 'd': depth = (int)v; break;
		case 'y': every = (int)v; break;
		default: return prog_usage(usage, NULL);
		}
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	if (ngor == 0)
		ngor = rt_gomaxprocs();
	if (ngor < 1 || ngor > MAX_G || depth < 1 || depth > MAX_DEPTH) {
		fprintf(stderr, "cpuwork: -g must be 1..%d and -d 1..%d\n", MAX_G, MAX_DEPTH);
		return 2;
	}
	units_per_g = units / ngor;
	extra_units = units % ngor;
	for (long i = 0; i < ngor; i++) {
		rt_wg_add(&wg, 1);
		rt_go(worker, (void *)i);
	}
	rt_wg_wait(&wg);
	uint64_t sum = 0;
	for (int i = 0; i < ngor; i++)
		sum = (sum ^ results[i]) * 0x100000001b3ull + (uint64_t)i;
	printf("checksum %016llx\nOK\n", (unsigned long long)sum);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(cwmain, argc, argv);
}
