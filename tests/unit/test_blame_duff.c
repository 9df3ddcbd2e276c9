/*
 * cmd/compile's duff device call, seen from its caller: MOVQ BP, -16(SP);
 * LEAQ -16(SP), BP; CALL runtime.duffzero; MOVQ 0(BP), BP.  Around the call
 * the caller's rbp is a record below SP whose return slot is a stale word,
 * or the call's return address (the leaf's pc) once duffzero returned: Go
 * 1.19's printuint, caught there, gave the kernel's chain [printuint,
 * printuint, schedtrace.func1, ...] and fp-diverge "at schedtrace.func1".
 * The live walk has one false frame; a walk in a copy that starts at SP
 * cannot read the record at all.  Neither is a defect of the chain.
 * Here an assembly function holds that window, marked Go code in a model
 * built by hand.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fpu_dwarf.h"
#include "../../libfpunwind/dwarf/runtime_model_int.h"   /* a Go model by hand */
#include "sampler.h"

#define MAXPCS 128

void blame_duff_window(void);
extern const char blame_duff_spin[], blame_duff_spin_end[], blame_duff_window_end[];

__asm__(".text\n"
	".globl blame_duff_window\n"
	".type blame_duff_window, @function\n"
	"blame_duff_window:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %rbp, 0\n"
	"	movq %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	subq $32, %rsp\n"
	/* The return slot: what duffzero's return address leaves there. */
	"	leaq blame_duff_spin(%rip), %rax\n"
	"	movq %rax, -8(%rsp)\n"
	"	movq %rbp, -16(%rsp)\n"
	"	leaq -16(%rsp), %rbp\n"
	"	.cfi_def_cfa %rsp, 48\n"
	".globl blame_duff_spin\n"
	"blame_duff_spin:\n"
	"	movl sampler_stop(%rip), %eax\n"
	"	testl %eax, %eax\n"
	"	je blame_duff_spin\n"
	".globl blame_duff_spin_end\n"
	"blame_duff_spin_end:\n"
	"	movq 0(%rbp), %rbp\n"
	"	.cfi_def_cfa %rbp, 16\n"
	"	leave\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".globl blame_duff_window_end\n"
	"blame_duff_window_end:\n"
	".size blame_duff_window, .-blame_duff_window\n");

static void duff_top(void)
{
	blame_duff_window();
	__asm__ volatile("" ::: "memory");
}

static int in_window(const struct fpu_sample *s)
{
	uint64_t rip = s->regs[FPU_REG_RIP];
	return rip >= (uint64_t)(uintptr_t)blame_duff_spin &&
	       rip < (uint64_t)(uintptr_t)blame_duff_spin_end;
}

static struct fpu_verdict judge_go(struct fpu_dwarf *d, const struct fpu_sample *s)
{
	struct fpu_runtime *rt = calloc(1, sizeof *rt);
	cr_assert_not_null(rt);
	rt->go_text_lo = (uint64_t)(uintptr_t)blame_duff_window;
	rt->go_text_hi = (uint64_t)(uintptr_t)blame_duff_window_end;
	struct fpu_verdict v;
	struct fpu_dwarf_result dres;
	uint64_t pcs[MAXPCS];
	size_t n = fpu_runtime_compare(rt, d, s, pcs, MAXPCS, &dres, &v);
	cr_assert_geq(n, 3, "%zu DWARF frames (%s)", n, dres.reason);
	fpu_runtime_free(rt);
	return v;
}

Test(blame_duff, caller_of_duffzero_around_the_call_is_no_defect)
{
	const struct fpu_sample *s = sample_thread(duff_top, in_window);
	cr_assert(in_window(s), "no sample landed in the window");
	uint64_t sp = s->regs[FPU_REG_RSP];
	cr_assert_eq(s->regs[FPU_REG_RBP] + 16, sp);
	/* The sampler walks only at or above SP, as a walk in a perf copy does:
	 * it stops at once. */
	cr_assert_eq(s->nfp, 1, "the walk from below SP: %u frames", s->nfp);

	/*
	 * The kernel's live walk reads the record below SP: the return slot
	 * (blame_duff_spin, as duffzero's return leaves it), then the saved fp,
	 * the function's own record at sp + 32, in the copy.
	 */
	uint64_t chain[MAXPCS] = { s->regs[FPU_REG_RIP], (uint64_t)(uintptr_t)blame_duff_spin };
	uint32_t n = 2;
	for (uint64_t fp = sp + 32, rec[2]; fp && n < MAXPCS; fp = rec[0]) {
		if (fpu_sample_read(s, fp, rec, sizeof rec) != 0)
			break;
		chain[n++] = rec[1];
	}
	cr_assert_geq(n, 4, "the kernel's walk: %u frames", n);
	struct fpu_sample live = *s;
	live.fp_pcs = chain;
	live.nfp = n;
	live.fp_end = FPU_END_CLEAN;
	live.fp_end_fp = 0;
	for (int b = 0; b < 2; b++) {
		struct fpu_dwarf *d = sampler_session(b ? FPU_DWARF_LIBUNWIND : FPU_DWARF_LIBDW);
		struct fpu_verdict v = judge_go(d, &live);
		cr_assert(!fpu_class_is_malignant(v.cls), "the kernel's walk: %s at %s",
			  fpu_class_name(v.cls), sampler_fn(d, v.culprit_pc, v.culprit_is_return));
		v = judge_go(d, s);
		cr_assert_eq(v.cls, FPU_CLASS_TO_SWITCH, "walk in the copy: %s at %s",
			     fpu_class_name(v.cls),
			     sampler_fn(d, v.culprit_pc, v.culprit_is_return));
		fpu_dwarf_free(d);
	}
}
