/*
 * cgo.c — calls into C and back (Go's cgocall.go and needm/dropm in proc.go).
 *
 *   rt_cgocall(fn, arg)      goroutine -> entersyscall -> fn(arg) on g0
 *                            (rt_asmcgocall) -> exitsyscall.
 *   rt_cgocallback(fn, arg)  C -> fn(arg) on a goroutine: on an M inside
 *                            rt_cgocall the M's own goroutine; on a thread fprt
 *                            did not create an extra M (needm), bound to the
 *                            thread until it exits (a pthread key's destructor
 *                            runs dropm).
 *
 * Invariant of a callback: the G is locked to its M (its frames sit on top of
 * C frames on this M's g0), it leaves the syscall for the callback and
 * re-enters it with the values saved by cgocallbackg.  Those lie in a
 * struct rt_cgosave on g0, where copystack's conservative scan never looks,
 * in TRACKED slots: a stack move during the callback relocates them because
 * they are tracked, and for no other reason (seed 000).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

#define SIG_STACK (64 * 1024)

/* ---- the g0 stack ----------------------------------------------------------- */

/* Go's morestack-on-g0 check at a runtime entry: sp must leave `need` bytes
 * above the guard.  Seeds 001 and 004 end here when the bounds are stale. */
void rt_g0_check(struct rt_m *m, uintptr_t sp, size_t need, const char *where)
{
	struct rt_g *g0 = m->g0;
	if (sp > g0->stack.hi || sp < g0->stack.lo || sp - g0->stack.lo < need + RT_STACK_RESERVE)
		rt_fatal("g0 stack overflow on M%lld in %s: sp %#lx, %zu bytes needed, g0 stack "
			 "[%#lx, %#lx)%s", (long long)m->id, where, sp, need, g0->stack.lo,
			 g0->stack.hi, sp > g0->stack.hi || sp < g0->stack.lo ?
			 " (sp outside the bounds)" : "");
}

static void g0_bounds(struct rt_m *m, uintptr_t lo, uintptr_t hi, bool accurate)
{
	struct rt_g *g0 = m->g0;
	g0->stack = (struct rt_stack){ lo, hi };
	rt_stack_init_g(g0);
	m->g0_accurate = accurate;
	m->g0_set = true;
	m->rset[0].kind = FPU_REGION_NONE;    /* rebuild the M's regions */
	rt_m_regions_set(m, m->curg);
}

/*
 * Go's callbackUpdateSystemStack (seeds 001 and 004).  Ms fprt created have
 * exact g0 bounds: keep them.  An extra M runs on a stack it did not
 * allocate, which may change between callbacks (a coroutine library): recompute
 * on every callback unless sp is inside bounds known to be accurate; prefer
 * the pthread bounds when they contain sp, else estimate [sp-32K, sp+1K].
 * Never return early for sp inside ESTIMATED bounds: a second stack that
 * partly overlaps them can put sp near their bottom (seed 001).
 */
void rt_callbackUpdateSystemStack(struct rt_m *m, uintptr_t sp)
{
	struct rt_g *g0 = m->g0;
	bool inbound = sp > g0->stack.lo && sp <= g0->stack.hi;
	if (m->ncgo > 0 && !inbound)
		/* Go frames further up this M: C must not switch stacks under us */
		rt_fatal("cgocallback sp out of bounds: M%lld sp %#lx, g0 stack [%#lx, %#lx] "
			 "(C changed stacks between rt_cgocall and rt_cgocallback?)",
			 (long long)m->id, sp, g0->stack.lo, g0->stack.hi);
	if (!m->isextra)
		return;
#ifdef FPRT_CHECKED
	if (rt_inject.g0_bounds_static && m->g0_set)
		return;         /* seed 004: bounds set once per extra M */
	if (rt_inject.g0_bounds_fastpath && inbound)
		return;         /* seed 001: trusts estimated bounds too */
#endif
	if (inbound && m->g0_accurate)
		return;
	pthread_attr_t attr;
	void *addr;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		int ok = pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
		uintptr_t lo = (uintptr_t)addr, hi = lo + size;
		if (ok == 0 && sp > lo && sp <= hi) {
			g0_bounds(m, lo, hi, true);
			return;
		}
	}
	g0_bounds(m, sp - 32 * 1024, sp + 1024, false);
}

/* ---- extra Ms (foreign threads) --------------------------------------------- */

static rt_lock_t extralock;
static struct rt_m *extram;
static pthread_key_t mkey;
static pthread_once_t mkey_once = PTHREAD_ONCE_INIT;
static _Atomic int64_t extragen = 1000000;    /* extra M ids, apart from fprt's */

static void dropm(void *arg);
static void mkey_init(void) { pthread_key_create(&mkey, dropm); }

static struct rt_m *newextram(void)
{
	struct rt_m *m = calloc(1, sizeof *m);
	struct rt_g *g0 = calloc(1, sizeof *g0);
	if (!m || !g0)
		rt_fatal("out of memory allocating an extra M");
	m->id = atomic_fetch_add(&extragen, 1);
	m->isextra = true;
	g0->is_g0 = true;
	g0->m = m;
	atomic_store(&g0->status, G_RUNNING);
	m->g0 = g0;
	m->sigstack = rt_sysstack_alloc(SIG_STACK);
	fpu_regions_init(&m->regions);
	/* The M's goroutine: a G in a "syscall" whose frames are all C (Go's
	 * oneNewExtraM: syscallsp = the stack top, so exitsyscall's check holds). */
	struct rt_g *gp = rt_malg();
	gp->goid = atomic_fetch_add(&rt_sched.goidgen, 1) + 1;
	gp->m = m;
	gp->lockedm = m;
	m->curg = gp;
	m->lockedg = gp;
	return m;
}

/* Go's needm: bind an extra M to this thread (once: the key keeps it). */
static struct rt_m *needm(uintptr_t sp)
{
	rt_init_once();
	pthread_once(&mkey_once, mkey_init);
	rt_lock(&extralock);
	struct rt_m *m = extram;
	if (m)
		extram = m->extralink;
	rt_unlock(&extralock);
	if (!m)
		m = newextram();
	m->tid = (pid_t)syscall(SYS_gettid);
	struct rt_g *gp = m->curg;
	uintptr_t top = (gp->stack.hi - 64) & ~(uintptr_t)15;
	memset(&gp->sched, 0, sizeof gp->sched);
	gp->sched.sp = top;
	gp->syscallsp = top;
	gp->syscallpc = 0;
	gp->syscallbp = 0;
	gp->moves = 0;
	gp->nslots = 0;
	if (!rt_casgstatus(gp, G_DEAD, G_SYSCALL))
		rt_fatal("needm: extra M%lld's goroutine %llu is %s", (long long)m->id,
			 (unsigned long long)gp->goid, rt_gstatus_name(rt_readgstatus(gp)));
	rt_setg(m->g0);
	rt_callbackUpdateSystemStack(m, sp);
	stack_t ss = { .ss_sp = (void *)m->sigstack.lo,
		       .ss_size = m->sigstack.hi - m->sigstack.lo };
	sigaltstack(&ss, (stack_t *)m->oldaltstack);
	rt_prof_minit(m);
	pthread_setspecific(mkey, m);
	return m;
}

/* Go's dropm, from the key's destructor as the thread exits. */
static void dropm(void *arg)
{
	struct rt_m *m = arg;
	struct rt_g *gp = m->curg;
	stack_t *old = (stack_t *)m->oldaltstack;
	if (!(old->ss_flags & SS_DISABLE) && old->ss_size)
		sigaltstack(old, NULL);
	else {
		stack_t off = { .ss_flags = SS_DISABLE };
		sigaltstack(&off, NULL);
	}
	rt_casgstatus(gp, G_SYSCALL, G_DEAD);
	gp->syscallsp = 0;
	/* the next thread's stack is another: forget these bounds */
	m->g0->stack = (struct rt_stack){ 0, 0 };
	m->g0->stackguard = 0;
	m->g0_accurate = false;
	m->g0_set = false;
	m->rset[0].kind = FPU_REGION_NONE;
	rt_setg(NULL);
	rt_lock(&extralock);
	m->extralink = extram;
	extram = m;
	rt_unlock(&extralock);
}

/* ---- rt_cgocall / rt_cgocallback ------------------------------------------ */

__attribute__((noinline)) void rt_cgocall(void (*fn)(void *), void *arg)
{
	struct rt_g *gp = rt_getg();
	if (!gp || gp->is_g0) {
		fn(arg);        /* already on a system stack */
		return;
	}
	struct rt_m *m = gp->m;
	rt_g0_check(m, m->g0->sched.sp, RT_G0_ENTRY, "rt_cgocall");
	m->ncgo++;
	rt_entersyscall();
	rt_san_switch(gp, m->g0, 0);
	rt_asmcgocall(fn, arg);
	gp = rt_getg();
	rt_san_switch(gp->m->g0, gp, 0);
	rt_exitsyscall();
	gp = rt_getg();
	gp->m->ncgo--;
}

/* Which of the saved syscall slots cgocallbackg tracks: both (Go's
 * unsafe.Pointer savedsp and savedbp).  The checked runtime can leave one
 * untracked, Go's uintptr, to bring seed 000 back. */
struct cgosave_tracking { bool sp, bp; };

static struct cgosave_tracking cgosave_track(struct rt_cgosave *save)
{
	struct cgosave_tracking t = { true, true };
#ifdef FPRT_CHECKED
	t.sp = !rt_inject.syscallsp_untracked;   /* Go before 7283e08c (seed 002) */
	t.bp = !rt_inject.syscallbp_untracked;   /* Go before bacd0c58 (seed 000) */
#endif
	if (t.sp)
		rt_stack_track(&save->sp);
	if (t.bp)
		rt_stack_track(&save->bp);
	return t;
}

static void cgosave_untrack(struct rt_cgosave *save, struct cgosave_tracking t)
{
	if (t.bp)
		rt_stack_untrack(&save->bp);
	if (t.sp)
		rt_stack_untrack(&save->sp);
}

/* On the goroutine stack, called by rt_cgocallback_asm (Go's cgocallbackg). */
__attribute__((noinline)) void rt_cgocallbackg(void (*fn)(void *), void *arg)
{
	struct rt_g *gp = rt_getg();
	/* entersyscall in rt_cgocall recorded ITS frame; we return to it later,
	 * so reentersyscall must restore exactly these (Go 7978, seed 002).
	 * save is on g0 (rt_cgocallback's frame): the scan of a stack move during
	 * fn does not see it, only the tracking does (seed 000). */
	struct rt_cgosave *save = gp->m->cgosave;
	save->sp = gp->syscallsp;
	save->pc = gp->syscallpc;
	save->bp = gp->syscallbp;
	struct cgosave_tracking tracked = cgosave_track(save);
	gp->lockedm = gp->m;
	gp->m->lockedg = gp;
	rt_exitsyscall();
	RT_STACK_CHECK(4096);       /* a runtime entry on a goroutine stack */
	fn(arg);
	gp = rt_getg();
	struct rt_m *m = gp->m;
	if (!m->isextra) {
		gp->lockedm = NULL;
		m->lockedg = NULL;
	}
	cgosave_untrack(save, tracked);
	bool block = m->isextra;    /* back to C that may never call again: free the P */
	uintptr_t pc = save->pc, sp = save->sp, bp = save->bp;
#ifdef FPRT_CHECKED
	if (rt_inject.syscallsp_reentry) {
		/* seed 002: re-enter with our own frame, not rt_cgocall's */
		pc = (uintptr_t)__builtin_return_address(0);
		sp = RT_CALLER_SP();
		bp = (uintptr_t)__builtin_frame_address(0);
	}
#endif
	rt_reentersyscall(pc, sp, bp, block);
	/*
	 * No tail call (Go's cgocallbackg never makes one: Go has none).  As a
	 * jump, reentersyscall would run with this frame gone and rbp already
	 * rt_cgocallback_asm's record on g0, while sp is on the goroutine
	 * stack: at its entry and after its epilogue the chain would cross
	 * stacks at reentersyscall's own pc, not at the transition's return
	 * address, and a checked walk calls that an illegal transition (a
	 * sample caught there was fp-leak at rt_reentersyscall).
	 */
	__asm__ volatile("" ::: "memory");
}

void rt_cgocallback(void (*fn)(void *), void *arg)
{
	struct rt_g *g = rt_getg();
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct rt_m *m;
	if (!g) {
		m = needm(sp);
	} else if (!g->is_g0) {
		rt_fatal("rt_cgocallback(%p) on goroutine %llu's stack: C called from a "
			 "goroutine must be entered through rt_cgocall", (void *)fn,
			 (unsigned long long)g->goid);
	} else {
		m = g->m;
		if (!m->isextra && m->ncgo == 0)
			rt_fatal("rt_cgocallback(%p) on M%lld outside rt_cgocall", (void *)fn,
				 (long long)m->id);
		/* G_SCAN: a traceback or the profiler's wall sampler is reading
		 * the goroutine's stack; exitsyscall waits for it to finish */
		if (m->curg && (rt_readgstatus(m->curg) & ~(uint32_t)G_SCAN) != G_SYSCALL &&
		    !m->isextra)
			rt_fatal("rt_cgocallback: M%lld's goroutine %llu is %s, not in C",
				 (long long)m->id, (unsigned long long)m->curg->goid,
				 rt_gstatus_name(rt_readgstatus(m->curg)));
	}
	/* Save and restore the bounds around the callback: a nested callback on
	 * another stack must not leave them behind (Go's cgocallback). */
	struct rt_stack saved = m->g0->stack;
	bool acc = m->g0_accurate, set = m->g0_set;
	rt_callbackUpdateSystemStack(m, sp);
	rt_g0_check(m, sp, RT_G0_ENTRY, "cgocallback");
	struct rt_san_cb san;
	struct rt_cgosave save = { .prev = m->cgosave };
	m->cgosave = &save;         /* filled by rt_cgocallbackg */
	rt_san_cb_enter(m, &san);
	rt_cgocallback_asm(fn, arg);
	rt_san_cb_exit(m, &san);
	m->cgosave = save.prev;
	if (saved.hi && (saved.lo != m->g0->stack.lo || saved.hi != m->g0->stack.hi)) {
		g0_bounds(m, saved.lo, saved.hi, acc);
		m->g0_set = set;
	}
}
