/*
 * cgo_reentry — seed 002 (Go commit 7283e08c, golang/go#7978): tracebacks of
 * a goroutine at four moments, taken by another goroutine: in C before a
 * callback, inside the callback, in C after the callback, back in the
 * goroutine.  Each must hold the expected function and not the unexpected
 * one.  Prints OK (needs 2 Ps: C spins while holding its P).
 * FPRT_INJECT=syscallsp-reentry (cgocallbackg re-enters the syscall with its
 * own frame): the traceback in C after the callback is wrong (exit 1) or
 * exitsyscall is fatal ("syscall frame is no longer valid", exit 2).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "fprt.h"
#include "prog_args.h"

static _Atomic uint32_t sync7978;
static uint64_t gid;
static int failures;

static void cwait(uint32_t store, uint32_t want)
{
	if (store)
		sync7978 = store;
	while (sync7978 != want)
#if defined(__aarch64__)
		__asm__ volatile("yield");
#else
		__builtin_ia32_pause();
#endif
}

static void gowait(uint32_t store, uint32_t want)
{
	if (store)
		sync7978 = store;
	while (sync7978 != want)
		rt_gosched();
}

__attribute__((noinline)) static void issue7978cb(void *arg)
{
	(void)arg;
	gowait(3, 4);
}

__attribute__((noinline)) static void issue7978c(void *arg)
{
	(void)arg;
	cwait(0, 0);
	sync7978 = 1;
	cwait(0, 2);
	rt_cgocallback(issue7978cb, NULL);
	sync7978 = 5;
	cwait(0, 6);
}

__attribute__((noinline)) static void issue7978go(void *wg)
{
	rt_cgocall(issue7978c, NULL);
	gowait(7, 8);
	rt_wg_done(wg);
}

static bool has(const uintptr_t *pcs, long n, const char *name)
{
	char buf[256];
	size_t l = strlen(name);
	for (long i = 0; i < n; i++) {
		rt_symbolize(pcs[i], buf, sizeof buf);
		if (strncmp(buf, name, l) == 0 && buf[l] == '+')
			return true;
	}
	return false;
}

static void check(const char *moment, const char *want, const char *bad)
{
	uintptr_t pcs[64];
	struct fpu_walk_result res;
	const char *st = "?";
	long n;
	while ((n = rt_goroutine_pcs(gid, pcs, 64, &res, &st)) < 0)
		rt_gosched();           /* running for a moment: try again */
	if (!has(pcs, n, want) || (bad && has(pcs, n, bad))) {
		fprintf(stderr, "cgo_reentry: %s: want %s%s%s [%s]:\n", moment, want,
			bad ? ", not " : "", bad ? bad : "", st);
		rt_traceback_goid(2, gid);
		failures++;
	}
}

static int realmain(int argc, char **argv)
{
	if (argc > 1)
		return prog_usage("cgo_reentry (no arguments)", argv[1]);
	if (rt_gomaxprocs() < 2) {
		printf("OK (skipped: C spins on its P, needs 2 Ps)\n");
		return 0;
	}
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 1);
	gid = rt_go(issue7978go, &wg);
	gowait(0, 1);
	check("in C before the callback", "rt_cgocall", NULL);
	gowait(2, 3);
	check("in the callback", "issue7978cb", "issue7978go");
	gowait(4, 5);
	check("in C after the callback", "rt_cgocall", "rt_cgocallback_asm");
	gowait(6, 7);
	check("back in the goroutine", "issue7978go", NULL);
	sync7978 = 8;
	rt_wg_wait(&wg);
	if (failures)
		return 1;
	printf("OK 4 tracebacks\n");
	return 0;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
