/*
 * morestack.S (arm64) — the stack check (RT_STACK_CHECK) and Go's morestack;
 * the amd64 version says why each step is where it is.
 *
 * void rt_stack_check(size_t bytes)
 *   A frameless leaf: sp is the caller's sp, x30 its return address.  Returns
 *   when sp - bytes stays above g->stackguard (and FPRT_DEBUG=stackforcemove
 *   is off), else branches to rt_morestack with x30 untouched.
 *
 * rt_morestack (internal; x0 = bytes, x2 = g, x9 = &g of this thread)
 *   Saves the caller of rt_stack_check in g->sched, switches to g0 with
 *   x29 = 0 (cleared before sp moves; x30 undefined from there on, so DWARF
 *   ends here too) and calls rt_newstack(g), which copies the stack and
 *   resumes the caller on the new stack with rt_gogo.  On g0 nothing moves:
 *   rt_morestack_g0 (C) checks the room.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_stack_check
	.type	rt_stack_check, @function
rt_stack_check:
	.cfi_startproc
	G_ADDR	x9, x10
	ldr	x2, [x9]
	cbz	x2, 1f                     /* not on an M: nothing to check */
	mov	x3, sp
	subs	x3, x3, x0
	b.lo	rt_morestack               /* bytes > sp: certainly too little */
	ldr	x4, [x2, #G_STACKGUARD]
	cmp	x3, x4
	b.lo	rt_morestack
	adrp	x4, rt_debug_stackforcemove
	ldrb	w4, [x4, #:lo12:rt_debug_stackforcemove]
	cbnz	w4, rt_morestack
1:	ret
	.cfi_endproc
	.size	rt_stack_check, .-rt_stack_check

	.globl	rt_morestack
	.type	rt_morestack, @function
rt_morestack:
	.cfi_startproc
	ldr	x3, [x2, #G_M]
	ldr	x3, [x3, #M_G0]            /* x3 = g0 */
	cmp	x3, x2
	b.eq	rt_morestack_g0            /* C, tail call: (bytes) */
	SAVE_SCHED x2, x4
	str	x0, [x2, #G_NEED]
	mov	x29, #0
	.cfi_undefined x30
	str	x3, [x9]                   /* g = g0 */
	ldr	x4, [x3, #(G_SCHED+GOBUF_SP)]
	mov	sp, x4
	mov	x0, x2
	bl	rt_newstack                /* never returns */
	brk	#0
	.cfi_endproc
	.size	rt_morestack, .-rt_morestack

	.section .note.GNU-stack,"",@progbits
