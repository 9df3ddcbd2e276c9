/*
 * Built with -fomit-frame-pointer (see the Makefile): a function in the middle
 * of a call chain that does not push a frame pointer, the way Debian's libc and
 * many -O2 builds are compiled.  The FP chain through it loses its caller.
 */
#include "nofp_helpers.h"

__attribute__((noinline)) void nofp_middle(void (*callee)(void))
{
	callee();
	/* Keep the call from becoming a tail call (which would hide nothing). */
	__asm__ volatile("" ::: "memory");
}

/* A recursion without frame pointers: every level hides its caller. */
__attribute__((noinline)) void nofp_recurse(int depth, void (*leaf)(void))
{
	if (depth > 0)
		nofp_recurse(depth - 1, leaf);
	else
		leaf();
	__asm__ volatile("" ::: "memory");
}

/*
 * A leaf with a real stack frame (more locals than the 128-byte red zone
 * holds, so it moves rsp) and no frame record: its caller is lost for as long
 * as it runs, not for the instruction or two of a prologue.
 */
__attribute__((noinline)) void nofp_spin_with_frame(volatile int *stop)
{
	volatile char buf[512];
	while (!*stop)
		buf[*stop & 511]++;
}

/* The same leaf without arguments, for nofp_middle to call: it spins until
 * *nofp_stop is set. */
volatile int *nofp_stop;

__attribute__((noinline)) void nofp_spin_with_frame_leaf(void)
{
	volatile char buf[512];
	while (!*nofp_stop)
		buf[*nofp_stop & 511]++;
}
