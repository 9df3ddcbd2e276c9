/*
 * sweep_scenario.c — what the traced child runs: one pass through every
 * stack-switch routine of fprt, on one P (FPRT_MAXPROCS=1) with
 * FPRT_DEBUG=stackforcemove, so that every stack check moves the stack:
 *
 *   rt_systemstack      goroutine -> g0 -> goroutine
 *   rt_mcall, rt_gogo   rt_gosched, a park and a wakeup through a channel
 *   rt_stack_check,     RT_STACK_CHECK on a goroutine (moves the stack; once
 *   rt_morestack        with stackforcemove off: the fast path)
 *   rt_asmcgocall,      rt_cgocall -> C on g0 -> rt_cgocallback, whose
 *   rt_cgocallback_asm  callback checks (and moves) the goroutine stack
 *   the export thunk    C on g0 calls an rt_cgo_export thunk
 *   rt_goexit           a goroutine returns
 *   rt_mstart_asm       every M's thread start
 *   and, on g0, the paths of asmcgocall, systemstack and stack_check that
 *   do not switch.
 *
 * The scenario checks its own results; a wrong one exits 1.
 */
#include <stdio.h>

#include "sweep.h"
#include "fprt.h"
#include "../../runtime/src/rt.h"

uintptr_t sweep_thunk;

/* The tracer reads sweep_thunk when the child reaches this function. */
__attribute__((noinline)) void sweep_thunk_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static int counter;

__attribute__((noinline)) static void c_on_g0(void *arg)
{
	*(int *)arg += 1;
}

/* On g0: the paths of the routines that do not switch (already on g0). */
__attribute__((noinline)) static void on_g0(void *arg)
{
	int n = 0;
	rt_asmcgocall(c_on_g0, &n);
	rt_systemstack(c_on_g0, &n);
	RT_STACK_CHECK(256);
	*(int *)arg += n - 1;
}

/* On the goroutine, called back from C: a stack check moves the stack. */
__attribute__((noinline)) static void callback(void *arg)
{
	RT_STACK_CHECK(1024);
	*(int *)arg += 1;
}

/* C on g0 inside rt_cgocall. */
__attribute__((noinline)) static void c_code(void *arg)
{
	rt_cgocallback(callback, arg);
}

/* C on g0 inside rt_cgocall, calling goroutine code through the export thunk. */
__attribute__((noinline)) static void c_code_thunk(void *arg)
{
	((void (*)(void *))sweep_thunk)(arg);
}

static void child(void *arg)
{
	rt_chan *done = arg;
	int v = 1;
	rt_chan_send(done, &v);
}

int sweep_scenario(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sweep_thunk = (uintptr_t)rt_cgo_export(callback, "sweep_thunk");
	sweep_thunk_ready();
	rt_systemstack(on_g0, &counter);
	rt_gosched();
	RT_STACK_CHECK(256);
	/* the fast path of rt_stack_check, which stackforcemove never takes */
	rt_debug_stackforcemove = 0;
	RT_STACK_CHECK(256);
	rt_debug_stackforcemove = 1;
	rt_cgocall(c_code, &counter);
	rt_cgocall(c_code_thunk, &counter);
	rt_chan *done = rt_chan_new(sizeof(int), 0);
	rt_go(child, done);
	int v = 0;
	rt_chan_recv(done, &v);    /* parks (mcall), resumed by child (gogo) */
	rt_chan_free(done);
	if (counter != 3 || v != 1) {
		fprintf(stderr, "sweep scenario: counter %d (want 3), received %d (want 1)\n",
			counter, v);
		return 1;
	}
	return 0;
}
