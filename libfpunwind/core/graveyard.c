/*
 * graveyard.c — a bounded ring of stack ranges that died (freed, or left behind
 * by copystack), so that a frame pointer into one is reported as "stale: points
 * into the stack G12 left at T" instead of a bare out-of-bounds.
 *
 * Writers take a ticket for a slot and own it through a per-slot seqlock: an
 * even seq is turned odd with a compare-and-swap, so two writers that wrapped
 * onto the same slot never interleave their stores.  Readers copy a slot and
 * keep it only if its seq was even and unchanged.  Nothing blocks a reader.
 */
#include "internal.h"
#include "atomics.h"

#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void grave_copy(struct fpu_grave *dst, const struct fpu_grave *src, int store)
{
	if (store) {
		store_relaxed(&dst->lo, src->lo);
		store_relaxed(&dst->hi, src->hi);
		store_relaxed(&dst->new_lo, src->new_lo);
		store_relaxed(&dst->new_hi, src->new_hi);
		store_relaxed(&dst->owner, src->owner);
		store_relaxed(&dst->time_ns, src->time_ns);
		store_relaxed(&dst->kind, src->kind);
		store_relaxed(&dst->why, src->why);
	} else {
		dst->lo = load_relaxed(&src->lo);
		dst->hi = load_relaxed(&src->hi);
		dst->new_lo = load_relaxed(&src->new_lo);
		dst->new_hi = load_relaxed(&src->new_hi);
		dst->owner = load_relaxed(&src->owner);
		dst->time_ns = load_relaxed(&src->time_ns);
		dst->kind = load_relaxed(&src->kind);
		dst->why = load_relaxed(&src->why);
	}
}

void fpu_graveyard_bury(struct fpu_graveyard *gy, const struct fpu_grave *g)
{
	uint64_t ticket = __atomic_fetch_add(&gy->next, 1, __ATOMIC_RELAXED);
	struct fpu_graveyard_slot *s = &gy->slot[ticket % FPU_GRAVEYARD_SIZE];
	struct fpu_grave copy = *g;
	uint64_t seq;

	/* A reuse's time is never reported (fpu_graveyard_find answers with the
	 * deaths only), so it is not read from the clock: CLOCK_MONOTONIC costs
	 * 30-300 ns on this VM (the coarse clock 3 ns) and was a third of fprt's
	 * spawn, which revives the dead G's stack on every rt_go. */
	if (!copy.time_ns && copy.why != FPU_GRAVE_REUSED)
		copy.time_ns = now_ns();
	for (;;) {
		seq = load_relaxed(&s->seq);
		if (!(seq & 1) &&
		    __atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
	}
	fence_release();
	store_relaxed(&s->ticket, ticket);
	grave_copy(&s->g, &copy, 1);
	store_release(&s->seq, seq + 2);
}

/*
 * A reuse is written to the same ring as the deaths, so that "most recent"
 * has one order.  Tickets, not times: a G that exits and is reused within
 * one tick of the coarse clock rt_bury uses would tie.  A range is reused
 * only after its burial returned (freed, then cached, then taken), so the
 * reuse's ticket is the larger one.
 */
void fpu_graveyard_revive(struct fpu_graveyard *gy, uintptr_t lo, uintptr_t hi)
{
	struct fpu_grave g = { .lo = lo, .hi = hi, .why = FPU_GRAVE_REUSED };
	fpu_graveyard_bury(gy, &g);
}

static int slot_read(const struct fpu_graveyard_slot *s, struct fpu_grave *out,
		     uint64_t *ticket)
{
	uint64_t seq = load_acquire(&s->seq);
	if (seq == 0 || (seq & 1))
		return 0;
	*ticket = load_relaxed(&s->ticket);
	grave_copy(out, &s->g, 0);
	fence_acquire();
	return load_relaxed(&s->seq) == seq;
}

int fpu_graveyard_find(const struct fpu_graveyard *gy, uintptr_t addr, size_t len,
		       struct fpu_grave *out)
{
	int found = 0;
	uint64_t latest = 0, ticket;
	struct fpu_grave g;

	if (!gy)
		return 0;
	for (unsigned i = 0; i < FPU_GRAVEYARD_SIZE; i++) {
		if (!slot_read(&gy->slot[i], &g, &ticket))
			continue;
		if (addr < g.lo || addr >= g.hi || len > g.hi - addr)
			continue;
		/* Stacks are reused: the most recent event is the one that explains fp. */
		if (!found || ticket > latest) {
			*out = g;
			latest = ticket;
			found = 1;
		}
	}
	return found && out->why != FPU_GRAVE_REUSED;
}
