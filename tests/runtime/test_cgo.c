/*
 * Syscalls and cgo: the injection matrix over the scenario programs (seeds
 * 000, 001, 002, 004), seed 000 made deterministic, which runtime paths depend
 * on copystack's conservative scan, blocking syscalls with one P, foreign
 * threads calling back concurrently, the M's published regions following its
 * g0 bounds.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "helpers.h"

/*
 * One run of a scenario program.  Every row states the exact exit status and
 * a message that only the expected outcome prints: "OK" at the start of
 * stdout for a clean run (a program that skips its scenario says "skipped"
 * and fails the row), else a line of stderr; `also`, when set, must be in
 * stderr too.  So no row passes because a program died early, for another
 * reason, or did nothing.
 */
struct row {
	const char *prog, *arg, *inject;
	int status;
	const char *msg, *also;
};

static const struct row matrix[] = {
	{ "cgo_callback_grow", NULL, NULL, 0, "OK", NULL },
	/* seed 000: cgocallbackg's saved bp untracked (Go's uintptr savedbp) */
	{ "cgo_callback_grow", NULL, "syscallbp-untracked", 2,
	  "fatal error: entersyscall inconsistent bp 0x", NULL },
	{ "cgo_callback_grow", NULL, "syscallbp-untracked,syscallbp-nocheck", 1,
	  "cgo_callback_grow: bad traceback of goroutine", "in C were wrong" },
	/* the saved sp untracked (Go's savedsp before it was an unsafe.Pointer) */
	{ "cgo_callback_grow", NULL, "syscallsp-untracked", 2,
	  "fatal error: entersyscall inconsistent sp 0x", NULL },
	{ "cgo_stackswitch", NULL, NULL, 0, "OK", NULL },
	{ "cgo_stackswitch", NULL, "g0-bounds-static", 2,
	  "fatal error: g0 stack overflow on M", "in cgocallback" },
	{ "cgo_stackswitch_overlap", NULL, NULL, 0, "OK", NULL },
	{ "cgo_stackswitch_overlap", NULL, "g0-bounds-fastpath", 2,
	  "fatal error: g0 stack overflow on M", "in cgocallback" },
	/* no injection: C switching stacks inside rt_cgocall is refused */
	{ "cgo_stackswitch_incall", NULL, NULL, 2,
	  "fatal error: cgocallback sp out of bounds: M", "(C changed stacks" },
	{ "cgo_reentry", NULL, NULL, 0, "OK 4 tracebacks", NULL },
	/* seed 002: the traceback in C after the callback is wrong, then
	 * exitsyscall finds syscallsp below its caller */
	{ "cgo_reentry", NULL, "syscallsp-reentry", 2,
	  "fatal error: exitsyscall: syscall frame is no longer valid",
	  "cgo_reentry: in C after the callback" },
};

static bool row_ok(const struct row *r, const struct child_result *c)
{
	if (c->status != r->status)
		return false;
	if (r->status == 0 && (strncmp(c->out, r->msg, strlen(r->msg)) != 0 ||
			       strstr(c->out, "skipped")))
		return false;
	if (r->status != 0 && !strstr(c->err, r->msg))
		return false;
	return !r->also || strstr(c->err, r->also);
}

static void run_matrix(const char *debug)
{
	int fails = 0;
	fprintf(stderr, "%-26s %-40s %-16s %s\n", "scenario", "FPRT_INJECT", "FPRT_DEBUG", "result");
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
		const struct row *r = &matrix[i];
		cr_assert(r->msg && r->msg[0], "row %zu has no message to check", i);
		char inj[128], dbg[128];
		snprintf(inj, sizeof inj, "FPRT_INJECT=%s", r->inject ? r->inject : "");
		snprintf(dbg, sizeof dbg, "FPRT_DEBUG=%s", debug);
		const char *env[] = { inj, dbg, "FPRT_MAXPROCS=2", NULL };
		const char *argv[] = { r->prog, r->arg, NULL };
		struct child_result c = run_prog(r->prog, argv, env);
		bool ok = row_ok(r, &c);
		fprintf(stderr, "%-26s %-40s %-16s %s (exit %d, want %d)\n", r->prog,
			r->inject ? r->inject : "-", debug[0] ? debug : "-",
			ok ? (r->status ? "caught" : "OK") : "WRONG", c.status, r->status);
		if (!ok) {
			fprintf(stderr, "--- want \"%s\"%s%s%s\n--- stdout:\n%s--- stderr:\n%.2000s\n",
				r->msg, r->also ? " and \"" : "", r->also ? r->also : "",
				r->also ? "\"" : "", c.out, c.err);
			fails++;
		}
		child_result_free(&c);
	}
	cr_assert_eq(fails, 0, "%d rows of the injection matrix are wrong (table on stderr)", fails);
}

Test(cgo, injection_matrix, .timeout = 600) { run_matrix(""); }
Test(cgo, injection_matrix_stackforcemove, .timeout = 600) { run_matrix("stackforcemove"); }

/*
 * Seed 000 as Go had it: cgocallbackg's saved syscallbp lies where copystack's
 * conservative scan cannot see it (struct rt_cgosave, on g0), so tracking the
 * slot is the only thing that relocates it.  Leave it untracked (Go's uintptr)
 * and every stack move during a callback leaves it stale: with every stack
 * check moving the stack, the first callback already re-enters the syscall
 * with a bp outside the goroutine's stack, with one P or two.
 */
Test(cgo, seed000_untracked_syscallbp_is_fatal, .timeout = 120)
{
	const char *procs[] = { "FPRT_MAXPROCS=1", "FPRT_MAXPROCS=2" };
	for (int i = 0; i < 2; i++) {
		const char *env[] = { "FPRT_INJECT=syscallbp-untracked",
				      "FPRT_DEBUG=stackforcemove", procs[i], NULL };
		const char *argv[] = { "cgo_callback_grow", NULL };
		struct child_result c = run_prog("cgo_callback_grow", argv, env);
		cr_assert_eq(c.status, 2, "%s: exit %d, want 2\nstdout:\n%s\nstderr:\n%.2000s",
			     procs[i], c.status, c.out, c.err);
		const char *m = strstr(c.err, "fatal error: entersyscall inconsistent bp ");
		cr_assert(m, "%s: stderr:\n%.2000s", procs[i], c.err);
		unsigned long bp, lo, hi;
		cr_assert_eq(sscanf(m, "fatal error: entersyscall inconsistent bp %lx [%lx, %lx]",
				    &bp, &lo, &hi), 3, "%s: message: %.200s", procs[i], m);
		cr_assert(bp < lo || bp > hi, "%s: bp %#lx inside [%#lx, %#lx]", procs[i], bp, lo, hi);
		child_result_free(&c);
	}
}

/*
 * Which runtime paths depend on copystack's conservative scan (fprt.h):
 * FPRT_DEBUG=stackscanreport lists every word the scan relocated that is
 * neither a saved frame pointer nor a tracked slot, with the function whose
 * frame holds it.  Runtime functions (rt_*) among them depend on the scan.
 * Today that is the cgo callback path only:
 *   rt_cgocallback_asm  parks the goroutine's sched.sp and sched.bp (and the
 *                       callee-saved registers C carried across) on the
 *                       goroutine stack for the callback;
 *   rt_cgocallbackg     its prologue pushes the callee-saved registers C
 *                       carried across rt_cgocall, which may hold the
 *                       goroutine's stack addresses.
 * Programs without callbacks (grow, yield, switch) depend on it in no runtime
 * function.  A new dependency fails this test until it is listed here.
 */
static const char *const scan_dependents[] = { "rt_cgocallback_asm", "rt_cgocallbackg" };

/* Runs prog with the report; the rt_* functions it names must be in
 * scan_dependents (none when the program makes no callbacks); must, if set,
 * must be named. */
static void scan_report(const char *prog, const char *const *argv, bool callbacks,
			const char *must)
{
	const char *env[] = { "FPRT_DEBUG=stackforcemove,stackscanreport", "FPRT_MAXPROCS=2", NULL };
	struct child_result c = run_prog(prog, argv, env);
	cr_assert_eq(c.status, 0, "%s: exit %d\nstderr:\n%.2000s", prog, c.status, c.err);
	int lines = 0;
	bool saw_must = must == NULL;
	/*
	 * One line at a time, with explicit lengths: the report runs to
	 * megabytes, and strstr or sscanf on the rest of it would measure all
	 * of it on every call (ASan's interceptors do, too): quadratic.
	 */
	static const char tag[] = "stackscan: goroutine ";
	const char *end = c.err + strlen(c.err);
	for (const char *l = c.err, *nl; l < end; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		if (!nl)
			nl = end;
		size_t len = (size_t)(nl - l);
		if (len < sizeof tag - 1 || memcmp(l, tag, sizeof tag - 1) != 0)
			continue;
		lines++;
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), l);
		const char *in = strstr(line, " in ");
		cr_assert(in, "%s: no function in %.200s", prog, line);
		char fn[128];
		cr_assert_eq(sscanf(in, " in %127[^+:]", fn), 1, "%s: %.200s", prog, line);
		if (must && strcmp(fn, must) == 0)
			saw_must = true;
		if (strncmp(fn, "rt_", 3) != 0)
			continue;
		bool known = false;
		for (size_t i = 0; callbacks && i < sizeof scan_dependents / sizeof *scan_dependents; i++)
			known |= strcmp(fn, scan_dependents[i]) == 0;
		cr_assert(known, "%s: runtime function %s depends on the conservative scan: %.300s",
			  prog, fn, line);
	}
	cr_assert(saw_must, "%s: the report names no word in %s (%d lines):\n%.2000s", prog,
		  must, lines, c.err);
	child_result_free(&c);
}

Test(cgo, runtime_paths_that_depend_on_the_scan, .timeout = 300)
{
	/* the sched that rt_cgocallback_asm parks on the goroutine stack */
	const char *grow_cb[] = { "cgo_callback_grow", NULL };
	scan_report("cgo_callback_grow", grow_cb, true, "rt_cgocallback_asm");
	const char *export[] = { "cgo_export", "-t", "0.3", NULL };
	scan_report("cgo_export", export, true, "rt_cgocallback_asm");
	/* user code's spills (grow's recurse) are listed, no runtime function */
	const char *grow[] = { "grow", "-k", "256", NULL };
	scan_report("grow", grow, false, NULL);
	const char *yield[] = { "yield", "-t", "0.3", NULL };
	scan_report("yield", yield, false, NULL);
	const char *sw[] = { "switch", NULL };
	scan_report("switch", sw, false, NULL);
}

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

/* ---- the M's published regions follow its g0 bounds ------------------------ */

/*
 * An extra M's g0 bounds change with the stack a foreign thread calls back
 * from (a makecontext stack is outside the thread's pthread bounds: they are
 * estimated around sp, anew on every callback).  On every goroutine switch
 * the runtime republishes only what changed in the half of the M's regions it
 * writes, and rebuilds a half's g0 and signal entries only when the M's base
 * is newer than the half's: a bounds update that did not reach both halves
 * would leave the profiler's walker, one switch later, with a g0 region that
 * does not hold g0's sp.  So on g0, in each callback from alternating
 * stacks, sp must lie in the published region of kind G0, and the goroutine
 * region must be the goroutine's stack.
 */
#define REG_STACK (64 << 10)
static ucontext_t reg_main, reg_ctx;
static uintptr_t reg_g_lo, reg_g_hi;
static _Atomic int reg_checked, reg_thread_done;

static void regions_on_g0(void *arg)
{
	(void)arg;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct fpu_region r[FPU_MAX_REGIONS];
	int n = fpu_regions_read(rt_m_regions(), r, FPU_MAX_REGIONS);
	int g0 = -1, gor = -1;
	for (int i = 0; i < n; i++) {
		if (r[i].kind == FPU_REGION_G0)
			g0 = i;
		if (r[i].kind == FPU_REGION_GOROUTINE)
			gor = i;
	}
	CHECK(g0 >= 0 && sp >= r[g0].lo && sp < r[g0].hi,
	      "callback %d: g0 sp %#lx not in the published g0 region [%#lx, %#lx) (%d regions)",
	      (int)reg_checked, sp, g0 >= 0 ? r[g0].lo : 0, g0 >= 0 ? r[g0].hi : 0, n);
	CHECK(gor >= 0 && r[gor].lo == reg_g_lo && r[gor].hi == reg_g_hi,
	      "callback %d: goroutine region [%#lx, %#lx), its stack is [%#lx, %#lx)",
	      (int)reg_checked, gor >= 0 ? r[gor].lo : 0, gor >= 0 ? r[gor].hi : 0,
	      reg_g_lo, reg_g_hi);
	reg_checked++;
}

static void regions_cb(void *arg)
{
	(void)arg;
	rt_stack_bounds(&reg_g_lo, &reg_g_hi);
	rt_gosched();                   /* two more publishes: both halves */
	rt_stack_bounds(&reg_g_lo, &reg_g_hi);
	rt_systemstack(regions_on_g0, NULL);
	rt_gosched();
	rt_systemstack(regions_on_g0, NULL);
}

static void regions_from_ctx(void) { rt_cgocallback(regions_cb, NULL); }

/* getcontext returns twice: in a function of its own, no local of the
 * caller's loop is live across it (-Wclobbered) */
__attribute__((noinline)) static void regions_callback_on(char *stack)
{
	getcontext(&reg_ctx);
	reg_ctx.uc_stack.ss_sp = stack;
	reg_ctx.uc_stack.ss_size = REG_STACK;
	reg_ctx.uc_link = &reg_main;
	makecontext(&reg_ctx, regions_from_ctx, 0);
	swapcontext(&reg_main, &reg_ctx);
}

static void *regions_thread(void *arg)
{
	(void)arg;
	char *s[2] = { malloc(REG_STACK), malloc(2 * REG_STACK) };
	for (int i = 0; i < 6 && s[0] && s[1]; i++) {
		regions_callback_on(s[i % 2]);
		rt_cgocallback(regions_cb, NULL);       /* and the thread's own stack */
	}
	free(s[0]);
	free(s[1]);
	reg_thread_done = 1;
	return NULL;
}

static int regions_follow(int argc, char **argv)
{
	(void)argc; (void)argv;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, regions_thread, NULL) == 0, "pthread_create");
	while (!reg_thread_done)
		rt_gosched();
	pthread_join(t, NULL);
	CHECK(reg_checked == 24, "%d checks ran, want 24", (int)reg_checked);
	return 0;
}
RT_TEST(cgo, published_regions_follow_g0_bounds, regions_follow, 120)
