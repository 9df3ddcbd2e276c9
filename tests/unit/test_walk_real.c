/*
 * Real stacks of this process: a recursion of known depth, walked with both
 * walkers from the innermost frame; every pc must resolve (dladdr: the test
 * binary is linked -rdynamic) to the function expected at its position.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <string.h>
#include "fpunwind.h"

#define DEPTH 12
#define MAXPCS 128

typedef size_t walker_fn(uintptr_t *pcs, struct fpu_walk_result *res,
			 const struct fpu_ctx *ctx);

/* Exported (not static) so dladdr finds them in the dynamic symbol table. */
size_t walk_real_recurse(int n, walker_fn *walker, uintptr_t *pcs,
			 struct fpu_walk_result *res, const struct fpu_ctx *ctx);
size_t walk_real_middle(walker_fn *walker, uintptr_t *pcs,
			struct fpu_walk_result *res, const struct fpu_ctx *ctx);
size_t walk_real_outer(walker_fn *walker, uintptr_t *pcs,
		       struct fpu_walk_result *res, const struct fpu_ctx *ctx);

__attribute__((noinline))
static size_t walker_raw(uintptr_t *pcs, struct fpu_walk_result *res,
			 const struct fpu_ctx *ctx)
{
	(void)res;
	(void)ctx;
	/* pcs[0] is the return into walk_real_recurse, as for fpu_walk_here.
	 * Bounded to our own frames: above them the chain runs into Criterion. */
	size_t n = fpu_walk((uintptr_t)__builtin_frame_address(0), pcs, DEPTH + 4);
	__asm__ volatile("" : "+r"(n) : : "memory");
	return n;
}

__attribute__((noinline))
size_t walk_real_recurse(int n, walker_fn *walker, uintptr_t *pcs,
			 struct fpu_walk_result *res, const struct fpu_ctx *ctx)
{
	size_t got;
	/* walker NULL: the checked walk, called right here. */
	if (n == 0 && !walker)
		got = fpu_walk_here(ctx, pcs, MAXPCS, res);
	else if (n == 0)
		got = walker(pcs, res, ctx);
	else
		got = walk_real_recurse(n - 1, walker, pcs, res, ctx);
	/* Opaque use after the call: no tail call, no loop, one frame per level. */
	__asm__ volatile("" : "+r"(got) : : "memory");
	return got;
}

__attribute__((noinline))
size_t walk_real_middle(walker_fn *walker, uintptr_t *pcs,
			struct fpu_walk_result *res, const struct fpu_ctx *ctx)
{
	size_t got = walk_real_recurse(DEPTH, walker, pcs, res, ctx);
	__asm__ volatile("" : "+r"(got) : : "memory");
	return got;
}

__attribute__((noinline))
size_t walk_real_outer(walker_fn *walker, uintptr_t *pcs,
		       struct fpu_walk_result *res, const struct fpu_ctx *ctx)
{
	size_t got = walk_real_middle(walker, pcs, res, ctx);
	__asm__ volatile("" : "+r"(got) : : "memory");
	return got;
}

static const char *symbol_of(uintptr_t pc)
{
	Dl_info info;
	/* pc - 1: a return address may point just past the end of its caller. */
	if (!dladdr((void *)(pc - 1), &info) || !info.dli_sname)
		return "?";
	return info.dli_sname;
}

static void expect_chain(const uintptr_t *pcs, size_t n)
{
	cr_assert_geq(n, DEPTH + 3, "only %zu frames", n);
	for (int i = 0; i <= DEPTH; i++)
		cr_assert_str_eq(symbol_of(pcs[i]), "walk_real_recurse", "frame %d is %s", i,
				 symbol_of(pcs[i]));
	cr_assert_str_eq(symbol_of(pcs[DEPTH + 1]), "walk_real_middle");
	cr_assert_str_eq(symbol_of(pcs[DEPTH + 2]), "walk_real_outer");
}

Test(real, checked_walk_resolves_in_order)
{
	struct fpu_region thread;
	struct fpu_regions regions;
	uintptr_t pcs[MAXPCS];
	struct fpu_walk_result res;

	cr_assert_eq(fpu_region_current_thread(&thread), 0);
	fpu_regions_init(&regions);
	cr_assert_eq(fpu_regions_add(&regions, &thread), 0);
	struct fpu_ctx ctx = { .regions = &regions };
	size_t n = walk_real_outer(NULL, pcs, &res, &ctx);
	expect_chain(pcs, n);
	cr_assert_eq(res.from.kind, FPU_REGION_THREAD);
}

Test(real, raw_walk_agrees_with_checked)
{
	struct fpu_region thread;
	uintptr_t checked[MAXPCS], raw[MAXPCS];
	struct fpu_walk_result res;

	cr_assert_eq(fpu_region_current_thread(&thread), 0);
	struct fpu_ctx ctx = { .fixed = &thread, .nfixed = 1 };
	size_t n = walk_real_outer(NULL, checked, &res, &ctx);
	size_t m = walk_real_outer(walker_raw, raw, &res, &ctx);
	cr_assert_eq(m, DEPTH + 4);
	expect_chain(raw, m);
	cr_assert_geq(n, m);
	/* Same frames but for the call sites of the two walkers at the innermost
	 * level and of the two calls in this test at the outermost one. */
	cr_assert_str_eq(symbol_of(checked[m - 1]), symbol_of(raw[m - 1]));
	for (size_t i = 1; i < m - 1; i++)
		cr_assert_eq(checked[i], raw[i], "frame %zu: %s vs %s", i,
			     symbol_of(checked[i]), symbol_of(raw[i]));
}

/*
 * Regions that exclude the top frames: the walk must stop where the region
 * ends, with the frames below it intact, not read on.
 */
Test(real, region_excluding_top_frames_stops)
{
	struct fpu_region thread;
	uintptr_t pcs[MAXPCS];
	struct fpu_walk_result res;

	cr_assert_eq(fpu_region_current_thread(&thread), 0);
	/* The region ends at this test function's own frame record. */
	thread.hi = (uintptr_t)__builtin_frame_address(0);
	struct fpu_ctx ctx = { .fixed = &thread, .nfixed = 1 };
	size_t n = walk_real_outer(NULL, pcs, &res, &ctx);
	cr_assert_eq(res.end, FPU_END_OUT_OF_BOUNDS, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.fp, thread.hi);
	/* ... recurse x (DEPTH+1), middle, outer, and the return into this test. */
	cr_assert_eq(n, DEPTH + 4, "walked %zu frames", n);
	expect_chain(pcs, n);
}
