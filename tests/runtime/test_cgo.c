/*
 * Syscalls and cgo: the injection matrix over the scenario programs
 * (seeds 000, 001, 002, 004), blocking syscalls with one P, foreign threads
 * calling back concurrently.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

struct row { const char *prog, *inject; int want; const char *msg; };

/* want: 0 = exit 0 and OK; 2 = fatal error with msg; 1 = non-zero with msg */
static const struct row matrix[] = {
	{ "cgo_callback_grow", NULL, 0, "OK" },
	{ "cgo_callback_grow", "syscallbp-untracked", 2, "fatal error: entersyscall inconsistent bp" },
	{ "cgo_callback_grow", "syscallbp-untracked,syscallbp-nocheck", 1, "bad traceback" },
	{ "cgo_stackswitch", NULL, 0, "OK" },
	{ "cgo_stackswitch", "g0-bounds-static", 2, "fatal error: g0 stack overflow" },
	{ "cgo_stackswitch_overlap", NULL, 0, "OK" },
	{ "cgo_stackswitch_overlap", "g0-bounds-fastpath", 2, "fatal error: g0 stack overflow" },
	{ "cgo_reentry", NULL, 0, "OK" },
	{ "cgo_reentry", "syscallsp-reentry", 1, "in C after the callback" },
};

static void run_matrix(const char *debug)
{
	int fails = 0;
	fprintf(stderr, "%-26s %-40s %-16s %s\n", "scenario", "FPRT_INJECT", "FPRT_DEBUG", "result");
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
		const struct row *r = &matrix[i];
		char inj[128], dbg[128];
		snprintf(inj, sizeof inj, "FPRT_INJECT=%s", r->inject ? r->inject : "");
		snprintf(dbg, sizeof dbg, "FPRT_DEBUG=%s", debug);
		const char *env[] = { inj, dbg, "FPRT_MAXPROCS=2", NULL };
		const char *argv[] = { r->prog, NULL };
		struct child_result c = run_prog(r->prog, argv, env);
		bool ok;
		if (r->want == 0)
			ok = c.status == 0 && strncmp(c.out, "OK", 2) == 0;
		else if (r->want == 2)
			ok = c.status == 2 && strstr(c.err, r->msg) != NULL;
		else
			ok = c.status != 0 && strstr(c.err, r->msg) != NULL;
		fprintf(stderr, "%-26s %-40s %-16s %s (exit %d)\n", r->prog,
			r->inject ? r->inject : "-", debug[0] ? debug : "-",
			ok ? (r->want ? "caught" : "OK") : "WRONG", c.status);
		if (!ok) {
			fprintf(stderr, "--- stdout:\n%s--- stderr:\n%.2000s\n", c.out, c.err);
			fails++;
		}
		child_result_free(&c);
	}
	cr_assert_eq(fails, 0, "%d rows of the injection matrix are wrong (table on stderr)", fails);
}

Test(cgo, injection_matrix, .timeout = 600) { run_matrix(""); }
Test(cgo, injection_matrix_stackforcemove, .timeout = 600) { run_matrix("stackforcemove"); }

/* ---- one P: a goroutine blocked in rt_read/rt_nanosleep stops nobody --- */

static int pfd[2];
static _Atomic int progressed;

static void blocker(void *wg)
{
	char c;
	long n = rt_read(pfd[0], &c, 1);      /* blocks until the spinner writes */
	CHECK(n == 1 && c == 'x', "rt_read returned %ld", n);
	rt_wg_done(wg);
}

static void sleeper(void *wg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	CHECK(rt_nanosleep(&ts, NULL) == 0, "rt_nanosleep failed");
	progressed++;
	rt_wg_done(wg);
}

static void spinner(void *wg)
{
	/* runs only if the blocked goroutines handed off the only P */
	for (int i = 0; i < 1000; i++)
		rt_gosched();
	progressed++;
	CHECK(rt_write(pfd[1], "x", 1) == 1, "rt_write failed");
	rt_wg_done(wg);
}

static int handoff(int argc, char **argv)
{
	(void)argc; (void)argv;
	CHECK(rt_gomaxprocs() == 1, "want 1 P, have %d", rt_gomaxprocs());
	CHECK(pipe(pfd) == 0, "pipe");
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 3);
	rt_go(blocker, &wg);
	rt_go(sleeper, &wg);
	rt_go(spinner, &wg);
	rt_wg_wait(&wg);
	CHECK(progressed == 2, "progressed %d", (int)progressed);
	return 0;
}

Test(cgo, blocking_syscalls_one_p, .timeout = 120)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(handoff, NULL);
}

/* ---- foreign threads calling back while goroutines run ------------------ */

#define NTHREADS 32
#define NCALLS 10000
static _Atomic long ncb;
static _Atomic int threads_done;

static void cb(void *arg)
{
	(void)arg;
	RT_STACK_CHECK(1024);
	ncb++;
	if ((ncb & 255) == 0)
		rt_gosched();
}

static void *foreign(void *arg)
{
	(void)arg;
	for (int i = 0; i < NCALLS; i++)
		rt_cgocallback(cb, NULL);
	threads_done++;
	return NULL;
}

static void busy(void *wg)
{
	while (threads_done < NTHREADS)
		rt_gosched();
	rt_wg_done(wg);
}

static int foreign_threads(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 4);
	for (int i = 0; i < 4; i++)
		rt_go(busy, &wg);
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, foreign, NULL) == 0, "pthread_create");
	rt_wg_wait(&wg);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(ncb == (long)NTHREADS * NCALLS, "%ld callbacks ran", (long)ncb);
	return 0;
}
RT_TEST(cgo, foreign_threads_callback, foreign_threads, 300)
