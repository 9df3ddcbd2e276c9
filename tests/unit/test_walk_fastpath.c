/*
 * The checked walker's fast path (a walk that starts on sp's own stack, above
 * sp) must decide exactly as the general walk does.  A walk with sp = 0 never
 * takes the fast path; from an fp on a region's stack, it walks the same
 * chain in the same region with the same checks.  So on many hostile chains,
 * laid out by a fixed pseudo-random sequence over two stacks with transitions
 * and a grave, the two walks must agree on every field of the result, on
 * published region sets (the profiler's case) and on plain arrays, on live
 * memory and on snapshot copies.
 */
#include <criterion/criterion.h>
#include "synth.h"

#define RET(n) ((uintptr_t)0x400000 + (n) * 0x10)
#define TRAMPOLINE_LO ((uintptr_t)0x500000)
#define TRAMPOLINE_PC (TRAMPOLINE_LO + 0x8)
#define CASES 20000
#define MAXPCS 24

static struct synth A, B, DEAD;
static struct fpu_transitions transitions;
static struct fpu_graveyard graveyard;

static uint64_t rng_state;

static uint32_t rnd(uint32_t below)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % below;
}

/* A word of a hostile stack: mostly a frame further up, sometimes anything. */
static uintptr_t hostile_fp(int at)
{
	switch (rnd(16)) {
	case 0:  return 0;
	case 1:  return synth_addr(&A, at) + 1 + rnd(7);            /* misaligned */
	case 2:  return synth_addr(&A, (int)rnd(SYNTH_WORDS));      /* anywhere, down too */
	case 3:  return synth_addr(&A, SYNTH_WORDS - 1 - (int)rnd(2)); /* at the top */
	case 4:  return synth_addr(&A, SYNTH_WORDS);                /* just past it */
	case 5:  return synth_addr(&B, (int)rnd(SYNTH_WORDS - 2));  /* the other stack */
	case 6:  return synth_addr(&DEAD, (int)rnd(SYNTH_WORDS - 2)); /* a grave */
	case 7:  return synth_addr(&A, 0) - 16;                     /* just below */
	case 8:  return (uintptr_t)rnd(1u << 20) << 4;              /* nowhere */
	default: return synth_addr(&A, at + 2 + 2 * (int)rnd(6));   /* the next frame */
	}
}

static uintptr_t hostile_ret(void)
{
	return rnd(4) == 0 ? TRAMPOLINE_PC : RET(rnd(64));
}

static void fill(struct synth *s)
{
	for (int i = 0; i < SYNTH_WORDS; i += 2) {
		s->w[i] = hostile_fp(i);
		s->w[i + 1] = hostile_ret();
	}
}

static void expect_same(int c, const char *what, int refused, size_t n1, const uintptr_t *p1,
			const struct fpu_walk_result *r1, size_t n2, const uintptr_t *p2,
			const struct fpu_walk_result *r2)
{
	cr_assert_eq(n1, n2, "case %d %s: %zu frames on the fast path, %zu on the general",
		     c, what, n1, n2);
	cr_assert_eq(r1->end, r2->end, "case %d %s: end %s on the fast path, %s on the general",
		     c, what, fpu_end_name(r1->end), fpu_end_name(r2->end));
	cr_assert_eq(r1->fp, r2->fp, "case %d %s: fp %#lx vs %#lx", c, what,
		     (unsigned long)r1->fp, (unsigned long)r2->fp);
	cr_assert_eq(r1->pc, r2->pc, "case %d %s: pc %#lx vs %#lx", c, what,
		     (unsigned long)r1->pc, (unsigned long)r2->pc);
	cr_assert_eq(r1->frames, r2->frames, "case %d %s", c, what);
	cr_assert_eq(r1->crossings, r2->crossings, "case %d %s: crossings %u vs %u", c, what,
		     r1->crossings, r2->crossings);
	for (uint32_t k = 0; k < r1->crossings && k < FPU_MAX_CROSSINGS; k++)
		cr_assert_eq(r1->cross_fp[k], r2->cross_fp[k], "case %d %s: crossing %u", c,
			     what, k);
	cr_assert_eq(memcmp(p1, p2, n1 * sizeof *p1), 0, "case %d %s: pcs differ", c, what);
	/* A start the fast path refuses goes to the general walk either way;
	 * its from is sp's region when sp is given, so only sp decides it. */
	cr_assert(refused || r1->from.kind == r2->from.kind, "case %d %s: from %s vs %s", c,
		  what, fpu_region_kind_name(r1->from.kind), fpu_region_kind_name(r2->from.kind));
	if (!refused && r1->from.kind != FPU_REGION_NONE)
		cr_assert(r1->from.lo == r2->from.lo && r1->from.hi == r2->from.hi &&
			  r1->from.owner == r2->from.owner && r1->from.data == r2->from.data,
			  "case %d %s: from [%#lx, %#lx) vs [%#lx, %#lx)", c, what,
			  (unsigned long)r1->from.lo, (unsigned long)r1->from.hi,
			  (unsigned long)r2->from.lo, (unsigned long)r2->from.hi);
	cr_assert(r1->to.kind == r2->to.kind && r1->to.lo == r2->to.lo && r1->to.hi == r2->to.hi,
		  "case %d %s: to %s [%#lx, %#lx) vs %s [%#lx, %#lx)", c, what,
		  fpu_region_kind_name(r1->to.kind), (unsigned long)r1->to.lo,
		  (unsigned long)r1->to.hi, fpu_region_kind_name(r2->to.kind),
		  (unsigned long)r2->to.lo, (unsigned long)r2->to.hi);
	/* The rest of the grave is written only for a stale end. */
	cr_assert(r1->grave.lo == r2->grave.lo && r1->grave.hi == r2->grave.hi &&
		  r1->grave.why == r2->grave.why &&
		  (r1->end != FPU_END_STALE || r1->grave.owner == r2->grave.owner),
		  "case %d %s: grave [%#lx, %#lx) vs [%#lx, %#lx)", c, what,
		  (unsigned long)r1->grave.lo, (unsigned long)r1->grave.hi,
		  (unsigned long)r2->grave.lo, (unsigned long)r2->grave.hi);
}

/* One context, every case: fast (sp on A, at or below fp) against general (sp = 0). */
static void agree_on_hostile_chains(const struct fpu_ctx *ctx, const char *what)
{
	static uintptr_t p1[MAXPCS], p2[MAXPCS];
	struct fpu_walk_result r1, r2;
	unsigned ends[FPU_END_COUNT] = { 0 }, crossed = 0;

	for (int c = 0; c < CASES; c++) {
		fill(&A);
		fill(&B);
		int at = 2 * (int)rnd(SYNTH_WORDS / 2);
		uintptr_t fp = synth_addr(&A, at);
		uintptr_t sp = synth_addr(&A, (int)rnd((unsigned)at + 1));   /* <= fp */
		size_t max = 1 + rnd(MAXPCS);

		int refused = 1;
		switch (rnd(16)) {   /* starts the fast path must refuse */
		case 0:  fp = synth_addr(&A, SYNTH_WORDS - 1); break;  /* no room */
		case 1:  fp += 4; break;                                /* misaligned */
		case 2:  fp = 0; break;
		default: refused = 0; break;
		}
		size_t n1, n2;

		memset(&r1, 0xa5, sizeof r1);
		memset(&r2, 0x5a, sizeof r2);
		if (rnd(2)) {
			n1 = fpu_walk_checked(ctx, sp, fp, p1, max, &r1);
			n2 = fpu_walk_checked(ctx, 0, fp, p2, max, &r2);
		} else {
			uintptr_t pc = hostile_ret();
			n1 = fpu_walk_from(ctx, pc, sp, fp, p1, max, &r1);
			n2 = fpu_walk_from(ctx, pc, 0, fp, p2, max, &r2);
		}
		expect_same(c, what, refused, n1, p1, &r1, n2, p2, &r2);
		ends[r1.end]++;
		crossed += r1.crossings > 0;
	}
	/* The chains reach every end but an unreadable set, some after a crossing. */
	for (int e = 0; e < FPU_END_COUNT; e++)
		if (e != FPU_END_NO_REGIONS)
			cr_assert_gt(ends[e], CASES / 200, "%s: only %u walks ended %s", what,
				     ends[e], fpu_end_name(e));
	cr_assert_gt(crossed, CASES / 100, "%s: only %u walks crossed stacks", what, crossed);
}

static void setup(void)
{
	struct fpu_grave g = {
		.lo = synth_addr(&DEAD, 0), .hi = synth_addr(&DEAD, SYNTH_WORDS),
		.owner = 12, .kind = FPU_REGION_GOROUTINE, .why = FPU_GRAVE_FREED,
	};

	rng_state = 0x5eed;
	memset(&transitions, 0, sizeof transitions);
	memset(&graveyard, 0, sizeof graveyard);
	fpu_transitions_add(&transitions, TRAMPOLINE_LO, TRAMPOLINE_LO + 0x40, "asmcgocall");
	fpu_graveyard_bury(&graveyard, &g);
}

TestSuite(fastpath, .init = setup);

Test(fastpath, published_live_regions_agree)
{
	static struct fpu_regions rs;
	struct fpu_region r[2] = { synth_region(&A, FPU_REGION_GOROUTINE, 7),
				   synth_region(&B, FPU_REGION_G0, 1) };

	fpu_regions_init(&rs);
	cr_assert_eq(fpu_regions_replace(&rs, r, 2), 0);
	struct fpu_ctx ctx = { .regions = &rs, .transitions = &transitions,
			       .graveyard = &graveyard };
	agree_on_hostile_chains(&ctx, "published");
}

Test(fastpath, fixed_live_regions_agree)
{
	struct fpu_region r[2] = { synth_region(&A, FPU_REGION_GOROUTINE, 7),
				   synth_region(&B, FPU_REGION_G0, 1) };
	struct fpu_ctx ctx = { .fixed = r, .nfixed = 2, .transitions = &transitions,
			       .graveyard = &graveyard };
	agree_on_hostile_chains(&ctx, "fixed");
}

/* Snapshot copies at the live stacks' own addresses: the bytes are the same. */
Test(fastpath, snapshot_regions_agree)
{
	struct fpu_region r[2] = { synth_region(&A, FPU_REGION_GOROUTINE, 7),
				   synth_region(&B, FPU_REGION_G0, 1) };
	r[0].data = A.w;
	r[1].data = B.w;
	struct fpu_ctx ctx = { .fixed = r, .nfixed = 2, .transitions = &transitions,
			       .graveyard = &graveyard };
	agree_on_hostile_chains(&ctx, "snapshot");
}
