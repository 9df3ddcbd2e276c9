/*
 * switch — scenario program for debuggers: one goroutine calls through
 * goroutine_a -> goroutine_b -> rt_systemstack(on_g0) and then rt_gosched().
 * tests/integration/runtime_gdb.sh breaks in on_g0 (bt must show goroutine_b and
 * goroutine_a under rt_systemstack) and in rt_gosched_m, the function rt_mcall
 * runs (bt must end at rt_mcall).  It also checks the FP chain itself: from
 * on_g0 a checked walk crosses from g0 into the goroutine exactly once, at
 * rt_systemstack, and ends cleanly at the goroutine base.  Prints OK.
 * With SWITCH_STOP=1 it stops itself in on_g0 for outside unwinders.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fprt.h"
#include "prog_args.h"

static int failures;

__attribute__((noinline)) void on_g0(void *arg)
{
	uintptr_t pcs[64];
	struct fpu_walk_result res;
	size_t n = rt_callers(pcs, 64, &res);
	char name[128];
	int saw_b = 0;
	for (size_t i = 0; i < n; i++) {
		rt_symbolize(pcs[i], name, sizeof name);
		saw_b |= strncmp(name, "goroutine_b+", 12) == 0;
	}
	if (res.end != FPU_END_CLEAN || res.crossings != 1 || !saw_b) {
		fprintf(stderr, "switch: walk from g0 ended %s after %u frames, %u crossings, "
			"goroutine_b %s\n", fpu_end_name(res.end), res.frames, res.crossings,
			saw_b ? "seen" : "missing");
		failures++;
	}
	*(int *)arg += 1;
	/* SWITCH_STOP=1: stop here (SIGSTOP) so that an outside unwinder
	 * (eu-stack: libdw) can read this thread's stacks, then go on. */
	if (getenv("SWITCH_STOP"))
		raise(SIGSTOP);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void goroutine_b(int *x)
{
	rt_systemstack(on_g0, x);
	rt_gosched();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void goroutine_a(int *x)
{
	goroutine_b(x);
	__asm__ volatile("" ::: "memory");
}

static int realmain(int argc, char **argv)
{
	if (argc > 1)
		return prog_usage("switch (no arguments)", argv[1]);
	int x = 0;
	goroutine_a(&x);
	if (x != 1 || failures) {
		fprintf(stderr, "switch: FAIL (x=%d, failures=%d)\n", x, failures);
		return 1;
	}
	printf("OK\n");
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
