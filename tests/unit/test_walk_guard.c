/*
 * The checked walker must never read outside its regions.  These tests put the
 * region between PROT_NONE pages: a read past a bound is a SIGSEGV, which
 * Criterion reports as a crash, so each test fails if the walker over-reads.
 */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fpunwind.h"

static size_t page;
static uint8_t *map;            /* guard | region | guard */
static uintptr_t lo, hi;
static struct fpu_region region;
static struct fpu_ctx ctx;
static uintptr_t pcs[16];
static struct fpu_walk_result res;

static void setup(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	map = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(mprotect(map + page, page, PROT_READ | PROT_WRITE), 0);
	lo = (uintptr_t)map + page;
	hi = lo + page;
	region = (struct fpu_region){ .lo = lo, .hi = hi, .kind = FPU_REGION_THREAD };
	ctx = (struct fpu_ctx){ .fixed = &region, .nfixed = 1 };
}

static void teardown(void)
{
	munmap(map, 3 * page);
}

static void put(uintptr_t at, uintptr_t next, uintptr_t ret)
{
	((uintptr_t *)at)[0] = next;
	((uintptr_t *)at)[1] = ret;
}

TestSuite(guard, .init = setup, .fini = teardown);

Test(guard, start_at_last_word)
{
	cr_assert_eq(fpu_walk_checked(&ctx, lo, hi - 8, pcs, 16, &res), 0);
	cr_assert_eq(res.end, FPU_END_REGION_TOP, "end %s", fpu_end_name(res.end));
}

Test(guard, next_at_last_word)
{
	put(lo + 64, hi - 8, 0x1234);
	cr_assert_eq(fpu_walk_checked(&ctx, lo, lo + 64, pcs, 16, &res), 1);
	cr_assert_eq(res.end, FPU_END_REGION_TOP, "end %s", fpu_end_name(res.end));
}

Test(guard, next_in_guard_above)
{
	put(lo + 64, hi, 0x1234);
	cr_assert_eq(fpu_walk_checked(&ctx, lo, lo + 64, pcs, 16, &res), 1);
	cr_assert_eq(res.end, FPU_END_OUT_OF_BOUNDS, "end %s", fpu_end_name(res.end));
}

Test(guard, next_in_guard_below)
{
	put(lo + 64, lo - 64, 0x1234);
	cr_assert_eq(fpu_walk_checked(&ctx, lo, lo + 64, pcs, 16, &res), 1);
	/* Below the region is outside it, not merely lower: out of bounds. */
	cr_assert_eq(res.end, FPU_END_OUT_OF_BOUNDS, "end %s", fpu_end_name(res.end));
}

Test(guard, start_in_guard)
{
	cr_assert_eq(fpu_walk_checked(&ctx, 0, hi + 64, pcs, 16, &res), 0);
	cr_assert_eq(res.end, FPU_END_OUT_OF_BOUNDS);
	cr_assert_eq(fpu_walk_from(&ctx, 0x99, lo + 8, lo - 32, pcs, 16, &res), 1);
	cr_assert_neq(res.end, FPU_END_CLEAN);
}

/* The last record of the region: the walker reads it and stops on fp == 0. */
Test(guard, last_record_is_read_exactly)
{
	put(lo + 64, hi - 16, 0x1);
	put(hi - 16, 0, 0x2);
	cr_assert_eq(fpu_walk_checked(&ctx, lo, lo + 64, pcs, 16, &res), 2);
	cr_assert_eq(res.end, FPU_END_CLEAN);
}

/* A snapshot copy that ends at a guard page: addresses are virtual, reads are not. */
Test(guard, snapshot_copy_bounds)
{
	const uintptr_t vlo = 0x7ff000000000;
	struct fpu_region snap = { .lo = vlo, .hi = vlo + page, .data = (void *)lo,
				   .kind = FPU_REGION_THREAD };
	struct fpu_ctx sctx = { .fixed = &snap, .nfixed = 1 };
	put(lo + 64, vlo + page - 8, 0x1234);
	cr_assert_eq(fpu_walk_checked(&sctx, vlo, vlo + 64, pcs, 16, &res), 1);
	cr_assert_eq(res.end, FPU_END_REGION_TOP, "end %s", fpu_end_name(res.end));
}
