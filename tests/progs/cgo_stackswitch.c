/*
 * cgo_stackswitch — seed 004 (Go commit 4f9fe6d5, golang/go#62440): a C
 * thread fprt did not create calls back (rt_cgocallback) from its own stack,
 * then from two 64 KiB makecontext stacks; each callback needs g0 room
 * (rt_systemstack + a 16 KiB stack check on g0).  Prints OK.
 * FPRT_INJECT=g0-bounds-static (g0 bounds set once per extra M): a fatal
 * error naming sp and the stale bounds, exit 2.
 *
 * Built with -DOVERLAP (cgo_stackswitch_overlap.c) — seed 001 (Go commit
 * e5414f6f, golang/go#62440 follow-up): the first callback comes from stack 1,
 * whose bounds are estimated [sp-32K, sp+1K]; the second from stack 2, whose
 * top lies 29 KiB below the first sp, inside those estimated bounds near their
 * bottom.  FPRT_INJECT=g0-bounds-fastpath (keep bounds when sp is inside):
 * fatal g0 stack overflow, exit 2.
 */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "fprt.h"
#include "prog_args.h"

#define STACK_SIZE (64 << 10)

static _Atomic int ncallbacks;
static _Atomic int thread_done;
static ucontext_t uctx_save, uctx_switch;
static uintptr_t first_sp;

static void on_g0(void *arg)
{
	(void)arg;
	RT_STACK_CHECK(16384);          /* on g0: fatal if the bounds leave too little */
}

static void callback(void *arg)
{
	(void)arg;
	rt_systemstack(on_g0, NULL);
	ncallbacks++;
}

static void from_stack(void)
{
	first_sp = first_sp ? first_sp : (uintptr_t)__builtin_frame_address(0);
	rt_cgocallback(callback, NULL);
}

static void run_on(char *lo, size_t size)
{
	if (getcontext(&uctx_switch) == -1) {
		perror("getcontext");
		exit(1);
	}
	uctx_switch.uc_stack.ss_sp = lo;
	uctx_switch.uc_stack.ss_size = size;
	uctx_switch.uc_link = &uctx_save;
	makecontext(&uctx_switch, from_stack, 0);
	if (swapcontext(&uctx_save, &uctx_switch) == -1) {
		perror("swapcontext");
		exit(1);
	}
}

static void *thread(void *arg)
{
	(void)arg;
#ifndef OVERLAP
	rt_cgocallback(callback, NULL);         /* the thread's own stack */
	char *s1 = malloc(STACK_SIZE), *s2 = malloc(STACK_SIZE);
	if (!s1 || !s2)
		abort();
	run_on(s1, STACK_SIZE);
	run_on(s2, STACK_SIZE);
	free(s1);
	free(s2);
#else
	size_t big = 256 << 10;
	char *b = malloc(big);
	if (!b)
		abort();
	run_on(b + big / 2, big / 2);           /* stack 1: the top half */
	uintptr_t top2 = (first_sp - (29 << 10)) & ~(uintptr_t)15;
	run_on(b, top2 - (uintptr_t)b);         /* stack 2: top 29 KiB below sp 1 */
	free(b);
#endif
	thread_done = 1;
	return NULL;
}

static int realmain(int argc, char **argv)
{
#ifdef OVERLAP
	const char *usage = "cgo_stackswitch_overlap (no arguments)";
#else
	const char *usage = "cgo_stackswitch (no arguments)";
#endif
	if (argc > 1)
		return prog_usage(usage, argv[1]);
	pthread_t t;
	if (pthread_create(&t, NULL, thread, NULL) != 0)
		abort();
	struct timespec ms = { 0, 1000000 };
	while (!thread_done)
		rt_nanosleep(&ms, NULL);        /* hands the P to the callbacks */
	pthread_join(t, NULL);
	int want = 
#ifndef OVERLAP
		3;
#else
		2;
#endif
	if (ncallbacks != want) {
		fprintf(stderr, "cgo_stackswitch: %d callbacks ran, want %d\n", (int)ncallbacks, want);
		return 1;
	}
	printf("OK %d callbacks\n", want);
	return 0;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
