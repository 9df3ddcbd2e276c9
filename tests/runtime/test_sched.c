/* Scheduler: N goroutines x M yields, ids, many goroutines, several Ps. */
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

#include "helpers.h"

#define NG 64
#define NY 200

struct yarg { rt_waitgroup *wg; uint64_t *slot; uint64_t id; };

static void yielder(void *p)
{
	struct yarg *a = p;
	a->id = rt_goid();
	for (int i = 0; i < NY; i++) {
		*a->slot += (uint64_t)i;
		rt_gosched();
		RT_STACK_CHECK(256);
	}
	rt_wg_done(a->wg);
}

static int yields(int argc, char **argv)
{
	(void)argc; (void)argv;
	static uint64_t sums[NG];
	static struct yarg args[NG];
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, NG);
	for (int i = 0; i < NG; i++) {
		args[i] = (struct yarg){ &wg, &sums[i], 0 };
		rt_go(yielder, &args[i]);
	}
	rt_wg_wait(&wg);
	for (int i = 0; i < NG; i++) {
		CHECK(sums[i] == (uint64_t)NY * (NY - 1) / 2, "goroutine %d sum %llu", i,
		      (unsigned long long)sums[i]);
		for (int j = 0; j < i; j++)
			CHECK(args[i].id != args[j].id, "goroutines %d and %d share id %llu", i,
			      j, (unsigned long long)args[i].id);
		CHECK(args[i].id > 1, "goroutine %d has id %llu", i, (unsigned long long)args[i].id);
	}
	CHECK(rt_goid() >= 1, "main goroutine id %llu", (unsigned long long)rt_goid());
	return 0;
}
RT_TEST(sched, yields, yields, 120)

static _Atomic int spawned;
static void tiny(void *p) { spawned++; rt_wg_done(p); }

static int many(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	/* more than a local run queue holds: spills to the global queue */
	for (int round = 0; round < 5; round++) {
		rt_wg_add(&wg, 2000);
		for (int i = 0; i < 2000; i++)
			rt_go(tiny, &wg);
		rt_wg_wait(&wg);
	}
	CHECK(spawned == 10000, "%d goroutines ran", (int)spawned);
	return 0;
}
RT_TEST(sched, many_goroutines, many, 120)

static int returns(int argc, char **argv)
{
	(void)argv;
	return 40 + argc;
}

Test(sched, rt_main_returns_status, .timeout = 60)
{
	char *argv[] = { "x", "y", NULL };
	cr_assert_eq(rt_main(returns, 2, argv), 42);
	cr_assert_eq(rt_goid(), 0, "the caller of rt_main is no goroutine");
	/* rt_main may be called again; the runtime is reused */
	cr_assert_eq(rt_main(returns, 1, argv), 41);
}

static int procs(int argc, char **argv)
{
	(void)argc; (void)argv;
	CHECK(rt_gomaxprocs() == 3, "gomaxprocs %d, FPRT_MAXPROCS=3", rt_gomaxprocs());
	return 0;
}

Test(sched, maxprocs_env, .timeout = 60)
{
	setenv("FPRT_MAXPROCS", "3", 1);
	rt_test_run(procs, NULL);
}

Test(sched, maxprocs_one, .timeout = 60)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(yields, NULL);
}

static void deadlocked(void *p)
{
	rt_chan_recv(p, NULL);       /* nobody ever sends */
}

static int deadlock(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(0, 0);
	rt_go(deadlocked, c);
	rt_chan_recv(c, NULL);
	return 0;
}

Test(sched, deadlock_is_fatal, .timeout = 60)
{
	struct child_result r = run_child(deadlock, NULL);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "fatal error: all goroutines are asleep - deadlock!"),
		  "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "[chan receive]:"), "stderr:\n%s", r.err);
	child_result_free(&r);
}

/*
 * Regression: "P partition" (yield.c, ~1 run in 3 under load).  With 2 Ps a
 * ping-pong pair keeps its P's local queue non-empty forever (each side
 * readies the other there before parking), so that P's M never steals; when
 * rt_gosched requeued yielders on their own P's local queue, that queue never
 * emptied either and the yielders never ran on the pair's M.  Both Ms stayed
 * busy, so no wakeup was due: the fix is Go's goschedImpl (yield to the
 * global queue, which every P reads at least every 61st schedule).  The check
 * is that the yielders reach both Ms; the 30 s bound only turns a failure into
 * a message instead of a hang (it passes in milliseconds when correct).
 */
#define PART_YIELDERS 6
static _Atomic long part_tid[2];
static _Atomic bool part_done;
static _Atomic long part_pair_tid;      /* the pinger's M, updated every trip */
static _Atomic uint64_t part_trips;
static uint64_t part_deadline;

static int part_seen(void)
{
	long t = (long)gettid();
	long z = 0;
	if (part_tid[0] == t || (part_tid[0] == 0 && atomic_compare_exchange_strong(&part_tid[0], &z, t)))
		return part_tid[1] ? 2 : 1;
	z = 0;
	if (part_tid[1] == 0)
		atomic_compare_exchange_strong(&part_tid[1], &z, t);
	return 2;
}

static void part_yielder(void *p)
{
	while (!part_done) {
		if (part_seen() == 2 || rt_nanotime() > part_deadline)
			part_done = true;
		rt_gosched();
	}
	rt_wg_done(p);
}

struct part_pair { rt_chan *ping, *pong; rt_waitgroup *wg; };

static void part_ponger(void *p)
{
	struct part_pair *a = p;
	int v;
	while (rt_chan_recv(a->ping, &v))
		rt_chan_send(a->pong, &v);
	rt_wg_done(a->wg);
}

static void part_pinger(void *p)
{
	struct part_pair *a = p;
	int v = 0;
	while (!part_done) {
		rt_chan_send(a->ping, &v);
		rt_chan_recv(a->pong, &v);
		part_pair_tid = (long)gettid();
		part_trips++;
	}
	rt_chan_close(a->ping);
	rt_wg_done(a->wg);
}

static int partition(int argc, char **argv)
{
	(void)argc; (void)argv;
	CHECK(rt_gomaxprocs() == 2, "FPRT_MAXPROCS=2 gave %d Ps", rt_gomaxprocs());
	part_deadline = rt_nanotime() + 30000000000ull;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	static struct part_pair pair;
	pair = (struct part_pair){ rt_chan_new(sizeof(int), 0), rt_chan_new(sizeof(int), 0), &wg };
	rt_wg_add(&wg, 2 + PART_YIELDERS);
	rt_go(part_ponger, &pair);
	rt_go(part_pinger, &pair);
	/* Set the partition up deterministically: once the pair runs, move to an
	 * M other than the pair's, so the yielders start on the other P's local
	 * queue.  Before the fix they stayed there for good. */
	while ((part_trips < 100 || (long)gettid() == part_pair_tid) &&
	       rt_nanotime() < part_deadline)
		rt_gosched();
	for (int i = 0; i < PART_YIELDERS; i++)
		rt_go(part_yielder, &wg);
	rt_wg_wait(&wg);
	CHECK(part_tid[1] != 0, "yielders ran on one M only (tid %ld) for 30 s with 2 Ps and a "
	      "ping-pong pair busy on the other P: P partition", (long)part_tid[0]);
	return 0;
}

Test(sched, yielders_reach_every_p, .timeout = 120)
{
	setenv("FPRT_MAXPROCS", "2", 1);
	rt_test_run(partition, NULL);
}
Test(sched_debug, yielders_reach_every_p, .timeout = 120)
{
	setenv("FPRT_MAXPROCS", "2", 1);
	rt_test_run(partition, RT_DEBUG_ENV);
}
