/*
 * ucontext_coro — two C coroutines on glibc's makecontext/swapcontext doing
 * CPU work, and a scheduler that swaps between them: the way many C coroutine
 * and fiber libraries are built.
 *
 *   ucontext_coro [--rbp0] [ROUNDS]
 *
 * A coroutine is entered with the rbp that getcontext captured in main, so
 * its frame-pointer chain runs on past glibc's __start_context into main's
 * stack: a leak across stacks.  --rbp0 is the fix a library author makes:
 * rbp = 0 in the context before the first switch, so the chain ends at the
 * coroutine's entry.  Exit 2 with one line on bad arguments.
 */
#include "prog_args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#define CORO_STACK (256 * 1024)

static ucontext_t sched_ctx, coro_ctx[2];
static volatile uint64_t sink;
static volatile int work_size = 20000;   /* volatile: no constant folding */

__attribute__((noinline)) static uint64_t coro_work(int n)
{
	uint64_t s = 0;
	for (int i = 0; i < n; i++)
		s += (uint64_t)i ^ (s >> 3);
	return s;
}

__attribute__((noinline)) static void coro_loop(int id)
{
	for (;;) {
		sink += coro_work(work_size);
		swapcontext(&coro_ctx[id], &sched_ctx);
	}
}

/* The coroutine's entry: makecontext makes it return to __start_context. */
__attribute__((noinline)) static void coro_entry(int id)
{
	coro_loop(id);
	sink++;
}

/*
 * Its own function: getcontext returns twice, and the variables of a function
 * that calls it may not survive that (gcc's -Wclobbered).
 */
__attribute__((noinline)) static int make_coroutine(int i, int rbp0)
{
	void *stack = malloc(CORO_STACK);
	if (!stack || getcontext(&coro_ctx[i]) != 0)
		return -1;
	coro_ctx[i].uc_stack.ss_sp = stack;
	coro_ctx[i].uc_stack.ss_size = CORO_STACK;
	coro_ctx[i].uc_link = &sched_ctx;
	makecontext(&coro_ctx[i], (void (*)(void))coro_entry, 1, i);
	/* The fix: the coroutine's first frame saves rbp = 0, so every chain on
	 * its stack ends there instead of running into main's stack. */
	if (rbp0) {
#if defined(__aarch64__)
		coro_ctx[i].uc_mcontext.regs[29] = 0;
#else
		coro_ctx[i].uc_mcontext.gregs[REG_RBP] = 0;
#endif
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char usage[] = "ucontext_coro [--rbp0] [ROUNDS (a positive integer)]";
	int rbp0 = 0, have_rounds = 0;
	long rounds = 40000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rbp0") == 0)
			rbp0 = 1;
		else if (have_rounds++ || !prog_long(argv[i], 1, 1L << 40, &rounds))
			return prog_usage(usage, argv[i]);
	}
	for (int i = 0; i < 2; i++)
		if (make_coroutine(i, rbp0) != 0) {
			fprintf(stderr, "ucontext_coro: cannot make coroutine %d\n", i);
			return 1;
		}
	for (long r = 0; r < rounds; r++)
		swapcontext(&sched_ctx, &coro_ctx[r & 1]);
	printf("%llu\n", (unsigned long long)(sink & 0xff));
	return 0;
}
