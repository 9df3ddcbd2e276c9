/*
 * Callee-saved registers across rt_cgocall (seed 000's kind of bug, inside
 * fprt).  A caller may keep &local in a callee-saved register across
 * rt_cgocall; C on g0 saves its callers' registers on g0 (rt_cgocallback
 * pushes r14 and r15 there, rt_cgocallback_asm rbx and r12-r14), where
 * copystack never looks.  If a callback moves the goroutine stack, the
 * register comes back holding the OLD stack's address, unless rt_asmcgocall
 * keeps the registers on the goroutine stack, where they are relocated, and
 * reloads them from there (runtime/arch/amd64/cgo.S).
 *
 * The caller is written in assembly so that the compiler cannot keep the
 * values anywhere else: it pins &local in r14 and r15 across rt_cgocall,
 * whose C function calls back into a goroutine that grows the stack.
 */
#include <stdint.h>

#include "helpers.h"

/* What pin_locals_across_cgocall saw after rt_cgocall returned. */
uintptr_t pinned_r14, pinned_r15, pinned_local;

/*
 * void pin_locals_across_cgocall(void (*fn)(void *), void *arg)
 *   r14 = r15 = &local (a word of its own frame), rt_cgocall(fn, arg), then
 *   stores r14, r15 and &local as they are after the call.
 */
__asm__(
	"	.text\n"
	"	.globl	pin_locals_across_cgocall\n"
	"	.type	pin_locals_across_cgocall, @function\n"
	"pin_locals_across_cgocall:\n"
	"	.cfi_startproc\n"
	"	pushq	%rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset rbp, -16\n"
	"	movq	%rsp, %rbp\n"
	"	.cfi_def_cfa_register rbp\n"
	"	pushq	%r15\n"
	"	.cfi_offset r15, -24\n"
	"	pushq	%r14\n"
	"	.cfi_offset r14, -32\n"
	"	subq	$16, %rsp\n"               /* local: 16 bytes, sp stays aligned */
	"	movq	$0x10ca1, (%rsp)\n"
	"	leaq	(%rsp), %r14\n"
	"	movq	%r14, %r15\n"
	"	call	rt_cgocall@PLT\n"          /* rdi = fn, rsi = arg */
	"	movq	%r14, pinned_r14(%rip)\n"
	"	movq	%r15, pinned_r15(%rip)\n"
	"	leaq	(%rsp), %rax\n"
	"	movq	%rax, pinned_local(%rip)\n"
	"	addq	$16, %rsp\n"
	"	popq	%r14\n"
	"	.cfi_restore r14\n"
	"	popq	%r15\n"
	"	.cfi_restore r15\n"
	"	popq	%rbp\n"
	"	.cfi_def_cfa rsp, 8\n"
	"	.cfi_restore rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.size	pin_locals_across_cgocall, .-pin_locals_across_cgocall\n");
void pin_locals_across_cgocall(void (*fn)(void *), void *arg);

/* On the goroutine, called back from C: grows (moves) the stack. */
static void grow(void *arg)
{
	(void)arg;
	RT_STACK_CHECK(64 * 1024);
}

/* C on g0 inside rt_cgocall. */
static void call_back(void *arg)
{
	rt_cgocallback(grow, arg);
}

static int pinned(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t moves = rt_stack_moves();
	pin_locals_across_cgocall(call_back, NULL);
	CHECK(rt_stack_moves() > moves, "the callback did not move the stack (moves %llu)",
	      (unsigned long long)rt_stack_moves());
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	CHECK(pinned_local >= lo && pinned_local < hi,
	      "&local %#lx is not on the goroutine's stack [%#lx, %#lx)",
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	CHECK(pinned_r14 == pinned_local,
	      "r14 = %#lx after rt_cgocall, but &local = %#lx: the stack moved to [%#lx, "
	      "%#lx) and r14 still points into the old one", (unsigned long)pinned_r14,
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	CHECK(pinned_r15 == pinned_local,
	      "r15 = %#lx after rt_cgocall, but &local = %#lx: the stack moved to [%#lx, "
	      "%#lx) and r15 still points into the old one", (unsigned long)pinned_r15,
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	return 0;
}

RT_TEST(cgo_regs, callee_saved_pinned_across_moving_callback, pinned, 60)
