/*
 * mallocstress: many goroutines on every P doing malloc/free and taking fprt
 * mutexes, the workload where a profiler whose SIGPROF handler called
 * anything not async-signal-safe (malloc, a lock, stdio) would deadlock: the
 * signal lands while the interrupted thread holds the allocator's lock.  Runs
 * -t SECONDS, checks its own results, prints OK.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

#define NWORKERS 64
#define NSLOTS 64

static uint64_t deadline;
static rt_mutex mu = RT_MUTEX_INIT;
static uint64_t shared_count;           /* guarded by mu */
static _Atomic uint64_t done_ops;

__attribute__((noinline)) static void churn(uint64_t seed, void **slots)
{
	int i = (int)(seed % NSLOTS);
	free(slots[i]);
	size_t size = 16 + (size_t)(seed >> 8) % 4096;
	slots[i] = malloc(size);
	if (!slots[i]) {
		fprintf(stderr, "mallocstress: out of memory\n");
		exit(1);
	}
	memset(slots[i], (int)seed, size);
}

static void worker(void *arg)
{
	rt_waitgroup *wg = arg;
	void *slots[NSLOTS] = { 0 };
	uint64_t seed = (uintptr_t)&seed, ops = 0, mine = 0;
	while (rt_nanotime() < deadline) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		churn(seed, slots);
		if ((++ops & 15) == 0) {
			rt_mutex_lock(&mu);
			shared_count++;
			rt_mutex_unlock(&mu);
			mine++;
			rt_gosched();
		}
	}
	for (int i = 0; i < NSLOTS; i++)
		free(slots[i]);
	atomic_fetch_add(&done_ops, mine);
	rt_wg_done(wg);
}

static int realmain(int argc, char **argv)
{
	double secs = 2;
	int c;
	while ((c = getopt(argc, argv, "t:")) != -1)
		if (c == '?' || !prog_seconds(optarg, &secs))
			return prog_usage("mallocstress [-t SECONDS]", c == '?' ? NULL : optarg);
	if (optind != argc)
		return prog_usage("mallocstress [-t SECONDS]", argv[optind]);
	deadline = rt_nanotime() + (uint64_t)(secs * 1e9);
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, NWORKERS);
	for (int i = 0; i < NWORKERS; i++)
		rt_go(worker, &wg);
	rt_wg_wait(&wg);
	rt_mutex_lock(&mu);
	uint64_t total = shared_count;
	rt_mutex_unlock(&mu);
	if (total != atomic_load(&done_ops) || total == 0) {
		fprintf(stderr, "mallocstress: counter %llu, increments %llu\n",
			(unsigned long long)total, (unsigned long long)atomic_load(&done_ops));
		return 1;
	}
	printf("OK %llu locked increments by %d goroutines\n", (unsigned long long)total, NWORKERS);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
