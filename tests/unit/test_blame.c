/*
 * Blame on real samples of this process, with both DWARF backends: the frame a
 * verdict names is the function that has no frame record, not the innocent
 * leaf below it, however many frameless frames there are; a leaf's own frame
 * shape comes from the CFI at its pc; and a DWARF step that only followed rbp
 * is never taken for agreement.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fpu_dwarf.h"
#include "../../libfpunwind/dwarf/runtime_model_int.h"   /* a Go model by hand */
#include "nofp_helpers.h"
#include "sampler.h"

#define MAXPCS 128

int blame_cmp_rec(const void *a, const void *b);
void blame_qsort_top(void);
void blame_frameless_spin(void);
void blame_recurse_top(void);
void blame_nocfi_top(void);
void blame_nocfi_call(void (*fn)(void));   /* assembly below, no CFI */
void blame_spin_with_frame(void);
void blame_injected_top(void);

static struct fpu_dwarf *picker;   /* for the predicates: names the sampled pc */
static const char *wanted_fn;

static int rip_in_wanted(const struct fpu_sample *s)
{
	struct fpu_symbol sym;
	uint64_t rip = s->regs[FPU_REG_RIP];
	if (fpu_symbolize(picker, rip, 0, &sym) != 0 || !sym.function ||
	    strcmp(sym.function, wanted_fn) != 0)
		return 0;
	/* Past the first instruction and not at a ret: the function's body. */
	return sym.offset > 0 && *(const uint8_t *)(uintptr_t)rip != 0xc3;
}

/* A sample of top() in fn's body that wanted() accepts. */
static const struct fpu_sample *sample_where(void (*top)(void), const char *fn,
					     int (*wanted)(const struct fpu_sample *s))
{
	picker = sampler_session(FPU_DWARF_LIBDW);
	wanted_fn = fn;
	const struct fpu_sample *s = sample_thread(top, wanted);
	cr_assert(wanted(s), "no sample landed in %s", fn);
	fpu_dwarf_free(picker);
	return s;
}

static const struct fpu_sample *sample_in(void (*top)(void), const char *fn)
{
	return sample_where(top, fn, rip_in_wanted);
}

struct judged {
	struct fpu_dwarf *d;
	struct fpu_verdict v;
	struct fpu_dwarf_result dres;
	uint64_t pcs[MAXPCS];
	size_t n;
};

static void judge(struct judged *j, enum fpu_dwarf_backend b, const struct fpu_sample *s)
{
	j->d = sampler_session(b);
	j->n = fpu_dwarf_unwind(j->d, s, j->pcs, MAXPCS, &j->dres);
	cr_assert_geq(j->n, 3, "%s: %zu frames (%s)", fpu_dwarf_backend_name(b), j->n,
		      j->dres.reason);
	fpu_compare(s, j->pcs, j->n, &j->dres, &j->v);
}

static const char *culprit(struct judged *j)
{
	return sampler_fn(j->d, j->v.culprit_pc, j->v.culprit_is_return);
}

static const enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };

/* ---- qsort: a frameless callback under libc's msort_with_tmp ---------------- */

/* GCC gives this leaf no frame at all: it needs no stack. */
__attribute__((noinline)) int blame_cmp_rec(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

__attribute__((noinline)) void blame_qsort_top(void)
{
	static int recs[4096];
	while (!sampler_stop) {
		for (int i = 0; i < 4096; i++)
			recs[i] = (i * 7919) % 4096;
		qsort(recs, 4096, sizeof recs[0], blame_cmp_rec);
	}
	__asm__ volatile("" ::: "memory");
}

static int is_msort(const char *fn)
{
	return strncmp(fn, "msort_with_tmp", strlen("msort_with_tmp")) == 0;
}

/* In the callback, called by libc's merge sort (under ASan, qsort's
 * interceptor also calls it itself, to check the comparator). */
static int cmp_under_msort(const struct fpu_sample *s)
{
	uint64_t pcs[4];
	struct fpu_dwarf_result dres;
	if (!rip_in_wanted(s) || fpu_dwarf_unwind(picker, s, pcs, 4, &dres) < 2)
		return 0;
	return is_msort(sampler_fn(picker, pcs[1], 1));
}

/*
 * Debian's libc has no frame pointers and msort_with_tmp uses rbp as an
 * ordinary register: the FP chain breaks right above the callback.  The
 * callback is innocent; msort_with_tmp, in a system library, is named.
 */
Test(blame, qsort_blames_msort_with_tmp)
{
	const struct fpu_sample *s = sample_where(blame_qsort_top, "blame_cmp_rec",
						  cmp_under_msort);
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		/* GCC split it: msort_with_tmp.part.0 */
		cr_assert(is_msort(sampler_fn(j.d, j.pcs[1], 1)), "DWARF: the callback's caller is %s",
			  sampler_fn(j.d, j.pcs[1], 1));
		cr_assert(fpu_class_is_malignant(j.v.cls), "%s", fpu_class_name(j.v.cls));
		cr_assert(is_msort(culprit(&j)), "%s blamed on %s", fpu_class_name(j.v.cls),
			  culprit(&j));
		struct fpu_symbol sym;
		cr_assert_eq(fpu_symbolize(j.d, j.v.culprit_pc, j.v.culprit_is_return, &sym), 0);
		cr_assert(sym.system, "%s is in libc", sym.module);
		fpu_dwarf_free(j.d);
	}
}

/* ---- a recursion built without frame pointers ------------------------------ */

__attribute__((noinline)) void blame_frameless_spin(void)
{
	while (!sampler_stop)
		;
}

/* Seven frameless levels: more than any fixed bound on skipped frames. */
__attribute__((noinline)) void blame_recurse_top(void)
{
	nofp_recurse(6, blame_frameless_spin);
	__asm__ volatile("" ::: "memory");
}

Test(blame, nofp_recursion_blames_the_recursion)
{
	const struct fpu_sample *s = sample_in(blame_recurse_top, "blame_frameless_spin");
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		cr_assert_geq(j.n, 9, "leaf, 7 x nofp_recurse, top: %zu frames", j.n);
		cr_assert_eq(j.v.cls, FPU_CLASS_FP_SKIPS, "%s at %s", fpu_class_name(j.v.cls),
			     culprit(&j));
		cr_assert_str_eq(culprit(&j), "nofp_recurse");
		cr_assert_str_eq(sampler_fn(j.d, j.v.missing_pc, 1), "nofp_recurse");
		fpu_dwarf_free(j.d);
	}
}

/* ---- a leaf with a stack frame and no frame record ------------------------- */

__attribute__((noinline)) void blame_spin_with_frame(void)
{
	nofp_spin_with_frame(&sampler_stop);
	__asm__ volatile("" ::: "memory");
}

/* Not the benign leaf window: the CFI at its pc shows a frame without a record. */
Test(blame, nofp_leaf_with_a_frame_is_fp_skips)
{
	const struct fpu_sample *s = sample_in(blame_spin_with_frame, "nofp_spin_with_frame");
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		cr_assert_eq(j.dres.leaf_frame, FPU_LEAF_FRAME_NO_RECORD, "leaf frame %u",
			     j.dres.leaf_frame);
		cr_assert_str_eq(culprit(&j), "nofp_spin_with_frame", "%s at %s",
				 fpu_class_name(j.v.cls), culprit(&j));
		cr_assert_eq(j.v.culprit_is_return, 0);
#if defined(__SANITIZE_ADDRESS__)
		/* ASan's frame keeps the address of its locals in rbp: the chain
		 * does not skip the caller, it goes astray (fp-diverge). */
		cr_assert(fpu_class_is_malignant(j.v.cls), "%s", fpu_class_name(j.v.cls));
#else
		cr_assert_eq(j.v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(j.v.cls));
		cr_assert_str_eq(sampler_fn(j.d, j.v.missing_pc, 1), "blame_spin_with_frame");
#endif
		fpu_dwarf_free(j.d);
	}
}

/*
 * The same leaf as Go code.  Go's CFI never says where rbp is (CFA = rsp+N at
 * every pc) and Go's compiler gives every function with a stack frame a frame
 * record, so in Go code that row is a prologue (SUBQ $N, SP before LEAQ
 * N-8(SP), BP) or an epilogue: the benign leaf window.  A model whose Go text
 * holds the leaf says so; one whose Go text lies elsewhere keeps the C rule.
 */
Test(blame, go_leaf_with_a_frame_but_no_record_is_the_prologue_window)
{
	const struct fpu_sample *s = sample_in(blame_spin_with_frame, "nofp_spin_with_frame");
	uint64_t rip = s->regs[FPU_REG_RIP];
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		cr_assert_eq(j.dres.leaf_frame, FPU_LEAF_FRAME_NO_RECORD);
		for (int go = 0; go < 2; go++) {
			struct fpu_runtime *rt = calloc(1, sizeof *rt);
			cr_assert_not_null(rt);
			rt->go_text_lo = go ? rip - 1 : rip + 1;
			rt->go_text_hi = go ? rip + 1 : rip + 2;
			struct fpu_verdict v;
			struct fpu_dwarf_result dres;
			uint64_t pcs[MAXPCS];
			size_t n = fpu_runtime_compare(rt, j.d, s, pcs, MAXPCS, &dres, &v);
			cr_assert_geq(n, 3, "%s", dres.reason);
#if defined(__SANITIZE_ADDRESS__)
			/* ASan's frame keeps its locals' address in rbp (see above). */
			(void)go;
#else
			if (go) {
				/* Past the window the walk goes on, to the thread's
				 * start-up frames, which libc builds without records. */
				cr_assert(v.cls == FPU_CLASS_LEAF_WINDOW ||
					  v.cls == FPU_CLASS_ROOT_WINDOW, "Go code: %s at %s",
					  fpu_class_name(v.cls),
					  sampler_fn(j.d, v.culprit_pc, v.culprit_is_return));
			} else {
				cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "C code: %s",
					     fpu_class_name(v.cls));
			}
#endif
			fpu_runtime_free(rt);
		}
		fpu_dwarf_free(j.d);
	}
}

/*
 * Go's asyncPreempt, as the preemption signal enters it: the interrupted
 * function (here nofp_middle, frameless) seems to call it, and asyncPreempt
 * is caught after PUSHQ BP, before MOVQ SP, BP: a frame, no record yet, so
 * the FP chain lacks both the interrupted function and its caller.  The leaf
 * is in its prologue and the interrupted function was not calling: benign.
 */
__attribute__((noinline)) void blame_injected_top(void)
{
	nofp_stop = &sampler_stop;
	nofp_middle(nofp_spin_with_frame_leaf);
	__asm__ volatile("" ::: "memory");
}

Test(blame, injected_go_leaf_in_its_prologue_is_the_leaf_window)
{
	const struct fpu_sample *s = sample_in(blame_injected_top, "nofp_spin_with_frame_leaf");
	uint64_t rip = s->regs[FPU_REG_RIP];
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		cr_assert_eq(j.dres.leaf_frame, FPU_LEAF_FRAME_NO_RECORD);
		cr_assert_str_eq(sampler_fn(j.d, j.pcs[1], 1), "nofp_middle");
		for (int injected = 0; injected < 2; injected++) {
			struct fpu_runtime *rt = calloc(1, sizeof *rt);
			cr_assert_not_null(rt);
			rt->go_text_lo = rip - 1;
			rt->go_text_hi = rip + 1;
			if (injected)
				cr_assert_eq(fpu_rt_add(rt, rip - 1, rip + 1, FPU_RT_INJECTED,
							"runtime.asyncPreempt", "injected"), 0);
			struct fpu_verdict v;
			struct fpu_dwarf_result dres;
			uint64_t pcs[MAXPCS];
			fpu_runtime_compare(rt, j.d, s, pcs, MAXPCS, &dres, &v);
#if !defined(__SANITIZE_ADDRESS__)
			const char *at = sampler_fn(j.d, v.culprit_pc, v.culprit_is_return);
			if (injected)
				cr_assert(v.cls == FPU_CLASS_LEAF_WINDOW ||
					  v.cls == FPU_CLASS_ROOT_WINDOW, "injected: %s at %s",
					  fpu_class_name(v.cls), at);
			else   /* a frameless caller of a Go leaf hides its own caller */
				cr_assert(v.cls == FPU_CLASS_FP_SKIPS &&
					  strcmp(at, "nofp_middle") == 0, "called: %s at %s",
					  fpu_class_name(v.cls), at);
#endif
			fpu_runtime_free(rt);
		}
		fpu_dwarf_free(j.d);
	}
}

/* ---- a frame without CFI: DWARF's step is the FP chain's own --------------- */

/* A frame-pointer frame with no CFI at all (hand-written or JIT code). */
__asm__(".text\n"
	".globl blame_nocfi_call\n"
	".type blame_nocfi_call, @function\n"
	"blame_nocfi_call:\n"
	"	pushq %rbp\n"
	"	movq %rsp, %rbp\n"
	"	call *%rdi\n"
	"	nop\n"
	"	popq %rbp\n"
	"	ret\n"
	".size blame_nocfi_call, .-blame_nocfi_call\n");

__attribute__((noinline)) void blame_nocfi_top(void)
{
	blame_nocfi_call(blame_frameless_spin);
	__asm__ volatile("" ::: "memory");
}

Test(blame, step_without_cfi_is_unverified)
{
	const struct fpu_sample *s = sample_in(blame_nocfi_top, "blame_frameless_spin");
	for (size_t b = 0; b < 2; b++) {
		struct judged j;
		judge(&j, backends[b], s);
		cr_assert_str_eq(sampler_fn(j.d, j.pcs[1], 1), "blame_nocfi_call");
		cr_assert_eq(j.dres.unverified_from, 2, "the step from blame_nocfi_call used rbp");
		cr_assert_eq(j.v.cls, FPU_CLASS_UNVERIFIED, "%s", fpu_class_name(j.v.cls));
		cr_assert_not(fpu_class_is_malignant(j.v.cls));
		cr_assert_str_eq(culprit(&j), "blame_nocfi_call", "verified up to there");
		fpu_dwarf_free(j.d);
	}
}
