/*
 * systemstack.S — void rt_systemstack(void (*fn)(void *), void *arg)
 *
 * Runs fn(arg) on the M's g0 stack and returns to the goroutine.  Unlike
 * rt_mcall, BP is KEPT: fn's frame record on g0 saves the goroutine's frame
 * pointer, so the g0 chain continues into the goroutine and a profiler sees who
 * called into the runtime.  That is safe because the goroutine cannot be
 * descheduled, let alone resumed on another M, until fn returns (nothing on
 * systemstack may park).  DESIGN.md, "Frame-pointer rules"; Go's
 * runtime·systemstack keeps BP for the same reason.
 *
 * The step from g0 back to the goroutine stack is a legal transition for
 * fpu_walk_checked only at return addresses inside [rt_systemstack,
 * rt_systemstack_end): unwind.c registers that range.
 *
 * CFI: while on g0, the CFA is computed from the goroutine sp that is saved at
 * 8(%rsp) on the g0 stack (DW_CFA_def_cfa_expression), so gdb, libunwind and
 * libdw find the caller on the goroutine stack at every instruction of the
 * switch, independently of what fn does with rbp.
 *
 * Stack layout (goroutine side):  CFA-8 ret, CFA-16 rbp, CFA-24 rbx, CFA-32 r12
 * (CFA-32 is the goroutine sp saved on g0).  g0 side: 8(%rsp) = that sp.
 * Called on g0 already (or with no goroutine), fn is simply called.
 */
#include "asm_offsets.h"

	.text
	.globl	rt_systemstack
	.type	rt_systemstack, @function
rt_systemstack:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	LOAD_G	%rax, %rdx                 /* rdx = g */
	testq	%rdx, %rdx
	je	.Lnoswitch
	movq	G_M(%rdx), %rcx
	movq	M_G0(%rcx), %rcx           /* rcx = g0 */
	cmpq	%rcx, %rdx
	je	.Lnoswitch
	.cfi_remember_state
	pushq	%rbx
	.cfi_offset rbx, -24
	pushq	%r12
	.cfi_offset r12, -32
	movq	%rax, %r12                 /* TLS offset of g */
	movq	%rdx, %rbx                 /* the goroutine */
#ifdef RT_SAN_ASM
	/* rt_san_switch(g, g0, 0) before the switch (runtime/src/san.h); rsp is
	 * 16-byte aligned here, CFA = rbp + 16 */
	pushq	%rdi
	pushq	%rsi
	pushq	%rcx
	pushq	%rcx
	movq	%rbx, %rdi
	movq	%rcx, %rsi
	xorl	%edx, %edx
	call	rt_san_switch
	popq	%rcx
	popq	%rcx
	popq	%rsi
	popq	%rdi
	movq	%rbx, %rdx
#endif
	/* Like Go's gosave_systemstack_switch: g->sched describes the goroutine
	 * while it is on g0, so a fatal error or a traceback on g0 can print the
	 * goroutine from sched (pc inside rt_systemstack, bp = our frame). */
	leaq	.Lswitch(%rip), %rax
	movq	%rax, (G_SCHED+GOBUF_PC)(%rdx)
	movq	%rsp, (G_SCHED+GOBUF_SP)(%rdx)
	movq	%rbp, (G_SCHED+GOBUF_BP)(%rdx)
	movq	%r12, %rax
	movq	%rcx, %fs:(%rax)           /* g = g0 */
.Lswitch:
	movq	%rsp, %rax
	movq	(G_SCHED+GOBUF_SP)(%rcx), %rsp
	pushq	%rax                       /* goroutine sp */
	pushq	$0                         /* keep the call 16-byte aligned */
	/* DW_CFA_def_cfa_expression: CFA = *(rsp + 8) + 32
	 *   DW_OP_breg7 (rsp) 8; DW_OP_deref; DW_OP_plus_uconst 32 */
	.cfi_escape 0x0f, 0x05, 0x77, 0x08, 0x06, 0x23, 0x20
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax                      /* fn(arg) on g0, BP still the goroutine's */
	movq	%rbx, %fs:(%r12)           /* g = the goroutine again */
	movq	8(%rsp), %rsp              /* back on the goroutine stack */
	.cfi_def_cfa rbp, 16
#ifdef RT_SAN_ASM
	/* rt_san_switch(g0, g, 0), first thing back on the goroutine stack */
	movq	G_M(%rbx), %rdi
	movq	M_G0(%rdi), %rdi
	movq	%rbx, %rsi
	xorl	%edx, %edx
	call	rt_san_switch
#endif
	popq	%r12
	.cfi_restore r12
	popq	%rbx
	.cfi_restore rbx
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
	ret
.Lnoswitch:
	.cfi_restore_state
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
	ret
	.cfi_endproc
	.globl	rt_systemstack_end
rt_systemstack_end:
	.size	rt_systemstack, .-rt_systemstack

	.section .note.GNU-stack,"",@progbits
