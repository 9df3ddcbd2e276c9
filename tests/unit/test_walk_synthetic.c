/*
 * Every way a checked walk can end, on synthetic stacks.  Each test names the
 * word that must stop the walk and checks that the result says so: the reason,
 * the rejected fp, the frame count, and the regions involved.
 */
#include <criterion/criterion.h>
#include "synth.h"

/* Return addresses are just distinct numbers here; only transitions matter. */
#define RET(n) ((uintptr_t)0x400000 + (n) * 0x10)
#define TRAMPOLINE_LO ((uintptr_t)0x500000)
#define TRAMPOLINE_PC (TRAMPOLINE_LO + 0x8)

static struct synth A, B, DEAD;
static struct fpu_transitions transitions;
static struct fpu_graveyard graveyard;
static struct fpu_region regs[2];
static struct fpu_ctx ctx;
static uintptr_t pcs[64];
static struct fpu_walk_result res;

static void setup(void)
{
	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
	memset(&transitions, 0, sizeof transitions);
	memset(&graveyard, 0, sizeof graveyard);
	regs[0] = synth_region(&A, FPU_REGION_GOROUTINE, 7);
	regs[1] = synth_region(&B, FPU_REGION_G0, 1);
	fpu_transitions_add(&transitions, TRAMPOLINE_LO, TRAMPOLINE_LO + 0x40, "asmcgocall");
	ctx = (struct fpu_ctx){ .fixed = regs, .nfixed = 2,
				.transitions = &transitions, .graveyard = &graveyard };
}

static size_t walk_a(int from)
{
	return fpu_walk_checked(&ctx, synth_addr(&A, 0), synth_addr(&A, from), pcs, 64, &res);
}

TestSuite(synthetic, .init = setup);

Test(synthetic, clean_end)
{
	synth_frame(&A, 10, 20, RET(1));
	synth_frame(&A, 20, 40, RET(2));
	synth_frame(&A, 40, -1, RET(3));
	cr_assert_eq(walk_a(10), 3);
	cr_assert_eq(res.end, FPU_END_CLEAN, "end %s", fpu_end_name(res.end));
	cr_assert_eq(pcs[0], RET(1));
	cr_assert_eq(pcs[2], RET(3));
	cr_assert_eq(res.pc, RET(3));
	cr_assert_eq(res.from.kind, FPU_REGION_GOROUTINE);
	cr_assert_eq(res.crossings, 0);
}

Test(synthetic, out_of_bounds)
{
	static uintptr_t elsewhere[4] __attribute__((aligned(16)));
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = (uintptr_t)elsewhere;
	A.w[21] = RET(2);
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_OUT_OF_BOUNDS, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.fp, (uintptr_t)elsewhere);
}

Test(synthetic, not_increasing)
{
	synth_frame(&A, 10, 20, RET(1));
	synth_frame(&A, 20, 16, RET(2));
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_NOT_INCREASING);
	cr_assert_eq(res.fp, synth_addr(&A, 16));
}

Test(synthetic, cycle)
{
	synth_frame(&A, 10, 20, RET(1));
	synth_frame(&A, 20, 10, RET(2));
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_NOT_INCREASING);
}

Test(synthetic, self_loop)
{
	synth_frame(&A, 10, 10, RET(1));
	cr_assert_eq(walk_a(10), 1);
	cr_assert_eq(res.end, FPU_END_NOT_INCREASING);
}

Test(synthetic, misaligned)
{
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&A, 30) + 4;
	A.w[21] = RET(2);
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_MISALIGNED);
	cr_assert_eq(res.fp, synth_addr(&A, 30) + 4);
}

Test(synthetic, misaligned_start)
{
	cr_assert_eq(fpu_walk_checked(&ctx, 0, synth_addr(&A, 10) + 2, pcs, 64, &res), 0);
	cr_assert_eq(res.end, FPU_END_MISALIGNED);
}

Test(synthetic, zero_start_is_clean)
{
	cr_assert_eq(fpu_walk_checked(&ctx, 0, 0, pcs, 64, &res), 0);
	cr_assert_eq(res.end, FPU_END_CLEAN);
}

Test(synthetic, illegal_transition)
{
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&B, 30);
	A.w[21] = RET(2);              /* not a transition pc */
	synth_frame(&B, 30, -1, RET(3));
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_ILLEGAL_TRANSITION);
	cr_assert_eq(res.pc, RET(2));
	cr_assert_eq(res.fp, synth_addr(&B, 30));
	cr_assert_eq(res.from.kind, FPU_REGION_GOROUTINE);
	cr_assert_eq(res.to.kind, FPU_REGION_G0);
	cr_assert_eq(res.to.owner, 1);
}

Test(synthetic, legal_transition)
{
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&B, 30);
	A.w[21] = TRAMPOLINE_PC;
	synth_frame(&B, 30, 50, RET(3));
	synth_frame(&B, 50, -1, RET(4));
	cr_assert_eq(walk_a(10), 4);
	cr_assert_eq(res.end, FPU_END_CLEAN, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.crossings, 1);
	cr_assert_eq(res.from.kind, FPU_REGION_G0);
	cr_assert_eq(pcs[1], TRAMPOLINE_PC);
}

/* The cgo callback shape: goroutine -> g0 -> goroutine, coming back higher. */
Test(synthetic, reentry_above_exit_is_legal)
{
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&B, 30);
	A.w[21] = TRAMPOLINE_PC;
	B.w[30] = synth_addr(&A, 60);
	B.w[31] = TRAMPOLINE_PC;
	synth_frame(&A, 60, -1, RET(5));
	cr_assert_eq(walk_a(10), 4);
	cr_assert_eq(res.end, FPU_END_CLEAN, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.crossings, 2);
	cr_assert_eq(res.cross_fp[0], synth_addr(&B, 30), "entered g0 at its first record");
	cr_assert_eq(res.cross_fp[1], synth_addr(&A, 60));
}

/* A cycle through two stacks would otherwise run to the depth limit. */
Test(synthetic, reentry_below_exit_is_a_cycle)
{
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&B, 30);
	A.w[21] = TRAMPOLINE_PC;
	B.w[30] = synth_addr(&A, 10);
	B.w[31] = TRAMPOLINE_PC;
	cr_assert_eq(walk_a(10), 3);
	cr_assert_eq(res.end, FPU_END_NOT_INCREASING, "end %s", fpu_end_name(res.end));
}

Test(synthetic, stale)
{
	struct fpu_grave g = {
		.lo = synth_addr(&DEAD, 0), .hi = synth_addr(&DEAD, SYNTH_WORDS),
		.new_lo = synth_addr(&A, 0), .new_hi = synth_addr(&A, SYNTH_WORDS),
		.owner = 12, .kind = FPU_REGION_GOROUTINE, .why = FPU_GRAVE_MOVED,
	};
	fpu_graveyard_bury(&graveyard, &g);
	synth_frame(&A, 10, 20, RET(1));
	A.w[20] = synth_addr(&DEAD, 40);
	A.w[21] = RET(2);
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_STALE, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.grave.owner, 12);
	cr_assert_eq(res.grave.why, FPU_GRAVE_MOVED);
	cr_assert_eq(res.grave.new_lo, synth_addr(&A, 0));
	cr_assert_neq(res.grave.time_ns, 0);
}

Test(synthetic, depth_limit)
{
	for (int i = 0; i < 20; i++)
		synth_frame(&A, 10 + 4 * i, i == 19 ? -1 : 14 + 4 * i, RET(i));
	cr_assert_eq(fpu_walk_checked(&ctx, 0, synth_addr(&A, 10), pcs, 5, &res), 5);
	cr_assert_eq(res.end, FPU_END_DEPTH);
	cr_assert_eq(res.fp, synth_addr(&A, 30), "the record it did not read");
	cr_assert_eq(walk_a(10), 20);
	cr_assert_eq(res.end, FPU_END_CLEAN);
}

Test(synthetic, fp_at_last_word_of_region)
{
	synth_frame(&A, 10, SYNTH_WORDS - 1, RET(1));
	cr_assert_eq(walk_a(10), 1);
	cr_assert_eq(res.end, FPU_END_REGION_TOP, "end %s", fpu_end_name(res.end));
	cr_assert_eq(res.fp, synth_addr(&A, SYNTH_WORDS - 1));
}

Test(synthetic, fp_at_last_record_of_region)
{
	synth_frame(&A, 10, SYNTH_WORDS - 2, RET(1));
	synth_frame(&A, SYNTH_WORDS - 2, -1, RET(2));
	cr_assert_eq(walk_a(10), 2);
	cr_assert_eq(res.end, FPU_END_CLEAN);
}

Test(synthetic, walk_from_triple)
{
	/* sp on B (g0), bp on A: legal only when pc is a transition. */
	synth_frame(&A, 10, -1, RET(1));
	cr_assert_eq(fpu_walk_from(&ctx, TRAMPOLINE_PC, synth_addr(&B, 100),
				   synth_addr(&A, 10), pcs, 64, &res), 2);
	cr_assert_eq(res.end, FPU_END_CLEAN, "end %s", fpu_end_name(res.end));
	cr_assert_eq(pcs[0], TRAMPOLINE_PC);
	cr_assert_eq(pcs[1], RET(1));
	cr_assert_eq(fpu_walk_from(&ctx, RET(9), synth_addr(&B, 100),
				   synth_addr(&A, 10), pcs, 64, &res), 1);
	cr_assert_eq(res.end, FPU_END_ILLEGAL_TRANSITION);
	cr_assert_eq(res.from.kind, FPU_REGION_G0);
	cr_assert_eq(res.to.kind, FPU_REGION_GOROUTINE);
}

Test(synthetic, bp_below_sp)
{
	synth_frame(&A, 10, -1, RET(1));
	fpu_walk_from(&ctx, RET(0), synth_addr(&A, 20), synth_addr(&A, 10), pcs, 64, &res);
	cr_assert_eq(res.end, FPU_END_NOT_INCREASING);
}

/* A snapshot: the bytes live in a copy, the addresses are the original ones. */
Test(synthetic, snapshot_copy)
{
	static uintptr_t copy[8] __attribute__((aligned(16)));
	const uintptr_t base = 0x7f0000001000;
	struct fpu_region snap = { .lo = base, .hi = base + sizeof copy,
				   .kind = FPU_REGION_THREAD, .data = copy };
	struct fpu_ctx sctx = { .fixed = &snap, .nfixed = 1 };

	copy[0] = base + 32; copy[1] = RET(1);
	copy[4] = 0;         copy[5] = RET(2);
	cr_assert_eq(fpu_walk_checked(&sctx, base, base, pcs, 64, &res), 2);
	cr_assert_eq(res.end, FPU_END_CLEAN);
	cr_assert_eq(pcs[1], RET(2));
}

/* A region set that a writer on another thread never finishes: give up, say so. */
Test(synthetic, unreadable_regions)
{
	static struct fpu_regions busy;
	struct fpu_ctx bctx = { .regions = &busy };
	busy.set[0].seq = 1;
	busy.set[1].seq = 1;
	cr_assert_eq(fpu_walk_checked(&bctx, 0, synth_addr(&A, 10), pcs, 64, &res), 0);
	cr_assert_eq(res.end, FPU_END_NO_REGIONS);
}

Test(synthetic, names)
{
	for (int e = 0; e < FPU_END_COUNT; e++)
		cr_assert_not_null(fpu_end_name(e));
	cr_assert_str_eq(fpu_end_name(FPU_END_ILLEGAL_TRANSITION), "illegal-transition");
	cr_assert_str_eq(fpu_end_name(FPU_END_COUNT), "unknown");
	cr_assert_str_eq(fpu_region_kind_name(FPU_REGION_G0), "g0");
}

Test(synthetic, raw_walk)
{
	synth_frame(&A, 10, 20, RET(1));
	synth_frame(&A, 20, -1, RET(2));
	cr_assert_eq(fpu_walk(synth_addr(&A, 10), pcs, 64), 2);
	cr_assert_eq(fpu_walk(synth_addr(&A, 10), pcs, 1), 1);
	cr_assert_eq(fpu_walk(0, pcs, 64), 0);
}
