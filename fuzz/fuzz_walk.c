/*
 * fuzz_walk.c — libFuzzer target for fpu_walk_checked / fpu_walk_from /
 * fpu_walk_ucontext over random stacks.
 *
 * The input describes up to FPU_MAX_REGIONS + 2 regions.  A "live" region is an
 * exactly sized heap block (its lo possibly misaligned, the bytes before lo
 * poisoned), so ASan reports any read outside [lo, hi).  A "snapshot" region
 * has data = an exactly sized heap block and a lo in memory that is never
 * mapped (ASan's shadow gap, or the top of the address space): a walker that
 * reads the address itself instead of the copy faults.  Region words are
 * biased towards pointers into regions and pcs of a small table so chains are
 * long, cross regions, cycle and end in every way; transitions and graves are
 * drawn from the same table and ranges.  The same walk also runs through a
 * published fpu_regions set and must give the same answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "fpunwind.h"
#include "fuzz_in.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef POISON
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_walk: %s:%d: %s\n", __FILE__,   \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

#define MAX_REG (FPU_MAX_REGIONS + 2)
#define MAX_SIZE 1024
#define MAX_DEPTH 48
/* Never mapped: inside ASan's shadow gap on x86-64 (and unmapped without ASan). */
#define FAKE_BASE 0x0000010000000000ull

static const uintptr_t pc_table[8] = {
	0x401000, 0x401100, 0x401200, 0x401300, 0x7f0000001000, 0x7f0000002000,
	0x1, 0xffffffffffffff00ull,
};

struct reg_mem {
	void *alloc;      /* what to free */
	size_t pre;       /* poisoned bytes before lo (live regions) */
	uint8_t *bytes;   /* where [lo, hi) is stored */
};

static uintptr_t pick_pointer(struct fin *in, const struct fpu_region *r, unsigned n)
{
	if (n == 0)
		return fin_u64(in);
	const struct fpu_region *t = &r[fin_below(in, n)];
	uint64_t span = t->hi - t->lo + 24;
	uintptr_t off = (uintptr_t)(fin_u16(in) % span);
	uint8_t how = fin_u8(in);
	uintptr_t a = t->lo + off;
	if (how & 1)
		a &= ~(uintptr_t)7;       /* aligned, usually */
	if (how & 2)
		a = t->hi - 16 + (how >> 5); /* right at the top */
	if ((how & 0x1c) == 0x1c)
		a = t->lo - 8 * ((how >> 5) + 1); /* just below */
	return a;
}

/* The published-set path must agree with the plain array path. */
static void same_result(size_t n1, const uintptr_t *p1, const struct fpu_walk_result *r1,
			size_t n2, const uintptr_t *p2, const struct fpu_walk_result *r2)
{
	CHECK(n1 == n2);
	CHECK(r1->end == r2->end && r1->frames == r2->frames &&
	      r1->crossings == r2->crossings && r1->fp == r2->fp && r1->pc == r2->pc);
	CHECK(n1 == 0 || !memcmp(p1, p2, n1 * sizeof *p1));
	for (uint32_t k = 0; k < r1->crossings && k < FPU_MAX_CROSSINGS; k++)
		CHECK(r1->cross_fp[k] == r2->cross_fp[k]);
}

static const struct fpu_region *g_reg;   /* the regions of this input */
static unsigned g_nreg;

static void check_result(size_t n, size_t n0, size_t max, const uintptr_t *pcs,
			 const struct fpu_walk_result *res)
{
	CHECK(n <= max);
	CHECK(n >= n0 || max == 0);
	CHECK(res->frames == n);
	CHECK((unsigned)res->end < FPU_END_COUNT);
	/* Every legal crossing follows a frame read (walk_checked never crosses
	 * on its first step: no pc owns fp), except fpu_walk_from's first step. */
	CHECK(res->crossings <= n);
	CHECK(res->pc == (n ? pcs[n - 1] : 0));
	if (res->end == FPU_END_DEPTH)
		CHECK(n == max);
	if (res->end == FPU_END_CLEAN)
		CHECK(res->fp == 0);
	if (res->end == FPU_END_MISALIGNED)
		CHECK(res->fp & 7);
	if (res->end == FPU_END_STALE)
		CHECK(res->grave.lo <= res->fp && res->fp < res->grave.hi &&
		      res->grave.hi - res->fp >= FPU_FRAME_RECORD);
	CHECK(res->from.kind < FPU_REGION_KIND_COUNT && res->to.kind < FPU_REGION_KIND_COUNT);
	/* Each recorded crossing entered a region at an aligned fp whose record fits:
	 * a sampler copies that stack from there up. */
	for (uint32_t k = 0; k < res->crossings && k < FPU_MAX_CROSSINGS; k++) {
		uintptr_t c = res->cross_fp[k];
		int in = 0;
		CHECK((c & 7) == 0);
		for (unsigned i = 0; i < g_nreg && !in; i++)
			in = c >= g_reg[i].lo && g_reg[i].hi >= FPU_FRAME_RECORD &&
			     c <= g_reg[i].hi - FPU_FRAME_RECORD;
		CHECK(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	unsigned nreg = fin_below(&in, MAX_REG + 1);
	struct fpu_region *reg = malloc(nreg * sizeof *reg);   /* exact: nfixed entries */
	struct reg_mem mem[MAX_REG];
	struct fpu_transitions *ts = calloc(1, sizeof *ts);
	struct fpu_graveyard *gy = calloc(1, sizeof *gy);
	struct fpu_regions *rs = calloc(1, sizeof *rs);
	int published = 0;

	if ((!reg && nreg) || !ts || !gy || !rs)
		abort();
	memset(mem, 0, sizeof mem);

	/* Regions: bounds first (pointers in contents may name any region). */
	for (unsigned i = 0; i < nreg; i++) {
		uint8_t fl = fin_u8(&in);
		size_t sz = fin_u16(&in) % MAX_SIZE;
		struct fpu_region *r = &reg[i];

		memset(r, 0, sizeof *r);
		r->kind = (fl >> 4) % FPU_REGION_KIND_COUNT;
		r->owner = i;
		if (fl & 1) {   /* snapshot */
			uintptr_t lo;
			switch ((fl >> 1) & 3) {
			case 0:  lo = FAKE_BASE + (uintptr_t)fin_u16(&in) * 64; break;
			case 1:  lo = UINTPTR_MAX - sz - (fin_u8(&in) & 0x3f); break;  /* no wrap */
			case 2:  lo = i ? reg[fin_below(&in, i)].lo : FAKE_BASE; break;  /* overlap */
			default: lo = FAKE_BASE + (fin_u64(&in) & 0xffffffffull); break;
			}
			if (fl & 8)
				lo += fin_u8(&in) & 7;   /* misaligned */
			if (lo + sz < lo)
				lo = FAKE_BASE;
			mem[i].alloc = malloc(sz ? sz : 1);
			mem[i].bytes = mem[i].alloc;
			r->lo = lo;
			r->hi = lo + sz;
			r->data = mem[i].alloc;
		} else {        /* live */
			size_t pre = (fl & 8) ? (fin_u8(&in) & 7) + 1 : 0;
			uint8_t *p = malloc(pre + sz ? pre + sz : 1);
			if (!p)
				abort();
			POISON(p, pre);
			mem[i].alloc = p;
			mem[i].pre = pre;
			mem[i].bytes = p + pre;
			r->lo = (uintptr_t)(p + pre);
			r->hi = r->lo + sz;
		}
	}
	/* Contents: one tagged word per 8-byte slot, from the first aligned address. */
	for (unsigned i = 0; i < nreg; i++) {
		size_t sz = reg[i].hi - reg[i].lo;
		size_t head = (size_t)(-reg[i].lo & 7);
		if (head > sz)
			head = sz;
		for (size_t k = 0; k < head; k++)
			mem[i].bytes[k] = fin_u8(&in);
		for (size_t at = head; at < sz; at += 8) {
			uint64_t w;
			uint8_t tag = fin_u8(&in);
			switch (tag & 7) {
			case 0: w = 0; break;
			case 1: case 2: w = pick_pointer(&in, reg, nreg); break;
			case 3: w = pc_table[tag >> 5]; break;
			case 4: w = reg[i].lo + at + 16 * ((tag >> 3) + 1); break;  /* next frame up */
			case 5: w = reg[i].lo + at - 8 * (tag >> 3); break;        /* cycle / down */
			default: w = fin_u64(&in); break;
			}
			memcpy(mem[i].bytes + at, &w, sz - at < 8 ? sz - at : 8);
		}
	}
	/* Transitions around pcs of the table (or anywhere). */
	for (unsigned k = fin_below(&in, 5); k > 0; k--) {
		uintptr_t lo = (fin_u8(&in) & 1) ? pc_table[fin_below(&in, 8)] : fin_u64(&in);
		uintptr_t hi = lo + 1 + fin_u8(&in);
		fpu_transitions_add(ts, lo, hi < lo ? UINTPTR_MAX : hi, "fuzz");
	}
	/* Graves: part of a region, or a fake range. */
	for (unsigned k = fin_below(&in, 6); k > 0; k--) {
		struct fpu_grave g = { 0 };
		if (nreg && (fin_u8(&in) & 1)) {
			const struct fpu_region *r = &reg[fin_below(&in, nreg)];
			g.lo = r->lo + (fin_u16(&in) % (r->hi - r->lo + 1));
			g.hi = g.lo + fin_u16(&in) + 1;
		} else {
			g.lo = FAKE_BASE + (uintptr_t)fin_u32(&in);
			g.hi = g.lo + fin_u16(&in) + 1;
		}
		g.why = 1 + (fin_u8(&in) & 1);
		g.owner = k;
		g.time_ns = 1 + fin_u8(&in);
		fpu_graveyard_bury(gy, &g);
	}
	if (nreg <= FPU_MAX_REGIONS) {
		fpu_regions_init(rs);
		published = fpu_regions_replace(rs, reg, nreg) == 0;
	}

	/* The walk. */
	uint8_t how = fin_u8(&in);
	uintptr_t sp, fp, pc;
	switch (how & 3) {
	case 0: sp = 0; break;
	case 1: sp = fin_u64(&in); break;
	default: sp = pick_pointer(&in, reg, nreg); break;
	}
	switch ((how >> 2) & 3) {
	case 0: fp = 0; break;
	case 1: fp = fin_u64(&in); break;
	default: fp = pick_pointer(&in, reg, nreg); break;
	}
	pc = (how & 0x10) ? pc_table[fin_below(&in, 8)] : fin_u64(&in);
	size_t max = fin_below(&in, MAX_DEPTH + 1);
	uintptr_t *pcs = malloc(max ? max * sizeof *pcs : 1);   /* exact: ASan checks */
	uintptr_t *pcs2 = malloc(max ? max * sizeof *pcs2 : 1);
	struct fpu_ctx ctx = { .fixed = reg, .nfixed = nreg,
			       .transitions = (how & 0x20) ? NULL : ts,
			       .graveyard = (how & 0x40) ? NULL : gy };
	struct fpu_ctx pctx = ctx;
	struct fpu_walk_result res, res2;
	size_t n, n2, n0;
	int entry = fin_below(&in, 3);

	pctx.regions = rs;
	pctx.fixed = NULL;
	pctx.nfixed = 0;
	memset(&res, 0xa5, sizeof res);   /* the walker fills it field by field */
	if (entry == 0) {
		n0 = 0;
		n = fpu_walk_checked(&ctx, sp, fp, pcs, max, &res);
		if (published)
			n2 = fpu_walk_checked(&pctx, sp, fp, pcs2, max, &res2);
	} else if (entry == 1) {
		n0 = 1;
		n = fpu_walk_from(&ctx, pc, sp, fp, pcs, max, &res);
		if (published)
			n2 = fpu_walk_from(&pctx, pc, sp, fp, pcs2, max, &res2);
		if (max)
			CHECK(pcs[0] == pc);
	} else {
		ucontext_t uc;
		memset(&uc, 0, sizeof uc);
		uc.uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
		uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
		uc.uc_mcontext.gregs[REG_RBP] = (greg_t)fp;
		n0 = 1;
		n = fpu_walk_ucontext(&ctx, &uc, pcs, max, &res);
		if (published)
			n2 = fpu_walk_ucontext(&pctx, &uc, pcs2, max, &res2);
	}
	g_reg = reg;
	g_nreg = nreg < FPU_MAX_REGIONS ? nreg : FPU_MAX_REGIONS;   /* the walker's view */
	check_result(n, n0, max, pcs, &res);
	if (published) {
		check_result(n2, n0, max, pcs2, &res2);
		same_result(n, pcs, &res, n2, pcs2, &res2);
	}

	free(pcs);
	free(pcs2);
	for (unsigned i = 0; i < nreg; i++) {
		UNPOISON(mem[i].alloc, mem[i].pre);
		free(mem[i].alloc);
	}
	free(reg);
	free(ts);
	free(gy);
	free(rs);
	return 0;
}
