/*
 * sample.c — helpers around struct fpu_sample (fpu_sample.h).  All are
 * async-signal-safe: the register and stack copies run in the SIGPROF
 * handler, fpu_sample_read in the DWARF backends' memory callbacks, once per
 * stack word they read.
 */
#include "fpu_sample.h"

#include <string.h>
#include <ucontext.h>

#if defined(__x86_64__)
/* gregs index of each register, in DWARF order (fpu_reg). */
static const unsigned char greg_of[FPU_NREGS] = {
	[FPU_REG_RAX] = REG_RAX, [FPU_REG_RDX] = REG_RDX, [FPU_REG_RCX] = REG_RCX,
	[FPU_REG_RBX] = REG_RBX, [FPU_REG_RSI] = REG_RSI, [FPU_REG_RDI] = REG_RDI,
	[FPU_REG_RBP] = REG_RBP, [FPU_REG_RSP] = REG_RSP, [FPU_REG_R8] = REG_R8,
	[FPU_REG_R9] = REG_R9,   [FPU_REG_R10] = REG_R10, [FPU_REG_R11] = REG_R11,
	[FPU_REG_R12] = REG_R12, [FPU_REG_R13] = REG_R13, [FPU_REG_R14] = REG_R14,
	[FPU_REG_R15] = REG_R15, [FPU_REG_RIP] = REG_RIP,
};

void fpu_regs_from_ucontext(uint64_t regs[FPU_NREGS], const void *ucontext)
{
	const ucontext_t *uc = ucontext;

	for (unsigned i = 0; i < FPU_NREGS; i++)
		regs[i] = (uint64_t)uc->uc_mcontext.gregs[greg_of[i]];
}
#elif defined(__aarch64__)
/* The aarch64 slots (fpu_sample.h, fpu_a64_slot). */
void fpu_regs_from_ucontext(uint64_t regs[FPU_NREGS], const void *ucontext)
{
	const ucontext_t *uc = ucontext;

	memset(regs, 0, FPU_NREGS * sizeof regs[0]);
	for (unsigned r = 0; r < 31; r++) {
		int slot = fpu_a64_slot(r);
		if (slot >= 0)
			regs[slot] = uc->uc_mcontext.regs[r];
	}
	regs[FPU_REG_RSP] = uc->uc_mcontext.sp;
	regs[FPU_REG_RIP] = uc->uc_mcontext.pc;
}
#else
#error "fpu_regs_from_ucontext: only x86-64 and arm64 are supported"
#endif

int fpu_a64_slot(unsigned r)
{
	/* x19..x28: the slots of rdx, rcx, rbx, rsi, rdi, r8..r12 */
	static const signed char callee_saved[10] = {
		FPU_REG_RDX, FPU_REG_RCX, FPU_REG_RBX, FPU_REG_RSI, FPU_REG_RDI,
		FPU_REG_R8, FPU_REG_R9, FPU_REG_R10, FPU_REG_R11, FPU_REG_R12,
	};

	if (r >= 19 && r <= 28)
		return callee_saved[r - 19];
	switch (r) {
	case 29: return FPU_REG_RBP;
	case 30: return FPU_REG_RAX;
	case 31: return FPU_REG_RSP;
	case FPU_A64_DWARF_PC: return FPU_REG_RIP;
	default: return -1;
	}
}

int fpu_sample_read(const struct fpu_sample *s, uint64_t addr, void *out, size_t size)
{
	/* nseg is clamped: a sample is often built by hand, and this must not
	 * read past seg[] whatever it says. */
	uint32_t n = s->nseg < FPU_MAX_SEGMENTS ? s->nseg : FPU_MAX_SEGMENTS;

	for (uint32_t i = 0; i < n; i++) {
		const struct fpu_segment *g = &s->seg[i];
		/* Subtractions, not addr + size: no overflow near the top of the
		 * address space lets a range wrap into a segment. */
		if (!g->data || addr < g->lo || addr - g->lo > g->len ||
		    size > g->len - (addr - g->lo))
			continue;
		if (size)
			memcpy(out, g->data + (addr - g->lo), size);
		return 0;
	}
	return -1;
}

#if defined(__SANITIZE_ADDRESS__)
#define FPU_COPY_UNINSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FPU_COPY_UNINSTRUMENTED 1
#endif
#endif

#ifdef FPU_COPY_UNINSTRUMENTED
__attribute__((no_sanitize_address, noinline))
void fpu_copy_live_stack(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const volatile uint8_t *v = src;   /* volatile: never turned into memcpy */

	for (size_t i = 0; i < n; i++)
		d[i] = v[i];
}
#else
void fpu_copy_live_stack(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}
#endif
