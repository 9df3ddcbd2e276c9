/*
 * compare.c — classify how a sample's frame-pointer chain differs from a DWARF
 * chain of the same registers and stack, and name the frame to blame.
 *
 * Both chains start with the interrupted rip and continue with raw return
 * addresses, so equal frames are equal words.  The walk aligns them front to
 * back; the first disagreement decides the class (a chain that is wrong once is
 * wrong, and what follows a wrong frame says nothing more).
 */
#include "fpu_dwarf.h"

#include <string.h>

static const char *const class_names[FPU_CLASS_COUNT] = {
	[FPU_CLASS_MATCH] = "match",
	[FPU_CLASS_LEAF_WINDOW] = "leaf-window",
	[FPU_CLASS_FP_SKIPS] = "fp-skips",
	[FPU_CLASS_FP_TRUNCATED] = "fp-truncated",
	[FPU_CLASS_FP_LEAK] = "fp-leak",
	[FPU_CLASS_FP_STALE] = "fp-stale",
	[FPU_CLASS_FP_DIVERGE] = "fp-diverge",
	[FPU_CLASS_FP_CLOBBERED] = "fp-clobbered",
	[FPU_CLASS_DWARF_FAIL] = "dwarf-fail",
	[FPU_CLASS_UNVERIFIED] = "unverified",
	[FPU_CLASS_ROOT_WINDOW] = "root-window",
	[FPU_CLASS_TO_SWITCH] = "to-switch",
};

const char *fpu_class_name(enum fpu_class c)
{
	return (unsigned)c < FPU_CLASS_COUNT ? class_names[c] : "unknown";
}

int fpu_class_is_malignant(enum fpu_class c)
{
	return c != FPU_CLASS_MATCH && c != FPU_CLASS_LEAF_WINDOW &&
	       c != FPU_CLASS_DWARF_FAIL && c != FPU_CLASS_UNVERIFIED &&
	       c != FPU_CLASS_ROOT_WINDOW && c != FPU_CLASS_TO_SWITCH &&
	       (unsigned)c < FPU_CLASS_COUNT;
}

/*
 * The alignment of the two chains: f (frame pointers) and d (DWARF), walked
 * front to back with i and j.  nd counts only the DWARF frames that are
 * evidence: up to the first one the unwinder left by following rbp.
 */
struct align {
	const struct fpu_sample *s;
	const struct fpu_dwarf_result *dres;
	const uint64_t *f, *d;
	size_t nf, nd, i, j;
	size_t nd_all;             /* every DWARF frame, where a skip may land */
	int unverified;            /* nd was cut at dres->unverified_from */
};

static void blame(struct fpu_verdict *v, enum fpu_class cls, size_t fi, size_t di,
		  uint64_t pc, size_t pc_index)
{
	v->cls = cls;
	v->missing_pc = 0;   /* a later verdict replaces a leaf-window's entirely */
	v->fp_index = (uint32_t)fi;
	v->dwarf_index = (uint32_t)di;
	v->culprit_pc = pc;
	/* Index 0 is the interrupted rip itself; every later pc is a return address. */
	v->culprit_is_return = pc_index > 0;
}

/* Blame DWARF frame k: its pc names the function. */
static void blame_dwarf(struct fpu_verdict *v, enum fpu_class cls, const struct align *a,
			size_t k)
{
	blame(v, cls, a->i, a->j, a->d[k], k);
}

/*
 * May the interrupted function lack a frame record of its own and be
 * innocent?  At its first instruction, at its ret, as a leaf that needs no
 * stack, or inside a frame-pointer prologue, rbp is still its caller's: the
 * FP chain then lacks only the caller's return address, the known leaf window
 * (Orbit, perf).  A function that has a real stack frame (the CFI row says
 * CFA = rsp+N) but never saved rbp was built with -fomit-frame-pointer: it
 * hides its caller for good, leaf or not.  Without CFI (unit tests, a
 * backend that could not tell) the window is given the benefit of the doubt.
 */
static int leaf_may_lack_record(const struct fpu_dwarf_result *dres)
{
	return dres->leaf_frame != FPU_LEAF_FRAME_NO_RECORD &&
	       dres->leaf_frame != FPU_LEAF_FRAME_RECORD;
}

/*
 * The frame whose record should have produced d[j]: the return address into
 * d[j] sits in the record of its callee d[j-1].  When that callee is the leaf
 * and the leaf may lack a record, the record read is the leaf's caller's: a
 * frame-pointer chain that breaks there broke in d[1] (libc's msort_with_tmp
 * under a qsort callback uses rbp as an ordinary register), not in the leaf.
 */
static size_t record_owner(const struct align *a, size_t j)
{
	if (j == 1 && a->nd > 1 && leaf_may_lack_record(a->dres))
		return 1;
	return j - 1;
}

/*
 * Does d[j+1 ..] hold pc?  Returns how many DWARF frames FP skipped, 0 if none.
 * The frame FP lands on may lie past the verified part: the frames it skipped
 * (d[j ..], below) are still DWARF's own.
 */
static size_t skipped_frames(const struct align *a, uint64_t pc)
{
	for (size_t k = 1; a->j + k < a->nd_all; k++)
		if (a->d[a->j + k] == pc)
			return k;
	return 0;
}

/*
 * f[i] is d[j+k]: the FP chain skipped k DWARF frames, each hidden by a callee
 * without a frame record.  Returns 1 when the verdict is final, 0 when only
 * the benign leaf window was found and the walk goes on.
 */
static int skip_rule(struct align *a, size_t k, struct fpu_verdict *v)
{
	const uint64_t *f = a->f, *d = a->d;
	/*
	 * Where a gap of k frames sits is ambiguous next to equal pcs: with
	 * d = [leaf, X, X, Y] and f = [leaf, X, Y] the FP chain lacks one X,
	 * and either may be called missing (rt_asmcgocall has two frames
	 * with one pc, its g0 record and its goroutine frame).  Slide the gap
	 * left as far as the equal pcs allow: the leftmost reading is the
	 * one where a frameless leaf explains it.
	 */
	size_t g = a->j;
	for (size_t t = a->i; g > 1 && t > 0 && f[t - 1] == d[g - 1 + k]; t--)
		g--;
	if (g == 1 && leaf_may_lack_record(a->dres)) {
		if (k == 1) {
			/* The leaf at rip had no frame (yet, or any more): benign. */
			blame(v, FPU_CLASS_LEAF_WINDOW, a->i, a->j, d[0], 0);
			v->missing_pc = d[1];
			a->j += k;
			return 0;
		}
		/*
		 * The leaf's own missing caller is the benign part; what else is
		 * missing was hidden by that caller, d[1], itself frameless.
		 */
		g = 2;
	}
	/*
	 * d[g-1] ran without a frame record and hid its caller d[g]: the first
	 * function whose caller vanished, however many frameless ones follow
	 * (a recursion built without frame pointers hides every level).
	 */
	blame(v, FPU_CLASS_FP_SKIPS, a->i - (a->j - g), g, d[g - 1], g - 1);
	v->missing_pc = d[g];
	return 1;
}

/*
 * The FP chain lost only the start-up frames below main or a thread's start
 * routine (d[j..] all are): libc has no frame pointers, so a chain that
 * reaches main (or the start routine) is complete for every purpose.
 */
static int root_window_rule(const struct align *a, struct fpu_verdict *v)
{
	uint32_t root = a->dres->root_from;
	if (!root || a->j < root || a->j >= a->nd)
		return 0;
	blame_dwarf(v, FPU_CLASS_ROOT_WINDOW, a, a->j);
	return 1;
}

/* The chains part at f[i] != d[j] and no DWARF frame further up is f[i]. */
static void diverge_rule(const struct align *a, struct fpu_verdict *v)
{
	if (root_window_rule(a, v))
		return;
	if (a->j + 1 >= a->nd && !a->unverified && a->dres->end == FPU_DWARF_END_ERROR) {
		/*
		 * DWARF's last frame is already doubtful: not evidence.  It came
		 * from the CFI of d[j-1], and DWARF could go no further: that CFI
		 * is what to look at (its step gave a return address in no module).
		 */
		blame_dwarf(v, FPU_CLASS_DWARF_FAIL, a, a->j ? a->j - 1 : 0);
		return;
	}
	if (a->j == 0) {
		/* They disagree on the interrupted pc itself. */
		blame(v, FPU_CLASS_FP_DIVERGE, a->i, a->j, a->f[0], 0);
		return;
	}
	blame_dwarf(v, FPU_CLASS_FP_DIVERGE, a, record_owner(a, a->j));
}

/*
 * DWARF ended cleanly at the FP chain's last frame (the CFI says the return
 * address is undefined there: rt_mcall, a thread or goroutine base), yet that
 * frame's saved fp is not 0: the walker stopped only because the next record
 * lies off every stack it knows (out of bounds), or is misaligned or not above
 * the last one.  Code that ends a chain clears BP; a non-zero one points
 * somewhere, and a raw walker (perf) follows it.  Seed 003: after dropg the M
 * publishes only g0 and its signal stack, so the leaked fp into the goroutine
 * stack ends "out-of-bounds" exactly where DWARF ends.
 */
static int leaves_past_clean_end(const struct fpu_sample *s,
				 const struct fpu_dwarf_result *dres)
{
	if (dres->end != FPU_DWARF_END_CLEAN || s->fp_end_fp == 0)
		return 0;
	return s->fp_end == FPU_END_OUT_OF_BOUNDS || s->fp_end == FPU_END_MISALIGNED ||
	       s->fp_end == FPU_END_NOT_INCREASING;
}

/* Both chains ended at the same frame. */
static void both_ended(const struct align *a, struct fpu_verdict *v)
{
	size_t last = a->nf - 1;
	/* Same frames, but the walker refused to follow a stack switch at a
	 * pc that is no transition: what perf's raw walk would leak into. */
	if (a->s->fp_end == FPU_END_ILLEGAL_TRANSITION || leaves_past_clean_end(a->s, a->dres))
		blame(v, FPU_CLASS_FP_LEAK, a->i, a->j, a->f[last], last);
	/* Both stopped at the end of a stack copy that was too short (a perf
	 * dump walked in place): agreement up to there proves nothing. */
	else if (a->dres->end == FPU_DWARF_END_ERROR && a->dres->read_outside_snapshot &&
		 v->cls == FPU_CLASS_MATCH)
		blame_dwarf(v, FPU_CLASS_DWARF_FAIL, a, a->nd - 1);
}

/* The FP chain ran out first (i == nf) while DWARF goes on. */
static void fp_ended_first(const struct align *a, struct fpu_verdict *v)
{
	const struct fpu_sample *s = a->s;
	size_t i = a->i, j = a->j, last = i ? i - 1 : 0;

	if (s->fp_end == FPU_END_ILLEGAL_TRANSITION)
		/* i == 0: an empty FP chain; f[0] does not exist. */
		blame(v, FPU_CLASS_FP_LEAK, i, j, i ? a->f[last] : 0, last);
	else if (i == 1 && j == 1 && a->nd == 2 && !a->unverified &&
		 s->fp_end == FPU_END_CLEAN && leaf_may_lack_record(a->dres)) {
		/* In the prologue of a function whose caller is the outermost frame
		 * (called by mcall, which clears BP): only the leaf's caller is missing. */
		blame(v, FPU_CLASS_LEAF_WINDOW, i, j, a->f[0], 0);
		v->missing_pc = a->d[1];
	} else if (s->fp_end == FPU_END_DEPTH)
		return;   /* the buffer was full: nothing says the chain was short */
	else if (root_window_rule(a, v))
		return;
	else if (j == 0)
		blame(v, FPU_CLASS_FP_TRUNCATED, i, j, 0, 0);
	else
		/* The record that should have led to d[j] was not there. */
		blame_dwarf(v, FPU_CLASS_FP_TRUNCATED, a, record_owner(a, j));
}

/* DWARF ran out first (j == nd) while the FP chain goes on. */
static void dwarf_ended_first(const struct align *a, struct fpu_verdict *v)
{
	size_t j = a->j;
	if (a->dres->end == FPU_DWARF_END_ERROR || j == 0)
		blame(v, FPU_CLASS_DWARF_FAIL, a->i, j, j ? a->d[j - 1] : 0, j ? j - 1 : 0);
	else if (a->dres->end == FPU_DWARF_END_DEPTH)
		return;
	else
		/* DWARF says d[j-1] is the outermost frame; the FP chain leaves there. */
		blame_dwarf(v, FPU_CLASS_FP_LEAK, a, j - 1);
}

/*
 * DWARF's independent part is used up and the chains agreed so far: what
 * follows d[nd-1] came from rbp, so the sample is verified only to there.
 * A walker that refused a crossing is still its own evidence of a leak.
 */
static void unverified_rule(const struct align *a, struct fpu_verdict *v)
{
	if (a->i == a->nf && a->s->fp_end == FPU_END_ILLEGAL_TRANSITION && a->nf)
		blame(v, FPU_CLASS_FP_LEAK, a->i, a->j, a->f[a->nf - 1], a->nf - 1);
	else
		blame_dwarf(v, FPU_CLASS_UNVERIFIED, a, a->nd - 1);
}

void fpu_compare(const struct fpu_sample *s, const uint64_t *d, size_t nd,
		 const struct fpu_dwarf_result *dres, struct fpu_verdict *v)
{
	struct align a = { .s = s, .dres = dres, .f = s->fp_pcs, .d = d, .nf = s->nfp,
			   .nd = nd, .nd_all = nd };

	memset(v, 0, sizeof *v);
	if (s->fp_end == FPU_END_STALE) {
		/* Whatever DWARF says, the FP walker read a dead stack. */
		size_t nf = a.nf;
		blame(v, FPU_CLASS_FP_STALE, nf, 0, nf ? a.f[nf - 1] : 0, nf ? nf - 1 : 0);
		return;
	}
	if (nd == 0) {
		blame(v, FPU_CLASS_DWARF_FAIL, 0, 0, 0, 0);
		return;
	}
	if (dres->unverified_from && dres->unverified_from < nd) {
		a.nd = dres->unverified_from;
		a.unverified = 1;
	}
	while (a.i < a.nf && a.j < a.nd) {
		if (a.f[a.i] == a.d[a.j]) {
			a.i++, a.j++;
			continue;
		}
		/*
		 * Frames can be skipped only above the leaf: at j == 0 the two chains
		 * disagree on the interrupted pc itself (and d[j - 1] does not exist).
		 */
		size_t k = a.j ? skipped_frames(&a, a.f[a.i]) : 0;
		if (k && skip_rule(&a, k, v) == 0)
			continue;
		if (!k)
			diverge_rule(&a, v);
		return;
	}
	if (a.unverified && a.j >= a.nd)
		unverified_rule(&a, v);
	else if (a.i == a.nf && a.j == a.nd)
		both_ended(&a, v);
	else if (a.i == a.nf)
		fp_ended_first(&a, v);
	else
		dwarf_ended_first(&a, v);
}
