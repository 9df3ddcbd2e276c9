/*
 * cgo.S (arm64) — rt_asmcgocall (goroutine -> C on g0) and rt_cgocallback_asm
 * (C on g0 -> the M's goroutine).  The design, and why, is the amd64
 * version's (runtime/arch/amd64/cgo.S); here only what arm64 changes.
 *
 * void rt_asmcgocall(void (*fn)(void *), void *arg)
 *   Frame F on the goroutine stack: [F] = caller's x29, [F+8] = x30, CFA =
 *   x29 + 16.  Below F, 144 bytes hold the caller's x19..x28 and d8..d15
 *   (on the goroutine stack, where copystack relocates them).  On g0 the
 *   record R = {fp = F, ret = .Lacg_ret, g, depth = stack.hi - F, prev, pad}
 *   (struct rt_cgoframe) is linked from m->cgoframe, and fn runs with
 *   x29 = &R: R is a frame record of its own, a second rt_asmcgocall frame
 *   for the FP chain and the CFI alike (CFA = x29 + 16 holds for both).
 *   The way back recomputes F from the depth (the stack may have moved
 *   during a callback) and moves x29 from R to F in one instruction.
 *
 * void rt_cgocallback_asm(void (*fn)(void *), void *arg)
 *   On g0: a 64-byte frame (x29, x30, x19..x22, g0.sched.sp and .bp to
 *   restore), g0.sched.sp = this frame (runtime code on g0 during the
 *   callback starts below it) and g0.sched.bp = x29, as Go's arm64
 *   cgocallback does; then on m->curg's stack below its sched.sp, curg's
 *   sched saved there, rt_cgocallbackg(fn, arg) with x29 KEPT (the
 *   callback's frames chain into this g0 frame; .Lcb_ret is a transition).
 *   CFA = x29 + 64 throughout; .cfi_signal_frame as on amd64.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_asmcgocall
	.type	rt_asmcgocall, @function
rt_asmcgocall:
	.cfi_startproc
	stp	x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset x29, -16
	.cfi_offset x30, -8
	mov	x29, sp
	.cfi_def_cfa_register x29
	G_ADDR	x9, x10
	ldr	x2, [x9]                   /* x2 = g */
	cbz	x2, .Lacg_noswitch
	ldr	x3, [x2, #G_M]             /* x3 = m */
	ldr	x4, [x3, #M_G0]            /* x4 = g0 */
	cmp	x4, x2
	b.eq	.Lacg_noswitch
	/* No CFI for the saved registers: until the reload, every register
	 * holds its caller's value. */
	sub	sp, sp, #144
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	d8, d9, [sp, #80]
	stp	d10, d11, [sp, #96]
	stp	d12, d13, [sp, #112]
	stp	d14, d15, [sp, #128]
	/* g->sched describes the goroutine while it is in C */
	adr	x5, .Lacg_ret
	str	x5, [x2, #(G_SCHED+GOBUF_PC)]
	mov	x6, sp
	str	x6, [x2, #(G_SCHED+GOBUF_SP)]
	str	x29, [x2, #(G_SCHED+GOBUF_BP)]
	ldr	x7, [x2, #G_STACK_HI]
	sub	x7, x7, x29                /* x7 = depth of F */
	ldr	x8, [x4, #(G_SCHED+GOBUF_SP)]
	and	x8, x8, #~15
	str	x4, [x9]                   /* g = g0 */
	mov	sp, x8                     /* on g0; x29 = F, CFA = x29 + 16 still */
	ldr	x6, [x3, #M_CGOFRAME]
	stp	x6, xzr, [sp, #-16]!       /* R.prev, R.pad */
	stp	x2, x7, [sp, #-16]!        /* R.g, R.depth */
	stp	x29, x5, [sp, #-16]!       /* R.fp = F, R.ret = .Lacg_ret */
	mov	x6, sp
	str	x6, [x3, #M_CGOFRAME]
	mov	x29, sp                    /* x29 = &R: CFA = x29 + 16 is R's CFA */
	mov	x16, x0
	mov	x0, x1
	blr	x16                        /* fn(arg) on g0 */
.Lacg_ret:
	ldr	x2, [x29, #16]             /* R.g */
	ldr	x3, [x2, #G_M]
	ldr	x8, [x29, #32]             /* R.prev */
	str	x8, [x3, #M_CGOFRAME]      /* pop R */
	ldr	x7, [x2, #G_STACK_HI]
	ldr	x6, [x29, #24]
	sub	x7, x7, x6                 /* the goroutine's F, where the stack is now */
	G_ADDR	x9, x10
	str	x2, [x9]                   /* g = the goroutine */
	/* One instruction moves the frame record from R (on g0) to F (on the
	 * goroutine); only then does sp leave g0. */
	mov	x29, x7
	sub	sp, x29, #144              /* on the goroutine stack, at the saved registers */
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	d8, d9, [sp, #80]
	ldp	d10, d11, [sp, #96]
	ldp	d12, d13, [sp, #112]
	ldp	d14, d15, [sp, #128]
	mov	sp, x29
	.cfi_remember_state
	ldp	x29, x30, [sp], #16
	.cfi_def_cfa sp, 0
	.cfi_restore x29
	.cfi_restore x30
	ret
.Lacg_noswitch:
	.cfi_restore_state
	/* on g0 or no runtime: a plain call */
	mov	x16, x0
	mov	x0, x1
	blr	x16
	ldp	x29, x30, [sp], #16
	.cfi_def_cfa sp, 0
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.globl	rt_asmcgocall_end
rt_asmcgocall_end:
	.size	rt_asmcgocall, .-rt_asmcgocall

	.globl	rt_cgocallback_asm
	.type	rt_cgocallback_asm, @function
rt_cgocallback_asm:
	.cfi_startproc
	.cfi_signal_frame
	stp	x29, x30, [sp, #-64]!
	.cfi_def_cfa_offset 64
	.cfi_offset x29, -64
	.cfi_offset x30, -56
	mov	x29, sp
	.cfi_def_cfa_register x29
	stp	x19, x20, [sp, #16]
	.cfi_offset x19, -48
	.cfi_offset x20, -40
	stp	x21, x22, [sp, #32]
	.cfi_offset x21, -32
	.cfi_offset x22, -24
	G_ADDR	x19, x9                    /* x19 = &g: the callback stays on this M */
	ldr	x20, [x19]                 /* x20 = g0 */
	ldr	x21, [x20, #G_M]
	ldr	x22, [x21, #M_CURG]        /* x22 = the goroutine */
	ldr	x2, [x20, #(G_SCHED+GOBUF_SP)]
	ldr	x3, [x20, #(G_SCHED+GOBUF_BP)]
	stp	x2, x3, [sp, #48]          /* g0.sched.sp and .bp to restore */
	mov	x4, sp
	str	x4, [x20, #(G_SCHED+GOBUF_SP)]
	str	x29, [x20, #(G_SCHED+GOBUF_BP)]
	ldr	x5, [x22, #(G_SCHED+GOBUF_SP)]
	and	x6, x5, #~15
	ldr	x7, [x22, #(G_SCHED+GOBUF_PC)]
	ldr	x8, [x22, #(G_SCHED+GOBUF_BP)]
	str	x22, [x19]                 /* g = the goroutine */
	mov	sp, x6                     /* on the goroutine stack, x29 = this g0 frame */
	/* curg's sched as asmcgocall left it; the scan in copystack relocates
	 * these words if the stack moves during the callback */
	stp	x8, xzr, [sp, #-16]!
	stp	x5, x7, [sp, #-16]!
	bl	rt_cgocallbackg            /* (fn, arg): x0, x1 untouched */
.Lcb_ret:
	ldp	x5, x7, [sp]
	ldr	x8, [sp, #16]
	str	x8, [x22, #(G_SCHED+GOBUF_BP)]
	str	x7, [x22, #(G_SCHED+GOBUF_PC)]
	str	x5, [x22, #(G_SCHED+GOBUF_SP)]
	str	x20, [x19]                 /* g = g0 */
	mov	sp, x29                    /* back on g0 */
	ldp	x2, x3, [sp, #48]
	str	x2, [x20, #(G_SCHED+GOBUF_SP)]
	str	x3, [x20, #(G_SCHED+GOBUF_BP)]
	ldp	x21, x22, [sp, #32]
	.cfi_restore x21
	.cfi_restore x22
	ldp	x19, x20, [sp, #16]
	.cfi_restore x19
	.cfi_restore x20
	ldp	x29, x30, [sp], #64
	.cfi_def_cfa sp, 0
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.globl	rt_cgocallback_end
rt_cgocallback_end:
	.size	rt_cgocallback_asm, .-rt_cgocallback_asm

	.section .note.GNU-stack,"",@progbits
