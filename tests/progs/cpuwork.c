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
 *   -p  PARKED more goroutines, parked on a channel for the whole run (a
 *       program with many goroutines off CPU: what the wall sampler walks)
 *   -s  also print "writer-cpu-ns N": the CPU time the profiler's writer
 *       thread (named fprt-writer) used, read before exit (0 without one),
 *       so that bench/prof can tell its share of the overhead
 *
 * The work is deterministic: every goroutine's result depends only on its index,
 * and the checksum combines them in index order, so it is the same however the
 * goroutines were scheduled.  Prints "checksum <hex>" and "OK"; exit 0.
 */
#include <dirent.h>
#include <fcntl.h>
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

static void parked(void *arg)
{
	rt_chan_recv(arg, NULL);   /* until it is closed */
}

/* A small /proc file of this process, NUL-terminated; 0 on success. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? 0 : -1;
}

/* schedstat's first field is the thread's time on a CPU, in ns. */
static unsigned long long writer_cpu_ns(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned long long ns = 0;
	char path[300], buf[128];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		if (read_small(path, buf, sizeof buf) != 0 || strncmp(buf, "fprt-writer", 11) != 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
		if (read_small(path, buf, sizeof buf) == 0)
			ns = strtoull(buf, NULL, 10);
	}
	if (d)
		closedir(d);
	return ns;
}

static const char usage[] = "cpuwork [-g GOROUTINES] [-n UNITS] [-d DEPTH] [-y EVERY] [-p PARKED] [-s]";

static int cwmain(int argc, char **argv)
{
	long units = 4000, npark = 0;
	int stats = 0;
	ngor = 0;
	int c;
	while ((c = getopt(argc, argv, "g:n:d:y:p:s")) != -1) {
		if (c == 's') {
			stats = 1;
			continue;
		}
		long v;
		/* '?' (unknown flag or missing value) comes with a NULL optarg */
		if (c == '?' || !prog_long(optarg, 0, 1L << 40, &v))
			return prog_usage(usage, c == '?' ? NULL : optarg);
		switch (c) {
		case 'g': ngor = (int)v; break;
		case 'n': units = v; break;
		case 'd': depth = (int)v; break;
		case 'y': every = (int)v; break;
		case 'p': npark = v; break;
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
	rt_chan *park = rt_chan_new(1, 0);
	for (long i = 0; i < npark; i++)
		rt_go(parked, park);
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
	rt_chan_close(park);
	if (stats)
		printf("writer-cpu-ns %llu\n", writer_cpu_ns());
	printf("checksum %016llx\nOK\n", (unsigned long long)sum);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(cwmain, argc, argv);
}
