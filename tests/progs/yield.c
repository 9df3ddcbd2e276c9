/*
 * yield — scenario program: many goroutines doing CPU work, rt_gosched() and
 * channel ping-pong across at least two Ms for -t SECONDS (default 2); prints
 * OK.  Under `perf record --call-graph fp` no callchain may go past rt_mcall
 * (seed 003); with FPRT_INJECT=mcall-bp-leak many do
 * (tests/integration/runtime_perf_yield.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdbool.h>

#include "fprt.h"
#include "prog_args.h"

#define NYIELDERS 8
#define NPAIRS 4

static uint64_t deadline;
static _Atomic uint64_t total;

/* The threads (Ms) goroutines were seen on: the scenario must use at least two
 * when it has two Ps, or it does not exercise migration between Ms.  Yielders
 * and pingers look on every round: a ping-pong pair keeps its P's local queue
 * busy, so the yielders run mostly on the other M, and when they looked only
 * every 64th round, a slow run (TSan, moving stacks) took up to a minute to
 * see the second M (once more than the minute keep_going allows). */
#define MAXT 64
static _Atomic long tids[MAXT];

static void seen_on_thread(void)
{
	long t = (long)syscall(SYS_gettid);
	for (int i = 0; i < MAXT; i++) {
		long cur = tids[i];
		if (cur == t)
			return;
		if (cur == 0 && atomic_compare_exchange_strong(&tids[i], &cur, t))
			return;
		if (cur == t)
			return;
	}
}

static int nthreads(void)
{
	int n = 0;
	while (n < MAXT && tids[n])
		n++;
	return n;
}

/*
 * Run until -t has passed and, with two or more Ps, until goroutines have been
 * seen on two Ms: on a loaded machine the second M's thread may not get a CPU
 * within -t, and the scenario exists to exercise migration between Ms.  A
 * minute past -t it stops anyway, and main reports the single M.
 */
static bool keep_going(void)
{
	uint64_t now = rt_nanotime();
	if (now < deadline)
		return true;
	return rt_gomaxprocs() >= 2 && nthreads() < 2 && now < deadline + 60000000000ull;
}

/* noinline and real work: the samples land in these frames and their callers */
__attribute__((noinline)) static uint64_t spin(uint64_t x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

__attribute__((noinline)) static void yielder(void *arg)
{
	rt_waitgroup *wg = arg;
	uint64_t x = (uintptr_t)&x, n = 0;
	while (keep_going()) {
		x = spin(x, 2000);
		rt_gosched();
		seen_on_thread();
		n++;
	}
	total += n + (x & 1);
	rt_wg_done(wg);
}

struct pair { rt_chan *ping, *pong; rt_waitgroup *wg; };

__attribute__((noinline)) static void ponger(void *arg)
{
	struct pair *p = arg;
	uint64_t v;
	while (rt_chan_recv(p->ping, &v)) {
		v = spin(v, 500);
		rt_chan_send(p->pong, &v);
	}
	rt_wg_done(p->wg);
}

__attribute__((noinline)) static void pinger(void *arg)
{
	struct pair *p = arg;
	uint64_t v = 1, n = 0;
	while (keep_going()) {
		seen_on_thread();
		rt_chan_send(p->ping, &v);
		if (!rt_chan_recv(p->pong, &v)) {
			fprintf(stderr, "yield: pong channel closed early\n");
			exit(1);
		}
		n++;
	}
	rt_chan_close(p->ping);
	total += n;
	rt_wg_done(p->wg);
}

static int realmain(int argc, char **argv)
{
	double secs = 2;
	int c;
	while ((c = getopt(argc, argv, "t:")) != -1)
		if (c == '?' || !prog_seconds(optarg, &secs))
			return prog_usage("yield [-t SECONDS]", c == '?' ? NULL : optarg);
	if (optind != argc)
		return prog_usage("yield [-t SECONDS]", argv[optind]);
	deadline = rt_nanotime() + (uint64_t)(secs * 1e9);
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	static struct pair pairs[NPAIRS];
	rt_wg_add(&wg, NYIELDERS + 2 * NPAIRS);
	for (int i = 0; i < NYIELDERS; i++)
		rt_go(yielder, &wg);
	for (int i = 0; i < NPAIRS; i++) {
		pairs[i] = (struct pair){ rt_chan_new(sizeof(uint64_t), 0),
					  rt_chan_new(sizeof(uint64_t), 0), &wg };
		rt_go(ponger, &pairs[i]);
		rt_go(pinger, &pairs[i]);
	}
	rt_wg_wait(&wg);
	if (total == 0) {
		fprintf(stderr, "yield: no progress\n");
		return 1;
	}
	if (rt_gomaxprocs() >= 2 && nthreads() < 2) {
		fprintf(stderr, "yield: all goroutines ran on one M with %d Ps\n", rt_gomaxprocs());
		return 1;
	}
	printf("OK %llu iterations, %d Ps, goroutines seen on %d Ms\n",
	       (unsigned long long)total, rt_gomaxprocs(), nthreads());
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
