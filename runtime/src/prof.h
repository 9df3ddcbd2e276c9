/*
 * prof.h — fprt's in-process sampling profiler (enabled by FPTRACE_OUT).
 *
 * Each M has its own source of SIGPROF (prof_source.c): a perf_event_open
 * task-clock event, or, where perf events are refused, a CPU-time timer
 * (timer_create on CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID); the handler runs on the M's signal
 * stack, walks the interrupted frame-pointer chain with libfpunwind inside the
 * M's published regions, copies the stacks that chain ran on, and encodes one
 * SAMPLE record into the M's ring.  A writer thread drains the rings into the
 * .fpt file, adds the process's mappings and threads, and takes wall samples of
 * goroutines that are not on a CPU.  Nothing is lost silently: a sample that
 * does not fit in a ring is counted and reported in a DROPS record.
 */
#ifndef FPRT_PROF_H
#define FPRT_PROF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * A single-producer single-consumer byte ring of whole .fpt records.  The
 * producer is the M's SIGPROF handler (never its normal context, so a handler
 * cannot interrupt a half-made record of its own), the consumer the writer
 * thread.  Records never wrap: when one does not fit before the end, the
 * producer writes a pad marker (a record type of 0, invalid in the format) and
 * starts again at 0.
 */
struct rt_prof_ring {
	uint8_t *buf;
	size_t size;                  /* power of two */
	_Atomic uint64_t head;        /* bytes produced (release by the producer) */
	_Atomic uint64_t tail;        /* bytes consumed (release by the consumer) */
	uint64_t reserved_at;         /* producer only: where the reservation starts */
};

int rt_prof_ring_init(struct rt_prof_ring *r, size_t size);
/* Contiguous room for need bytes (8-aligned), or NULL if the ring is full. */
void *rt_prof_ring_reserve(struct rt_prof_ring *r, size_t need);
void rt_prof_ring_commit(struct rt_prof_ring *r, size_t need);
/* Hand every committed record to emit, in order, in runs of whole records
 * that lie contiguous in the ring (rec, len: one or more records); returns
 * bytes consumed, or -1 if emit failed (the run stays for the next call). */
long rt_prof_ring_drain(struct rt_prof_ring *r,
			int (*emit)(const void *rec, size_t len, void *arg), void *arg);

struct rt_prof_m {
	struct rt_prof_ring ring;     /* samples: produced by the SIGPROF handler only */
	struct rt_prof_ring events;   /* region events: produced by the M itself only */
	_Atomic uint64_t events_dropped;
	timer_t timer;                /* the timer source: armed when has_timer */
	int has_timer;
	int perf_fd;                  /* the perf-event source, or -1 */
	_Atomic uint64_t samples;     /* encoded */
	_Atomic uint64_t dropped;     /* ring full, or a record that cannot be encoded */
	uint64_t dropped_reported;    /* writer only */
	int thread_reported;          /* writer only: THREAD record written */
};

/* Process-wide settings, read by the handler. */
struct rt_prof_config {
	int enabled;
	unsigned hz, wall_hz;
	unsigned wall_cap;            /* goroutines looked at per wall tick, 0: all */
	uint32_t snapshot_max;
	uint64_t period_ns;
	uint32_t cpu_source;          /* enum fpu_rec_cpu_source */
	int perf_errno;               /* why perf events were refused (timer source) */
	_Atomic uint32_t timer_threads;   /* Ms that fell back to a timer anyway */
};
extern struct rt_prof_config rt_prof;

/* Shared by the SIGPROF handler and the wall sampler (prof.c); signal-safe. */
struct fpu_sample;
struct fpu_region;
struct fpu_walk_result;
/* The walked frame-pointer chain and how it ended, into s. */
void rt_prof_set_chain(struct fpu_sample *s, const uintptr_t *pcs, size_t n,
		       const struct fpu_walk_result *res);
/*
 * Append the segment [from, top of the region holding from), clamped to
 * snapshot_max, unless snapshots are off, from is in no region, or it is
 * already inside a segment (a chain back on a stack it was on).
 */
void rt_prof_add_segment(struct fpu_sample *s, const struct fpu_region *regs, int nregs,
			 uintptr_t from);

/*
 * The stack copies of a CPU sample: from the interrupted sp, and on every
 * stack the walk res crossed into, from a little below its first frame
 * pointer (s->regs must be set).  Also used by the instruction sweep
 * (tests/sweep), which takes its samples under ptrace as this handler would.
 */
void rt_prof_add_cpu_segments(struct fpu_sample *s, const struct fpu_region *regs, int nregs,
			      const struct fpu_walk_result *res);

/*
 * prof_source.c: the CPU sample source.  rt_prof_source_choose picks it once
 * (FPRT_PROF_MODE=timer forces the timer; otherwise a perf event when the
 * kernel allows one); rt_prof_source_arm starts it for the calling thread
 * (the M's own), replacing one armed earlier for an M that changed threads.
 * rt_prof_source_periods, in the handler: how many periods the SIGPROF in si
 * stands for, or 0 if it is not this M's (a stale perf fd's).
 */
void rt_prof_source_choose(void);
void rt_prof_source_arm(struct rt_prof_m *pm, int64_t m_id, int tid);
uint64_t rt_prof_source_periods(const struct rt_prof_m *pm, const void *siginfo);

/*
 * prof_wall.c: one tick of the wall sampler.  Looks at up to cap goroutines
 * (0: all), round-robin over allgs, and calls fn for each one that is off CPU
 * (held with G_SCAN meanwhile) with the nanoseconds its sample stands for:
 * the time since the sampler last looked at that G, so a G looked at once
 * every k ticks weighs k ticks, and the total stays goroutines x time
 * whatever the cap.  now_ns is the tick's time (a parameter, so that a test
 * drives ticks without a clock).  Returns the Gs looked at.
 */
struct rt_g;
struct rt_prof_wall {
	struct rt_g *cursor;          /* next G to look at; NULL: the head */
	struct rt_g *seen_head;       /* allgs' head at the previous tick */
	uint64_t last_ns;             /* the previous tick (or the start) */
};
typedef void (*rt_prof_wall_fn)(struct rt_g *gp, uint32_t status, uint64_t weight_ns,
				void *arg);
unsigned rt_prof_wall_tick(struct rt_prof_wall *w, unsigned cap, uint64_t now_ns,
			   rt_prof_wall_fn fn, void *arg);

/* prof_writer.c */
int rt_prof_writer_start(const char *path);

#endif
