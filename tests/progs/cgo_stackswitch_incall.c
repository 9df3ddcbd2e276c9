/*
 * cgo_stackswitch_incall — the rule seed 004's fix keeps (Go commit 4f9fe6d5,
 * golang/go#62440): C may switch stacks between callbacks on a thread fprt did
 * not create, but not inside rt_cgocall, where goroutine frames lie further up
 * this M.  A goroutine calls C (rt_cgocall); C switches to a makecontext stack
 * of its own and calls back from there.  callbackUpdateSystemStack must refuse:
 * fatal "cgocallback sp out of bounds", naming sp and the g0 bounds, exit 2.
 * The callback never runs; if it did, the program would print "callback ran
 * on a foreign stack" and exit 1.
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include "fprt.h"
#include "prog_args.h"

#define STACK_SIZE (64 << 10)

static ucontext_t uctx_c, uctx_other;
static int callback_ran;

static void callback(void *arg)
{
	(void)arg;
	callback_ran = 1;
}

static void on_other_stack(void)
{
	rt_cgocallback(callback, NULL);
}

/* C, on g0: switches stacks, which rt_cgocall's caller cannot see. */
static void c_function(void *arg)
{
	(void)arg;
	char *stack = malloc(STACK_SIZE);
	if (!stack || getcontext(&uctx_other) == -1) {
		perror("cgo_stackswitch_incall: getcontext");
		exit(1);
	}
	uctx_other.uc_stack.ss_sp = stack;
	uctx_other.uc_stack.ss_size = STACK_SIZE;
	uctx_other.uc_link = &uctx_c;
	makecontext(&uctx_other, on_other_stack, 0);
	if (swapcontext(&uctx_c, &uctx_other) == -1) {
		perror("cgo_stackswitch_incall: swapcontext");
		exit(1);
	}
	free(stack);
}

static int realmain(int argc, char **argv)
{
	if (argc > 1)
		return prog_usage("cgo_stackswitch_incall (no arguments)", argv[1]);
	rt_cgocall(c_function, NULL);
	fprintf(stderr, "cgo_stackswitch_incall: callback ran on a foreign stack: %d\n",
		callback_ran);
	return 1;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
