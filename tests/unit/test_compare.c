/*
 * The comparator on synthetic chains: each class from the smallest pair of
 * chains that shows it, with the frame it must blame.
 */
#include <criterion/criterion.h>
#include "fpu_dwarf.h"

static struct fpu_sample s;
static struct fpu_dwarf_result dres;
static struct fpu_verdict v;

static void judge(const uint64_t *f, size_t nf, enum fpu_end fp_end,
		  const uint64_t *d, size_t nd, enum fpu_dwarf_end dend)
{
	memset(&s, 0, sizeof s);
	s.fp_pcs = f;
	s.nfp = (uint32_t)nf;
	s.fp_end = fp_end;
	memset(&dres, 0, sizeof dres);
	dres.end = dend;
	fpu_compare(&s, d, nd, &dres, &v);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(compare, match)
{
	static const uint64_t f[] = { 1, 2, 3, 4 }, d[] = { 1, 2, 3, 4 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "%s", fpu_class_name(v.cls));
	cr_assert_not(fpu_class_is_malignant(v.cls));
}

Test(compare, leaf_window)
{
	static const uint64_t f[] = { 1, 3, 4 }, d[] = { 1, 2, 3, 4 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_LEAF_WINDOW, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 1);
	cr_assert_eq(v.culprit_is_return, 0, "the leaf is the interrupted pc");
	cr_assert_eq(v.missing_pc, 2);
	cr_assert_not(fpu_class_is_malignant(v.cls));
}

Test(compare, leaf_window_then_truncated_is_truncated)
{
	static const uint64_t f[] = { 1, 3 }, d[] = { 1, 2, 3, 4 };
	judge(f, N(f), FPU_END_OUT_OF_BOUNDS, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
}

Test(compare, fp_skips_names_the_frameless_function)
{
	/* 3 had no frame pointer: its caller 4 is missing. */
	static const uint64_t f[] = { 1, 2, 3, 5, 6 }, d[] = { 1, 2, 3, 4, 5, 6 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 3);
	cr_assert_eq(v.culprit_is_return, 1);
	cr_assert_eq(v.missing_pc, 4);
	cr_assert_eq(v.fp_index, 3);
	cr_assert_eq(v.dwarf_index, 3);
	cr_assert(fpu_class_is_malignant(v.cls));
}

Test(compare, fp_truncated)
{
	static const uint64_t f[] = { 1, 2 }, d[] = { 1, 2, 3, 4 };
	judge(f, N(f), FPU_END_MISALIGNED, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2);
}

Test(compare, fp_leak_past_dwarf_end)
{
	/* DWARF ends cleanly at 3 (rt_mcall: CFI says undefined rip); FP goes on. */
	static const uint64_t f[] = { 1, 2, 3, 70, 71 }, d[] = { 1, 2, 3 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_LEAK, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 3, "the frame where the chain leaves");
	cr_assert_eq(v.fp_index, 3);
}

Test(compare, fp_leak_by_illegal_transition)
{
	static const uint64_t f[] = { 1, 2, 3 }, d[] = { 1, 2, 3 };
	judge(f, N(f), FPU_END_ILLEGAL_TRANSITION, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_LEAK, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 3);
}

Test(compare, fp_stale_wins)
{
	static const uint64_t f[] = { 1, 2 }, d[] = { 1, 2, 3 };
	judge(f, N(f), FPU_END_STALE, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_STALE, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2);
}

Test(compare, fp_diverge)
{
	static const uint64_t f[] = { 1, 2, 90, 91, 92, 93, 94 }, d[] = { 1, 2, 3, 4, 5, 6, 7 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_DIVERGE, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2, "the last frame both agree on");
	cr_assert_eq(v.fp_index, 2);
}

Test(compare, dwarf_fail_is_not_an_fp_defect)
{
	static const uint64_t f[] = { 1, 2, 3, 4 }, d[] = { 1, 2 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_ERROR);
	cr_assert_eq(v.cls, FPU_CLASS_DWARF_FAIL, "%s", fpu_class_name(v.cls));
	cr_assert_not(fpu_class_is_malignant(v.cls));
	judge(f, N(f), FPU_END_CLEAN, d, 0, FPU_DWARF_END_ERROR);
	cr_assert_eq(v.cls, FPU_CLASS_DWARF_FAIL);
}

Test(compare, depth_limits_are_not_defects)
{
	static const uint64_t f[] = { 1, 2, 3 }, d[] = { 1, 2, 3, 4, 5 };
	judge(f, N(f), FPU_END_DEPTH, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "%s", fpu_class_name(v.cls));
	judge(d, N(d), FPU_END_CLEAN, f, N(f), FPU_DWARF_END_DEPTH);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "%s", fpu_class_name(v.cls));
}

Test(compare, names)
{
	cr_assert_str_eq(fpu_class_name(FPU_CLASS_FP_SKIPS), "fp-skips");
	cr_assert_str_eq(fpu_class_name(FPU_CLASS_COUNT), "unknown");
	cr_assert_not(fpu_class_is_malignant(FPU_CLASS_COUNT));
}

/* Sampled at the first instruction of a function mcall called (BP = 0). */
Test(compare, prologue_under_an_outermost_caller_is_leaf_window)
{
	static const uint64_t f[] = { 1 }, d[] = { 1, 2 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_LEAF_WINDOW, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.missing_pc, 2);
	static const uint64_t d3[] = { 1, 2, 3 };
	judge(f, N(f), FPU_END_CLEAN, d3, N(d3), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
}

/* A frameless leaf called by a frameless function: the second hides its caller. */
Test(compare, frameless_leaf_under_frameless_caller_is_fp_skips)
{
	static const uint64_t f[] = { 1, 4, 5 }, d[] = { 1, 2, 3, 4, 5 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2, "the frameless caller of the leaf");
	cr_assert_eq(v.missing_pc, 3);
}

/* A perf stack dump too small for either chain: both stop where it ends. */
Test(compare, agreement_up_to_a_short_snapshot_is_dwarf_fail)
{
	static const uint64_t f[] = { 1, 2, 3 }, d[] = { 1, 2, 3 };
	memset(&s, 0, sizeof s);
	s.fp_pcs = f;
	s.nfp = 3;
	s.fp_end = FPU_END_DEPTH;
	memset(&dres, 0, sizeof dres);
	dres.end = FPU_DWARF_END_ERROR;
	dres.read_outside_snapshot = 1;
	fpu_compare(&s, d, 3, &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_DWARF_FAIL, "%s", fpu_class_name(v.cls));
	dres.read_outside_snapshot = 0;
	fpu_compare(&s, d, 3, &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "another DWARF error after the last frame");
}

/* rt_asmcgocall's two frames share a pc: a frameless leaf under it loses one. */
Test(compare, gap_next_to_equal_pcs_slides_left)
{
	static const uint64_t f[] = { 1, 5, 9, 10 }, d[] = { 1, 5, 5, 9, 10 };
	judge(f, N(f), FPU_END_CLEAN, d, N(d), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_LEAF_WINDOW, "%s", fpu_class_name(v.cls));
	/* The same shape deeper down is a real skip, blamed on the frame before the gap. */
	static const uint64_t f2[] = { 1, 2, 5, 9 }, d2[] = { 1, 2, 5, 5, 9 };
	judge(f2, N(f2), FPU_END_CLEAN, d2, N(d2), FPU_DWARF_END_CLEAN);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2);
	cr_assert_eq(v.missing_pc, 5);
}

/*
 * Seed 003 after dropg: DWARF ends cleanly at rt_mcall (3), and so does the FP
 * chain, but only because the walker found the next record off every stack it
 * knows; the saved fp was not 0.  That is a leak, whichever way the walk ended.
 */
Test(compare, fp_leak_when_a_clean_dwarf_end_has_a_nonzero_saved_fp)
{
	static const uint64_t f[] = { 1, 2, 3 }, d[] = { 1, 2, 3 };
	static const enum fpu_end leaving[] = { FPU_END_OUT_OF_BOUNDS, FPU_END_MISALIGNED,
						FPU_END_NOT_INCREASING };
	for (size_t e = 0; e < N(leaving); e++) {
		memset(&s, 0, sizeof s);
		s.fp_pcs = f;
		s.nfp = 3;
		s.fp_end = leaving[e];
		s.fp_end_fp = 0x7f0000001230;
		memset(&dres, 0, sizeof dres);
		dres.end = FPU_DWARF_END_CLEAN;
		fpu_compare(&s, d, N(d), &dres, &v);
		cr_assert_eq(v.cls, FPU_CLASS_FP_LEAK, "%s: %s", fpu_end_name(leaving[e]),
			     fpu_class_name(v.cls));
		cr_assert_eq(v.culprit_pc, 3, "the frame where the chain leaves");
		cr_assert_eq(v.culprit_is_return, 1);
	}
}

/* The same shape is no leak when the saved fp is 0, or DWARF did not end cleanly. */
Test(compare, no_fp_leak_without_a_clean_dwarf_end_or_a_saved_fp)
{
	static const uint64_t f[] = { 1, 2, 3 }, d[] = { 1, 2, 3 };
	memset(&s, 0, sizeof s);
	s.fp_pcs = f;
	s.nfp = 3;
	s.fp_end = FPU_END_CLEAN;
	memset(&dres, 0, sizeof dres);
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "%s", fpu_class_name(v.cls));
	s.fp_end = FPU_END_OUT_OF_BOUNDS;
	s.fp_end_fp = 0x7f0000001230;
	dres.end = FPU_DWARF_END_DEPTH;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "DWARF's buffer was full: %s", fpu_class_name(v.cls));
	s.fp_end = FPU_END_REGION_TOP;
	dres.end = FPU_DWARF_END_CLEAN;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_MATCH, "the top of a stack: %s", fpu_class_name(v.cls));
}

static void judge_leaf(const uint64_t *f, size_t nf, enum fpu_end fp_end,
		       const uint64_t *d, size_t nd, enum fpu_leaf_frame leaf)
{
	memset(&s, 0, sizeof s);
	s.fp_pcs = f;
	s.nfp = (uint32_t)nf;
	s.fp_end = fp_end;
	s.fp_end_fp = fp_end == FPU_END_CLEAN ? 0 : 0x1234567;
	memset(&dres, 0, sizeof dres);
	dres.leaf_frame = leaf;
	fpu_compare(&s, d, nd, &dres, &v);
}

/* A recursion without frame pointers hides any number of frames: still skips,
 * blamed on the first frameless caller above the frameless leaf. */
Test(compare, any_number_of_frameless_frames_is_fp_skips)
{
	static const uint64_t f[] = { 1, 9, 10 }, d[] = { 1, 2, 2, 2, 2, 2, 2, 8, 9, 10 };
	judge_leaf(f, N(f), FPU_END_CLEAN, d, N(d), FPU_LEAF_FRAME_NONE);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2, "the recursion, not the leaf");
	cr_assert_eq(v.culprit_is_return, 1);
	cr_assert_eq(v.missing_pc, 2);
}

/* The CFI at the leaf pc shows a stack frame without a frame record. */
Test(compare, leaf_with_a_frame_but_no_record_is_fp_skips)
{
	static const uint64_t f[] = { 1, 3, 4 }, d[] = { 1, 2, 3, 4 };
	static const enum fpu_leaf_frame benign[] = { FPU_LEAF_FRAME_UNKNOWN, FPU_LEAF_FRAME_NONE,
						      FPU_LEAF_FRAME_SETUP };
	for (size_t b = 0; b < N(benign); b++) {
		judge_leaf(f, N(f), FPU_END_CLEAN, d, N(d), benign[b]);
		cr_assert_eq(v.cls, FPU_CLASS_LEAF_WINDOW, "leaf frame %u: %s", benign[b],
			     fpu_class_name(v.cls));
	}
	judge_leaf(f, N(f), FPU_END_CLEAN, d, N(d), FPU_LEAF_FRAME_NO_RECORD);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 1, "the leaf itself");
	cr_assert_eq(v.culprit_is_return, 0);
	cr_assert_eq(v.missing_pc, 2);
}

/* Right above a frameless leaf the record read is its caller's: a chain that
 * breaks there broke in the caller (libc's msort_with_tmp under qsort). */
Test(compare, break_above_a_frameless_leaf_blames_its_caller)
{
	static const uint64_t d[] = { 1, 2, 3, 4 };
	static const uint64_t f_trunc[] = { 1 }, f_div[] = { 1, 77, 78 };
	judge_leaf(f_trunc, N(f_trunc), FPU_END_MISALIGNED, d, N(d), FPU_LEAF_FRAME_NONE);
	cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2);
	cr_assert_eq(v.culprit_is_return, 1);
	judge_leaf(f_div, N(f_div), FPU_END_CLEAN, d, N(d), FPU_LEAF_FRAME_NONE);
	cr_assert_eq(v.cls, FPU_CLASS_FP_DIVERGE, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2);
	/* A leaf with its own frame record broke the chain itself. */
	judge_leaf(f_div, N(f_div), FPU_END_CLEAN, d, N(d), FPU_LEAF_FRAME_RECORD);
	cr_assert_eq(v.culprit_pc, 1);
}

/* DWARF stepped from 2 by following rbp: agreement past it proves nothing. */
Test(compare, frames_after_an_fp_step_are_unverified)
{
	static const uint64_t d[] = { 1, 2, 3, 4 };
	static const uint64_t f_same[] = { 1, 2, 3, 4 }, f_later[] = { 1, 2, 70, 71 },
			      f_before[] = { 1, 60, 3, 4 };
	judge_leaf(f_same, N(f_same), FPU_END_CLEAN, d, N(d), FPU_LEAF_FRAME_RECORD);
	dres.unverified_from = 2;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_UNVERIFIED, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 2, "verified up to 2");
	cr_assert_not(fpu_class_is_malignant(v.cls));
	s.fp_pcs = f_later;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_UNVERIFIED, "not evidence either way: %s",
		     fpu_class_name(v.cls));
	s.fp_pcs = f_before;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_FP_DIVERGE, "a break before the FP step: %s",
		     fpu_class_name(v.cls));
	cr_assert_str_eq(fpu_class_name(FPU_CLASS_UNVERIFIED), "unverified");
}

/* Only the start-up frames below main are missing: benign, whatever the end. */
Test(compare, missing_start_up_frames_are_root_window)
{
	static const uint64_t d[] = { 1, 2, 3, 50, 51, 52 };   /* 50.. start-up */
	static const uint64_t f_cut[] = { 1, 2, 3 }, f_astray[] = { 1, 2, 3, 90 },
			      f_early[] = { 1, 2 };
	judge_leaf(f_cut, N(f_cut), FPU_END_MISALIGNED, d, N(d), FPU_LEAF_FRAME_RECORD);
	dres.root_from = 3;
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_ROOT_WINDOW, "%s", fpu_class_name(v.cls));
	cr_assert_eq(v.culprit_pc, 50, "the first start-up frame missing");
	cr_assert_not(fpu_class_is_malignant(v.cls));
	s.fp_pcs = f_astray;
	s.nfp = N(f_astray);
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_ROOT_WINDOW, "astray in libc: %s", fpu_class_name(v.cls));
	/* main's own caller frame (3) is missing too: a defect as before. */
	s.fp_pcs = f_early;
	s.nfp = N(f_early);
	fpu_compare(&s, d, N(d), &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
	cr_assert_str_eq(fpu_class_name(FPU_CLASS_ROOT_WINDOW), "root-window");
}
