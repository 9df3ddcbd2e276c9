/* internal.h — shared between libfpunwind's core files; not installed. */
#ifndef FPU_INTERNAL_H
#define FPU_INTERNAL_H

#include "fpunwind.h"

/*
 * Copy one region field by field with relaxed loads/stores: the seqlock
 * protocol makes the copy consistent, the relaxed accesses make the race with
 * the writer a defined one (and keep ThreadSanitizer quiet).
 */
void fpu_region_load(struct fpu_region *dst, const struct fpu_region *src);
void fpu_region_store(struct fpu_region *dst, const struct fpu_region *src);

/* Does [lo, hi) hold a whole frame record at fp? */
static inline int fpu_record_fits(const struct fpu_region *r, uintptr_t fp)
{
	return fp >= r->lo && r->hi >= FPU_FRAME_RECORD &&
	       fp <= r->hi - FPU_FRAME_RECORD;
}

#endif
