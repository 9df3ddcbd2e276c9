/* Mutex, wait group, sleep. */
#include <string.h>

#include "helpers.h"

static rt_mutex mu = RT_MUTEX_INIT;
static long counter;

static void locker(void *p)
{
	for (int i = 0; i < 2000; i++) {
		rt_mutex_lock(&mu);
		long c = counter;
		if (i % 16 == 0)
			rt_gosched();        /* park others on the mutex while holding it */
		counter = c + 1;
		rt_mutex_unlock(&mu);
	}
	rt_wg_done(p);
}

static int mutex(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 16);
	for (int i = 0; i < 16; i++)
		rt_go(locker, &wg);
	rt_wg_wait(&wg);
	CHECK(counter == 16 * 2000, "counter %ld", counter);
	CHECK(rt_mutex_trylock(&mu), "mutex free at the end");
	CHECK(!rt_mutex_trylock(&mu), "trylock of a locked mutex");
	rt_mutex_unlock(&mu);
	return 0;
}
RT_TEST(sync, mutex_counter, mutex, 120)

/* Sleep ordering.  With one P the timer thread's readying order (deadline
 * order) is the run order, so goroutines must wake in the order of their
 * deadlines, however slow the machine; and nobody may wake before its
 * deadline.  Deadlines are measured here just before rt_sleep computes its own,
 * so two deadlines closer than 1 ms are not compared. */
#define NSLEEP 12
static _Atomic int seq;
static uint64_t deadline_of[NSLEEP];
static int order_of[NSLEEP];
static _Atomic int early;

struct sl { int i; rt_waitgroup *wg; };

static void sleeper(void *p)
{
	struct sl *a = p;
	int64_t ns = (int64_t)(NSLEEP - a->i) * 3000000;   /* reverse of start order */
	uint64_t t0 = rt_nanotime();
	deadline_of[a->i] = t0 + (uint64_t)ns;
	rt_sleep(ns);
	if (rt_nanotime() < deadline_of[a->i])
		early++;
	order_of[seq++] = a->i;
	rt_wg_done(a->wg);
}

static int sleeps(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	static struct sl args[NSLEEP];
	rt_wg_add(&wg, NSLEEP);
	for (int i = 0; i < NSLEEP; i++) {
		args[i] = (struct sl){ i, &wg };
		rt_go(sleeper, &args[i]);
	}
	rt_wg_wait(&wg);
	CHECK(early == 0, "%d sleepers woke before their deadline", (int)early);
	for (int k = 1; k < NSLEEP; k++) {
		uint64_t a = deadline_of[order_of[k - 1]], b = deadline_of[order_of[k]];
		CHECK(a <= b + 1000000, "goroutine %d (deadline %llu) woke before %d (deadline %llu)",
		      order_of[k - 1], (unsigned long long)a, order_of[k], (unsigned long long)b);
	}
	return 0;
}

Test(sync, sleep_order_one_p, .timeout = 60)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(sleeps, NULL);
}

static int sleep_zero(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_sleep(0);
	rt_sleep(-5);
	uint64_t t0 = rt_nanotime();
	rt_sleep(1000000);
	CHECK(rt_nanotime() - t0 >= 1000000, "slept %llu ns",
	      (unsigned long long)(rt_nanotime() - t0));
	return 0;
}
RT_TEST(sync, sleep_at_least, sleep_zero, 60)

static void waiter(void *p)
{
	rt_waitgroup **w = p;
	rt_wg_wait(w[0]);
	rt_wg_done(w[1]);
}

static int waitgroups(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup gate = RT_WAITGROUP_INIT, done = RT_WAITGROUP_INIT;
	rt_waitgroup *w[2] = { &gate, &done };
	rt_wg_add(&gate, 1);
	rt_wg_add(&done, 10);
	for (int i = 0; i < 10; i++)
		rt_go(waiter, w);
	rt_sleep(1000000);
	rt_wg_done(&gate);       /* releases all ten */
	rt_wg_wait(&done);
	rt_wg_wait(&gate);       /* zero: returns at once */
	return 0;
}
RT_TEST(sync, waitgroup_many_waiters, waitgroups, 60)
