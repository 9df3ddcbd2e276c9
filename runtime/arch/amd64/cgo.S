/*
 * cgo.S — rt_asmcgocall (goroutine -> C on g0) and rt_cgocallback_asm
 * (C on g0 -> the M's goroutine).  DESIGN.md "Frame-pointer rules": the chain
 * of a callback is  callback -> rt_cgocallbackg -> rt_cgocallback_asm -> C
 * frames on g0 -> rt_asmcgocall (g0 half) -> rt_asmcgocall (goroutine half)
 * -> the goroutine's frames, for the FP walk and for DWARF alike.
 *
 * void rt_asmcgocall(void (*fn)(void *), void *arg)
 *   On a goroutine: opens a frame F on the goroutine stack, remembers the
 *   goroutine's DEPTH (stack.hi - F), not F, switches to g0 and builds there a
 *   struct rt_cgoframe R = {fp = F, ret = .Lacg_ret, g, depth, prev} linked
 *   from m->cgoframe, and calls fn with rbp = &R.  fn's frame record chains to
 *   R, R to F: R is a frame record of its own (a second rt_asmcgocall frame,
 *   in the FP chain and in the CFI alike, since at .Lacg_ret CFA = rbp + 16
 *   holds for both records).  During a callback the goroutine stack may move;
 *   copystack relocates R.fp through m->cgoframe (fn's frame, on g0, still
 *   chains correctly) and the way back recomputes F from the depth.  The
 *   caller's callee-saved registers wait below F, on the goroutine stack,
 *   where copystack relocates them.
 *   The step g0 -> goroutine happens at R, whose pc .Lacg_ret lies in
 *   [rt_asmcgocall, rt_asmcgocall_end): a registered transition (unwind.c).
 *
 * void rt_cgocallback_asm(void (*fn)(void *), void *arg)
 *   On g0 (called by rt_cgocallback in cgo.c): saves g0.sched.sp and points it
 *   at this frame (runtime code on g0 during the callback starts below the C
 *   frames), switches to m->curg's stack below its saved sched.sp, saves
 *   curg's sched there (the callback may mcall and overwrite it) and calls
 *   rt_cgocallbackg(fn, arg) with BP KEPT: the callback's frames chain into
 *   this g0 frame, like rt_systemstack; the pc .Lcb_ret is a registered
 *   transition.  CFI: CFA = rbp + 16 throughout, rbp being this g0 frame.
 *   .cfi_signal_frame: the next frame (C, on g0) may lie BELOW the
 *   callback's frames (fprt's g0 stacks are mapped low, see stack.c), and gdb
 *   refuses to unwind to an inner frame ("previous frame inner to this frame")
 *   except across a signal frame; gdb prints this frame as
 *   "<signal handler called>".
 */
#include "asm_offsets.h"

	.text
	.globl	rt_asmcgocall
	.type	rt_asmcgocall, @function
rt_asmcgocall:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	LOAD_G	%rax, %rdx                 /* rdx = g, rax = TLS offset */
	testq	%rdx, %rdx
	je	.Lacg_noswitch
	movq	G_M(%rdx), %rcx
	movq	M_G0(%rcx), %r8            /* r8 = g0 */
	cmpq	%r8, %rdx
	je	.Lacg_noswitch
	/*
	 * The callee-saved registers go on the goroutine stack, below F, where
	 * copystack relocates them, and are reloaded from there on the way back.
	 * C on g0 keeps its callers' values on g0 (in its own frames, and
	 * rt_cgocallback_asm's), where nothing relocates them: a caller that held
	 * &local in r14 across rt_cgocall would get the old stack's address back
	 * after a callback moved the stack (seed 000's kind of bug).  No CFI for
	 * them: until the reload, every register holds its caller's value.
	 */
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/* g->sched describes the goroutine while it is in C */
	leaq	.Lacg_ret(%rip), %r9
	movq	%r9, (G_SCHED+GOBUF_PC)(%rdx)
	movq	%rsp, (G_SCHED+GOBUF_SP)(%rdx)
	movq	%rbp, (G_SCHED+GOBUF_BP)(%rdx)
	movq	G_STACK_HI(%rdx), %r10
	subq	%rbp, %r10                 /* r10 = depth of F */
	movq	(G_SCHED+GOBUF_SP)(%r8), %r11
	andq	$-16, %r11
	movq	%r8, %fs:(%rax)            /* g = g0 */
	movq	%r11, %rsp                 /* on g0; rbp = F, CFA = rbp + 16 still */
	pushq	$0                         /* R.pad */
	pushq	M_CGOFRAME(%rcx)           /* R.prev */
	pushq	%r10                       /* R.depth */
	pushq	%rdx                       /* R.g */
	pushq	%r9                        /* R.ret = .Lacg_ret */
	pushq	%rbp                       /* R.fp = F */
	movq	%rsp, M_CGOFRAME(%rcx)
	movq	%rsp, %rbp                 /* rbp = &R: CFA = rbp + 16 is R's CFA */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax                      /* fn(arg) on g0 */
.Lacg_ret:
	movq	16(%rbp), %rdx             /* R.g */
	movq	G_M(%rdx), %rcx
	movq	32(%rbp), %r8
	movq	%r8, M_CGOFRAME(%rcx)      /* pop R */
	movq	G_STACK_HI(%rdx), %r10
	subq	24(%rbp), %r10             /* the goroutine's F, where the stack is now */
	movq	rt_tls_g@gottpoff(%rip), %rax
	movq	%rdx, %fs:(%rax)           /* g = the goroutine */
	/*
	 * One instruction moves the frame record from R (on g0) to F (on the
	 * goroutine): before it the FP chain and the CFI (CFA = rbp + 16) both
	 * read R, then F; after it both read F.  Only then does sp leave g0, so
	 * bp never points into g0 once sp is on the goroutine (gogo.S), and bp
	 * is never 0 while DWARF goes on.  The step g0 -> goroutine in between
	 * is taken at a pc in rt_asmcgocall: a transition.
	 */
	movq	%r10, %rbp
	leaq	-40(%rbp), %rsp            /* on the goroutine stack, at the saved registers */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	.cfi_remember_state
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
	ret
.Lacg_noswitch:
	.cfi_restore_state
	/* on g0 or no runtime: a plain call */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
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
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	pushq	%rbx
	.cfi_offset rbx, -24
	pushq	%r12
	.cfi_offset r12, -32
	pushq	%r13
	.cfi_offset r13, -40
	pushq	%r14
	.cfi_offset r14, -48
	LOAD_G	%r12, %rbx                 /* rbx = g0, r12 = TLS offset */
	movq	G_M(%rbx), %r13
	movq	M_CURG(%r13), %r14         /* r14 = the goroutine */
	pushq	(G_SCHED+GOBUF_SP)(%rbx)   /* rbp-40: g0.sched.sp to restore */
	pushq	$0                         /* rbp-48 */
	movq	%rsp, (G_SCHED+GOBUF_SP)(%rbx)
	movq	(G_SCHED+GOBUF_SP)(%r14), %rax
	movq	%rax, %rcx
	andq	$-16, %rcx
	movq	%r14, %fs:(%r12)           /* g = the goroutine */
	movq	%rcx, %rsp                 /* on the goroutine stack, rbp = this g0 frame */
	/* curg's sched as asmcgocall left it; the scan in copystack relocates
	 * these words if the stack moves during the callback */
	pushq	%rax
	pushq	(G_SCHED+GOBUF_PC)(%r14)
	pushq	(G_SCHED+GOBUF_BP)(%r14)
	pushq	$0
	call	rt_cgocallbackg            /* (fn, arg): rdi, rsi untouched */
.Lcb_ret:
	popq	%rax
	popq	%rax
	movq	%rax, (G_SCHED+GOBUF_BP)(%r14)
	popq	%rax
	movq	%rax, (G_SCHED+GOBUF_PC)(%r14)
	popq	%rax
	movq	%rax, (G_SCHED+GOBUF_SP)(%r14)
	movq	%rbx, %fs:(%r12)           /* g = g0 */
	leaq	-48(%rbp), %rsp            /* back on g0 */
	popq	%rax
	popq	%rax
	movq	%rax, (G_SCHED+GOBUF_SP)(%rbx)
	popq	%r14
	.cfi_restore r14
	popq	%r13
	.cfi_restore r13
	popq	%r12
	.cfi_restore r12
	popq	%rbx
	.cfi_restore rbx
	popq	%rbp
	.cfi_def_cfa rsp, 8
	.cfi_restore rbp
	ret
	.cfi_endproc
	.globl	rt_cgocallback_end
rt_cgocallback_end:
	.size	rt_cgocallback_asm, .-rt_cgocallback_asm

	.section .note.GNU-stack,"",@progbits
