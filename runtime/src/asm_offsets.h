/*
 * asm_offsets.h — struct offsets shared by the C runtime and the amd64 assembly.
 * rt.h checks every one of them with _Static_assert, so a layout change that
 * forgets this file does not build.
 */
#ifndef FPRT_ASM_OFFSETS_H
#define FPRT_ASM_OFFSETS_H

/* struct rt_g */
#define G_STACK_LO      0
#define G_STACK_HI      8
#define G_STACKGUARD    16
#define G_SCHED         24      /* struct rt_gobuf */
#define G_M             88
#define G_NEED          96      /* bytes asked for by the failed stack check */

/* struct rt_gobuf, relative to its start */
#define GOBUF_SP        0
#define GOBUF_PC        8
#define GOBUF_BP        16
#define GOBUF_RBX       24
#define GOBUF_R12       32
#define GOBUF_R13       40
#define GOBUF_R14       48
#define GOBUF_R15       56
#define GOBUF_SIZE      64

/* struct rt_m */
#define M_G0            0
#define M_CURG          8
#define M_CGOFRAME      16

#ifdef __ASSEMBLER__
/* Sanitizer builds (-fsanitize=address or thread) announce stack switches made
 * in assembly (runtime/src/san.h); other builds assemble no hook at all. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RT_SAN_ASM 1
#endif

/* %reg = the current g (TLS rt_tls_g, initial-exec); \off gets the TLS offset. */
.macro LOAD_G off, reg
	movq	rt_tls_g@gottpoff(%rip), \off
	movq	%fs:(\off), \reg
.endm

/*
 * Save the caller of the current routine into g->sched, as if the routine had
 * returned: pc = return address, sp = just above it, bp = the caller's frame
 * pointer, and the callee-saved registers the C ABI expects back (gogo restores
 * them; Go needs none because its ABI has no callee-saved registers).
 */
.macro SAVE_SCHED g, tmp
	movq	(%rsp), \tmp
	movq	\tmp, (G_SCHED+GOBUF_PC)(\g)
	leaq	8(%rsp), \tmp
	movq	\tmp, (G_SCHED+GOBUF_SP)(\g)
	movq	%rbp, (G_SCHED+GOBUF_BP)(\g)
	movq	%rbx, (G_SCHED+GOBUF_RBX)(\g)
	movq	%r12, (G_SCHED+GOBUF_R12)(\g)
	movq	%r13, (G_SCHED+GOBUF_R13)(\g)
	movq	%r14, (G_SCHED+GOBUF_R14)(\g)
	movq	%r15, (G_SCHED+GOBUF_R15)(\g)
.endm
#endif

#endif
