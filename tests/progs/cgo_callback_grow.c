/*
 * cgo_callback_grow — seed 000 (Go commit bacd0c58, golang/go#69085).
 *
 * A goroutine calls C (rt_cgocall); C calls back (rt_cgocallback); the
 * callback grows the goroutine stack several times (the stack moves); C
 * returns.  Meanwhile another goroutine, on another M, takes tracebacks of
 * the first one whenever it is in C (G status "syscall": walked from
 * syscallpc/syscallbp) and checks every frame: the chain ends cleanly and
 * holds rt_cgocall and the goroutine's functions.  Prints OK.
 *
 * FPRT_INJECT=syscallbp-untracked: cgocallbackg keeps the saved syscallbp
 * where the stack copy does not relocate it; reentersyscall's bp check is
 * fatal ("entersyscall inconsistent bp"), exit 2.  With syscallbp-nocheck as
 * well, the stale syscallbp reaches the tracebacks: reported, exit 1.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>
#include "fprt.h"
#include "prog_args.h"

#define ROUNDS 20
static _Atomic int done, bad, checked;
static long linger_ms;      /* -w: C stays this long after each callback */
static long compute_ms;     /* -c: the callback computes this long, deep down */

/* CPU work at the bottom of the callback: CPU samples there have three stack
 * segments (callback on the goroutine, C on g0, the goroutine's caller). */
__attribute__((noinline)) static void compute(void)
{
	uint64_t until = rt_nanotime() + (uint64_t)compute_ms * 1000000, x = 1;
	while (rt_nanotime() < until)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005ULL + 1;
	__asm__ volatile("" : : "r"(x));
}
static uint64_t worker_id;

__attribute__((noinline)) static void deep(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	RT_STACK_CHECK(2048);
	if (n > 0)
		deep(n - 1);
	else if (compute_ms)
		compute();
	__asm__ volatile("" ::"r"(pad) : "memory");
}

static void callback(void *arg)
{
	(void)arg;
	deep(40);                       /* ~40 KiB: the 16 KiB stack moves twice+ */
}

/* "C": with two Ps or more, wait until the checker has traced us in C once
 * (no timing: a count), before the callback and after it, where a stale
 * syscallbp would show. */
static void wait_checked(void)
{
	if (rt_gomaxprocs() < 2)
		return;
	int c = checked;
	while (checked == c && !bad)
#if defined(__aarch64__)
		__asm__ volatile("yield");
#else
		__builtin_ia32_pause();
#endif
}

/*
 * "C" that takes its time after the callback: the goroutine stays in C (status
 * syscall) long enough for a profiler's wall samples to walk it from
 * syscallpc/syscallbp, the path a stale syscallbp poisons (fptrace check
 * reports those samples as fp-stale).
 */
__attribute__((noinline)) static void linger(void)
{
	struct timespec ts = { linger_ms / 1000, (linger_ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) static void c_function(void *arg)
{
	wait_checked();
	rt_cgocallback(callback, arg);
	wait_checked();
	if (linger_ms)
		linger();
}

__attribute__((noinline)) static void calls_c(void)
{
	rt_cgocall(c_function, NULL);
	__asm__ volatile("" ::: "memory");
}

static void worker(void *wg)
{
	for (int i = 0; i < ROUNDS; i++)
		calls_c();
	done = 1;
	rt_wg_done(wg);
}

static bool has(const uintptr_t *pcs, long n, const char *name)
{
	char buf[256];
	for (long i = 0; i < n; i++) {
		rt_symbolize(pcs[i], buf, sizeof buf);
		size_t l = strlen(name);
		if (strncmp(buf, name, l) == 0 && buf[l] == '+')
			return true;
	}
	return false;
}

static void checker(void *wg)
{
	while (!done) {
		uintptr_t pcs[64];
		struct fpu_walk_result res;
		const char *st = "";
		long n = rt_goroutine_pcs(worker_id, pcs, 64, &res, &st);
		if (n >= 0 && strcmp(st, "syscall") == 0) {
			checked++;
			if (res.end != FPU_END_CLEAN || !has(pcs, n, "rt_cgocall") ||
			    !has(pcs, n, "calls_c") || !has(pcs, n, "worker")) {
				if (bad++ < 3) {
					fprintf(stderr, "cgo_callback_grow: bad traceback of goroutine "
						"%llu in C: end %s, %ld frames:\n",
						(unsigned long long)worker_id, fpu_end_name(res.end), n);
					for (long i = 0; i < n; i++) {
						char buf[256];
						rt_symbolize(pcs[i], buf, sizeof buf);
						fprintf(stderr, "\t%s\n", buf);
					}
				}
			}
		}
		rt_gosched();
	}
	rt_wg_done(wg);
}

static int realmain(int argc, char **argv)
{
	const char *usage = "cgo_callback_grow [-w LINGER_MS] [-c COMPUTE_MS]";
	int c;
	long v;
	while ((c = getopt(argc, argv, "w:c:")) != -1) {
		if (c == '?')
			return prog_usage(usage, NULL);
		if (!prog_long(optarg, 0, 3600000, &v))
			return prog_usage(usage, optarg);
		if (c == 'w')
			linger_ms = v;
		else
			compute_ms = v;
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 2);
	worker_id = rt_go(worker, &wg);
	rt_go(checker, &wg);
	rt_wg_wait(&wg);
	if (bad) {
		fprintf(stderr, "cgo_callback_grow: %d of %d tracebacks in C were wrong\n",
			(int)bad, (int)checked);
		return 1;
	}
	printf("OK %d rounds, %d tracebacks in C checked\n", ROUNDS, (int)checked);
	return 0;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
