/* internal.h — shared between libfpunwind's core files; not installed. */
#ifndef FPU_INTERNAL_H
#define FPU_INTERNAL_H

#include "fpunwind.h"
#include "atomics.h"

/* A reader gives up after this many torn copies rather than spin in a handler. */
#define FPU_REGION_READ_RETRIES 8

/*
 * Copy one region field by field with relaxed loads/stores: the seqlock
 * protocol makes the copy consistent, the relaxed accesses make the race with
 * the writer a defined one (and keep ThreadSanitizer quiet).  Inline: the
 * checked walker copies one region on every walk.
 */
static inline void fpu_region_load(struct fpu_region *dst, const struct fpu_region *src)
{
	dst->lo = load_relaxed(&src->lo);
	dst->hi = load_relaxed(&src->hi);
	dst->owner = load_relaxed(&src->owner);
	dst->kind = load_relaxed(&src->kind);
	dst->flags = load_relaxed(&src->flags);
	dst->data = load_relaxed(&src->data);
}

void fpu_region_store(struct fpu_region *dst, const struct fpu_region *src);

/*
 * The two halves of one seqlock read of the current region set, shared by
 * every reader (fpu_regions_find below, fpu_regions_read in regions.c).
 * fpu_set_begin returns the set to read and its sequence and count, set NULL
 * when a writer is inside it or the count is not one a writer stores (a torn
 * read); fpu_set_valid says whether what was read in between is one state of
 * the set.  Returned by value, not through pointers to the reader's locals:
 * GCC's ASan use-after-scope marks of an inlined callee's locals misfire in
 * the walker's uninstrumented entry points.
 */
struct fpu_set_read {
	const struct fpu_region_set *set;
	uint32_t seq;
	unsigned count;
};

static inline struct fpu_set_read fpu_set_begin(const struct fpu_regions *rs)
{
	struct fpu_set_read rd;

	rd.set = &rs->set[load_acquire(&rs->current)];
	rd.seq = load_acquire(&rd.set->seq);
	rd.count = (rd.seq & 1) ? 0 : load_relaxed(&rd.set->count);
	if ((rd.seq & 1) || rd.count > FPU_MAX_REGIONS)
		rd.set = NULL;
	return rd;
}

static inline int fpu_set_valid(const struct fpu_region_set *set, uint32_t seq)
{
	fence_acquire();
	return load_relaxed(&set->seq) == seq;
}

/*
 * One attempt of fpu_regions_find: 1 or 0 as it, or -1 when the set changed
 * under the copy (or a writer was inside it).
 */
static inline __attribute__((always_inline)) int
fpu_regions_find_once(const struct fpu_regions *rs, uintptr_t addr, struct fpu_region *out)
{
	const struct fpu_set_read rd = fpu_set_begin(rs);

	if (!rd.set)
		return -1;
	int found = 0;
	for (unsigned i = 0; i < rd.count; i++) {
		const struct fpu_region *r = &rd.set->r[i];
		uintptr_t lo = load_relaxed(&r->lo), hi = load_relaxed(&r->hi);
		if (addr >= lo && addr < hi) {
			out->lo = lo;
			out->hi = hi;
			out->owner = load_relaxed(&r->owner);
			out->kind = load_relaxed(&r->kind);
			out->flags = load_relaxed(&r->flags);
			out->data = load_relaxed(&r->data);
			found = 1;
			break;
		}
	}
	return fpu_set_valid(rd.set, rd.seq) ? found : -1;
}

/* The attempts after a first one that a writer spoiled (regions.c). */
int fpu_regions_find_retry(const struct fpu_regions *rs, uintptr_t addr,
			   struct fpu_region *out);

/*
 * Reader: copy the one region of the current set that holds addr, under the
 * same seqlock protocol as fpu_regions_read.  Returns 1 (found, *out filled),
 * 0 (no region holds addr) or -1 (a writer kept the set changing).  This is
 * the checked walker's fast start: it reads two words per region and copies
 * one, where fpu_regions_read copies all of them.
 * The first attempt inline, the retries out of line: a signal handler on the
 * writer's own thread, the profiler's case, always succeeds at once, and the
 * walker's fast path then holds no retry state.
 */
static inline __attribute__((always_inline)) int
fpu_regions_find(const struct fpu_regions *rs, uintptr_t addr, struct fpu_region *out)
{
	int found = fpu_regions_find_once(rs, addr, out);

	return found >= 0 ? found : fpu_regions_find_retry(rs, addr, out);
}

/* Does [lo, hi) hold a whole frame record at fp? */
static inline int fpu_record_fits(const struct fpu_region *r, uintptr_t fp)
{
	return fp >= r->lo && r->hi >= FPU_FRAME_RECORD &&
	       fp <= r->hi - FPU_FRAME_RECORD;
}

#endif
