/*
 * mcall.S — rt_mcall: switch from a goroutine to its M's g0 stack to run fn(g),
 * which never returns to the goroutine directly (it parks, requeues or frees it
 * and calls the scheduler; the goroutine resumes later, maybe on another M,
 * through rt_gogo(&g->sched)).
 *
 * Invariant (seed 003, Go commit 9c1d19a1 "runtime: clear frame pointer in
 * mcall", golang/go#63630): BP = 0 when fn is called.  Once fn has descheduled
 * the goroutine, another M may resume it and rewrite its stack while this M is
 * still in fn; a g0 frame whose saved BP pointed into that stack would let any
 * frame-pointer unwinder (perf, the profiler) read a stack that is being
 * mutated.  With BP = 0 the g0 chain ends at fn's frame, whose return address
 * lies in rt_mcall: rt_mcall is the last frame of every chain through here.
 *
 * Checked builds can re-introduce the bug: FPRT_INJECT=mcall-bp-leak keeps BP
 * (the pre-fix behaviour), so the chain leaks from g0 into the goroutine.
 *
 * CFI agrees with the BP rule: from the stack switch on, rip is undefined, so
 * gdb, libunwind and libdw stop at rt_mcall exactly where the FP chain does.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_mcall
	.type	rt_mcall, @function
rt_mcall:
	.cfi_startproc
	LOAD_G	%rax, %rsi                 /* rsi = g, rax = TLS offset of g */
	movq	G_M(%rsi), %rdx
	movq	M_G0(%rdx), %rcx           /* rcx = g0 */
	cmpq	%rcx, %rsi
	je	.Lmcall_on_g0
	SAVE_SCHED %rsi, %r8
	/* BP is cleared before the stack switch, so that not even a sample taken
	 * between the two instructions sees g0 chained into the goroutine; and
	 * the CFI ends the chain at the same instruction, or DWARF would go on
	 * for two instructions where the FP chain has ended (tests/sweep). */
	.cfi_remember_state
#ifdef FPRT_CHECKED
	cmpb	$0, rt_inject_mcall_bp_leak(%rip)
	jne	1f                         /* injected seed 003: keep BP */
#endif
	xorl	%ebp, %ebp
1:
	.cfi_undefined rip
	movq	%rcx, %fs:(%rax)           /* g = g0 */
	movq	(G_SCHED+GOBUF_SP)(%rcx), %rsp
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax                      /* fn(g); must not return */
	call	rt_badmcall2
	ud2
.Lmcall_on_g0:
	.cfi_restore_state
	/* mcall from g0 would overwrite the running g0 frames: fatal (Go: badmcall).
	 * A tail call, so the traceback shows who called rt_mcall. */
	movq	%rsi, %rdi
	jmp	rt_badmcall
	.cfi_endproc
	.size	rt_mcall, .-rt_mcall

	.section .note.GNU-stack,"",@progbits
