/*
 * park.c — how a goroutine leaves its M and comes back (Go's proc.go park_m,
 * ready, goschedImpl): park, ready, gosched.  The switches to g0 go through
 * rt_mcall (BP = 0 there: see mcall.S and seed 003); rt_gopark itself is
 * inline in rt.h.
 */
#include "rt.h"

/* ---- park / ready ------------------------------------------------------------- */

void rt_park_m(struct rt_g *gp)
{
	struct rt_m *m = gp->m;
	rt_casgstatus_or_die(gp, G_RUNNING, G_WAITING);
	rt_dropg(m);
	if (gp->unlockf && !gp->unlockf(gp, gp->unlockarg)) {
		rt_casgstatus_or_die(gp, G_WAITING, G_RUNNABLE);
		rt_execute(gp);
	}
	rt_schedule();
}

bool rt_unlock_lock(struct rt_g *gp, void *lock)
{
	(void)gp;
	rt_unlock(lock);
	return true;
}

void rt_goready(struct rt_g *gp)
{
	rt_casgstatus_or_die(gp, G_WAITING, G_RUNNABLE);
	struct rt_g *g = rt_getg();
	struct rt_p *p = g && g->m ? g->m->p : NULL;
	if (p)
		rt_runqput(p, gp);
	else
		rt_globrunqput(gp);
	rt_wakep();
}

/*
 * Go's goschedImpl: a yielding G goes to the GLOBAL run queue, never to the
 * tail of the local one.
 *
 * The race this prevents ("P partition", found with yield.c under load, one
 * run in three): with 2 Ps, a ping-pong pair that lands on P1 keeps P1's local
 * queue non-empty forever (each side readies the other onto P1 before it
 * parks), so P1's M always finds local work and never steals; yielders that
 * requeue themselves on P0's local queue keep P0's never empty either.  Both
 * Ms run, no M is idle, wakep sees npidle == 0 and correctly does nothing, and
 * the yielders never run on the second M (yield.c: "all goroutines ran on one
 * M").  It looks like a lost wakeup but is a lost *migration*: nothing ever
 * moves work between two busy Ps.  On the global queue a yielder is seen by
 * every P: when its local queue is empty and, at the latest, at its every 61st
 * schedule (findrunnable's schedtick check), so work reaches all Ps.
 * With one P there is nobody to migrate to and the local tail is as fair (the
 * schedtick check still drains the global queue), so the lock, two per yield
 * with the dequeue (~100 ns, the gosched bench), is paid only when nprocs > 1.
 */
static void gosched_m(struct rt_g *gp)
{
	struct rt_m *m = gp->m;
	rt_casgstatus_or_die(gp, G_RUNNING, G_RUNNABLE);
	rt_dropg(m);
	if (rt_sched.nprocs > 1)
		rt_globrunqput(gp);
	else
		rt_runqput(m->p, gp);
	rt_schedule();
}

/* Named for the gdb test: "the function mcall runs". */
void rt_gosched_m(struct rt_g *gp) __attribute__((noinline));
void rt_gosched_m(struct rt_g *gp) { gosched_m(gp); }

void rt_gosched(void)
{
	struct rt_g *g = rt_getg();
	if (!g || g->is_g0)
		return;
	rt_san_switch(g, g->m->g0, RT_SAN_G0_TOP);
	rt_mcall(rt_gosched_m);
}

_Noreturn void rt_badmcall(struct rt_g *g)
{
	rt_fatal("rt_mcall called on g0 of M%lld", (long long)g->m->id);
}

_Noreturn void rt_badmcall2(void)
{
	rt_fatal("rt_mcall: fn returned");
}

uint64_t rt_goid(void)
{
	struct rt_g *g = rt_getg();
	return g && !g->is_g0 ? g->goid : 0;
}

int rt_gomaxprocs(void) { return rt_sched.nprocs; }
