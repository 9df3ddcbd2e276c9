/*
 * asm_offsets.h — struct offsets shared by the C runtime and the assembly
 * (runtime/arch/amd64, runtime/arch/arm64).
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
/* G_M (the M running it) and G_NEED (bytes asked for by the failed stack
 * check) follow the gobuf, whose size is the architecture's: below */

/* struct rt_gobuf, relative to its start */
#define GOBUF_SP        0
#define GOBUF_PC        8
#define GOBUF_BP        16
#if defined(__aarch64__)
#define GOBUF_LR        24      /* x30 at resume */
#define GOBUF_X19       32      /* x19..x28, 10 words */
#define GOBUF_D8        112     /* d8..d15, 8 words */
#define GOBUF_SIZE      176
#define G_M             200
#define G_NEED          208
#else
#define GOBUF_RBX       24
#define GOBUF_R12       32
#define GOBUF_R13       40
#define GOBUF_R14       48
#define GOBUF_R15       56
#define GOBUF_SIZE      64
#define G_M             88
#define G_NEED          96
#endif

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

#if defined(__aarch64__)
#ifdef RT_SAN_ASM
#error "the arm64 assembly has no sanitizer hooks (runtime/src/san.h)"
#endif
/* \addr = &rt_tls_g of this thread (TLS, initial-exec); \tmp is clobbered.
 * The address is per thread: recompute it after anything that may resume the
 * code on another M. */
.macro G_ADDR addr, tmp
	mrs	\tmp, tpidr_el0
	adrp	\addr, :gottprel:rt_tls_g
	ldr	\addr, [\addr, #:gottprel_lo12:rt_tls_g]
	add	\addr, \tmp, \addr
.endm

/*
 * Save the caller of the current frameless routine into g->sched, as if the
 * routine had returned: pc = x30, sp = sp, bp = x29, lr = 0 (the caller's x30
 * is dead at its return address), and the registers AAPCS64 expects back:
 * x19..x28 and d8..d15 (gogo restores them).  \tmp is clobbered.
 */
.macro SAVE_SCHED g, tmp
	str	x30, [\g, #(G_SCHED+GOBUF_PC)]
	mov	\tmp, sp
	str	\tmp, [\g, #(G_SCHED+GOBUF_SP)]
	str	x29, [\g, #(G_SCHED+GOBUF_BP)]
	str	xzr, [\g, #(G_SCHED+GOBUF_LR)]
	add	\tmp, \g, #(G_SCHED+GOBUF_X19)
	stp	x19, x20, [\tmp, #0]
	stp	x21, x22, [\tmp, #16]
	stp	x23, x24, [\tmp, #32]
	stp	x25, x26, [\tmp, #48]
	stp	x27, x28, [\tmp, #64]
	add	\tmp, \g, #(G_SCHED+GOBUF_D8)
	stp	d8, d9, [\tmp, #0]
	stp	d10, d11, [\tmp, #16]
	stp	d12, d13, [\tmp, #32]
	stp	d14, d15, [\tmp, #48]
.endm
#else
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
#endif /* arch */
#endif

#endif
