/*
 * gogo.S — resuming a goroutine, a goroutine's base frame, and the base of an
 * M's g0 stack.  Frame-pointer rules: DESIGN.md "Frame-pointer rules of fprt".
 */
#include "asm_offsets.h"

	.text

/*
 * void rt_gogo(struct rt_gobuf *buf)   -- never returns
 *
 * Loads sp, bp, the callee-saved registers and pc from buf, exactly as they were
 * saved by rt_mcall / rt_morestack (or built by rt_go for a new goroutine, with
 * bp = 0).  The caller has already made buf's goroutine the current g.
 *
 * The order is the frame-pointer rule.  bp must never point into the goroutine
 * while sp is still on g0 (or into g0 once sp is on the goroutine): a sampler
 * interrupting that window would walk from one stack into the other at a pc
 * that is no transition, the shape of seed 003, only a few instructions wide
 * (fptrace check found it as fp-leak at rt_gogo).  So bp is cleared first (the
 * chain ends here, and the CFI says so), sp is switched, and bp is loaded last.
 * At the jump the state is exactly the goroutine's at buf->pc but for rip,
 * which is in %rax: the CFI says that, so DWARF unwinders continue into the
 * goroutine just as the frame-pointer chain does.
 */
	.globl	rt_gogo
	.type	rt_gogo, @function
rt_gogo:
	.cfi_startproc
#ifdef RT_SAN_ASM
	/* rt_san_gogo(buf): tell ASan/TSan the thread moves to buf's goroutine
	 * (san.c).  A frame of its own, so the FP chain and the CFI agree. */
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	pushq	%rdi
	pushq	%rdi
	call	rt_san_gogo
	popq	%rdi
	popq	%rdi
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
#endif
	movq	GOBUF_RBX(%rdi), %rbx
	movq	GOBUF_R12(%rdi), %r12
	movq	GOBUF_R13(%rdi), %r13
	movq	GOBUF_R14(%rdi), %r14
	movq	GOBUF_R15(%rdi), %r15
	movq	GOBUF_PC(%rdi), %rax
	xorl	%ebp, %ebp
	.cfi_undefined rip
	movq	GOBUF_SP(%rdi), %rsp
	movq	GOBUF_BP(%rdi), %rbp
	.cfi_def_cfa rsp, 0
	.cfi_register rip, rax
	jmp	*%rax
	.cfi_endproc
	.size	rt_gogo, .-rt_gogo

/*
 * The base of every goroutine.  rt_go builds a new stack whose top word is the
 * return address rt_goexit+1 (like Go's goexit+PCQuantum, so that pc-1 still lies
 * in rt_goexit) and starts the goroutine at rt_gomain with bp = 0: the entry
 * function's frame record then holds [fp] = 0, [fp+8] = rt_goexit+1, and every FP
 * walk of the goroutine ends cleanly there.  DWARF unwinders stop here too:
 * rip is undefined over the whole routine.
 *
 * When the entry function returns, sp is the 16-byte aligned stack top and the
 * call below enters rt_goexit1 with the ABI's alignment.
 */
	.globl	rt_goexit
	.type	rt_goexit, @function
rt_goexit:
	.cfi_startproc
	.cfi_undefined rip
	nop
	call	rt_goexit1
	ud2
	.cfi_endproc
	.size	rt_goexit, .-rt_goexit

/*
 * void rt_mstart_asm(struct rt_m *m, uintptr_t sp, void (*fn)(struct rt_m *))
 *
 * Thread start (Go's mstart): moves the new thread onto its g0 stack (exact,
 * runtime-allocated bounds) with BP = 0, so the g0 chain of this M ends cleanly
 * here rather than running into the pthread stack and glibc's clone frames.
 * BP is cleared first, and the CFI ends the chain (rip undefined, the thread
 * base for DWARF unwinders) at the same instruction: while BP still holds the
 * caller's frame on the pthread stack (which mstart_thread publishes as the
 * M's region until mstart1 publishes g0's), both chains go on into
 * mstart_thread; once it is 0, both end.  SP never lies on g0 while BP points
 * into the pthread stack (the clone/mstart BP leak Go had).
 */
	.globl	rt_mstart_asm
	.type	rt_mstart_asm, @function
rt_mstart_asm:
	.cfi_startproc
	xorl	%ebp, %ebp
	.cfi_undefined rip
	movq	%rsi, %rsp
	call	*%rdx
	ud2
	.cfi_endproc
	.size	rt_mstart_asm, .-rt_mstart_asm

	.section .note.GNU-stack,"",@progbits
