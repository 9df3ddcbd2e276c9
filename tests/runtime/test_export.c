/*
 * rt_cgo_export: C calls goroutine code through generated thunks,
 * from C entered with rt_cgocall and from a foreign thread.  Results are
 * checked, and inside the goroutine function every unwinder must get through
 * the thunk to the C caller:
 *   - the runtime's FP walk (fpu_walk_checked with rt_unwind_ctx): the thunk's
 *     frame record, then the C caller, with a clean end;
 *   - libgcc's DWARF unwinder (glibc backtrace()): only possible with the
 *     thunk's .eh_frame registered (__register_frame);
 *   - rt_symbolize names the thunk.
 * And the code is never writable and executable at once (/proc/self/maps).
 */
#include <execinfo.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define MAXF 64

struct call {
	_Atomic uint64_t in, out;
	uint64_t goid;
	_Atomic pid_t tid;               /* the foreign thread, once it runs */
	uintptr_t thunk;
	/* what the goroutine function saw */
	int fp_thunk, fp_caller;         /* positions in the FP chain, -1: absent */
	struct fpu_walk_result fp;
	int dw_thunk, dw_caller;         /* positions in backtrace() */
	char thunk_name[128];
};

static const char *caller_name;       /* the C function that calls the thunk */

static int find_pc(const uintptr_t *pcs, int n, uintptr_t lo, size_t size)
{
	for (int i = 0; i < n; i++)
		if (pcs[i] > lo && pcs[i] <= lo + size)   /* return addresses */
			return i;
	return -1;
}

static int find_name(const uintptr_t *pcs, int n, const char *name)
{
	char buf[256];
	size_t l = strlen(name);
	for (int i = 0; i < n; i++) {
		rt_symbolize(pcs[i], buf, sizeof buf);
		if (strncmp(buf, name, l) == 0 && buf[l] == '+')
			return i;
	}
	return -1;
}

__attribute__((noinline)) static void go_square(void *arg)
{
	struct call *c = arg;
	RT_STACK_CHECK(256);
	c->goid = rt_goid();
	c->out = c->in * c->in;

	uintptr_t pcs[MAXF];
	struct fpu_ctx ctx;
	rt_unwind_ctx(&ctx);
	int n = (int)fpu_walk_here(&ctx, pcs, MAXF, &c->fp);
	c->fp_thunk = find_pc(pcs, n, c->thunk, 32);
	c->fp_caller = find_name(pcs, n, caller_name);
	if (c->fp_thunk >= 0)
		rt_symbolize(pcs[c->fp_thunk], c->thunk_name, sizeof c->thunk_name);

	void *bt[MAXF];
	int m = backtrace(bt, MAXF);
	c->dw_thunk = find_pc((uintptr_t *)bt, m, c->thunk, 32);
	c->dw_caller = find_name((uintptr_t *)bt, m, caller_name);
}

static void (*square)(void *);

static void expect_chain(const struct call *c, const char *how)
{
	CHECK(c->out == c->in * c->in, "%s: %llu squared is %llu", how,
	      (unsigned long long)c->in, (unsigned long long)c->out);
	CHECK(c->goid != 0, "%s: the exported function ran outside a goroutine", how);
	CHECK(c->fp_thunk >= 0 && c->fp_caller > c->fp_thunk,
	      "%s: FP chain: thunk at %d, %s at %d (%s after %u frames)", how, c->fp_thunk,
	      caller_name, c->fp_caller, fpu_end_name(c->fp.end), c->fp.frames);
	CHECK(c->fp.end == FPU_END_CLEAN, "%s: FP walk ended %s after %u frames", how,
	      fpu_end_name(c->fp.end), c->fp.frames);
	CHECK(c->dw_thunk >= 0 && c->dw_caller > c->dw_thunk,
	      "%s: backtrace(): thunk at %d, %s at %d", how, c->dw_thunk, caller_name,
	      c->dw_caller);
	CHECK(strncmp(c->thunk_name, "export_square+", 14) == 0,
	      "%s: rt_symbolize names the thunk \"%s\"", how, c->thunk_name);
}

/* ---- from C entered with rt_cgocall ----------------------------------------- */

__attribute__((noinline)) void export_c_caller(void *arg)
{
	struct call *c = arg;
	for (uint64_t i = 1; i <= 100; i++) {
		c->in = i;
		square(c);
		if (c->out != i * i)
			break;
	}
	__asm__ volatile("" ::: "memory");
}

static int from_cgocall(int argc, char **argv)
{
	(void)argc; (void)argv;
	square = rt_cgo_export(go_square, "export_square");
	caller_name = "export_c_caller";
	struct call *c = calloc(1, sizeof *c);
	c->thunk = (uintptr_t)square;
	rt_cgocall(export_c_caller, c);
	CHECK(c->goid == rt_goid(), "callback ran on goroutine %llu, not the caller %llu",
	      (unsigned long long)c->goid, (unsigned long long)rt_goid());
	expect_chain(c, "from rt_cgocall");
	free(c);
	return 0;
}
RT_TEST(export, from_cgocall, from_cgocall, 60)

/* ---- from a foreign thread ---------------------------------------------------- */

__attribute__((noinline)) void export_foreign_caller(struct call *c)
{
	for (uint64_t i = 1; i <= 1000; i++) {
		c->in = i;
		square(c);
		if (c->out != i * i)
			break;
	}
	__asm__ volatile("" ::: "memory");
}

static void *foreign(void *arg)
{
	struct call *c = arg;
	c->tid = (pid_t)syscall(SYS_gettid);
	export_foreign_caller(c);
	return NULL;
}

/* Joins the foreign threads from C entered with rt_cgocall, as Go code would
 * (C.pthread_join): the goroutine is in a syscall, and the P it holds there
 * must go to the foreign threads' callbacks, which need one to run.  With
 * FPRT_MAXPROCS=1 it is the only P.  The wait is bounded, so a P that never
 * reaches them is a failure that names the stuck thread, not a test timeout. */
#define NFOREIGN 4
#define JOIN_BOUND_S 30

struct foreign_run {
	struct call c[NFOREIGN];
	pthread_t t[NFOREIGN];
	int err[NFOREIGN];
};

static void start_all(struct foreign_run *r)
{
	square = rt_cgo_export(go_square, "export_square");
	caller_name = "export_foreign_caller";
	for (int i = 0; i < NFOREIGN; i++) {
		r->c[i].thunk = (uintptr_t)square;
		CHECK(pthread_create(&r->t[i], NULL, foreign, &r->c[i]) == 0, "pthread_create");
	}
}

static void join_all(void *arg)
{
	struct foreign_run *r = arg;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_BOUND_S;
	for (int i = 0; i < NFOREIGN; i++)
		r->err[i] = pthread_timedjoin_np(r->t[i], NULL, &deadline);
}

static void start_and_join_all(void *arg)
{
	start_all(arg);
	join_all(arg);
}

static int check_run(struct foreign_run *r)
{
	int stuck = 0;
	for (int i = 0; i < NFOREIGN; i++) {
		if (r->err[i]) {
			CHECK(0, "foreign thread %d still runs after %d s (pthread_timedjoin_np: %s): "
			      "it is in callback %llu of 1000, which waits for one of the %d P(s) "
			      "while this goroutine waits in C", i, JOIN_BOUND_S,
			      strerror(r->err[i]), (unsigned long long)r->c[i].in, rt_gomaxprocs());
			stuck++;
		}
	}
	if (stuck)
		return 1;      /* the stuck threads still use r */
	for (int i = 0; i < NFOREIGN; i++)
		expect_chain(&r->c[i], "from a foreign thread");
	return 0;
}

static int from_foreign(int argc, char **argv)
{
	(void)argc; (void)argv;
	static struct foreign_run r;     /* static: the threads use it after a stuck return */
	start_all(&r);
	rt_cgocall(join_all, &r);
	return check_run(&r);
}
RT_TEST(export, from_foreign_thread, from_foreign, 60)

/* The only P is the one the joining goroutine holds in C.  The threads and
 * the goroutine's syscall race: either order may come first. */
Test(export, from_foreign_thread_one_p, .timeout = 2 * JOIN_BOUND_S + 30)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(from_foreign, NULL);
}

Test(export_debug, from_foreign_thread_one_p, .timeout = 2 * JOIN_BOUND_S + 30)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(from_foreign, RT_DEBUG_ENV);
}

/* Each order on its own, with one P.  The syscall first: the threads' M find
 * the P in the syscall and must retake it. */
static int syscall_first(int argc, char **argv)
{
	(void)argc; (void)argv;
	static struct foreign_run r;
	rt_cgocall(start_and_join_all, &r);
	return check_run(&r);
}

/* Thread tid sleeps (state S in /proc): before its first callback has run,
 * the only sleep it can be in is the wait for a P. */
static bool asleep_in_first_callback(const struct call *c)
{
	if (!c->tid || c->in != 1 || c->out != 0)
		return false;
	char path[64], state = 0;
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)c->tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state == 'S';
}

/* The callbacks first: every thread waits for the P, which this goroutine
 * keeps by running without a yield, before it enters C; entersyscall must
 * hand the P to them. */
static int callbacks_first(int argc, char **argv)
{
	(void)argc; (void)argv;
	static struct foreign_run r;
	start_all(&r);
	RT_STACK_CHECK(16384);       /* fopen and fscanf on this stack */
	for (int i = 0; i < NFOREIGN; i++)
		while (!asleep_in_first_callback(&r.c[i]))
			;
	rt_cgocall(join_all, &r);
	return check_run(&r);
}

Test(export, one_p_syscall_before_the_callbacks, .timeout = 2 * JOIN_BOUND_S + 30)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(syscall_first, NULL);
}

Test(export, one_p_callbacks_before_the_syscall, .timeout = 2 * JOIN_BOUND_S + 30)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(callbacks_first, NULL);
}

/* ---- many thunks: the arena grows, no page is ever W+X --------------------- */

static _Atomic long hits[200];
static void note(void *arg) { hits[(intptr_t)arg]++; }

struct many { void (*t[200])(void *); };

static void call_all(void *arg)
{
	struct many *m = arg;
	for (intptr_t i = 0; i < 200; i++)
		m->t[i]((void *)i);
}

static int many_thunks(int argc, char **argv)
{
	(void)argc; (void)argv;
	struct many *m = calloc(1, sizeof *m);
	char name[32];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "export_note_%d", i);
		m->t[i] = rt_cgo_export(note, name);
	}
	rt_cgocall(call_all, m);
	for (int i = 0; i < 200; i++) {
		CHECK(hits[i] == 1, "thunk %d ran %ld times", i, (long)hits[i]);
		char buf[64];
		rt_symbolize((uintptr_t)m->t[i] + 4, buf, sizeof buf);
		snprintf(name, sizeof name, "export_note_%d+0x4", i);
		CHECK(strcmp(buf, name) == 0, "thunk %d is named %s", i, buf);
	}
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int wx = 0;
	while (f && fgets(line, sizeof line, f)) {
		char perm[5] = "";
		if (sscanf(line, "%*x-%*x %4s", perm) == 1 && perm[1] == 'w' && perm[2] == 'x')
			wx++;
	}
	if (f)
		fclose(f);
	CHECK(wx == 0, "%d writable and executable mappings", wx);
	free(m);
	return 0;
}
RT_TEST(export, many_thunks_wx, many_thunks, 60)
