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
