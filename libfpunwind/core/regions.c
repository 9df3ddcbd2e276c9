/*
 * regions.c — the stacks a thread may run on, published without locks.
 *
 * Invariant: set[current] is never written.  A writer fills set[current ^ 1]
 * inside a seqlock section (seq odd while writing), then makes it current with a
 * release store.  A reader picks set[current], copies it, and accepts the copy
 * only if the half's seq was even and unchanged across the copy.  The only
 * reader that can be preempted mid-copy by a writer of the same half is one on
 * another thread, and it retries; a signal handler on the writer's own thread
 * reads the half the writer is not touching, so it always succeeds.
 */
#include "internal.h"
#include "atomics.h"

#include <string.h>

void fpu_region_store(struct fpu_region *dst, const struct fpu_region *src)
{
	store_relaxed(&dst->lo, src->lo);
	store_relaxed(&dst->hi, src->hi);
	store_relaxed(&dst->owner, src->owner);
	store_relaxed(&dst->kind, src->kind);
	store_relaxed(&dst->flags, src->flags);
	store_relaxed(&dst->data, src->data);
}

void fpu_regions_init(struct fpu_regions *rs)
{
	memset(rs, 0, sizeof *rs);
}

static int region_is_valid(const struct fpu_region *r)
{
	return r->lo < r->hi;
}

struct fpu_region_set *fpu_regions_write_begin(struct fpu_regions *rs)
{
	struct fpu_region_set *set = &rs->set[load_relaxed(&rs->current) ^ 1];

	store_relaxed(&set->seq, load_relaxed(&set->seq) + 1);
	fence_release();
	return set;
}

void fpu_regions_write_end(struct fpu_regions *rs, struct fpu_region_set *set)
{
	store_release(&set->seq, load_relaxed(&set->seq) + 1);
	store_release(&rs->current, (uint32_t)(set - rs->set));
}

/* Publish r[0..count) as the new current set.  The single writer path. */
static void publish(struct fpu_regions *rs, const struct fpu_region *r, unsigned count)
{
	struct fpu_region_set *set = fpu_regions_write_begin(rs);

	store_relaxed(&set->count, count);
	for (unsigned i = 0; i < count; i++)
		fpu_region_store(&set->r[i], &r[i]);
	fpu_regions_write_end(rs, set);
}

/* The writer's own view of the current set: no race, the writer is alone. */
static unsigned current_copy(const struct fpu_regions *rs, struct fpu_region *out)
{
	const struct fpu_region_set *set = &rs->set[load_relaxed(&rs->current)];
	unsigned count = load_relaxed(&set->count);

	if (count > FPU_MAX_REGIONS)
		count = FPU_MAX_REGIONS;
	for (unsigned i = 0; i < count; i++)
		fpu_region_load(&out[i], &set->r[i]);
	return count;
}

static int find_lo(const struct fpu_region *r, unsigned count, uintptr_t lo)
{
	for (unsigned i = 0; i < count; i++)
		if (r[i].lo == lo)
			return (int)i;
	return -1;
}

int fpu_regions_add(struct fpu_regions *rs, const struct fpu_region *r)
{
	struct fpu_region tmp[FPU_MAX_REGIONS];
	unsigned count = current_copy(rs, tmp);

	if (!region_is_valid(r) || count == FPU_MAX_REGIONS)
		return -1;
	tmp[count++] = *r;
	publish(rs, tmp, count);
	return 0;
}

int fpu_regions_remove(struct fpu_regions *rs, uintptr_t lo)
{
	struct fpu_region tmp[FPU_MAX_REGIONS];
	unsigned count = current_copy(rs, tmp);
	int i = find_lo(tmp, count, lo);

	if (i < 0)
		return -1;
	tmp[i] = tmp[count - 1];
	publish(rs, tmp, count - 1);
	return 0;
}

int fpu_regions_move(struct fpu_regions *rs, uintptr_t old_lo, uintptr_t new_lo,
		     uintptr_t new_hi)
{
	struct fpu_region tmp[FPU_MAX_REGIONS];
	unsigned count = current_copy(rs, tmp);
	int i = find_lo(tmp, count, old_lo);

	if (i < 0 || new_lo >= new_hi)
		return -1;
	tmp[i].lo = new_lo;
	tmp[i].hi = new_hi;
	publish(rs, tmp, count);
	return 0;
}

int fpu_regions_replace(struct fpu_regions *rs, const struct fpu_region *r,
			unsigned count)
{
	if (count > FPU_MAX_REGIONS)
		return -1;
	for (unsigned i = 0; i < count; i++)
		if (!region_is_valid(&r[i]))
			return -1;
	publish(rs, r, count);
	return 0;
}

int fpu_regions_read(const struct fpu_regions *rs, struct fpu_region *out,
		     unsigned max)
{
	for (int attempt = 0; attempt < FPU_REGION_READ_RETRIES; attempt++) {
		const struct fpu_set_read rd = fpu_set_begin(rs);
		if (!rd.set)
			continue;
		unsigned n = rd.count < max ? rd.count : max;
		for (unsigned i = 0; i < n; i++)
			fpu_region_load(&out[i], &rd.set->r[i]);
		if (fpu_set_valid(rd.set, rd.seq))
			return (int)rd.count;
	}
	return -1;
}

int fpu_regions_find_retry(const struct fpu_regions *rs, uintptr_t addr,
			   struct fpu_region *out)
{
	for (int attempt = 1; attempt < FPU_REGION_READ_RETRIES; attempt++) {
		int found = fpu_regions_find_once(rs, addr, out);
		if (found >= 0)
			return found;
	}
	return -1;
}
