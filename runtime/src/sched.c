/*
 * sched.c — the scheduler (Go's proc.go): run queues, schedule/execute,
 * park/ready, gosched, goexit, and the Ms' spinning/idle protocol.
 *
 * Everything named *_m runs on g0, reached through rt_mcall from the goroutine
 * it acts on (BP = 0 there: see mcall.S and seed 003).
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

struct rt_sched rt_sched;
__thread struct rt_g *rt_tls_g;   /* the current g: goroutine, g0, or NULL off an M */

/* ---- G status --------------------------------------------------------------- */

uint32_t rt_readgstatus(struct rt_g *gp) { return atomic_load(&gp->status); }

/* Go's casgstatus: waits while a traceback holds the G_SCAN bit. */
bool rt_casgstatus(struct rt_g *gp, uint32_t old, uint32_t new_)
{
	for (int i = 0;; i++) {
		uint32_t o = old;
		if (atomic_compare_exchange_weak(&gp->status, &o, new_))
			return true;
		if ((o & ~(uint32_t)G_SCAN) != old)
			return false;
		__builtin_ia32_pause();
	}
}

void rt_casgstatus_or_die(struct rt_g *gp, uint32_t old, uint32_t new_)
{
	/* Only the M running a G changes it from G_RUNNING, and no traceback sets
	 * G_SCAN on a running G: a store does, and saves an atomic RMW on every
	 * switch (they cost ~20 ns on a virtual machine). */
	if (old == G_RUNNING && atomic_load_explicit(&gp->status, memory_order_relaxed) == G_RUNNING) {
		atomic_store_explicit(&gp->status, new_, memory_order_release);
		return;
	}
	if (!rt_casgstatus(gp, old, new_))
		rt_fatal("casgstatus: goroutine %llu is %s, expected %s (-> %s)",
			 (unsigned long long)gp->goid, rt_gstatus_name(rt_readgstatus(gp)),
			 rt_gstatus_name(old), rt_gstatus_name(new_));
}

const char *rt_gstatus_name(uint32_t s)
{
	static const char *const n[] = { "idle", "runnable", "running", "waiting", "dead" };
	s &= ~(uint32_t)G_SCAN;
	return s < 5 ? n[s] : "?";
}

/* ---- run queues (Go's runqput/runqget/runqsteal) --------------------------- */

static void globrunqput_locked(struct rt_g *gp)
{
	gp->schedlink = NULL;
	if (rt_sched.runqtail)
		rt_sched.runqtail->schedlink = gp;
	else
		rt_sched.runqhead = gp;
	rt_sched.runqtail = gp;
	atomic_fetch_add(&rt_sched.runqsize, 1);
}

static struct rt_g *globrunqget_locked(void)
{
	struct rt_g *gp = rt_sched.runqhead;
	if (gp) {
		rt_sched.runqhead = gp->schedlink;
		if (!rt_sched.runqhead)
			rt_sched.runqtail = NULL;
		atomic_fetch_sub(&rt_sched.runqsize, 1);
	}
	return gp;
}

void rt_globrunqput(struct rt_g *gp)
{
	rt_lock(&rt_sched.lock);
	globrunqput_locked(gp);
	rt_unlock(&rt_sched.lock);
}

/* Owner only.  A full local queue spills to the global one. */
void rt_runqput(struct rt_p *p, struct rt_g *gp)
{
	uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
	if (t - h < RT_RUNQ) {
		atomic_store_explicit(&p->runq[t % RT_RUNQ], gp, memory_order_relaxed);
		atomic_store_explicit(&p->runqtail, t + 1, memory_order_release);
		return;
	}
	rt_globrunqput(gp);
}

static struct rt_g *runqget(struct rt_p *p)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_acquire);
		if (t == h)
			return NULL;
		struct rt_g *gp = atomic_load_explicit(&p->runq[h % RT_RUNQ], memory_order_relaxed);
		if (atomic_compare_exchange_weak_explicit(&p->runqhead, &h, h + 1,
							  memory_order_release, memory_order_relaxed))
			return gp;
	}
}

static bool runqempty(struct rt_p *p)
{
	return atomic_load(&p->runqhead) == atomic_load(&p->runqtail);
}

/* Steal one G from another P (Go steals half; one keeps this short and fair
 * enough for a runtime without preemption). */
static struct rt_g *runqsteal(struct rt_p *self)
{
	int n = rt_sched.nprocs;
	int start = self->id + 1;
	for (int i = 0; i < n; i++) {
		struct rt_p *v = &rt_sched.allp[(start + i) % n];
		if (v == self)
			continue;
		struct rt_g *gp = runqget(v);
		if (gp)
			return gp;
	}
	return NULL;
}

/* ---- P and M handoff ---------------------------------------------------------- */

static void pidleput_locked(struct rt_p *p)
{
	p->link = rt_sched.pidle;
	p->m = NULL;
	rt_sched.pidle = p;
	atomic_fetch_add(&rt_sched.npidle, 1);
}

static struct rt_p *pidleget_locked(void)
{
	struct rt_p *p = rt_sched.pidle;
	if (p) {
		rt_sched.pidle = p->link;
		atomic_fetch_sub(&rt_sched.npidle, 1);
	}
	return p;
}

static void acquirep(struct rt_m *m, struct rt_p *p)
{
	m->p = p;
	p->m = m;
}

/* Go's startm: run p (or an idle P) on an idle or new M. */
static void startm(struct rt_p *p, bool spinning)
{
	rt_lock(&rt_sched.lock);
	if (!p)
		p = pidleget_locked();
	if (!p) {
		rt_unlock(&rt_sched.lock);
		if (spinning)
			atomic_fetch_sub(&rt_sched.nmspinning, 1);
		return;
	}
	struct rt_m *m = rt_sched.midle;
	if (m) {
		rt_sched.midle = m->schedlink;
		rt_sched.nmidle--;
	}
	rt_unlock(&rt_sched.lock);
	if (!m) {
		rt_newm(p, spinning);
		return;
	}
	m->nextp = p;
	m->spinning = spinning;
	atomic_store(&m->park, 1);
	rt_futex_wake(&m->park, 1);
}

/* Go's wakep: one more M spins looking for work if a P is idle and nobody spins. */
void rt_wakep(void)
{
	if (atomic_load(&rt_sched.npidle) == 0)
		return;
	int32_t z = 0;
	if (atomic_load(&rt_sched.nmspinning) != 0 ||
	    !atomic_compare_exchange_strong(&rt_sched.nmspinning, &z, 1))
		return;
	startm(NULL, true);
}

static void checkdead_locked(void);

/* Go's stopm: park this M on its futex until startm hands it a P. */
void rt_stopm(struct rt_m *m)
{
	rt_lock(&rt_sched.lock);
	m->schedlink = rt_sched.midle;
	rt_sched.midle = m;
	rt_sched.nmidle++;
	checkdead_locked();
	rt_unlock(&rt_sched.lock);
	while (atomic_load(&m->park) == 0)
		rt_futex_wait(&m->park, 0, -1);
	atomic_store(&m->park, 0);
	acquirep(m, m->nextp);
	m->nextp = NULL;
}

/* Go's checkdead: every M idle, nothing runnable, no timer: nothing can ever run
 * again.  (The thread blocked in rt_main is not an M.) */
static void checkdead_locked(void)
{
	if (rt_sched.nmidle < rt_sched.mcount || rt_sched.runqhead)
		return;
	if (atomic_load(&rt_sched.nmain) == 0 || atomic_load(&rt_sched.ngoroutines) == 0 ||
	    rt_timers_pending())
		return;
	for (int i = 0; i < rt_sched.nprocs; i++)
		if (!runqempty(&rt_sched.allp[i]))
			return;
	rt_unlock(&rt_sched.lock);
	rt_fatal("all goroutines are asleep - deadlock! (%lld goroutines, %d Ms idle)",
		 (long long)atomic_load(&rt_sched.ngoroutines), rt_sched.nmidle);
}

static void resetspinning(struct rt_m *m)
{
	if (!m->spinning)
		return;
	m->spinning = false;
	/* Go: the last spinning M to find work wakes another, so a burst of new
	 * work never waits for a running M to finish. */
	if (atomic_fetch_sub(&rt_sched.nmspinning, 1) == 1)
		rt_wakep();
}

/* Go's findrunnable: blocks until there is a G to run; returns with m->p held. */
static struct rt_g *findrunnable(struct rt_m *m)
{
	for (;;) {
		struct rt_p *p = m->p;
		struct rt_g *gp;
		/* Go's schedtick % 61: the global queue cannot starve behind a
		 * local queue that always has work. */
		if (++p->schedtick % 61 == 0 && atomic_load(&rt_sched.runqsize) > 0) {
			rt_lock(&rt_sched.lock);
			gp = globrunqget_locked();
			rt_unlock(&rt_sched.lock);
			if (gp)
				return gp;
		}
		if ((gp = runqget(p)))
			return gp;
		if (atomic_load(&rt_sched.runqsize) > 0) {
			rt_lock(&rt_sched.lock);
			gp = globrunqget_locked();
			rt_unlock(&rt_sched.lock);
			if (gp)
				return gp;
		}
		if (!m->spinning && 2 * atomic_load(&rt_sched.nmspinning) <
					    rt_sched.nprocs - atomic_load(&rt_sched.npidle)) {
			m->spinning = true;
			atomic_fetch_add(&rt_sched.nmspinning, 1);
		}
		if ((gp = runqsteal(p)))
			return gp;

		/* Nothing: give the P back, then look once more (Go's "delicate
		 * dance"): work put on a queue after our checks was either seen by its
		 * wakep (our P is idle now) or is found by this second look. */
		rt_lock(&rt_sched.lock);
		if ((gp = globrunqget_locked())) {
			rt_unlock(&rt_sched.lock);
			return gp;
		}
		m->p = NULL;
		pidleput_locked(p);
		rt_unlock(&rt_sched.lock);
		if (m->spinning) {
			m->spinning = false;
			atomic_fetch_sub(&rt_sched.nmspinning, 1);
		}
		bool work = atomic_load(&rt_sched.runqsize) > 0;
		for (int i = 0; !work && i < rt_sched.nprocs; i++)
			work = !runqempty(&rt_sched.allp[i]);
		if (work) {
			rt_lock(&rt_sched.lock);
			p = pidleget_locked();
			rt_unlock(&rt_sched.lock);
			if (p) {
				acquirep(m, p);
				m->spinning = true;
				atomic_fetch_add(&rt_sched.nmspinning, 1);
				continue;
			}
		}
		rt_stopm(m);
	}
}

_Noreturn void rt_execute(struct rt_g *gp)
{
	struct rt_m *m = rt_getg()->m;
	rt_casgstatus_or_die(gp, G_RUNNABLE, G_RUNNING);
	m->curg = gp;
	gp->m = m;
	rt_m_regions_set(m, gp);
	rt_setg(gp);
	rt_gogo(&gp->sched);
}

_Noreturn void rt_schedule(void)
{
	struct rt_m *m = rt_getg()->m;
	struct rt_g *gp = findrunnable(m);
	resetspinning(m);
	rt_execute(gp);
}

/* Go's dropg: the M no longer runs gp; its stack leaves the M's regions. */
void rt_dropg(struct rt_m *m)
{
	m->curg->m = NULL;
	m->curg = NULL;
	rt_m_regions_set(m, NULL);
}

/* ---- park / ready ------------------------------------------------------------- */

static void park_m(struct rt_g *gp)
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

/* Go's gopark: unlockf(gp, arg) runs on g0 after gp is parked; if it returns
 * false gp resumes at once.  The classic use passes the lock that protects the
 * wait queue gp was put on, so a waker cannot ready gp before it is parked. */
void rt_gopark(bool (*unlockf)(struct rt_g *, void *), void *arg, const char *reason)
{
	struct rt_g *gp = rt_getg();
	if (!gp || gp->is_g0)
		rt_fatal("rt_gopark (%s) called outside a goroutine", reason);
	gp->unlockf = unlockf;
	gp->unlockarg = arg;
	gp->waitreason = reason;
	rt_mcall(park_m);
	gp = rt_getg();
	gp->waitreason = NULL;
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

/* Go puts a yielding G on the global queue; the tail of the local one is as
 * fair here (findrunnable looks at the global queue every 61st time) and
 * needs no lock. */
static void gosched_m(struct rt_g *gp)
{
	struct rt_m *m = gp->m;
	rt_casgstatus_or_die(gp, G_RUNNING, G_RUNNABLE);
	rt_dropg(m);
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
