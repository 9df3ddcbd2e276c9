/*
 * stackscan.c — FPRT_DEBUG=stackscanreport: what copystack's conservative scan
 * relocated that nothing else accounts for.
 *
 * copystack relocates every aligned word of the used stack that points into
 * the old stack (stack.c).  Most of those words are saved frame pointers (the
 * frame chain) or tracked slots, which the runtime relocates by rule.  The
 * rest are relocated only because the scan is conservative: stack addresses
 * that the C compiler spilled or that a prologue pushed with a callee-saved
 * register, words that assembly parked on the stack, or integers that only
 * look like addresses.  The scan silently heals them, and a stale frame
 * pointer among them would be healed too; this report lists each one, with
 * the function whose frame holds it, so that a reader can tell which code
 * depends on the scan.
 *
 * One line per word, on stderr:
 *   stackscan: goroutine 4 [lo, hi) -> [lo, hi): word at hi-0x58 in
 *   rt_cgocallback_asm+0x4e: 0x7f...fa8 -> 0x7f...fa8 (neither a saved frame
 *   pointer nor a tracked slot)
 * "hi-0x58" is the word's depth below the stack top, the same before and
 * after the move; the function is the one whose frame holds the word: on
 * amd64 the one the frame record below the word returns into (locals lie
 * below their function's record), on arm64 the one that frame record belongs
 * to (GCC puts the AAPCS64 record at the bottom of the frame, locals above
 * it), except above the outermost record on the stack, where the words belong
 * to the code that entered the stack (rt_cgocallback_asm parks curg's sched
 * there): the one that record returns into; sched.pc's for words below the
 * innermost frame record.
 */
#include "rt.h"

/* Where a word lies relative to one frame chain of the goroutine. */
struct chain_pos {
	bool saved_fp;       /* the word is a frame record's saved frame pointer */
	uintptr_t below;     /* the highest frame record below the word, or 0 */
	uintptr_t below_pc;  /* a pc in the function that record belongs to */
	bool below_outermost; /* that record's caller's record is off this stack */
};

/* Walks one chain inside the old stack, with the walker's rules (aligned,
 * strictly increasing, room for the record), so that a broken chain ends the
 * walk instead of faulting. */
RT_NO_ASAN static void chain_locate(uintptr_t fp, uintptr_t pc, struct rt_stack old,
				    uintptr_t word, struct chain_pos *pos)
{
	while (fp >= old.lo && fp + 16 <= old.hi && !(fp & 7)) {
		if (fp == word)
			pos->saved_fp = true;
		uintptr_t next = *(uintptr_t *)fp;
		if (fp < word && fp > pos->below) {
			pos->below = fp;
			pos->below_pc = pc;
			pos->below_outermost = next < old.lo || next >= old.hi;
		}
		pc = *(uintptr_t *)(fp + 8);   /* the next record's function */
		if (next <= fp)
			break;
		fp = next;
	}
}

/* The goroutine's frame chains: the one from sched.bp and, while it is in a
 * cgo callback, the chains that asmcgocall's records on g0 lead to (the frames
 * below the callback, which called into C). */
RT_NO_ASAN static struct chain_pos locate(struct rt_g *gp, struct rt_stack old, uintptr_t word)
{
	struct chain_pos pos = { false, 0, 0, false };
	chain_locate(gp->sched.bp, gp->sched.pc, old, word, &pos);
	for (struct rt_cgoframe *r = gp->m ? gp->m->cgoframe : NULL; r; r = r->prev)
		if (r->g == gp)
			chain_locate(r->fp, r->ret, old, word, &pos);
	return pos;
}

static bool tracked(const struct rt_g *gp, uintptr_t word)
{
	for (uint32_t i = 0; i < gp->nslots; i++)
		if ((uintptr_t)gp->slots[i] == word)
			return true;
	return false;
}

/* Called by copystack before the copy: [sp, old.hi) is the used old stack,
 * gp's sched, slots and cgo records still hold old-stack addresses. */
RT_NO_ASAN void rt_stackscan_report(struct rt_g *gp, struct rt_stack old, struct rt_stack new,
				    uintptr_t sp)
{
	uintptr_t delta = new.hi - old.hi;
	for (uintptr_t w = sp; w < old.hi; w += 8) {
		uintptr_t v = *(uintptr_t *)w;
		if (v < old.lo || v >= old.hi || tracked(gp, w))
			continue;
		struct chain_pos pos = locate(gp, old, w);
		if (pos.saved_fp)
			continue;
#if defined(__aarch64__)
		uintptr_t pc = !pos.below ? gp->sched.pc
			       : pos.below_outermost ? *(uintptr_t *)(pos.below + 8)
			       : pos.below_pc;
#else
		uintptr_t pc = pos.below ? *(uintptr_t *)(pos.below + 8) : gp->sched.pc;
#endif
		char fn[256];
		rt_symbolize(pc, fn, sizeof fn);
		rt_printf(2, "stackscan: goroutine %llu [%#lx, %#lx) -> [%#lx, %#lx): word at "
			  "hi-%#lx in %s: %#lx -> %#lx (neither a saved frame pointer nor a "
			  "tracked slot)\n", (unsigned long long)gp->goid, old.lo, old.hi, new.lo,
			  new.hi, old.hi - w, fn, v, v + delta);
	}
}
