/*
 * The session's per-pc caches (symbols, CFI rows): a second question about a
 * pc is answered from the cache with the same answer, and an address is never
 * answered with what another address (the same file mapped elsewhere, or
 * nothing mapped there at all) got.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "fpu_dwarf.h"
#include "sampler.h"

#define MAXPCS 128

void cache_chain_leaf(void);
void cache_chain_top(void);

__attribute__((noinline)) void cache_chain_leaf(void)
{
	volatile char buf[64];
	while (!sampler_stop)
		buf[sampler_stop & 63]++;
}

__attribute__((noinline)) void cache_chain_top(void)
{
	cache_chain_leaf();
	__asm__ volatile("" ::: "memory");
}

static int in_loop_body(const struct fpu_sample *s)
{
	return s->nfp >= 3 && s->regs[FPU_REG_RBP] > s->regs[FPU_REG_RSP];
}

Test(dwarf_cache, second_symbolize_is_a_hit_with_the_same_answer)
{
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_dwarf_cache_stats st;
	struct fpu_symbol a, b;
	uint64_t pc = (uint64_t)(uintptr_t)cache_chain_top + 4;

	cr_assert_eq(fpu_symbolize(d, pc, 0, &a), 0);
	fpu_dwarf_cache_stats(d, &st);
	cr_assert_eq(st.symbol_hits, 0);
	cr_assert_eq(st.symbol_misses, 1);
	cr_assert_eq(fpu_symbolize(d, pc, 0, &b), 0);
	fpu_dwarf_cache_stats(d, &st);
	cr_assert_eq(st.symbol_hits, 1, "%llu hits", (unsigned long long)st.symbol_hits);
	cr_assert_eq(st.symbol_misses, 1);
	cr_assert_str_eq(b.function, "cache_chain_top");
	cr_assert_eq(a.offset, b.offset);
	cr_assert_eq(a.line, b.line);
	/* the same pc as a return address is another question (pc - 1, offset + 1) */
	cr_assert_eq(fpu_symbolize(d, pc, 1, &b), 0);
	cr_assert_eq(b.offset, a.offset);
	fpu_dwarf_cache_stats(d, &st);
	cr_assert_eq(st.symbol_misses, 2);
	fpu_dwarf_free(d);
}

/* Unwinding a sample twice: the second asks libdw for no CFI row. */
Test(dwarf_cache, second_unwind_reads_cfi_rows_from_the_cache)
{
	uint64_t pcs[2][MAXPCS];
	struct fpu_dwarf_result dres[2];
	struct fpu_dwarf_cache_stats first, second;

	const struct fpu_sample *s = sample_thread(cache_chain_top, in_loop_body);
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	size_t n0 = fpu_dwarf_unwind(d, s, pcs[0], MAXPCS, &dres[0]);
	fpu_dwarf_cache_stats(d, &first);
	size_t n1 = fpu_dwarf_unwind(d, s, pcs[1], MAXPCS, &dres[1]);
	fpu_dwarf_cache_stats(d, &second);
	cr_assert_geq(n0, 3, "%zu frames (%s)", n0, dres[0].reason);
	cr_assert_eq(n0, n1);
	cr_assert_arr_eq(pcs[0], pcs[1], n0 * sizeof pcs[0][0]);
	cr_assert_eq(dres[0].end, dres[1].end);
	cr_assert_eq(dres[0].leaf_frame, dres[1].leaf_frame);
	cr_assert_eq(dres[0].root_from, dres[1].root_from);
	cr_assert_gt(first.cfi_misses, 0);
	cr_assert_eq(second.cfi_misses, first.cfi_misses, "%llu new CFI misses",
		     (unsigned long long)(second.cfi_misses - first.cfi_misses));
	cr_assert_gt(second.cfi_hits, first.cfi_hits);
	fpu_dwarf_free(d);
}

/*
 * This test program's code mapped a second time, 2^44 bytes higher (a module
 * loaded again at another address), in one session: each address gets its
 * own answer, and an address 2^45 higher, where nothing is mapped, gets none,
 * though all three differ only in high bits.
 */
Test(dwarf_cache, module_at_another_address_is_another_entry)
{
	const uint64_t delta = 1ull << 44;
	uint64_t pc = (uint64_t)(uintptr_t)cache_chain_top + 4;
	size_t n;
	char err[256];
	struct fpu_mapping *maps = fpu_mappings_from_proc(0, &n);
	cr_assert_not_null(maps);
	struct fpu_mapping *two = calloc(n + 1, sizeof *two);
	cr_assert_not_null(two);
	memcpy(two, maps, n * sizeof *maps);
	size_t at = n;
	for (size_t i = 0; i < n; i++)
		if (pc >= maps[i].start && pc < maps[i].end)
			at = i;
	cr_assert_lt(at, n, "no mapping holds %#llx", (unsigned long long)pc);
	cr_assert_lt(maps[at].end + 2 * delta, 1ull << 47, "test binary mapped too high");
	two[n] = maps[at];
	two[n].start += delta;
	two[n].end += delta;
	struct fpu_dwarf *d = fpu_dwarf_new(FPU_DWARF_LIBDW, two, n + 1, err, sizeof err);
	cr_assert_not_null(d, "%s", err);

	struct fpu_symbol here, there, nowhere;
	for (int round = 0; round < 2; round++) {   /* round 1: from the cache */
		cr_assert_eq(fpu_symbolize(d, pc, 0, &here), 0);
		cr_assert_eq(fpu_symbolize(d, pc + delta, 0, &there), 0);
		cr_assert_eq(fpu_symbolize(d, pc + 2 * delta, 0, &nowhere), -1,
			     "round %d: %#llx is mapped nowhere, yet it was symbolized as %s",
			     round, (unsigned long long)(pc + 2 * delta),
			     nowhere.function ? nowhere.function : "(no name)");
		cr_assert_str_eq(here.function, "cache_chain_top");
		cr_assert_str_eq(there.function, "cache_chain_top", "round %d", round);
		cr_assert_eq(here.offset, there.offset);
	}
	struct fpu_dwarf_cache_stats st;
	fpu_dwarf_cache_stats(d, &st);
	cr_assert_eq(st.symbol_misses, 3);
	cr_assert_eq(st.symbol_hits, 3);
	fpu_dwarf_free(d);
	free(two);
	free(maps);
}
