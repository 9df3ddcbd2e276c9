/*
 * mcall.S (arm64) — rt_mcall: switch from a goroutine to its M's g0 stack to
 * run fn(g), which never returns to the goroutine directly (it parks, requeues
 * or frees it and calls the scheduler; the goroutine resumes later, maybe on
 * another M, through rt_gogo(&g->sched)).  A leaf without a frame: x30 holds
 * the caller's return address, sp is the caller's sp.
 *
 * Invariant (seed 003, Go commit 9c1d19a1 "runtime: clear frame pointer in
 * mcall", golang/go#63630): x29 = 0 when fn is called, so the g0 chain ends at
 * fn's frame, whose return address lies in rt_mcall.
 *
 * Checked builds can re-introduce the arm64 half of the bug:
 * FPRT_INJECT=mcall-bp-leak loads g0.sched.bp into x29, as Go's arm64 mcall
 * did before the fix ("MOVD (g_sched+gobuf_bp)(g), R29").  g0.sched.bp names
 * a g0 frame that did not call mcall (mstart1's, or rt_cgocallback_asm's
 * during a callback: proc.c, cgo.S), so the FP chain goes on past rt_mcall
 * into frames that are not its callers: "it might look like cgocallback
 * calls mcall" (the seed), an fp-leak at rt_mcall for fptrace check.
 *
 * CFI agrees with the x29 rule: from the stack switch on, x30 is undefined,
 * so gdb, libunwind and libdw stop at rt_mcall exactly where the FP chain does.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_mcall
	.type	rt_mcall, @function
rt_mcall:
	.cfi_startproc
	G_ADDR	x9, x10                    /* x9 = &g of this thread */
	ldr	x1, [x9]                   /* x1 = g */
	ldr	x2, [x1, #G_M]
	ldr	x3, [x2, #M_G0]            /* x3 = g0 */
	cmp	x3, x1
	b.eq	.Lmcall_on_g0
	SAVE_SCHED x1, x4
	/* x29 is set before the stack switch, and the CFI ends the chain at the
	 * same instruction (tests/sweep's rule on amd64). */
	.cfi_remember_state
#ifdef FPRT_CHECKED
	adrp	x4, rt_inject_mcall_bp_leak
	ldrb	w4, [x4, #:lo12:rt_inject_mcall_bp_leak]
	cbz	w4, 2f
	ldr	x29, [x3, #(G_SCHED+GOBUF_BP)] /* injected seed 003: x29 = g0.sched.bp */
	b	1f
2:
#endif
	mov	x29, #0
1:
	.cfi_undefined x30
	str	x3, [x9]                   /* g = g0 */
	ldr	x4, [x3, #(G_SCHED+GOBUF_SP)]
	mov	sp, x4
	mov	x16, x0
	mov	x0, x1
	blr	x16                        /* fn(g); must not return */
	bl	rt_badmcall2
	brk	#0
.Lmcall_on_g0:
	.cfi_restore_state
	/* mcall from g0 would overwrite the running g0 frames: fatal (Go:
	 * badmcall).  A tail call, so the traceback shows who called rt_mcall. */
	mov	x0, x1
	b	rt_badmcall
	.cfi_endproc
	.size	rt_mcall, .-rt_mcall

	.section .note.GNU-stack,"",@progbits
