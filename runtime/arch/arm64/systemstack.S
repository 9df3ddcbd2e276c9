/*
 * systemstack.S (arm64) — void rt_systemstack(void (*fn)(void *), void *arg)
 *
 * Runs fn(arg) on the M's g0 stack and returns to the goroutine.  x29 is KEPT
 * (unlike rt_mcall): fn's frame record on g0 saves the goroutine's frame
 * pointer, so the g0 chain continues into the goroutine; safe because nothing
 * on systemstack may park (DESIGN.md "Frame-pointer rules", the amd64 version).
 * The step from g0 back to the goroutine is a transition for
 * fpu_walk_checked at return addresses in [rt_systemstack, rt_systemstack_end).
 *
 * Frame on the goroutine stack, 32 bytes: [x29] = caller's x29, [x29+8] = x30,
 * [x29+16] = x19, [x29+24] = x20; CFA = x29 + 32.  On g0, [sp] holds the
 * goroutine sp (= that x29), and the CFA is computed from it
 * (DW_CFA_def_cfa_expression), independently of what fn does with x29.
 * Called on g0 already (or with no goroutine), fn is simply called.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_systemstack
	.type	rt_systemstack, @function
rt_systemstack:
	.cfi_startproc
	stp	x29, x30, [sp, #-32]!
	.cfi_def_cfa_offset 32
	.cfi_offset x29, -32
	.cfi_offset x30, -24
	mov	x29, sp
	.cfi_def_cfa_register x29
	G_ADDR	x9, x10
	ldr	x2, [x9]                   /* x2 = g */
	cbz	x2, .Lnoswitch
	ldr	x3, [x2, #G_M]
	ldr	x3, [x3, #M_G0]            /* x3 = g0 */
	cmp	x3, x2
	b.eq	.Lnoswitch
	.cfi_remember_state
	stp	x19, x20, [sp, #16]
	.cfi_offset x19, -16
	.cfi_offset x20, -8
	mov	x19, x9                    /* &g: fn runs on this M throughout */
	mov	x20, x2                    /* the goroutine */
	/* Like Go's gosave_systemstack_switch: g->sched describes the
	 * goroutine while it is on g0 (pc inside rt_systemstack, bp = our
	 * frame). */
	adr	x4, .Lswitch
	str	x4, [x2, #(G_SCHED+GOBUF_PC)]
	mov	x4, sp
	str	x4, [x2, #(G_SCHED+GOBUF_SP)]
	str	x29, [x2, #(G_SCHED+GOBUF_BP)]
	str	x3, [x9]                   /* g = g0 */
.Lswitch:
	mov	x4, sp
	ldr	x5, [x3, #(G_SCHED+GOBUF_SP)]
	mov	sp, x5
	str	x4, [sp, #-16]!            /* the goroutine sp, 16-byte aligned */
	/* DW_CFA_def_cfa_expression: CFA = *(sp + 0) + 32
	 *   DW_OP_breg31 (sp) 0; DW_OP_deref; DW_OP_plus_uconst 32 */
	.cfi_escape 0x0f, 0x05, 0x8f, 0x00, 0x06, 0x23, 0x20
	mov	x16, x0
	mov	x0, x1
	blr	x16                        /* fn(arg) on g0, x29 still the goroutine's */
	str	x20, [x19]                 /* g = the goroutine again */
	ldr	x4, [sp]
	mov	sp, x4                     /* back on the goroutine stack */
	.cfi_def_cfa x29, 32
	ldp	x19, x20, [sp, #16]
	.cfi_restore x19
	.cfi_restore x20
	ldp	x29, x30, [sp], #32
	.cfi_def_cfa sp, 0
	.cfi_restore x29
	.cfi_restore x30
	ret
.Lnoswitch:
	.cfi_restore_state
	mov	x16, x0
	mov	x0, x1
	blr	x16
	ldp	x29, x30, [sp], #32
	.cfi_def_cfa sp, 0
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.globl	rt_systemstack_end
rt_systemstack_end:
	.size	rt_systemstack, .-rt_systemstack

	.section .note.GNU-stack,"",@progbits
