/*
 * sched.c — the scheduler (Go's proc.go): run queues, schedule/execute,
 * the Ms' spinning/idle protocol and the P's handoffs (park.c: how a
 * goroutine leaves the CPU and is readied).
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
		rt_cpu_relax();
	}
}

void rt_casgstatus_or_die(struct rt_g *gp, uint32_t old, uint32_t new_)
{
	/* Only the M running a G changes it from G_RUNNING, and only rt_go
	 * changes a dead G it took from a free list; no traceback and no wall
	 * sample sets G_SCAN on a running or a dead G (they scan only parked,
	 * runnable and syscall Gs): a store does, and saves an atomic RMW on
	 * every switch and spawn (they cost ~20 ns on a virtual machine). */
	if ((old == G_RUNNING || old == G_DEAD) &&
	    atomic_load_explicit(&gp->status, memory_order_relaxed) == old) {
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
	static const char *const n[] = { "idle", "runnable", "running", "waiting", "dead",
					 "syscall" };
	s &= ~(uint32_t)G_SCAN;
	return s < 6 ? n[s] : "?";
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

/* Out of line: findrunnable's fast path (the local queue) stays small. */
static __attribute__((noinline)) struct rt_g *globrunqget(void)
{
	rt_lock(&rt_sched.lock);
	struct rt_g *gp = globrunqget_locked();
	rt_unlock(&rt_sched.lock);
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
	/* One P: runqsteal has no other P to steal from, so the M holding p is
	 * the queue's only consumer and a plain release store takes the head.
	 * The CAS it saves is one of the two atomic RMWs (~14-20 ns each on this
	 * VM) of every goroutine switch; Go pays it with one P too. */
	if (rt_sched.nprocs == 1) {
		uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_relaxed);
		uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_acquire);
		if (t == h)
			return NULL;
		struct rt_g *gp = atomic_load_explicit(&p->runq[h % RT_RUNQ], memory_order_relaxed);
		atomic_store_explicit(&p->runqhead, h + 1, memory_order_release);
		return gp;
	}
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

/* Ms in exitsyscall waiting for a P (written under sched.lock) */
static struct rt_m *_Atomic pwait;

static void pidleput_locked(struct rt_p *p)
{
	/* An M that left a syscall without a P is first in line: its goroutine
	 * stays on it (a cgo callback must), so it cannot requeue the G instead
	 * (Go's exitsyscall0 can; Go's locked Ms get their P this way too). */
	struct rt_m *w = pwait;
	if (w) {
		pwait = w->pwaitlink;
		w->nextp = p;
		p->m = w;
		atomic_store(&w->park, 1);
		rt_futex_wake(&w->park, 1);
		return;
	}
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
	atomic_store_explicit(&p->status, P_RUNNING, memory_order_relaxed);
}

/*
 * Go's retake of a P in a syscall, done by the M that needs it instead of a
 * sysmon: the caller has just joined pwait (sched.lock held), so pidleput
 * hands the P to it.  Go's cgocallback on a foreign thread is needm, then
 * exitsyscall, which needs a P; if the only one sits with a goroutine that
 * waits in C for that very thread (pthread_join through rt_cgocall), nothing
 * else would ever give it back.
 */
static void retake_locked(void)
{
	for (int i = 0; i < rt_sched.nprocs; i++) {
		struct rt_p *p = &rt_sched.allp[i];
		uint32_t s = P_SYSCALL;
		if (atomic_load(&p->status) == P_SYSCALL &&
		    atomic_compare_exchange_strong(&p->status, &s, P_IDLE)) {
			p->m = NULL;
			pidleput_locked(p);
			return;
		}
	}
}

/*
 * entersyscall keeps its P for a short call (Go's m.oldp): retakable while
 * it is P_SYSCALL.  The status is stored (seq_cst) before pwait is read, and
 * rt_acquirep_wait writes pwait before it reads the statuses: of a waiter and
 * an M entering a syscall at the same time, at least one sees the other, so
 * either the waiter retakes this P or this M hands it over here.  Without the
 * handover, a waiter that came first would sleep while the P idles in C.
 */
void rt_entersyscall_keepp(struct rt_m *m)
{
	struct rt_p *p = m->p;
	m->p = NULL;
	m->oldp = p;
	atomic_exchange(&p->status, P_SYSCALL);
	if (!atomic_load(&pwait))
		return;
	rt_lock(&rt_sched.lock);
	uint32_t s = P_SYSCALL;
	if (pwait && atomic_compare_exchange_strong(&p->status, &s, P_IDLE)) {
		p->m = NULL;
		pidleput_locked(p);
	}
	rt_unlock(&rt_sched.lock);
}

/* Go's exitsyscallfast: the P kept by entersyscall, unless it was retaken. */
bool rt_exitsyscall_oldp(struct rt_m *m)
{
	struct rt_p *p = m->oldp;
	m->oldp = NULL;
	uint32_t s = P_SYSCALL;
	if (!p || !atomic_compare_exchange_strong(&p->status, &s, P_RUNNING))
		return false;
	acquirep(m, p);
	return true;
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

/* Does the caller's M hold a P (it runs a goroutine, or g0 of an M with one)? */
static bool holds_p(void)
{
	struct rt_g *g = rt_getg();
	return g && g->m && g->m->p;
}

/* Go's wakep: one more M spins looking for work if a P is idle and nobody spins. */
void rt_wakep(void)
{
	/*
	 * Go's submission pattern (proc.go, "Worker thread parking/unparking"):
	 * 1. put the G on a run queue, 2. #StoreLoad barrier, 3. look at
	 * npidle/nmspinning.  The M going idle does the mirror image (pidleput and
	 * nmspinning-- are locked RMWs, then it rechecks every queue).  runqput's
	 * tail store is a plain release store: without this fence x86 lets it sit
	 * in the store buffer while we read a stale npidle == 0 / nmspinning == 1,
	 * while the idling M reads the old tail; both miss the G and a P stays
	 * idle with work queued (a true lost wakeup, rare but real).
	 */
	if (rt_sched.nprocs == 1 && holds_p())
		return;       /* the only P is ours: none is idle, and none can be */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&rt_sched.npidle) == 0)
		return;
	int32_t z = 0;
	if (atomic_load(&rt_sched.nmspinning) != 0 ||
	    !atomic_compare_exchange_strong(&rt_sched.nmspinning, &z, 1))
		return;
	startm(NULL, true);
}

static void checkdead_locked(void);

static bool runqempty(struct rt_p *p);

/* Go's handoffp: p was released by an M that blocks (entersyscallblock, a
 * locked M whose G parked).  With work queued, an M runs it now; otherwise p
 * goes idle, where a wakep for later work finds it. */
void rt_handoffp(struct rt_p *p)
{
	p->m = NULL;
	if (!runqempty(p) || atomic_load(&rt_sched.runqsize) > 0) {
		startm(p, false);
		return;
	}
	rt_lock(&rt_sched.lock);
	if (rt_sched.runqhead) {
		rt_unlock(&rt_sched.lock);
		startm(p, false);
		return;
	}
	pidleput_locked(p);
	rt_unlock(&rt_sched.lock);
}

/* exitsyscall without a P: take an idle one, or wait until pidleput hands
 * this M one.  The M is on neither midle nor any run queue meanwhile. */
void rt_acquirep_wait(struct rt_m *m)
{
	rt_lock(&rt_sched.lock);
	struct rt_p *p = pidleget_locked();
	if (p) {
		rt_unlock(&rt_sched.lock);
		acquirep(m, p);
		return;
	}
	atomic_store(&m->park, 0);
	m->pwaitlink = pwait;
	pwait = m;
	retake_locked();        /* a P kept in a syscall comes to us at once */
	rt_unlock(&rt_sched.lock);
	while (atomic_load(&m->park) == 0)
		rt_futex_wait(&m->park, 0, -1);
	atomic_store(&m->park, 0);
	acquirep(m, m->nextp);
	m->nextp = NULL;
}

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
		if (++p->schedtick % 61 == 0 && atomic_load(&rt_sched.runqsize) > 0 &&
		    (gp = globrunqget()))
			return gp;
		if ((gp = runqget(p)))
			return gp;
		if (atomic_load(&rt_sched.runqsize) > 0 && (gp = globrunqget()))
			return gp;
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

/*
 * Locked Gs (Go's lockOSThread, used for cgo callbacks: the callback's frames
 * sit on top of C frames on this M's g0, so the G must return on this M).
 * stoplockedm: the locked G parked or yielded; give the P away and sleep
 * until another M finds the G runnable and hands us its P (startlockedm).
 */
static _Noreturn void stoplockedm(struct rt_m *m)
{
	struct rt_p *p = m->p;
	m->p = NULL;
	/*
	 * park is NOT cleared here.  The locked G is already on a run queue
	 * (gosched put it on the global one), so another M may have found it and
	 * run startlockedm (nextp, park = 1, wake) before we got here; clearing
	 * park now would erase that wakeup and this M would sleep forever with
	 * its G never run (the deadlock cgo_export hit under ASan's slower
	 * timing).  Every wait clears park after it consumes it, so here it is
	 * 0 unless that wakeup already came.
	 */
	rt_handoffp(p);
	while (atomic_load(&m->park) == 0)
		rt_futex_wait(&m->park, 0, -1);
	atomic_store(&m->park, 0);
	acquirep(m, m->nextp);
	m->nextp = NULL;
	rt_execute(m->lockedg);
}

static void startlockedm(struct rt_m *m, struct rt_g *gp)
{
	struct rt_m *lm = gp->lockedm;
	struct rt_p *p = m->p;
	m->p = NULL;
	lm->nextp = p;
	p->m = lm;
	atomic_store(&lm->park, 1);
	rt_futex_wake(&lm->park, 1);
}

/* Gives m's P to an M waiting in exitsyscall, if one still waits.  Out of
 * line: rt_schedule's common path stays small. */
static __attribute__((noinline)) bool handoff_to_pwaiter(struct rt_m *m)
{
	rt_lock(&rt_sched.lock);
	if (!pwait) {
		rt_unlock(&rt_sched.lock);
		return false;
	}
	struct rt_p *p = m->p;
	m->p = NULL;
	pidleput_locked(p);     /* hands p to the waiter */
	rt_unlock(&rt_sched.lock);
	return true;
}

_Noreturn void rt_schedule(void)
{
	struct rt_m *m = rt_getg()->m;
	if (m->lockedg)
		stoplockedm(m);
	for (;;) {
		/* An M waiting in exitsyscall (a cgo callback, a syscall's return)
		 * gets this P before more goroutines run: without preemption, busy
		 * goroutines would otherwise keep every P and starve it forever. */
		if (atomic_load_explicit(&pwait, memory_order_relaxed) && m->p &&
		    handoff_to_pwaiter(m)) {
			rt_stopm(m);
			continue;
		}
		struct rt_g *gp = findrunnable(m);
		resetspinning(m);
		if (!gp->lockedm || gp->lockedm == m)
			rt_execute(gp);
		/* gp must run on its own M: hand it our P, then idle */
		startlockedm(m, gp);
		rt_stopm(m);
	}
}

/* Go's dropg: the M no longer runs gp; its stack leaves the M's regions. */
void rt_dropg(struct rt_m *m)
{
	m->curg->m = NULL;
	m->curg = NULL;
	rt_m_regions_set(m, NULL);
}
