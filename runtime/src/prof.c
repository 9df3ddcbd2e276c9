/*
 * prof.c — the SIGPROF side of the profiler: settings, per-M state and the
 * handler (the signal's source is prof_source.c's).
 *
 * The handler is async-signal-safe: it reads only the M's published regions
 * (fpu_regions_read never blocks), libfpunwind's checked walker (no faults, no
 * locks, no allocation), clock_gettime (vDSO), and writes only into the M's own
 * ring, of which it is the only producer.  It copies stack bytes straight into
 * the record, once, and only inside the regions the M published: a stack that
 * is not in them (an M caught mid-switch) is not copied at all.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpu_record.h"
#include "fpu_sample.h"
#include "prof.h"
#include "rt.h"

#define RING_SIZE (8u << 20)   /* per M: ~8 s of 64 KiB samples at 997 Hz...
				  drained every 10 ms, so ~100x headroom */
#define EVENT_RING_SIZE (1u << 20)
#define MAX_FP_FRAMES 256
#define CROSS_MARGIN 256   /* bytes below a crossed-into stack's first fp */
/* Goroutines per wall tick: 100 at 97 Hz is ~10,000 stacks a second. */
#define WALL_CAP_DEFAULT 100

struct rt_prof_config rt_prof;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int region_index(const struct fpu_region *r, int n, uintptr_t addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= r[i].lo && addr < r[i].hi)
			return i;
	return -1;
}

/*
 * Add the segment [from, top of its region) clamped to snapshot_max, unless
 * from is already inside a segment (a chain that comes back to a stack it was
 * on: goroutine, g0, goroutine again in a cgo callback).
 */
void rt_prof_add_segment(struct fpu_sample *s, const struct fpu_region *regs, int nregs,
			 uintptr_t from)
{
	int i = region_index(regs, nregs, from);
	if (i < 0 || s->nseg >= FPU_MAX_SEGMENTS || rt_prof.snapshot_max == 0)
		return;
	for (uint32_t k = 0; k < s->nseg; k++)
		if (from >= s->seg[k].lo && from < s->seg[k].lo + s->seg[k].len)
			return;
	uintptr_t end = regs[i].hi;
	if (end - from > rt_prof.snapshot_max)
		end = from + rt_prof.snapshot_max;
	s->seg[s->nseg++] = (struct fpu_segment){
		.lo = from, .len = (uint32_t)(end - from), .kind = regs[i].kind,
		.owner = regs[i].owner, .region_hi = regs[i].hi, .data = (const uint8_t *)from };
}

void rt_prof_set_chain(struct fpu_sample *s, const uintptr_t *pcs, size_t n,
		       const struct fpu_walk_result *res)
{
	/* uintptr_t and uint64_t are the same type on x86-64: no copy. */
	s->fp_pcs = (const uint64_t *)pcs;
	s->nfp = (uint32_t)n;
	s->fp_end = res->end;
	s->fp_end_fp = res->fp;
	s->fp_end_pc = res->pc;
	s->fp_end_from = res->from.kind;
	s->fp_end_to = res->to.kind;
	s->fp_crossings = res->crossings;
}

void rt_prof_add_cpu_segments(struct fpu_sample *s, const struct fpu_region *regs, int nregs,
			      const struct fpu_walk_result *res)
{
	rt_prof_add_segment(s, regs, nregs, (uintptr_t)s->regs[FPU_REG_RSP]);
	/*
	 * On a stack the chain crossed into, copy from a little below the first
	 * frame pointer: that frame's callee-saved registers are pushed below its
	 * record, and DWARF reads them (libdw stopped 8 bytes short otherwise).
	 */
	for (uint32_t i = 0; i < res->crossings && i < FPU_MAX_CROSSINGS; i++) {
		int ri = region_index(regs, nregs, res->cross_fp[i]);
		uintptr_t from = res->cross_fp[i];
		if (ri >= 0)
			from = from - regs[ri].lo > CROSS_MARGIN ? from - CROSS_MARGIN : regs[ri].lo;
		rt_prof_add_segment(s, regs, nregs, from);
	}
}

static void encode(struct rt_prof_m *pm, const struct fpu_sample *s)
{
	size_t need = fpu_rec_sample_size(s);
	void *p = need ? rt_prof_ring_reserve(&pm->ring, need) : NULL;
	if (!p || fpu_rec_encode_sample(p, need, s) != need) {
		atomic_fetch_add_explicit(&pm->dropped, 1, memory_order_relaxed);
		return;
	}
	rt_prof_ring_commit(&pm->ring, need);
	atomic_fetch_add_explicit(&pm->samples, 1, memory_order_relaxed);
}

static void sample_cpu(struct rt_m *m, struct rt_prof_m *pm, struct rt_g *g, const void *uc,
		       uint64_t periods)
{
	struct fpu_sample s;
	struct fpu_region regs[FPU_MAX_REGIONS];
	uintptr_t pcs[MAX_FP_FRAMES];
	struct fpu_walk_result res;
	struct fpu_ctx ctx = { .regions = &m->regions, .transitions = &rt_fpu_transitions,
			       .graveyard = &rt_fpu_graveyard };

	memset(&s, 0, sizeof s);
	int nregs = fpu_regions_read(&m->regions, regs, FPU_MAX_REGIONS);
	if (nregs < 0)
		nregs = 0;
	fpu_regs_from_ucontext(s.regs, uc);
	size_t n = fpu_walk_ucontext(&ctx, uc, pcs, MAX_FP_FRAMES, &res);

	s.time_ns = now_ns();
	s.kind = FPU_SAMPLE_CPU;
	s.tid = (uint32_t)m->tid;
	s.m_id = (uint64_t)m->id + 1;   /* 0 means "not an M" in the format */
	struct rt_g *curg = m->curg;
	s.g_id = curg ? curg->goid : 0;
	s.g_status = g == m->g0 ? FPU_G_NONE : FPU_G_RUNNING;
	int si = region_index(regs, nregs, (uintptr_t)s.regs[FPU_REG_RSP]);
	s.sp_kind = si >= 0 ? regs[si].kind : FPU_REGION_NONE;
	s.weight = rt_prof.period_ns * periods;
	rt_prof_set_chain(&s, pcs, n, &res);
	rt_prof_add_cpu_segments(&s, regs, nregs, &res);
	encode(pm, &s);
}

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	(void)sig;
	struct rt_g *g = rt_getg();
	struct rt_m *m = g ? g->m : NULL;
	struct rt_prof_m *pm = m ? __atomic_load_n(&m->prof, __ATOMIC_ACQUIRE) : NULL;
	uint64_t periods = pm ? rt_prof_source_periods(pm, si) : 0;
	/* The walk and the stack copies race by design, like the wall
	 * sampler's copy: objects on the interrupted goroutine's stack, or on
	 * one its chain crossed into, may be written by other threads meanwhile
	 * (a wait group, a lock, a channel slot), and code without frame
	 * pointers (libc, the sanitizer runtimes) can leave rbp pointing at
	 * one, which the walker then reads as a frame record
	 * (tests/progs/stackshare.c). */
	if (periods) {
		rt_san_racy_copy_begin();
		sample_cpu(m, pm, g, uc, periods);
		rt_san_racy_copy_end();
	}
	errno = saved_errno;
}

/* The symbol fptrace looks for to know a program profiles itself. */
void rt_prof_start(void)
{
	const char *out = getenv("FPTRACE_OUT");
	if (!out || !*out)
		return;
	rt_prof.hz = (unsigned)rt_env_int("FPTRACE_HZ", 997);
	/* 0 turns wall samples off (rt_env_int wants a positive number). */
	const char *wall = getenv("FPTRACE_WALL_HZ");
	rt_prof.wall_hz = wall && strcmp(wall, "0") == 0 ? 0
			  : (unsigned)rt_env_int("FPTRACE_WALL_HZ", 97);
	/* 0: frame-pointer chains only, no stack copies (no DWARF cross-check). */
	const char *snapenv = getenv("FPTRACE_SNAPSHOT_MAX");
	char *end = NULL;
	long snap = snapenv && *snapenv ? strtol(snapenv, &end, 10) : 65536;
	if (end && *end)
		snap = -1;
	if (rt_prof.hz == 0 || rt_prof.hz > 100000 || (snap != 0 && snap < 256) ||
	    snap > (1 << 20))
		rt_fatal("FPTRACE_HZ=%u must be 1..100000 and FPTRACE_SNAPSHOT_MAX=%s 0 or "
			 "256..1048576", rt_prof.hz, snapenv);
	rt_prof.snapshot_max = (uint32_t)snap & ~7u;
	rt_prof.period_ns = 1000000000ull / rt_prof.hz;
	/* 0: every goroutine on every wall tick. */
	const char *cap = getenv("FPTRACE_WALL_CAP");
	rt_prof.wall_cap = cap && strcmp(cap, "0") == 0 ? 0
			   : (unsigned)rt_env_int("FPTRACE_WALL_CAP", WALL_CAP_DEFAULT);
	rt_prof_source_choose();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSEGV);   /* a fault in the handler must still be fatal */
	sigdelset(&sa.sa_mask, SIGBUS);
	sigaction(SIGPROF, &sa, NULL);
	if (rt_prof_writer_start(out) != 0)
		rt_fatal("FPTRACE_OUT=%s: cannot start the profile writer", out);
	rt_prof.enabled = 1;
}

void rt_prof_init(void)
{
	rt_prof_start();
}

/* On the M's own thread, once its signal stack is set (the handler needs it). */
void rt_prof_minit(struct rt_m *m)
{
	if (!rt_prof.enabled)
		return;
	/* An extra M lent to a new foreign thread keeps its rings (the writer
	 * may still be draining them) and moves its source to this thread. */
	struct rt_prof_m *pm = m->prof;
	if (pm) {
		rt_prof_source_arm(pm, m->id, (int)m->tid);
		return;
	}
	pm = calloc(1, sizeof *pm);
	if (!pm || rt_prof_ring_init(&pm->ring, RING_SIZE) != 0 ||
	    rt_prof_ring_init(&pm->events, EVENT_RING_SIZE) != 0)
		rt_fatal("profiler: out of memory for M%lld's sample ring", (long long)m->id);
	pm->perf_fd = -1;
	/* Published before the source fires, so the handler finds its ring. */
	__atomic_store_n(&m->prof, pm, __ATOMIC_RELEASE);
	rt_prof_source_arm(pm, m->id, (int)m->tid);
}

/*
 * A stack of this M's moved or died: a REGION_EVENT, so that an offline reader
 * can tell a stale frame pointer from a wild one.  Runs in the M's normal
 * context, never in a handler, so it has a ring of its own: the SIGPROF
 * handler, which may interrupt it, only ever produces into the sample ring.
 */
void rt_prof_region_event(struct rt_stack s, uint64_t owner, uint32_t kind,
			  const struct rt_stack *moved)
{
	struct rt_g *g = rt_getg();
	struct rt_prof_m *pm = g && g->m ? __atomic_load_n(&g->m->prof, __ATOMIC_ACQUIRE) : NULL;
	if (!pm)
		return;
	struct fpu_rec_region_event ev = {
		.event = moved ? FPU_REGION_EV_MOVE : FPU_REGION_EV_FREE, .kind = kind,
		.lo = s.lo, .hi = s.hi, .new_lo = moved ? moved->lo : 0,
		.new_hi = moved ? moved->hi : 0, .owner = owner, .time_ns = now_ns() };
	size_t need = fpu_rec_region_event_size(&ev);
	void *p = need ? rt_prof_ring_reserve(&pm->events, need) : NULL;
	if (!p || fpu_rec_encode_region_event(p, need, &ev) != need) {
		atomic_fetch_add_explicit(&pm->events_dropped, 1, memory_order_relaxed);
		return;
	}
	rt_prof_ring_commit(&pm->events, need);
}
