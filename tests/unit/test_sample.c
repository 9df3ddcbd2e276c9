/*
 * struct fpu_sample helpers: registers from a real getcontext() (an assembly
 * caller puts a known value in every register getcontext saves, so the DWARF
 * numbering is checked against the hardware, not against our own table), and
 * fpu_sample_read at every boundary of its segments.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include "fpu_sample.h"

#define KNOWN(n) (0xfeed000000000000ull + (n))

/* Loads KNOWN(dwarf number) into rbx, rcx, rdx, rsi, r8, r9, r12-r15 and calls
 * getcontext(uc) from a frame whose rbp and rsp are known (rsp = rbp - 48). */
void fpt_test_getcontext_known(ucontext_t *uc);
__asm__(".text\n"
	".globl fpt_test_getcontext_known\n"
	".type fpt_test_getcontext_known, @function\n"
	"fpt_test_getcontext_known:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	sub $8, %rsp\n"
	"	movabs $0xfeed000000000003, %rbx\n"
	"	movabs $0xfeed000000000002, %rcx\n"
	"	movabs $0xfeed000000000001, %rdx\n"
	"	movabs $0xfeed000000000004, %rsi\n"
	"	movabs $0xfeed000000000008, %r8\n"
	"	movabs $0xfeed000000000009, %r9\n"
	"	movabs $0xfeed00000000000c, %r12\n"
	"	movabs $0xfeed00000000000d, %r13\n"
	"	movabs $0xfeed00000000000e, %r14\n"
	"	movabs $0xfeed00000000000f, %r15\n"
	"	call getcontext@PLT\n"
	"	add $8, %rsp\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n"
	"	ret\n"
	".size fpt_test_getcontext_known, .-fpt_test_getcontext_known\n");

Test(sample, regs_from_real_getcontext)
{
	static const int known[] = { FPU_REG_RDX, FPU_REG_RCX, FPU_REG_RBX, FPU_REG_RSI,
				     FPU_REG_R8, FPU_REG_R9, FPU_REG_R12, FPU_REG_R13,
				     FPU_REG_R14, FPU_REG_R15 };
	ucontext_t uc;
	uint64_t regs[FPU_NREGS];
	Dl_info info;

	memset(&uc, 0, sizeof uc);
	fpt_test_getcontext_known(&uc);
	fpu_regs_from_ucontext(regs, &uc);
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		cr_expect_eq(regs[known[i]], KNOWN(known[i]), "DWARF reg %d = %#lx", known[i],
			     (unsigned long)regs[known[i]]);
	cr_expect_eq(regs[FPU_REG_RDI], (uint64_t)(uintptr_t)&uc, "rdi = the argument");
	cr_expect_eq(regs[FPU_REG_RSP], regs[FPU_REG_RBP] - 48);
	cr_expect_lt(regs[FPU_REG_RBP], (uint64_t)(uintptr_t)&uc, "its frame is below ours");
	cr_assert(dladdr((void *)(uintptr_t)regs[FPU_REG_RIP], &info) && info.dli_sname);
	cr_expect_str_eq(info.dli_sname, "fpt_test_getcontext_known");
}

static uint8_t mem[3][64];
static struct fpu_sample s;

static void setup(void)
{
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 64; i++)
			mem[k][i] = (uint8_t)(k * 64 + i);
	/* Two adjacent segments (as the g0 / goroutine pieces of a cgo sample
	 * can be) and one at the very top of the address space. */
	s = (struct fpu_sample){ .nseg = 3 };
	s.seg[0] = (struct fpu_segment){ .lo = 0x1000, .len = 64, .data = mem[0] };
	s.seg[1] = (struct fpu_segment){ .lo = 0x1040, .len = 32, .data = mem[1] };
	s.seg[2] = (struct fpu_segment){ .lo = UINT64_MAX - 15, .len = 16, .data = mem[2] };
}

TestSuite(sample_read, .init = setup);

Test(sample_read, boundaries)
{
	static const struct { uint64_t addr; size_t size; int ok; int seg, at; } c[] = {
		{ 0x1008, 8, 1, 0, 8 },             /* inside */
		{ 0x1000, 64, 1, 0, 0 },            /* the whole segment */
		{ 0x1038, 8, 1, 0, 56 },            /* ends exactly at its end */
		{ 0x1039, 8, 0, 0, 0 },             /* straddles segments 0 and 1 */
		{ 0x103c, 8, 0, 0, 0 },
		{ 0x1040, 8, 1, 1, 0 },             /* first bytes of segment 1 */
		{ 0x1058, 8, 1, 1, 24 },
		{ 0x1059, 8, 0, 0, 0 },             /* past the end of segment 1 */
		{ 0x1060, 1, 0, 0, 0 },
		{ 0x0fff, 1, 0, 0, 0 },             /* just below */
		{ 0x0ff8, 16, 0, 0, 0 },            /* starts below, ends inside */
		{ 0x2000, 8, 0, 0, 0 },             /* nowhere */
		{ UINT64_MAX - 7, 8, 1, 2, 8 },     /* the last 8 bytes of memory */
		{ UINT64_MAX - 7, 9, 0, 0, 0 },     /* would wrap */
		{ UINT64_MAX, 2, 0, 0, 0 },
		{ 0x1000, SIZE_MAX, 0, 0, 0 },
	};
	uint8_t out[64];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		memset(out, 0xee, sizeof out);
		int rc = fpu_sample_read(&s, c[i].addr, out, c[i].size);
		cr_expect_eq(rc, c[i].ok ? 0 : -1, "case %zu", i);
		if (c[i].ok)
			cr_expect_eq(memcmp(out, mem[c[i].seg] + c[i].at, c[i].size), 0,
				     "case %zu bytes", i);
		else
			cr_expect_eq(out[0], 0xee, "case %zu wrote on failure", i);
	}
}

Test(sample_read, bad_segment_tables)
{
	uint64_t w;

	s.nseg = 200;                       /* garbage count: only seg[] is looked at */
	cr_expect_eq(fpu_sample_read(&s, 0x1000, &w, 8), 0);
	s.seg[0].data = NULL;               /* a segment without bytes is no segment */
	cr_expect_eq(fpu_sample_read(&s, 0x1000, &w, 8), -1);
	s.nseg = 0;
	cr_expect_eq(fpu_sample_read(&s, 0x1040, &w, 8), -1);
}
