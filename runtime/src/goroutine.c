/*
 * goroutine.c — creating goroutines and their end (Go's newproc, gfget/gfput,
 * goexit0).  The frame layout of a new goroutine is the FP rule "new
 * goroutine: BP = 0 and a return address into goexit" (gogo.S, rt_goexit).
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* Dead Gs are cached per P (no lock; Go's gfget/gfput), spilling to the
 * global list beyond 64. */
static struct rt_g *gfget(void)
{
	struct rt_g *g = rt_getg();
	struct rt_p *p = g && g->m ? g->m->p : NULL;
	struct rt_g *gp = p ? p->gfree : NULL;
	if (gp) {
		p->gfree = gp->schedlink;
		p->ngfree--;
		return gp;
	}
	rt_lock(&rt_sched.lock);
	gp = rt_sched.gfree;
	if (gp)
		rt_sched.gfree = gp->schedlink;
	rt_unlock(&rt_sched.lock);
	return gp;
}

static void gfput(struct rt_p *p, struct rt_g *gp)
{
	if (p && p->ngfree < 64) {
		gp->schedlink = p->gfree;
		p->gfree = gp;
		p->ngfree++;
		return;
	}
	rt_lock(&rt_sched.lock);
	gp->schedlink = rt_sched.gfree;
	rt_sched.gfree = gp;
	rt_unlock(&rt_sched.lock);
}

struct rt_g *rt_malg(void)
{
	struct rt_g *gp = gfget();
	if (!gp) {
		gp = calloc(1, sizeof *gp);
		if (!gp)
			rt_fatal("out of memory allocating a G (%zu bytes)", sizeof *gp);
		atomic_store(&gp->status, G_DEAD);
		rt_lock(&rt_sched.glock);
		gp->alllink = rt_sched.allgs;
		/* Release: rt_traceback_others and the profiler walk allgs
		 * without the lock (a fatal error may hold it). */
		__atomic_store_n(&rt_sched.allgs, gp, __ATOMIC_RELEASE);
		rt_unlock(&rt_sched.glock);
	}
	if (!gp->stack.lo) {
		gp->stack = rt_stackalloc(rt_stack_default);
		rt_stack_init_g(gp);
	}
	return gp;
}

uint64_t rt_go(void (*fn)(void *), void *arg)
{
	rt_init_once();
	struct rt_g *gp = rt_malg();
	gp->goid = atomic_fetch_add(&rt_sched.goidgen, 1) + 1;
	uint64_t goid = gp->goid;
	gp->fn = fn;
	gp->arg = arg;
	gp->moves = 0;
	gp->nslots = 0;
	/* A dead G's stack, or a range a dead one had: live again (its burial
	 * must not make an fp into it look stale). */
	rt_unbury(gp->stack);
	memset(&gp->sched, 0, sizeof gp->sched);
#if defined(__aarch64__)
	/* The base frame (arch/arm64/gogo.S, rt_goexit): rt_gomain starts with
	 * x30 = rt_goexit+4 (the return address a bl in rt_goexit would leave),
	 * x29 = 0 and a 16-byte aligned sp, 16 bytes below the top so that sp
	 * lies inside the stack's region from the first instruction on. */
	gp->sched.sp = gp->stack.hi - 16;
	gp->sched.lr = (uintptr_t)rt_goexit + 4;
#else
	/* The base frame (see gogo.S, rt_goexit): return address rt_goexit+1 at the
	 * 16-byte aligned top, BP = 0, pc = rt_gomain. */
	uintptr_t top = gp->stack.hi - 8;
	*(uintptr_t *)top = (uintptr_t)rt_goexit + 1;
	gp->sched.sp = top;
#endif
	extern void rt_gomain(void);
	gp->sched.pc = (uintptr_t)rt_gomain;
	atomic_fetch_add(&rt_sched.ngoroutines, 1);
	rt_casgstatus_or_die(gp, G_DEAD, G_RUNNABLE);
	struct rt_g *g = rt_getg();
	if (g && g->m && g->m->p)
		rt_runqput(g->m->p, gp);
	else
		rt_globrunqput(gp);
	rt_wakep();
	return goid;
}

/* The first frame of every goroutine; returns into rt_goexit+1. */
void rt_gomain(void) __attribute__((noinline));
void rt_gomain(void)
{
	struct rt_g *g = rt_getg();
	g->fn(g->arg);
}

static void goexit0(struct rt_g *gp)
{
	struct rt_m *m = gp->m;
	rt_casgstatus_or_die(gp, G_RUNNING, G_DEAD);
	rt_dropg(m);
	gp->fn = NULL;
	gp->arg = NULL;
	gp->nslots = 0;
	rt_bury(gp->stack, gp->goid, FPU_REGION_GOROUTINE, NULL);
	if (gp->stack.hi - gp->stack.lo != rt_stack_default || rt_debug.stackfaultonfree ||
	    rt_debug.stackpoison) {
		rt_stackfree(gp->stack, gp->goid, FPU_REGION_GOROUTINE);
		gp->stack = (struct rt_stack){ 0, 0 };
	} else {
		/* kept for the G's next goroutine: the dead frames' redzones go */
		rt_san_unpoison(gp->stack.lo, gp->stack.hi - gp->stack.lo);
	}
	atomic_fetch_sub(&rt_sched.ngoroutines, 1);
	gfput(m->p, gp);
	rt_schedule();
}

/* Called from rt_goexit when a goroutine's function returns. */
void rt_goexit1(void)
{
	struct rt_g *gp = rt_getg();
	rt_san_switch(gp, gp->m->g0, RT_SAN_DEAD | RT_SAN_G0_TOP);
	rt_mcall(goexit0);
}

