/*
 * prof_wall.c — one tick of the wall sampler, round-robin under a cap (see
 * prof.h).  Looking at every goroutine on every tick costs O(goroutines) per
 * tick: with 10,000 parked goroutines at 97 Hz the writer would walk and copy
 * a million stacks a second.  Under a cap each tick looks at the next cap Gs
 * of allgs, and each sample weighs the time since its G was last looked at,
 * which is the estimate a systematic sample gives: the state seen at a look
 * stands for the interval since the previous look at the same G.
 *
 * Runs on the profiler's writer thread only (or a test's goroutine); every
 * field it keeps, prof_wall_ns included, is that thread's alone.
 */
#include "prof.h"
#include "rt.h"

/*
 * Gs linked into allgs since the previous tick (allgs only ever grows at
 * its head) appeared within the last interval: their first sample stands for
 * the time since the previous tick, not since the profiler started.
 */
static void stamp_new_gs(struct rt_prof_wall *w, struct rt_g *head)
{
	for (struct rt_g *gp = head; gp && gp != w->seen_head; gp = gp->alllink)
		gp->prof_wall_ns = w->last_ns;
	w->seen_head = head;
}

static int is_off_cpu(uint32_t st)
{
	return st == G_RUNNABLE || st == G_WAITING || st == G_SYSCALL;
}

unsigned rt_prof_wall_tick(struct rt_prof_wall *w, unsigned cap, uint64_t now_ns,
			   rt_prof_wall_fn fn, void *arg)
{
	struct rt_g *head = __atomic_load_n(&rt_sched.allgs, __ATOMIC_ACQUIRE);
	unsigned looked = 0;

	stamp_new_gs(w, head);
	if (!w->cursor)
		w->cursor = head;
	struct rt_g *first = w->cursor;
	/* At most one look per G per tick: stop on coming back to the first. */
	for (struct rt_g *gp = first; gp && (cap == 0 || looked < cap);) {
		uint64_t weight = now_ns - gp->prof_wall_ns;
		uint32_t st = rt_readgstatus(gp);
		gp->prof_wall_ns = now_ns;
		looked++;
		/* A G that moves on between the read and the CAS is not off CPU. */
		if (!gp->is_g0 && is_off_cpu(st) && rt_casgstatus(gp, st, st | G_SCAN)) {
			fn(gp, st, weight, arg);
			atomic_fetch_and(&gp->status, ~(uint32_t)G_SCAN);
		}
		gp = gp->alllink ? gp->alllink : head;
		w->cursor = gp;
		if (gp == first)
			break;
	}
	w->last_ns = now_ns;
	return looked;
}
