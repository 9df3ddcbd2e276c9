/*
 * gogo.S (arm64) — resuming a goroutine, a goroutine's base frame, and the
 * base of an M's g0 stack.  The same frame-pointer rules as on amd64
 * (DESIGN.md "Frame-pointer rules of fprt"), with AAPCS64's frame record:
 * [x29] = the caller's x29, [x29 + 8] = x30, the return address.
 */
#include "asm_offsets.h"

	.text

/*
 * void rt_gogo(struct rt_gobuf *buf)   -- never returns
 *
 * Loads the callee-saved registers, x30, sp, x29 and pc from buf, as rt_mcall
 * / rt_morestack saved them (or rt_go built them for a new goroutine: x29 =
 * 0, x30 = rt_goexit+4).  The caller has already made buf's goroutine the
 * current g.  The order is the frame-pointer rule of the amd64 version: x29 is
 * cleared first (the chain ends here, and the CFI says so), sp is switched,
 * x29 is loaded last.  At the branch the state is exactly the goroutine's at
 * buf->pc but for the pc itself, which is in x16: the CFI says so (x16 holds
 * the return address column), so DWARF unwinders continue into the goroutine
 * as the frame-pointer chain does.
 */
	.globl	rt_gogo
	.type	rt_gogo, @function
rt_gogo:
	.cfi_startproc
	add	x1, x0, #GOBUF_X19
	ldp	x19, x20, [x1, #0]
	ldp	x21, x22, [x1, #16]
	ldp	x23, x24, [x1, #32]
	ldp	x25, x26, [x1, #48]
	ldp	x27, x28, [x1, #64]
	add	x1, x0, #GOBUF_D8
	ldp	d8, d9, [x1, #0]
	ldp	d10, d11, [x1, #16]
	ldp	d12, d13, [x1, #32]
	ldp	d14, d15, [x1, #48]
	ldr	x16, [x0, #GOBUF_PC]
	mov	x29, #0
	.cfi_undefined x30
	ldr	x1, [x0, #GOBUF_SP]
	mov	sp, x1
	ldr	x30, [x0, #GOBUF_LR]
	ldr	x29, [x0, #GOBUF_BP]
	.cfi_def_cfa sp, 0
	.cfi_register x30, x16
	br	x16
	.cfi_endproc
	.size	rt_gogo, .-rt_gogo

/*
 * The base of every goroutine.  rt_go starts a goroutine at rt_gomain with
 * x29 = 0 and x30 = rt_goexit+4 (like Go's goexit+PCQuantum: x30 - 1 still
 * lies in rt_goexit): the entry function's frame record then holds [fp] = 0,
 * [fp+8] = rt_goexit+4, and every FP walk of the goroutine ends cleanly there.
 * DWARF unwinders stop here too: x30 is undefined over the whole routine.
 * When the entry function returns, sp is back at its 16-byte aligned start.
 */
	.globl	rt_goexit
	.type	rt_goexit, @function
rt_goexit:
	.cfi_startproc
	.cfi_undefined x30
	nop
	bl	rt_goexit1
	brk	#0
	.cfi_endproc
	.size	rt_goexit, .-rt_goexit

/*
 * void rt_mstart_asm(struct rt_m *m, uintptr_t sp, void (*fn)(struct rt_m *))
 *
 * Thread start (Go's mstart): moves the new thread onto its g0 stack with
 * x29 = 0, so the g0 chain of this M ends cleanly here.  x29 is cleared first
 * and the CFI ends the chain (x30 undefined) at the same instruction; sp never
 * lies on g0 while x29 points into the pthread stack.
 */
	.globl	rt_mstart_asm
	.type	rt_mstart_asm, @function
rt_mstart_asm:
	.cfi_startproc
	mov	x29, #0
	.cfi_undefined x30
	mov	sp, x1
	blr	x2
	brk	#0
	.cfi_endproc
	.size	rt_mstart_asm, .-rt_mstart_asm

	.section .note.GNU-stack,"",@progbits
