/*
 * unwind.c — the runtime's side of libfpunwind: per-M stack regions, the
 * process-wide transition ranges, the graveyard of moved and freed stacks.
 *
 * Each M owns one struct fpu_regions and is its only writer: it republishes the
 * set on every goroutine switch, stack move and free (rt_m_regions_set /
 * fpu_regions_move), always from g0 or the goroutine it runs, never from another
 * thread.  Readers are the M's own tracebacks and, later, its SIGPROF handler;
 * the double buffer in fpunwind.h makes a read from a signal handler that
 * interrupted the writer consistent.
 */
#include <time.h>

#include "rt.h"

struct fpu_transitions rt_fpu_transitions;
struct fpu_graveyard rt_fpu_graveyard;

void rt_unwind_init(void)
{
	/* The only place where a chain may move from g0 to a goroutine stack in
	 * this issue: frames called by rt_systemstack.  (asmcgocall and
	 * cgocallback join later.)  rt_mcall and rt_morestack are not
	 * transitions: their g0 side starts with BP = 0. */
	fpu_transitions_add(&rt_fpu_transitions, (uintptr_t)rt_systemstack,
			    (uintptr_t)rt_systemstack_end, "rt_systemstack");
	/* cgo (cgo.S): C frames on g0 -> goroutine at asmcgocall's record;
	 * callback frames on the goroutine -> C frames on g0 at cgocallback. */
	fpu_transitions_add(&rt_fpu_transitions, (uintptr_t)rt_asmcgocall,
			    (uintptr_t)rt_asmcgocall_end, "rt_asmcgocall");
	fpu_transitions_add(&rt_fpu_transitions, (uintptr_t)rt_cgocallback_asm,
			    (uintptr_t)rt_cgocallback_end, "rt_cgocallback_asm");
	fpu_transitions_add_sigreturn(&rt_fpu_transitions);
}

/* One region into the half being written: relaxed stores, since readers on
 * other threads read it meanwhile. */
static void region_write(struct fpu_region *dst, const struct fpu_region *src)
{
	__atomic_store_n(&dst->lo, src->lo, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->hi, src->hi, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->owner, src->owner, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->kind, src->kind, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->flags, src->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->data, src->data, __ATOMIC_RELAXED);
}

/*
 * Called on every goroutine switch (twice: dropg, execute), so it must be
 * cheap.  The set is the M's base (g0 and signal stack, m->rset[0..1], built
 * once) and the goroutine it runs, if any.  Storing the whole set through
 * fpu_regions_replace was a third of a gosched (bench/runtime under chrt:
 * 85 -> 55 ns per op); now the half being written keeps the base it already
 * holds, and only the goroutine's bounds are stored.  m->rset_half_gen says
 * which generation of the base each half holds, in the M rather than in the
 * half: reading the half back costs more than storing it.  The other writers
 * of m->regions keep it true: the thread start's replace comes before the
 * first generation (1), a cgo bounds update rebuilds the base (a new
 * generation), and copystack's fpu_regions_move copies the current half's
 * base, which is the current generation's.
 */
void rt_m_regions_set(struct rt_m *m, struct rt_g *gp)
{
	struct fpu_region *r = m->rset;
	if (r[0].kind != FPU_REGION_G0) {
		m->rset_gen++;
		r[0] = (struct fpu_region){ .lo = m->g0->stack.lo, .hi = m->g0->stack.hi,
					    .owner = (uint64_t)m->id, .kind = FPU_REGION_G0 };
		r[1] = (struct fpu_region){ .lo = m->sigstack.lo, .hi = m->sigstack.hi,
					    .owner = (uint64_t)m->id, .kind = FPU_REGION_SIGNAL };
		r[2] = (struct fpu_region){ .kind = FPU_REGION_GOROUTINE };
	}
	struct fpu_region_set *set = fpu_regions_write_begin(&m->regions);
	uint32_t *gen = &m->rset_half_gen[set - m->regions.set];
	__atomic_store_n(&set->count, gp ? 3u : 2u, __ATOMIC_RELAXED);
	if (*gen != m->rset_gen) {
		region_write(&set->r[0], &r[0]);
		region_write(&set->r[1], &r[1]);
		*gen = m->rset_gen;
	}
	if (gp) {
		r[2].lo = gp->stack.lo;
		r[2].hi = gp->stack.hi;
		r[2].owner = gp->goid;
		region_write(&set->r[2], &r[2]);
	}
	fpu_regions_write_end(&m->regions, set);
}

/* Every goroutine exit buries its stack, so the time comes from the coarse
 * monotonic clock (same clock, jiffy resolution, a third of the cost). */
void rt_bury(struct rt_stack s, uint64_t owner, uint32_t kind, struct rt_stack *moved)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	struct fpu_grave g = {
		.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1,
		.lo = s.lo, .hi = s.hi, .owner = owner, .kind = kind,
		.why = moved ? FPU_GRAVE_MOVED : FPU_GRAVE_FREED,
		.new_lo = moved ? moved->lo : 0, .new_hi = moved ? moved->hi : 0,
	};
	fpu_graveyard_bury(&rt_fpu_graveyard, &g);
	rt_prof_region_event(s, owner, kind, moved);
}

void rt_unbury(struct rt_stack s)
{
	fpu_graveyard_revive(&rt_fpu_graveyard, s.lo, s.hi);
}

const struct fpu_regions *rt_m_regions(void)
{
	struct rt_g *g = rt_getg();
	return g && g->m ? &g->m->regions : NULL;
}

const struct fpu_transitions *rt_transitions(void) { return &rt_fpu_transitions; }
const struct fpu_graveyard *rt_graveyard(void) { return &rt_fpu_graveyard; }

void rt_unwind_ctx(struct fpu_ctx *ctx)
{
	*ctx = (struct fpu_ctx){
		.regions = rt_m_regions(),
		.transitions = &rt_fpu_transitions,
		.graveyard = &rt_fpu_graveyard,
	};
}
