/*
 * fpunwind.h — libfpunwind, a frame-pointer unwinder for x86-64 and arm64 Linux
 * that knows that a thread may run on several stacks.
 *
 * A frame record on amd64 is two words: [fp] holds the caller's frame pointer and
 * [fp+8] the return address into the caller.  The AAPCS64 frame record on arm64
 * has the same layout ([x29] = caller's x29, [x29+8] = x30), so one walker
 * serves both.  Walking the chain is one dependent
 * load per frame, which is why profilers want it; it is also why a chain that
 * leaks from one stack into another, or points into a stack that has moved, shows
 * wrong stacks or crashes the profiler.  This library gives two walkers:
 *
 *   fpu_walk          the raw loop, for callers that know the chain is sound;
 *   fpu_walk_checked  the loop that never leaves the stack regions it was given,
 *                     moves between regions only at registered transition pcs,
 *                     and says exactly how and where the walk ended.
 *
 * Everything in this header is async-signal-safe unless its comment says
 * otherwise: no allocation, no locks, no faults (given regions that describe
 * mapped memory), no errno changes.
 *
 * Concurrency model.  Regions are written by one writer at a time (the thread that
 * owns them, or a runtime under its own lock) and read by anyone, including a
 * signal handler that interrupts the writer.  Writers publish a whole new set
 * into the inactive half of a double buffer and flip a sequence number with a
 * release store; readers never block and never see a half-written set.
 */
#ifndef FPUNWIND_H
#define FPUNWIND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FPU_VERSION_MAJOR 0
#define FPU_VERSION_MINOR 1

/* Size of a frame record: saved fp + return address. */
#define FPU_FRAME_RECORD 16

/* ---------------------------------------------------------------------------
 * Stack regions
 * ------------------------------------------------------------------------- */

enum fpu_region_kind {
	FPU_REGION_NONE = 0,
	FPU_REGION_THREAD,    /* a thread's own stack (pthread or the main [stack]) */
	FPU_REGION_GOROUTINE, /* a goroutine / user-level task stack */
	FPU_REGION_G0,        /* a runtime's per-thread system stack */
	FPU_REGION_SIGNAL,    /* an alternate signal stack (sigaltstack) */
	FPU_REGION_COROUTINE, /* a coroutine or ucontext stack */
	FPU_REGION_KIND_COUNT
};

/*
 * A stack a chain may run on: the half-open range [lo, hi).  A frame record at fp
 * is inside the region when lo <= fp and fp + 16 <= hi.
 *
 * data: NULL when the bytes are live at [lo, hi) in this address space.  When not
 * NULL, the bytes of [lo, hi) are read from data instead (a copy: a stack
 * snapshot of a sample, a perf user-stack dump).  The walker then reads
 * data + (fp - lo) and never the address fp itself.
 */
struct fpu_region {
	uintptr_t lo;
	uintptr_t hi;
	uint64_t owner;     /* goroutine id, M id, tid: whatever names the stack */
	uint32_t kind;      /* enum fpu_region_kind */
	uint32_t flags;     /* free for the owner; the walker ignores it */
	const void *data;   /* NULL: live memory; else a copy of [lo, hi) */
};

#define FPU_MAX_REGIONS 16

/*
 * One half of the double buffer: a set of regions guarded by its own sequence
 * number, odd while the writer fills it.  A single flip counter for both halves
 * is not enough: a reader on another thread that loaded the old index could
 * accept the half that the writer's next update is already overwriting.
 */
struct fpu_region_set {
	uint32_t seq;
	uint32_t count;
	struct fpu_region r[FPU_MAX_REGIONS];
};

/*
 * The regions of one thread (or of one runtime M).  Zero-initialised storage is a
 * valid empty set; fpu_regions_init makes one explicitly.  Never copy a live one.
 * current names the half readers should use; the writer fills the other one and
 * then flips current with a release store.  A signal handler that interrupts the
 * writer therefore always finds a stable half.
 */
struct fpu_regions {
	uint32_t current;
	uint32_t pad_;
	struct fpu_region_set set[2];
};

void fpu_regions_init(struct fpu_regions *rs);

/*
 * Writers (one at a time per fpu_regions).  Each publishes a new set atomically.
 * Return 0 on success, -1 when the set is full (add), when no region starts at lo
 * (remove, move), or when a range is empty or inverted.
 */
int fpu_regions_add(struct fpu_regions *rs, const struct fpu_region *r);
int fpu_regions_remove(struct fpu_regions *rs, uintptr_t lo);
/* The stack that was [old_lo, ...) is now [new_lo, new_hi): copystack. */
int fpu_regions_move(struct fpu_regions *rs, uintptr_t old_lo, uintptr_t new_lo,
		     uintptr_t new_hi);
/* Replace the whole set (count <= FPU_MAX_REGIONS). */
int fpu_regions_replace(struct fpu_regions *rs, const struct fpu_region *r,
			unsigned count);
/*
 * The writer's protocol itself, for a writer that republishes nearly the same
 * set very often (fprt, twice per goroutine switch) and knows which fields of
 * the half it writes already hold their new value: write_begin returns the
 * half readers do not use, marked as being written; the writer stores what
 * changed (count and fields, with relaxed atomic stores: readers on other
 * threads read it meanwhile); write_end makes it the current set.
 */
struct fpu_region_set *fpu_regions_write_begin(struct fpu_regions *rs);
void fpu_regions_write_end(struct fpu_regions *rs, struct fpu_region_set *set);

/*
 * Reader: copy a consistent set into out (up to max entries) and return how many
 * regions the set holds, or -1 if a writer on another thread kept it changing
 * (bounded retries; never spins forever, so it is safe in a signal handler that
 * interrupted the writer on the same thread: that writer writes the other half).
 */
int fpu_regions_read(const struct fpu_regions *rs, struct fpu_region *out,
		     unsigned max);

/* ---------------------------------------------------------------------------
 * Transition ranges: code where a chain may legally move to another stack
 * (asmcgocall, cgocallback, systemstack, the signal return trampoline).
 * Append-only; readers see a prefix that is complete.
 * ------------------------------------------------------------------------- */

#define FPU_MAX_TRANSITIONS 32

struct fpu_transition {
	uintptr_t lo, hi;   /* [lo, hi) */
	const char *name;   /* static string, for reports */
	uint32_t flags;     /* FPU_TRANSITION_* */
	uint32_t pad_;
};

/*
 * The code owns a frame record that the kernel wrote into a signal frame: the
 * step *out of* that record may change stacks.  On arm64 the kernel's signal
 * frame holds a record {interrupted x29, interrupted x30} and the handler is
 * entered with x29 pointing at it and x30 at the sigreturn trampoline, so the
 * record that leaves the signal stack is the trampoline's own, and the return
 * address read from it is the interrupted x30, which is no transition.  On
 * amd64 the handler's record itself leaves the stack, at __restore_rt, and the
 * ordinary rule applies.
 */
#define FPU_TRANSITION_OWNS_SIGFRAME 1u

struct fpu_transitions {
	uint32_t count;     /* published count (acquire/release) */
	uint32_t lock;      /* writers only */
	struct fpu_transition t[FPU_MAX_TRANSITIONS];
};

/* Not for signal handlers (writers spin on a tiny lock). 0, or -1 when full/empty. */
int fpu_transitions_add(struct fpu_transitions *ts, uintptr_t lo, uintptr_t hi,
			const char *name);
/* The transition containing pc, or NULL. */
const struct fpu_transition *fpu_transitions_find(const struct fpu_transitions *ts,
						  uintptr_t pc);
/*
 * Registers the kernel-entered signal return trampoline so that a walk from
 * inside a signal handler may move from the signal stack to the interrupted
 * stack: on amd64 glibc's __restore_rt, found through sigaction's sa_restorer;
 * on arm64 the vDSO's __kernel_rt_sigreturn (flagged
 * FPU_TRANSITION_OWNS_SIGFRAME), found as the return address of a probe
 * signal.  Returns 0, or -1 if it could not be found.  Not for signal handlers.
 */
int fpu_transitions_add_sigreturn(struct fpu_transitions *ts);

/* ---------------------------------------------------------------------------
 * Graveyard: a bounded ring of stack ranges that were freed or moved, so that a
 * frame pointer into one is reported as stale (and where the stack went), not as
 * a mere out-of-bounds.  Many writers, any readers, lock-free.
 * ------------------------------------------------------------------------- */

#define FPU_GRAVEYARD_SIZE 256

/*
 * REUSED is no grave: the range became a live stack again (a dead G's stack
 * given to a new goroutine, a cached or re-mmapped range).  Stacks are reused,
 * and an fp into a live stack is no stale fp, whatever died there before.
 */
enum fpu_grave_why { FPU_GRAVE_FREED = 1, FPU_GRAVE_MOVED = 2, FPU_GRAVE_REUSED = 3 };

struct fpu_grave {
	uintptr_t lo, hi;          /* the old range */
	uintptr_t new_lo, new_hi;  /* where it moved (MOVED), else 0 */
	uint64_t owner;            /* goroutine id etc. */
	uint64_t time_ns;          /* CLOCK_MONOTONIC when it died */
	uint32_t kind;             /* enum fpu_region_kind */
	uint32_t why;              /* enum fpu_grave_why */
};

struct fpu_graveyard_slot {
	uint64_t seq;              /* odd while being written */
	uint64_t ticket;           /* order of the writes: the latest one wins */
	struct fpu_grave g;
};

struct fpu_graveyard {
	uint64_t next;             /* tickets handed to writers */
	struct fpu_graveyard_slot slot[FPU_GRAVEYARD_SIZE];
};

/* Record a dead range; time_ns 0 is filled with the current monotonic time. */
void fpu_graveyard_bury(struct fpu_graveyard *gy, const struct fpu_grave *g);
/* [lo, hi) is a live stack again: call it before the stack runs any code. */
void fpu_graveyard_revive(struct fpu_graveyard *gy, uintptr_t lo, uintptr_t hi);
/*
 * The most recent record containing [addr, addr+len), copied to out, if it is
 * a grave (freed or moved): 1.  0 when there is none, or when the range was
 * reused after it died.
 */
int fpu_graveyard_find(const struct fpu_graveyard *gy, uintptr_t addr, size_t len,
		       struct fpu_grave *out);

/* ---------------------------------------------------------------------------
 * Walking
 * ------------------------------------------------------------------------- */

/*
 * How a checked walk ended.  FPU_END_CLEAN and FPU_END_REGION_TOP are the
 * normal ends of a sound chain; FPU_END_DEPTH means the caller's buffer was full.
 * The others are defects in the chain, found before any bad read.
 */
enum fpu_end {
	FPU_END_CLEAN = 0,          /* saved fp == 0: the outermost frame said so */
	FPU_END_REGION_TOP,         /* the record would not fit below the region top */
	FPU_END_OUT_OF_BOUNDS,      /* fp lies in no region (and in no grave) */
	FPU_END_NOT_INCREASING,     /* saved fp <= fp in the same stack (cycle too) */
	FPU_END_MISALIGNED,         /* fp not 8-byte aligned */
	FPU_END_ILLEGAL_TRANSITION, /* moved to another region at a non-transition pc */
	FPU_END_STALE,              /* fp points into a freed or moved stack */
	FPU_END_DEPTH,              /* pcs buffer full, chain goes on */
	FPU_END_NO_REGIONS,         /* the region set could not be read consistently */
	FPU_END_COUNT
};

const char *fpu_end_name(enum fpu_end e);           /* "clean", "out-of-bounds"... */
const char *fpu_region_kind_name(enum fpu_region_kind k); /* "thread", "g0"... */

/* What a checked walk needs to know.  All pointers may be NULL but regions. */
struct fpu_ctx {
	const struct fpu_regions *regions;        /* published set, or NULL ... */
	const struct fpu_region *fixed;           /* ... a plain array (snapshots) */
	unsigned nfixed;
	const struct fpu_transitions *transitions;
	const struct fpu_graveyard *graveyard;
};

/*
 * The result: how the walk ended and where.
 *   frames     pcs written;
 *   fp, pc     the frame pointer that was rejected (or 0 at a clean end) and the
 *              last pc written (the frame at which the walk ended);
 *   from, to   the region the walk was in, and for an illegal transition the
 *              region the chain tried to move to (kind NONE when not applicable);
 *   crossings  legal region changes taken;
 *   grave      for FPU_END_STALE, the dead range the fp points into; for any
 *              other end only lo, hi and why are set (to 0).
 * (The struct is filled field by field, not cleared: a walk runs on every
 * sample, and its fixed cost is most of the cost of a short chain.)
 */
#define FPU_MAX_CROSSINGS 4

struct fpu_walk_result {
	enum fpu_end end;
	uint32_t frames;
	uint32_t crossings;
	/*
	 * The first fp of the chain on each new stack, for the first
	 * FPU_MAX_CROSSINGS legal crossings: a sampler copies each stack from there
	 * up (a cgo callback chain is goroutine, g0, goroutine again).  Written
	 * only when a crossing happens, so it costs the common walk nothing.
	 */
	uintptr_t cross_fp[FPU_MAX_CROSSINGS];
	uintptr_t fp;
	uintptr_t pc;
	struct fpu_region from;
	struct fpu_region to;
	struct fpu_grave grave;
};

/*
 * The raw loop: starting at frame pointer fp, store up to max return addresses
 * into pcs and return how many.  Stops at fp == 0 or a return address of 0.
 * Reads whatever the chain points at: use only on chains known to be sound.
 */
size_t fpu_walk(uintptr_t fp, uintptr_t *pcs, size_t max);

/*
 * The checked loop, from a frame pointer fp (pcs[0] will be [fp+8]).  sp, when
 * not 0, names the stack the walk starts on (the region containing sp); fp must
 * then be on that stack, or the first step is a transition.  Returns frames.
 */
size_t fpu_walk_checked(const struct fpu_ctx *ctx, uintptr_t sp, uintptr_t fp,
			uintptr_t *pcs, size_t max, struct fpu_walk_result *res);

/*
 * Starting points.  All return the number of pcs written.
 *
 * fpu_walk_from: a saved {pc, sp, bp} triple (a gobuf, syscallpc/sp/bp):
 *   pcs[0] = pc, then the chain from bp.  A move from sp's stack to bp's stack
 *   is legal only if pc is in a transition range.
 * fpu_walk_ucontext: a signal handler's ucontext (a ucontext_t *): pcs[0] = the
 *   interrupted pc (rip; arm64: pc), then the chain from the interrupted frame
 *   pointer (rbp; arm64: x29).
 * fpu_walk_here: from the calling function: pcs[0] is the return address
 *   from fpu_walk_here, a pc inside its caller, then that caller's callers.
 */
size_t fpu_walk_from(const struct fpu_ctx *ctx, uintptr_t pc, uintptr_t sp,
		     uintptr_t bp, uintptr_t *pcs, size_t max,
		     struct fpu_walk_result *res);
size_t fpu_walk_ucontext(const struct fpu_ctx *ctx, const void *ucontext,
			 uintptr_t *pcs, size_t max, struct fpu_walk_result *res);
size_t fpu_walk_here(const struct fpu_ctx *ctx, uintptr_t *pcs, size_t max,
		     struct fpu_walk_result *res);

/* ---------------------------------------------------------------------------
 * Regions of a process from /proc
 * ------------------------------------------------------------------------- */

/*
 * One line of /proc/PID/maps, "lo-hi perms offset dev inode   path": the one
 * parser of that format (the regions below, the file mappings, the vDSO range,
 * the runtime's MAPPING records all read it through this).
 */
struct fpu_maps_line {
	uint64_t start, end, pgoff;
	uint32_t prot;            /* PROT_READ | PROT_WRITE | PROT_EXEC from perms */
	char perms[5];            /* "r-xp" */
	uint64_t inode;
	const char *path;         /* into the line, NUL-terminated; "" when anonymous */
	size_t path_len;
};

/* Parse line (NUL-terminated, without its newline).  0, or -1 when it is not
 * a maps line (then m is unspecified).  No allocation, no stdio. */
int fpu_maps_parse_line(const char *line, struct fpu_maps_line *m);

/*
 * Read /proc/PID/maps (pid <= 0: this process) and call fn for every line
 * that parses, until fn returns non-zero.  line (linecap bytes, at least 64)
 * holds one line: longer ones keep their start (the path is cut).  Uses only
 * open/read/close and the stack: allocation-free.  0 (or fn's non-zero
 * value), or -1 with errno set when the file cannot be read.
 */
int fpu_maps_each(int pid, char *line, size_t linecap,
		  int (*fn)(const struct fpu_maps_line *m, void *arg), void *arg);

/* A file mapping of a process: [start, end) maps path at pgoff. */
struct fpu_mapping {
	uint64_t start, end, pgoff;
	const char *path;
	const uint8_t *build_id;
	uint32_t build_id_len;
	uint32_t prot;          /* PROT_* bits; only executable ones carry code */
};

/*
 * The file mappings (paths starting with '/') of process pid (0: this one)
 * from /proc/PID/maps.  Returns a malloc'ed array (paths included in the same
 * block; free() it once) and its length in *count, or NULL with errno set.
 * Allocates: not for signal handlers.
 */
struct fpu_mapping *fpu_mappings_from_proc(int pid, size_t *count);

/*
 * Fill out with the stacks of process pid (0: this process) found in
 * /proc/PID/maps: the main thread's [stack] (kind THREAD, owner pid) and every
 * private anonymous read-write mapping directly above a PROT_NONE guard mapping,
 * which is how glibc lays out pthread stacks (kind THREAD, owner 0).  Returns the
 * number found (at most max), or -1 with errno set if the file cannot be read.
 * Uses only open/read/close: safe outside of signal handlers, allocation-free.
 */
int fpu_regions_from_maps(int pid, struct fpu_region *out, unsigned max);

/*
 * The stack of the calling thread as a region (pthread_getattr_np), kind THREAD,
 * owner = tid.  Returns 0, or -1.  Not for signal handlers.
 */
int fpu_region_current_thread(struct fpu_region *out);

#ifdef __cplusplus
}
#endif
#endif /* FPUNWIND_H */
