/* Scheduler: N goroutines x M yields, ids, many goroutines, several Ps. */
#include <string.h>

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
