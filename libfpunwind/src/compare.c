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
	[FPU_CLASS_TO_SWITCH] = "to-switch",
};

const char *fpu_class_name(enum fpu_class c)
{
	return (unsigned)c < FPU_CLASS_COUNT ? class_names[c] : "unknown";
}

int fpu_class_is_malignant(enum fpu_class c)
{
	return c != FPU_CLASS_MATCH && c != FPU_CLASS_LEAF_WINDOW &&
	       c != FPU_CLASS_DWARF_FAIL && c != FPU_CLASS_TO_SWITCH &&
	       (unsigned)c < FPU_CLASS_COUNT;
}

/*
 * A frameless function X between Z (its callee) and Y (its caller) hides Y: Z's
 * saved fp is Y's, so the FP chain reads Z, X, then Y's caller.  Up to this many
 * consecutive frameless callers are recognised as skips rather than divergence.
 */
#define MAX_SKIPPED 4

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

/* Does D[j+1 .. j+MAX_SKIPPED] hold pc?  Returns how many DWARF frames FP skipped. */
static size_t skipped_frames(const uint64_t *d, size_t nd, size_t j, uint64_t pc)
{
	for (size_t k = 1; k <= MAX_SKIPPED && j + k < nd; k++)
		if (d[j + k] == pc)
			return k;
	return 0;
}

/* The FP chain ran out first (i == nf) while DWARF goes on. */
static void fp_ended_first(const struct fpu_sample *s, const uint64_t *d, size_t nd,
			   size_t i, size_t j, struct fpu_verdict *v)
{
	const uint64_t *f = s->fp_pcs;
	size_t last = i ? i - 1 : 0;

	if (s->fp_end == FPU_END_ILLEGAL_TRANSITION)
		/* i == 0: an empty FP chain; f[0] does not exist. */
		blame(v, FPU_CLASS_FP_LEAK, i, j, i ? f[last] : 0, last);
	else if (i == 1 && j == 1 && nd == 2 && s->fp_end == FPU_END_CLEAN) {
		/* In the prologue of a function whose caller is the outermost frame
		 * (called by mcall, which clears BP): only the leaf's caller is missing. */
		blame(v, FPU_CLASS_LEAF_WINDOW, i, j, f[0], 0);
		v->missing_pc = d[1];
	} else if (s->fp_end == FPU_END_DEPTH)
		return;   /* the buffer was full: nothing says the chain was short */
	else
		blame(v, FPU_CLASS_FP_TRUNCATED, i, j, i ? f[last] : 0, last);
}

/* DWARF ran out first (j == nd) while the FP chain goes on. */
static void dwarf_ended_first(const struct fpu_dwarf_result *dres, const uint64_t *d,
			      size_t i, size_t j, struct fpu_verdict *v)
{
	if (dres->end == FPU_DWARF_END_ERROR || j == 0)
		blame(v, FPU_CLASS_DWARF_FAIL, i, j, j ? d[j - 1] : 0, j ? j - 1 : 0);
	else if (dres->end == FPU_DWARF_END_DEPTH)
		return;
	else
		/* DWARF says d[j-1] is the outermost frame; the FP chain leaves there. */
		blame(v, FPU_CLASS_FP_LEAK, i, j, d[j - 1], j - 1);
}

void fpu_compare(const struct fpu_sample *s, const uint64_t *d, size_t nd,
		 const struct fpu_dwarf_result *dres, struct fpu_verdict *v)
{
	const uint64_t *f = s->fp_pcs;
	size_t nf = s->nfp, i = 0, j = 0;

	memset(v, 0, sizeof *v);
	if (s->fp_end == FPU_END_STALE) {
		/* Whatever DWARF says, the FP walker read a dead stack. */
		blame(v, FPU_CLASS_FP_STALE, nf, 0, nf ? f[nf - 1] : 0, nf ? nf - 1 : 0);
		return;
	}
	if (nd == 0) {
		blame(v, FPU_CLASS_DWARF_FAIL, 0, 0, 0, 0);
		return;
	}
	while (i < nf && j < nd) {
		if (f[i] == d[j]) {
			i++, j++;
			continue;
		}
		/*
		 * Frames can be skipped only above the leaf: at j == 0 the two chains
		 * disagree on the interrupted pc itself (and d[j - 1] does not exist).
		 */
		size_t k = j ? skipped_frames(d, nd, j, f[i]) : 0;
		/*
		 * Where a gap of k frames sits is ambiguous next to equal pcs: with
		 * d = [leaf, X, X, Y] and f = [leaf, X, Y] the FP chain lacks one X,
		 * and either may be called missing (rt_asmcgocall has two frames
		 * with one pc, its g0 record and its goroutine frame).  Slide the gap
		 * left as far as the equal pcs allow: the leftmost reading is the
		 * one where a frameless leaf explains it.
		 */
		size_t g = j;
		for (size_t t = i; k && g > 1 && t > 0 && f[t - 1] == d[g - 1 + k]; t--)
			g--;
		if (k == 1 && g == 1) {
			/* The leaf at rip had no frame (yet, or any more): benign. */
			blame(v, FPU_CLASS_LEAF_WINDOW, i, j, d[0], 0);
			v->missing_pc = d[1];
			j += k;
			continue;
		}
		if (k) {
			/*
			 * d[g-1] ran without a frame pointer and hid its caller d[g].  At
			 * g == 1 the leaf's own missing caller is the benign part; what
			 * else is missing was hidden by that caller, d[1], itself frameless.
			 */
			size_t at = g == 1 ? 2 : g;
			blame(v, FPU_CLASS_FP_SKIPS, i - (j - g), at, d[at - 1], at - 1);
			v->missing_pc = d[at];
			return;
		}
		if (j + 1 >= nd && dres->end == FPU_DWARF_END_ERROR) {
			/* DWARF's last frame is already doubtful: not evidence. */
			blame(v, FPU_CLASS_DWARF_FAIL, i, j, d[j], j);
			return;
		}
		blame(v, FPU_CLASS_FP_DIVERGE, i, j, i ? f[i - 1] : f[0], i ? i - 1 : 0);
		return;
	}
	if (i == nf && j == nd) {
		/* Same frames, but the walker refused to follow a stack switch at a
		 * pc that is no transition: what perf's raw walk would leak into. */
		if (s->fp_end == FPU_END_ILLEGAL_TRANSITION)
			blame(v, FPU_CLASS_FP_LEAK, i, j, f[nf - 1], nf - 1);
		/* Both stopped at the end of a stack copy that was too short (a perf
		 * dump walked in place): agreement up to there proves nothing. */
		else if (dres->end == FPU_DWARF_END_ERROR && dres->read_outside_snapshot &&
			 v->cls == FPU_CLASS_MATCH)
			blame(v, FPU_CLASS_DWARF_FAIL, i, j, d[nd - 1], nd - 1);
		return;
	}
	if (i == nf)
		fp_ended_first(s, d, nd, i, j, v);
	else
		dwarf_ended_first(dres, d, i, j, v);
}
