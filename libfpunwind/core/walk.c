/*
 * walk.c — the raw and the checked frame-pointer walkers.
 *
 * The checked walker's promise: it reads a word only if the whole frame record
 * holding it lies inside one of the regions it was given, so a chain that is
 * garbage, stale or leaking ends the walk with a reason instead of a fault.  It
 * keeps that promise at nearly the cost of the raw loop because the common step
 * (the next fp is higher on the same stack, aligned, with room for its record)
 * is decided by one unsigned compare and one mask against bounds held in
 * registers; everything else (zero, another stack, a grave) is the slow path.
 */
#include "internal.h"
#include "atomics.h"

#include <stddef.h>
#include <string.h>
#include <ucontext.h>

/*
 * The walker reads other frames' memory by design: under AddressSanitizer the
 * words it reads on a live stack sit between instrumented frames' redzones,
 * and a report there would be about ASan's bookkeeping, not a bad read (the
 * region checks are what keep the walker inside mapped stacks).
 */
#if defined(__SANITIZE_ADDRESS__)
#define NO_ASAN __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#ifndef NO_ASAN
#define NO_ASAN
#endif

NO_ASAN size_t fpu_walk(uintptr_t fp, uintptr_t *pcs, size_t max)
{
	size_t n = 0;

	while (fp && n < max) {
		const uintptr_t *rec = (const uintptr_t *)fp;
		uintptr_t ret = rec[1];
		if (!ret)
			break;
		pcs[n++] = ret;
		fp = rec[0];
	}
	return n;
}

/*
 * The regions of the general walk.  A walk starts with only the region that
 * holds sp (find_sp_region, in walk_checked): most chains never leave it, and
 * copying every region of the set was most of the cost of a short walk.  The
 * first time the chain leaves the common case, walk_complete copies the whole
 * set, once; from then on the loop never rereads shared state.
 */
struct walk {
	const struct fpu_ctx *ctx;
	struct fpu_region reg[FPU_MAX_REGIONS];
	/*
	 * floor[i]: the lowest fp at which the chain may (re-)enter region i.  A chain
	 * that leaves a stack and comes back (goroutine -> g0 -> goroutine in a cgo
	 * callback) must come back above where it left, or it is a cycle that only
	 * the depth limit would stop.
	 */
	uintptr_t floor[FPU_MAX_REGIONS];
	uint32_t left;            /* bit i: floor[i] is set (the chain left region i) */
	unsigned count;
	int partial;              /* reg[0] is sp's region, the others are not loaded */
};

/* Copy every region of the context.  0, or -1 if a writer kept changing them. */
static int walk_load_regions(struct walk *w)
{
	const struct fpu_ctx *ctx = w->ctx;
	int n;

	if (ctx->regions) {
		n = fpu_regions_read(ctx->regions, w->reg, FPU_MAX_REGIONS);
		if (n < 0)
			return -1;
		if (n > FPU_MAX_REGIONS)
			n = FPU_MAX_REGIONS;
	} else {
		n = ctx->nfixed < FPU_MAX_REGIONS ? (int)ctx->nfixed : FPU_MAX_REGIONS;
		if (n > 0)
			memcpy(w->reg, ctx->fixed, (size_t)n * sizeof w->reg[0]);
	}
	w->count = (unsigned)n;
	w->partial = 0;
	return 0;
}

/*
 * The region holding sp, copied to *out: 1 found, 0 not found, -1 the set kept
 * changing.  Only this one region is copied: most chains never leave it.
 */
static inline __attribute__((always_inline)) int
find_sp_region(const struct fpu_ctx *ctx, uintptr_t sp, struct fpu_region *out)
{
	if (ctx->regions)
		return fpu_regions_find(ctx->regions, sp, out);
	size_t n = ctx->nfixed < FPU_MAX_REGIONS ? ctx->nfixed : FPU_MAX_REGIONS;
	for (size_t i = 0; i < n; i++)
		if (sp >= ctx->fixed[i].lo && sp < ctx->fixed[i].hi) {
			*out = ctx->fixed[i];
			return 1;
		}
	return 0;
}

/* The start of a walk that has only sp's region, region, as reg[0]. */
static void walk_begin_partial(struct walk *w, const struct fpu_ctx *ctx,
			       const struct fpu_region *region)
{
	w->ctx = ctx;
	w->left = 0;
	w->reg[0] = *region;
	w->count = 1;
	w->partial = 1;
}

/*
 * Leave the fast start: copy the whole set and return the index, in the new
 * copy, of the region the walk is in (*ri).  The set may have changed since
 * the fast start; the region the chain has been walking was valid when the walk
 * began, as every region of a full copy is, so it is kept even if the writer
 * has since removed it.  -1 if a writer kept the set changing.
 */
static int walk_complete(struct walk *w, int *ri)
{
	struct fpu_region cur;
	int have = 0;

	if (!w->partial)
		return 0;
	if (*ri >= 0) {
		cur = w->reg[*ri];
		have = 1;
	}
	if (walk_load_regions(w) < 0)
		return -1;
	if (!have)
		return 0;
	for (unsigned i = 0; i < w->count; i++)
		if (w->reg[i].lo == cur.lo && w->reg[i].hi == cur.hi) {
			w->reg[i] = cur;
			*ri = (int)i;
			return 0;
		}
	if (w->count == FPU_MAX_REGIONS)
		w->count--;
	w->reg[w->count] = cur;
	*ri = (int)w->count++;
	return 0;
}

/* The region holding a whole frame record at fp, or -1. */
static int region_of_record(const struct walk *w, uintptr_t fp)
{
	for (unsigned i = 0; i < w->count; i++)
		if (fpu_record_fits(&w->reg[i], fp))
			return (int)i;
	return -1;
}

/* The region holding the byte at addr (for sp, which needs no record), or -1. */
static int region_of_addr(const struct walk *w, uintptr_t addr)
{
	for (unsigned i = 0; i < w->count; i++)
		if (addr >= w->reg[i].lo && addr < w->reg[i].hi)
			return (int)i;
	return -1;
}

static void set_region(struct fpu_region *dst, const struct walk *w, int i)
{
	if (i >= 0)
		*dst = w->reg[i];
	else
		memset(dst, 0, sizeof *dst);
}

/*
 * Why fp cannot be walked when it lies in no region's record range: too close to
 * a region's top, inside a dead stack, or nowhere at all.
 */
static enum fpu_end classify_outside(const struct walk *w, uintptr_t fp,
				     struct fpu_walk_result *res)
{
	int i = region_of_addr(w, fp);

	if (i >= 0) {
		set_region(&res->to, w, i);
		return FPU_END_REGION_TOP;
	}
	if (fpu_graveyard_find(w->ctx->graveyard, fp, FPU_FRAME_RECORD, &res->grave))
		return FPU_END_STALE;
	return FPU_END_OUT_OF_BOUNDS;
}

/*
 * May the chain move from region `from` to the record at fp, given that the
 * frame doing so is at pc and that the record it leaves belongs to code at
 * owner (0: unknown)?  A transition at pc allows it; so does a transition at
 * owner that owns a kernel signal frame (arm64's sigreturn trampoline: see
 * FPU_TRANSITION_OWNS_SIGFRAME).  Returns the region index to continue in, or
 * -1 with res->end set.
 */
static int crossing_allowed(const struct fpu_transitions *ts, uintptr_t pc,
			    uintptr_t owner)
{
	if (fpu_transitions_find(ts, pc))
		return 1;
	const struct fpu_transition *t = owner ? fpu_transitions_find(ts, owner) : NULL;
	return t && (t->flags & FPU_TRANSITION_OWNS_SIGFRAME);
}

static int cross(struct walk *w, int from, uintptr_t from_fp, uintptr_t fp,
		 uintptr_t pc, uintptr_t owner, struct fpu_walk_result *res)
{
	int to = region_of_record(w, fp);

	if (to < 0) {
		res->end = classify_outside(w, fp, res);
		return -1;
	}
	set_region(&res->to, w, to);
	if (!crossing_allowed(w->ctx->transitions, pc, owner)) {
		res->end = FPU_END_ILLEGAL_TRANSITION;
		return -1;
	}
	if ((w->left & (1u << to)) && fp < w->floor[to]) {
		res->end = FPU_END_NOT_INCREASING;
		return -1;
	}
	if (from >= 0) {
		w->floor[from] = from_fp + FPU_FRAME_RECORD;
		w->left |= 1u << from;
	}
	memset(&res->to, 0, sizeof res->to);
	if (res->crossings < FPU_MAX_CROSSINGS)
		res->cross_fp[res->crossings] = fp;
	res->crossings++;
	return to;
}

/*
 * One stretch of the chain inside one region: the hot loop.  `live` is a
 * compile-time constant at both call sites (always_inline), so the loop for
 * live stacks has no `fp + delta` add on the load-to-load dependency chain that
 * sets the pace of every frame; snapshots (delta != 0) get their own copy.
 * Returns the pcs end pointer.  *broke says the chain left the common case:
 * then *fpp is the fp whose record was read last and *nextp its saved fp, which
 * the caller classifies; else the buffer is full and *fpp the next record.
 */
static inline __attribute__((always_inline)) NO_ASAN uintptr_t *
walk_region(uintptr_t *out, uintptr_t *end, uintptr_t *fpp, uintptr_t *nextp,
	    uintptr_t *retp, int *broke, uintptr_t top, uintptr_t delta, const int live)
{
	uintptr_t fp = *fpp;

	*broke = 0;
	while (out < end) {
		uintptr_t next, ret;
		if (live) {
			const uintptr_t *rec = (const uintptr_t *)fp;
			next = rec[0];
			ret = rec[1];
		} else {
			/* A copy need not keep the stack's alignment (a segment of a
			 * hostile file may start at any lo): unaligned loads, which
			 * are plain movs on x86-64 and plain ldrs on arm64. */
			const unsigned char *rec = (const unsigned char *)(fp + delta);
			__builtin_memcpy(&next, rec, sizeof next);
			__builtin_memcpy(&ret, rec + sizeof next, sizeof ret);
		}
		*out++ = ret;
		/* fp < next <= top and aligned: the common step, nothing to decide. */
		if (next <= fp || next > top || (next & 7)) {
			*nextp = next;
			*retp = ret;
			*broke = 1;
			break;
		}
		fp = next;
	}
	*fpp = fp;
	return out;
}

/* walk_region over region r: its live loop, or its copy's (r->data). */
static inline __attribute__((always_inline)) NO_ASAN uintptr_t *
walk_in(const struct fpu_region *r, uintptr_t *out, uintptr_t *end, uintptr_t *fpp,
	uintptr_t *nextp, uintptr_t *retp, int *broke)
{
	const uintptr_t top = r->hi - FPU_FRAME_RECORD;

	if (r->data)
		return walk_region(out, end, fpp, nextp, retp, broke, top,
				   (uintptr_t)r->data - r->lo, 0);
	return walk_region(out, end, fpp, nextp, retp, broke, top, 0, 1);
}

/*
 * The chain has left the common case in region reg[*ri]: the record at *fpp
 * (its return address ret is out[-1]) holds the saved fp next, which is zero,
 * misaligned, not above *fpp, near the region's top, or on another stack.
 * Returns 1 when the walk goes on, from the record at *fpp in region reg[*ri];
 * 0 when it ended, with res->end (and res->fp) set.
 */
static int leave_region(struct walk *w, int *ri, uintptr_t *fpp, uintptr_t next,
			uintptr_t ret, const uintptr_t *pcs, const uintptr_t *out,
			struct fpu_walk_result *res)
{
	const struct fpu_region *r = &w->reg[*ri];
	const uintptr_t fp = *fpp, top = r->hi - FPU_FRAME_RECORD;

	res->fp = next;
	if (next == 0) {
		res->end = FPU_END_CLEAN;
		return 0;
	}
	if (next & 7) {
		res->end = FPU_END_MISALIGNED;
		return 0;
	}
	if (next >= r->lo && next <= fp) {
		res->end = FPU_END_NOT_INCREASING;
		return 0;
	}
	if (next > top && next < r->hi) {
		res->end = FPU_END_REGION_TOP;
		return 0;
	}
	if (walk_complete(w, ri) < 0) {
		res->end = FPU_END_NO_REGIONS;
		return 0;
	}
	/* out[-1] is ret; out[-2], when written, returns into the code that
	 * owns the record at fp. */
	uintptr_t owner = out - pcs >= 2 ? out[-2] : 0;
	int to = cross(w, *ri, fp, next, ret, owner, res);
	if (to < 0)
		return 0;   /* res->from stays the region the chain tried to leave */
	*ri = to;
	*fpp = next;
	return 1;
}

/* The end of every walk but the fast path's common ones. */
static size_t walk_finish(const struct walk *w, int ri, const uintptr_t *pcs,
			  const uintptr_t *out, struct fpu_walk_result *res)
{
	size_t n = (size_t)(out - pcs);

	set_region(&res->from, w, ri);
	res->frames = (uint32_t)n;
	res->pc = n ? pcs[n - 1] : 0;
	return n;
}

/*
 * The loop.  Invariant on entry and whenever a region is (re)entered: fp is
 * 8-aligned and its whole record lies in reg[ri].  pcs[0..n) are filled.
 */
static NO_ASAN size_t walk_loop(struct walk *w, int ri, uintptr_t fp, uintptr_t *pcs,
			size_t n, size_t max, struct fpu_walk_result *res)
{
	uintptr_t *out = pcs + n, *const end = pcs + max;

	for (;;) {
		const struct fpu_region *r = &w->reg[ri];
		uintptr_t next = 0, ret = 0;
		int broke;

		out = walk_in(r, out, end, &fp, &next, &ret, &broke);
		if (!broke) {   /* the buffer filled up on a sound chain */
			res->fp = fp;
			res->end = FPU_END_DEPTH;
			break;
		}
		if (!leave_region(w, &ri, &fp, next, ret, pcs, out, res))
			break;
	}
	return walk_finish(w, ri, pcs, out, res);
}

/*
 * The fast path's chain left sp's region (held in res->from) at the record at
 * fp, whose return address is out[-1] and whose saved fp, res->fp, is not the
 * common step: carry on with the general walk from there.  Out of line (most
 * walks never get here, and its frame is large), with few enough arguments to
 * be a tail call, so the fast path keeps no register across it.
 */
static __attribute__((noinline)) NO_ASAN size_t
walk_resume(const struct fpu_ctx *ctx, uintptr_t fp, uintptr_t *pcs, uintptr_t *out,
	    size_t max, struct fpu_walk_result *res)
{
	struct walk w;
	int ri = 0;

	walk_begin_partial(&w, ctx, &res->from);
	if (leave_region(&w, &ri, &fp, res->fp, out[-1], pcs, out, res))
		return walk_loop(&w, ri, fp, pcs, (size_t)(out - pcs), max, res);
	return walk_finish(&w, ri, pcs, out, res);
}

/*
 * Every start the fast path does not take: fp not a record above sp on sp's
 * own stack, no sp, or sp in no region.  pcs[0..n0) already hold the starting
 * pc (if any), n0 = res->frames (walk_result_begin); that pc, pcs[0], is the
 * frame that owns fp (for the legality of a first step onto another stack).
 * Few arguments, for a tail call (see walk_resume).
 */
static __attribute__((noinline)) size_t
walk_start(const struct fpu_ctx *ctx, uintptr_t sp, uintptr_t fp, uintptr_t *pcs,
	   size_t max, struct fpu_walk_result *res)
{
	const size_t n0 = res->frames;
	const uintptr_t pc = n0 ? pcs[0] : 0;
	struct walk w;
	int ri, si;

	res->pc = pc;
	res->fp = fp;
	res->from.kind = FPU_REGION_NONE;
	w.ctx = ctx;
	w.left = 0;
	if (walk_load_regions(&w) < 0) {
		res->end = FPU_END_NO_REGIONS;
		return n0;
	}
	if (fp == 0) {
		res->end = FPU_END_CLEAN;
		return n0;
	}
	if (fp & 7) {
		res->end = FPU_END_MISALIGNED;
		return n0;
	}
	si = sp ? region_of_addr(&w, sp) : -1;
	set_region(&res->from, &w, si);
	if (si >= 0 && fpu_record_fits(&w.reg[si], fp)) {
		/* A frame pointer below the stack pointer is no frame of this stack. */
		if (fp < sp) {
			res->end = FPU_END_NOT_INCREASING;
			return n0;
		}
		ri = si;
	} else if (si >= 0 && n0 == 0) {
		/*
		 * No pc owns fp (fpu_walk_checked): leaving sp's stack is never
		 * legal, even if some transition range happens to hold pc 0.
		 */
		ri = region_of_record(&w, fp);
		if (ri < 0) {
			res->end = classify_outside(&w, fp, res);
		} else {
			set_region(&res->to, &w, ri);
			res->end = FPU_END_ILLEGAL_TRANSITION;
			ri = -1;
		}
	} else if (si >= 0) {
		ri = cross(&w, si, sp, fp, pc, 0, res);
	} else {
		ri = region_of_record(&w, fp);
		if (ri < 0)
			res->end = classify_outside(&w, fp, res);
	}
	if (ri < 0)
		return n0;
	return walk_loop(&w, ri, fp, pcs, n0, max, res);
}

/*
 * Only the small fields: the regions and the grave are written where a walk
 * ends or when they apply, and pc and fp where it ends, which keeps the fixed
 * cost of a walk, paid on every sample, to a few stores.  frames holds n0 for
 * walk_start until the walk ends.
 */
static inline __attribute__((always_inline)) void
walk_result_begin(struct fpu_walk_result *res, size_t n0)
{
	res->frames = (uint32_t)n0;
	res->crossings = 0;
	res->to.kind = FPU_REGION_NONE;
	res->to.lo = res->to.hi = 0;
	res->grave.lo = res->grave.hi = 0;
	res->grave.why = 0;
}

/*
 * Every walk starts here.  The common one, fp a record above sp on sp's own
 * stack, is done in this one frame: find sp's region straight into res->from
 * (its only copy), walk it, and end on a saved fp of 0 or a full buffer, with
 * the same checks per frame as the general loop (walk_region).  Anything else
 * (another start, a chain that leaves the region or breaks) goes out of line
 * to the general walk, which decides exactly as it would have from the start:
 * the fixed cost of a short walk is what a profiler pays on every sample.
 */
static inline __attribute__((always_inline)) NO_ASAN size_t
walk_checked(const struct fpu_ctx *ctx, uintptr_t sp, uintptr_t fp, uintptr_t *pcs,
	     size_t n0, size_t max, struct fpu_walk_result *res)
{
	walk_result_begin(res, n0);
	if (!sp || fp < sp || (fp & 7) || find_sp_region(ctx, sp, &res->from) != 1 ||
	    !fpu_record_fits(&res->from, fp))
		return walk_start(ctx, sp, fp, pcs, max, res);

	const struct fpu_region *r = &res->from;
	uintptr_t *out = pcs + n0, *const end = pcs + max;
	uintptr_t next = 0, ret = 0;
	int broke;

	out = walk_in(r, out, end, &fp, &next, &ret, &broke);
	if (!broke) {
		res->end = FPU_END_DEPTH;
		res->fp = fp;
	} else if (next == 0) {
		res->end = FPU_END_CLEAN;
		res->fp = 0;
	} else {
		res->fp = next;
		return walk_resume(ctx, fp, pcs, out, max, res);
	}
	size_t n = (size_t)(out - pcs);
	res->frames = (uint32_t)n;
	res->pc = n ? out[-1] : 0;
	return n;
}

/*
 * The entries start on a cache line: each inlines the fast path, and where its
 * hot loop falls against 64-byte lines and branch-predictor blocks moved the
 * loop's cost per frame by 15% from one program to the next (bench/unwind at
 * depth 128: 0.91 or 1.04 ns, the same object file linked elsewhere).
 */
#define WALK_ENTRY_ALIGN __attribute__((aligned(64)))
/* The entries hold the inlined fast path's loop: not instrumented either. */

WALK_ENTRY_ALIGN NO_ASAN
size_t fpu_walk_checked(const struct fpu_ctx *ctx, uintptr_t sp, uintptr_t fp,
			uintptr_t *pcs, size_t max, struct fpu_walk_result *res)
{
	/* No pc owns fp: a first step onto another stack can never be legal. */
	return walk_checked(ctx, sp, fp, pcs, 0, max, res);
}

WALK_ENTRY_ALIGN NO_ASAN
size_t fpu_walk_from(const struct fpu_ctx *ctx, uintptr_t pc, uintptr_t sp,
		     uintptr_t bp, uintptr_t *pcs, size_t max,
		     struct fpu_walk_result *res)
{
	if (max == 0) {
		memset(res, 0, sizeof *res);
		res->end = FPU_END_DEPTH;
		return 0;
	}
	pcs[0] = pc;
	return walk_checked(ctx, sp, bp, pcs, 1, max, res);
}

size_t fpu_walk_ucontext(const struct fpu_ctx *ctx, const void *ucontext,
			 uintptr_t *pcs, size_t max, struct fpu_walk_result *res)
{
	const ucontext_t *uc = ucontext;
#if defined(__aarch64__)
	const mcontext_t *m = &uc->uc_mcontext;

	return fpu_walk_from(ctx, (uintptr_t)m->pc, (uintptr_t)m->sp,
			     (uintptr_t)m->regs[29], pcs, max, res);
#elif defined(__x86_64__)
	const greg_t *g = uc->uc_mcontext.gregs;

	return fpu_walk_from(ctx, (uintptr_t)g[REG_RIP], (uintptr_t)g[REG_RSP],
			     (uintptr_t)g[REG_RBP], pcs, max, res);
#else
#error "fpu_walk_ucontext: only x86-64 and arm64 are supported"
#endif
}

__attribute__((noinline)) WALK_ENTRY_ALIGN NO_ASAN
size_t fpu_walk_here(const struct fpu_ctx *ctx, uintptr_t *pcs, size_t max,
		     struct fpu_walk_result *res)
{
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	size_t n = walk_checked(ctx, fp, fp, pcs, 0, max, res);

	/* Not a tail call: our frame record must stay live while it is read. */
	__asm__ volatile("" : : "r"(n) : "memory");
	return n;
}
