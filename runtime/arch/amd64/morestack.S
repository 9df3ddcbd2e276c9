/*
 * morestack.S — the stack check (RT_STACK_CHECK) and Go's morestack.
 *
 * void rt_stack_check(size_t bytes)
 *   Fast path: returns when the caller's sp minus bytes stays above
 *   g->stackguard (and FPRT_DEBUG=stackforcemove is off).  Otherwise tail-jumps
 *   to rt_morestack with the caller's return address still on top of the stack.
 *
 * rt_morestack (internal; rdi = bytes, rdx = g, rax = TLS offset of g)
 *   Saves the caller of rt_stack_check in g->sched (pc, sp, bp, callee-saved
 *   registers), switches to g0 and calls rt_newstack(g), which copies the stack,
 *   relocates g->sched and resumes the caller on the new stack with rt_gogo.
 *   BP = 0 on g0 before the call (DESIGN.md: "morestack: BP = 0 on g0 before the
 *   stack is grown"): rt_newstack rewrites the very frames a kept BP would
 *   chain into.  rip is undefined from the switch on: the chain ends here for
 *   DWARF unwinders too.
 *   On g0 (and on anything that is not a goroutine) nothing moves: the C helper
 *   rt_morestack_g0 checks the room and is fatal when there is too little.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_stack_check
	.type	rt_stack_check, @function
rt_stack_check:
	.cfi_startproc
	LOAD_G	%rax, %rdx
	testq	%rdx, %rdx
	je	1f                         /* not on an M: nothing to check */
	leaq	8(%rsp), %rcx              /* the caller's sp */
	subq	%rdi, %rcx
	jb	rt_morestack               /* bytes > sp: certainly too little */
	cmpq	G_STACKGUARD(%rdx), %rcx
	jb	rt_morestack
	cmpb	$0, rt_debug_stackforcemove(%rip)
	jne	rt_morestack
1:	ret
	.cfi_endproc
	.size	rt_stack_check, .-rt_stack_check

	.globl	rt_morestack
	.type	rt_morestack, @function
rt_morestack:
	.cfi_startproc
	movq	G_M(%rdx), %rcx
	movq	M_G0(%rcx), %rcx           /* rcx = g0 */
	cmpq	%rcx, %rdx
	je	rt_morestack_g0            /* C, tail call: (bytes) */
	SAVE_SCHED %rdx, %r8
	movq	%rdi, G_NEED(%rdx)
	/* BP is cleared BEFORE sp moves to g0, and the CFI ends the chain at the
	 * same instruction: with sp on g0 and BP still the goroutine's, a sample
	 * would walk from g0 into the goroutine at a pc that is no transition
	 * (fp-leak, the shape of seed 003; found by tests/sweep). */
	xorl	%ebp, %ebp
	.cfi_undefined rip
	movq	%rcx, %fs:(%rax)           /* g = g0 */
	movq	(G_SCHED+GOBUF_SP)(%rcx), %rsp
	movq	%rdx, %rdi
	call	rt_newstack                /* never returns */
	ud2
	.cfi_endproc
	.size	rt_morestack, .-rt_morestack

	.section .note.GNU-stack,"",@progbits
