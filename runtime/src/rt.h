/*
 * rt.h — fprt internals: G, M, P and the scheduler's shared state.
 *
 * Names follow the Go runtime (src/runtime/runtime2.go, proc.go, stack.go) with
 * an rt_ prefix, so a reader who knows Go finds their way.
 */
#ifndef FPRT_RT_H
#define FPRT_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fprt.h"
#include "fpunwind.h"
#include "asm_offsets.h"
#include "san.h"

/* ---- locks (lock.c) ------------------------------------------------------ */

/* A futex mutex usable on g0 and goroutines (never held across a park, except
 * as the unlockf argument of rt_gopark, which releases it on g0). */
typedef struct { _Atomic uint32_t v; } rt_lock_t;
/* One-shot notification (Go's note): sleep until wakeup, then clear. */
void rt_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns);
void rt_futex_wake(_Atomic uint32_t *addr, int n);
void rt_lock_slow(rt_lock_t *l);
/* The uncontended paths inline: a channel round trip takes four locks, and
 * the calls were a tenth of it. */
static inline void rt_lock(rt_lock_t *l)
{
	uint32_t c = 0;
	if (!atomic_compare_exchange_strong(&l->v, &c, 1))
		rt_lock_slow(l);
}
static inline void rt_unlock(rt_lock_t *l)
{
	if (atomic_exchange(&l->v, 0) == 2)
		rt_futex_wake(&l->v, 1);
}

/* ---- G, M, P ------------------------------------------------------------- */

struct rt_stack { uintptr_t lo, hi; };   /* usable [lo, hi); a guard page is below lo */

struct rt_gobuf {
	uintptr_t sp, pc, bp;
#if defined(__aarch64__)
	/* x30 at resume: rt_goexit+4 for a new goroutine (its base frame's
	 * return address, Go's gobuf.lr), 0 after mcall/morestack */
	uintptr_t lr;
	uintptr_t x19_x28[10];         /* AAPCS64 callee-saved */
	uint64_t d8_d15[8];
#else
	uintptr_t rbx, r12, r13, r14, r15;
#endif
};

enum rt_gstatus {
	G_IDLE = 0, G_RUNNABLE, G_RUNNING, G_WAITING, G_DEAD,
	G_SYSCALL,           /* in a syscall or in C (rt_cgocall): traced from syscallpc/bp */
	G_SCAN = 0x1000,     /* a traceback reads the stack: do not run it */
};

/* Wait queue entry; a goroutine waits for one thing at a time (no select). */
struct rt_sudog {
	struct rt_g *g;
	struct rt_sudog *next;
	void *elem;          /* channel element on the waiter's stack (stack does
				not move while parked) */
	bool success;
};

struct rt_m;
struct rt_p;

struct rt_g {
	struct rt_stack stack;         /* G_STACK_LO, G_STACK_HI */
	uintptr_t stackguard;          /* lo + RT_STACK_RESERVE (0 for g0 checks: lo) */
	struct rt_gobuf sched;         /* G_SCHED */
	struct rt_m *m;                /* G_M: the M running it, or NULL */
	uintptr_t need;                /* G_NEED */

	uint64_t goid;
	_Atomic uint32_t status;
	const char *waitreason;
	void (*fn)(void *);
	void *arg;
	struct rt_g *schedlink;        /* run queue / free list */
	struct rt_g *alllink;          /* allgs, never unlinked */
	struct rt_sudog sd;
	uint64_t moves;                /* copystack count */
	uint64_t timer_when, timer_seq; /* rt_sleep: deadline, FIFO tie-break */
	uint32_t nslots;
	void **slots[RT_MAX_SLOTS];    /* tracked slots (addresses on this stack) */
	/* rt_gopark's unlock function, run on g0 once the G is parked */
	bool (*unlockf)(struct rt_g *, void *);
	void *unlockarg;
	bool is_g0;
	/* entersyscall (syscall.c): the caller's sp, pc, bp; syscallsp != 0 while
	 * in a syscall or in C, and the stack must not move then. */
	uintptr_t syscallsp, syscallpc, syscallbp;
	struct rt_m *lockedm;          /* runs only on this M (cgo callbacks) */
	/* The profiler's wall sampler (prof_wall.c, its thread only): when it
	 * last looked at this G, the time its next wall sample stands for. */
	uint64_t prof_wall_ns;
#ifdef RT_SAN_FIBERS
	void *san_fake;                /* ASan fake stack of this fiber (san.c) */
	void *tsan_fiber;              /* TSan fiber of this G (san.c) */
#endif
};

struct rt_m {
	struct rt_g *g0;               /* M_G0 */
	struct rt_g *curg;             /* M_CURG */
	struct rt_cgoframe *cgoframe;  /* M_CGOFRAME: innermost asmcgocall record (cgo.S) */
	struct rt_p *p;
	struct rt_p *nextp;
	struct rt_p *oldp;             /* the P left in P_SYSCALL by entersyscall (Go's m.oldp) */
	int64_t id;
	pid_t tid;
	_Atomic uint32_t park;         /* futex: 1 = woken */
	bool spinning;
	struct rt_m *schedlink;        /* idle list */
	struct rt_m *alllink;
	struct rt_stack sigstack;
	struct fpu_regions regions;    /* written by this M only */
	struct fpu_region rset[3];     /* g0, signal stack, current goroutine */
	uint32_t rset_gen;             /* rset[0..1] built in this generation (unwind.c) */
	uint32_t rset_half_gen[2];     /* the base generation each half of regions holds */
	struct rt_prof_m *prof;        /* profiler state (prof.c), NULL when off */
	/* cgo (cgo.c) */
	int32_t ncgo;                  /* rt_cgocall frames active on this M */
	bool isextra;                  /* an extra M lent to a foreign thread (needm) */
	bool g0_accurate;              /* g0 bounds are exact (fprt's own, or pthread's) */
	bool g0_set;                   /* g0 bounds were set once (g0-bounds-static) */
	struct rt_g *lockedg;          /* the G locked to this M (cgo callback) */
	struct rt_m *extralink;        /* extra M list */
	struct rt_m *pwaitlink;        /* list of Ms waiting for a P (exitsyscall) */
	struct rt_cgosave *cgosave;    /* innermost callback's saved syscall state (cgo.c) */
	void *oldaltstack[3];          /* foreign thread's sigaltstack (stack_t), restored by dropm */
#ifdef RT_SAN_FIBERS
	uintptr_t san_g0_lo, san_g0_hi; /* g0 as the sanitizer knows it (san.c) */
	void *tsan_g0_fresh;           /* TSan: g0's fiber since its last entry from the top */
#endif
};

/* The frame record asmcgocall keeps on g0 (cgo.S): the C function's frame
 * chains through it into the goroutine; copystack relocates fp (DESIGN.md
 * "asmcgocall"). */
struct rt_cgoframe {
	uintptr_t fp;                  /* the goroutine's frame (asmcgocall's own) */
	uintptr_t ret;                 /* a pc in rt_asmcgocall: a transition */
	struct rt_g *g;
	uintptr_t depth;               /* g->stack.hi - fp at the switch, not fp */
	struct rt_cgoframe *prev;
	uintptr_t pad;
};

/*
 * What cgocallbackg saves of rt_cgocall's syscall state, to re-enter the
 * syscall with it once the callback returns (Go 7978, seed 002).  One per
 * callback, in rt_cgocallback's frame on g0, linked from m->cgosave: out of
 * reach of copystack's conservative scan, which covers only the goroutine
 * stack.  sp and bp point into the goroutine stack, which may move during the
 * callback, so cgocallbackg tracks both slots (Go's unsafe.Pointer savedsp
 * and savedbp): tracking, nothing else, keeps them valid (seed 000, Go commit
 * bacd0c58, golang/go#69085).
 */
struct rt_cgosave {
	uintptr_t sp, pc, bp;
	struct rt_cgosave *prev;       /* the enclosing callback's, or NULL */
};

/* A P's status matters only for the P an M keeps across a syscall (Go's
 * _Psyscall): an M waiting for a P may take it (retake), and the M leaving
 * the syscall gets it back only with a CAS that wins against that. */
enum rt_pstatus { P_IDLE = 0, P_RUNNING, P_SYSCALL };

#define RT_RUNQ 256
struct rt_p {
	int id;
	_Atomic uint32_t status;       /* enum rt_pstatus */
	_Atomic uint32_t runqhead;     /* consumers (owner, stealers) CAS it */
	_Atomic uint32_t runqtail;     /* only the owner writes it */
	struct rt_g *_Atomic runq[RT_RUNQ];
	struct rt_p *link;             /* idle list */
	struct rt_m *m;
	uint32_t schedtick;            /* every 61st schedule looks at the global queue first */
	uint32_t ngfree;
	struct rt_g *gfree;            /* dead Gs of this P (no lock: owner only) */
};

struct rt_sched {
	rt_lock_t lock;
	struct rt_g *runqhead, *runqtail;   /* global run queue */
	_Atomic int32_t runqsize;
	struct rt_m *midle;
	int32_t nmidle;
	int32_t mcount;
	struct rt_p *pidle;
	_Atomic int32_t npidle;
	_Atomic int32_t nmspinning;
	int32_t nprocs;
	struct rt_p *allp;
	struct rt_m *allm;
	struct rt_g *gfree;                 /* dead Gs, stacks kept if default size */
	rt_lock_t glock;                    /* allgs, goid */
	struct rt_g *allgs;
	_Atomic uint64_t goidgen;
	_Atomic int64_t ngoroutines;        /* live user goroutines */
	_Atomic int32_t nmain;              /* rt_main calls waiting for their G */
};

extern struct rt_sched rt_sched;
extern __thread struct rt_g *rt_tls_g;

/* The current g.  volatile asm: a goroutine may move to another thread at any
 * call, so the compiler must never reuse a TLS address across one. */
#if defined(__aarch64__)
static inline struct rt_g *rt_getg(void)
{
	struct rt_g *g;
	uintptr_t tp;
	__asm__ volatile("mrs %1, tpidr_el0\n\t"
			 "adrp %0, :gottprel:rt_tls_g\n\t"
			 "ldr %0, [%0, #:gottprel_lo12:rt_tls_g]\n\t"
			 "ldr %0, [%1, %0]"
			 : "=&r"(g), "=&r"(tp));
	return g;
}
static inline void rt_setg(struct rt_g *g)
{
	uintptr_t off, tp;
	__asm__ volatile("mrs %1, tpidr_el0\n\t"
			 "adrp %0, :gottprel:rt_tls_g\n\t"
			 "ldr %0, [%0, #:gottprel_lo12:rt_tls_g]\n\t"
			 "str %2, [%1, %0]"
			 : "=&r"(off), "=&r"(tp) : "r"(g) : "memory");
}
/* This function's sp. */
static inline uintptr_t rt_getsp(void)
{
	uintptr_t sp;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	return sp;
}
/* A spin-wait hint to the CPU. */
static inline void rt_cpu_relax(void) { __asm__ volatile("yield"); }
#else
static inline struct rt_g *rt_getg(void)
{
	struct rt_g *g;
	__asm__ volatile("movq rt_tls_g@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0"
			 : "=r"(g));
	return g;
}
static inline void rt_setg(struct rt_g *g)
{
	uintptr_t off;
	__asm__ volatile("movq rt_tls_g@gottpoff(%%rip), %0\n\tmovq %1, %%fs:(%0)"
			 : "=&r"(off) : "r"(g) : "memory");
}
static inline uintptr_t rt_getsp(void)
{
	uintptr_t sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	return sp;
}
static inline void rt_cpu_relax(void) { __builtin_ia32_pause(); }
#endif

/*
 * The caller's sp at the call into the current function (its CFA), for
 * entersyscall and cgocallbackg.  On amd64 that is the frame pointer + 16; on
 * arm64 GCC puts the frame record BELOW the locals, so fp + 16 is the
 * caller's sp only in a function without locals (today's entersyscall and
 * exitsyscall have none: fp + 16 happens to work there), and the compiler's
 * CFA is right in any function.
 */
#if defined(__aarch64__)
#define RT_CALLER_SP() ((uintptr_t)__builtin_dwarf_cfa())
#else
#define RT_CALLER_SP() ((uintptr_t)__builtin_frame_address(0) + 16)
#endif

/* ---- assembly (arch/amd64, arch/arm64) ----------------------------------------------- */
_Noreturn void rt_gogo(struct rt_gobuf *buf);
void rt_mcall(void (*fn)(struct rt_g *));
void rt_goexit(void);
_Noreturn void rt_mstart_asm(struct rt_m *m, uintptr_t sp, void (*fn)(struct rt_m *));
void rt_morestack(void);
extern char rt_systemstack_end[];

/* ---- scheduler (sched.c, park.c, proc.c) --------------------------------- */
void rt_init_once(void);
void rt_goready(struct rt_g *gp);
bool rt_casgstatus(struct rt_g *gp, uint32_t old, uint32_t new_);
uint32_t rt_readgstatus(struct rt_g *gp);
_Noreturn void rt_schedule(void);
_Noreturn void rt_execute(struct rt_g *gp);
void rt_globrunqput(struct rt_g *gp);       /* takes sched.lock */
void rt_runqput(struct rt_p *p, struct rt_g *gp);  /* owner of p only */
void rt_casgstatus_or_die(struct rt_g *gp, uint32_t old, uint32_t new_);
void rt_dropg(struct rt_m *m);
void rt_wakep(void);
void rt_newm(struct rt_p *p, bool spinning);
void rt_stopm(struct rt_m *m);
void rt_handoffp(struct rt_p *p);           /* p released by a syscall/locked M */
void rt_acquirep_wait(struct rt_m *m);      /* exitsyscall without a P: wait for one */
void rt_entersyscall_keepp(struct rt_m *m); /* m->p -> m->oldp, retakable (P_SYSCALL) */
bool rt_exitsyscall_oldp(struct rt_m *m);   /* m->oldp back to m->p, unless retaken */
struct rt_g *rt_malg(void);                 /* goroutine.c */
bool rt_unlock_lock(struct rt_g *gp, void *lock);   /* unlockf for a rt_lock_t */
/*
 * Go's gopark: unlockf(gp, arg) runs on g0 after gp is parked; if it returns
 * false gp resumes at once.  The classic use passes the lock that protects
 * the wait queue gp was put on, so a waker cannot ready gp before it is
 * parked.
 *
 * Inline, so that the parking function (rt_chan_recv, rt_wg_wait) calls
 * rt_mcall itself: a goroutine resumes through rt_gogo's jump, with the
 * CPU's return-address predictions made by the g0 code that ran in between,
 * so every return on the way back to the goroutine's code is mispredicted.
 * A separate rt_gopark frame was one more of them per switch: 17% of a
 * channel round trip (chan-pingpong with the lock elided, 100 -> 83 ns of
 * CPU per round trip).
 * The FP chain and DWARF (which names the inlined rt_gopark) are unchanged
 * but for that frame.
 */
void rt_park_m(struct rt_g *gp);
static inline void rt_gopark(bool (*unlockf)(struct rt_g *, void *), void *arg,
			     const char *reason)
{
	struct rt_g *gp = rt_getg();
	if (!gp || gp->is_g0)
		rt_fatal("rt_gopark (%s) called outside a goroutine", reason);
	gp->unlockf = unlockf;
	gp->unlockarg = arg;
	gp->waitreason = reason;
	rt_san_switch(gp, gp->m->g0, RT_SAN_G0_TOP);
	rt_mcall(rt_park_m);
	gp = rt_getg();
	gp->waitreason = NULL;
}
const char *rt_gstatus_name(uint32_t s);

/* ---- stacks (stack.c) ------------------------------------------------------ */
#define RT_STACK_RESERVE 2048   /* below stackguard: runtime entries and slop */
extern size_t rt_stack_default;
struct rt_stack rt_stackalloc(size_t size);
void rt_stackfree(struct rt_stack s, uint64_t owner, uint32_t kind);
void rt_stack_init_g(struct rt_g *gp);     /* set stackguard from stack */
_Noreturn void rt_newstack(struct rt_g *gp);
int rt_stack_fault_message(uintptr_t addr, char *buf, size_t len);
/* g0 / signal stacks: exact mmap bounds, low in the address space (see stack.c) */
struct rt_stack rt_sysstack_alloc(size_t size);
/* FPRT_DEBUG=stackscanreport (stackscan.c): before copystack copies [sp,
 * old.hi), print the words its scan relocates that are neither saved frame
 * pointers nor tracked slots. */
void rt_stackscan_report(struct rt_g *gp, struct rt_stack old, struct rt_stack new,
			 uintptr_t sp);

/* ---- libfpunwind integration (unwind.c) ---------------------------------- */
extern struct fpu_transitions rt_fpu_transitions;
extern struct fpu_graveyard rt_fpu_graveyard;
void rt_unwind_init(void);
void rt_m_regions_set(struct rt_m *m, struct rt_g *gp);   /* gp may be NULL */
void rt_bury(struct rt_stack s, uint64_t owner, uint32_t kind, struct rt_stack *moved);
/* s is a live goroutine stack again (reused after a burial): not stale. */
void rt_unbury(struct rt_stack s);

/* ---- profiler (prof.c, prof_writer.c) ------------------------------------ */
struct rt_prof_m;
void rt_prof_init(void);                  /* FPTRACE_OUT set: start profiling */
void rt_prof_minit(struct rt_m *m);       /* on m's thread, signal stack ready */
void rt_prof_start(void);                 /* (the symbol fptrace looks for) */
void rt_prof_region_event(struct rt_stack s, uint64_t owner, uint32_t kind,
			  const struct rt_stack *moved);

/* ---- syscalls and cgo (syscall.c, cgo.c, cgo.S) -------------------------- */
void rt_entersyscall(void);
void rt_reentersyscall(uintptr_t pc, uintptr_t sp, uintptr_t bp, bool block);
void rt_entersyscallblock(void);
void rt_exitsyscall(void);
void rt_asmcgocall(void (*fn)(void *), void *arg);
void rt_cgocallback_asm(void (*fn)(void *), void *arg);
void rt_cgocallbackg(void (*fn)(void *), void *arg);
extern char rt_asmcgocall_end[], rt_cgocallback_end[];
#define RT_G0_ENTRY 8192        /* g0 bytes a runtime entry on g0 asks for */
void rt_g0_check(struct rt_m *m, uintptr_t sp, size_t need, const char *where);

/* ---- exported thunks (export.c), perf map and jitdump (perfmap.c) ------- */
/* The thunk's name and pc's offset in it, or NULL; lock-free, any thread. */
const char *rt_export_lookup(uintptr_t pc, uintptr_t *off);
/* A thunk's .eh_frame (CIE, FDE, terminator; out needs 128 bytes): absolute
 * pointers (pcrel_at 0), or pc-relative as if it lay at code + pcrel_at. */
size_t rt_export_ehframe(uint8_t *out, uint64_t code, int64_t pcrel_at, size_t *fde_off);
/* FPRT_PERFMAP=1: a line in /tmp/perf-PID.map; FPRT_JITDUMP=1: a code load
 * (with unwinding info) in jit-PID.dump.  Called under the export lock. */
void rt_perfmap_add(uintptr_t code, size_t size, const char *name);

/* ---- time (time.c) -------------------------------------------------------- */
void rt_timers_init(void);
bool rt_timers_pending(void);

/* ---- env, debug, injections (env.c) -------------------------------------- */
struct rt_debug {
	bool stackforcemove, stackfaultonfree, stackpoison, stackscanreport;
};
extern struct rt_debug rt_debug;
extern uint8_t rt_debug_stackforcemove;     /* read by rt_stack_check (asm) */
#ifdef FPRT_CHECKED
/* The injectable regressions (the seeds).  Checked runtime only: the release
 * runtime has neither these flags nor any code that reads them
 * (tests/integration/runtime_release.sh looks for both). */
extern uint8_t rt_inject_mcall_bp_leak;     /* read by rt_mcall (asm) */
struct rt_inject {
	bool syscallbp_untracked, syscallsp_untracked, syscallbp_nocheck,
	     g0_bounds_fastpath, syscallsp_reentry, g0_bounds_static;
};
extern struct rt_inject rt_inject;
#endif
void rt_env_init(void);
int rt_env_int(const char *name, int def);

/* ---- fatal errors, signals, tracebacks ----------------------------------- */
void rt_signals_init(void);
void rt_minit_signals(struct rt_m *m);
/* fatal with an optional signal context for the faulting goroutine */
_Noreturn void rt_fatal_ctx(const void *ucontext, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rt_traceback_g(int fd, struct rt_g *gp, const void *ucontext, bool current);
void rt_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

_Static_assert(offsetof(struct rt_g, stack.lo) == G_STACK_LO, "G_STACK_LO");
_Static_assert(offsetof(struct rt_g, stack.hi) == G_STACK_HI, "G_STACK_HI");
_Static_assert(offsetof(struct rt_g, stackguard) == G_STACKGUARD, "G_STACKGUARD");
_Static_assert(offsetof(struct rt_g, sched) == G_SCHED, "G_SCHED");
_Static_assert(offsetof(struct rt_g, m) == G_M, "G_M");
_Static_assert(offsetof(struct rt_g, need) == G_NEED, "G_NEED");
_Static_assert(offsetof(struct rt_gobuf, sp) == GOBUF_SP, "GOBUF_SP");
_Static_assert(offsetof(struct rt_gobuf, pc) == GOBUF_PC, "GOBUF_PC");
_Static_assert(offsetof(struct rt_gobuf, bp) == GOBUF_BP, "GOBUF_BP");
#if defined(__aarch64__)
_Static_assert(offsetof(struct rt_gobuf, lr) == GOBUF_LR, "GOBUF_LR");
_Static_assert(offsetof(struct rt_gobuf, x19_x28) == GOBUF_X19, "GOBUF_X19");
_Static_assert(offsetof(struct rt_gobuf, d8_d15) == GOBUF_D8, "GOBUF_D8");
#else
_Static_assert(offsetof(struct rt_gobuf, rbx) == GOBUF_RBX, "GOBUF_RBX");
_Static_assert(offsetof(struct rt_gobuf, r15) == GOBUF_R15, "GOBUF_R15");
#endif
_Static_assert(sizeof(struct rt_gobuf) == GOBUF_SIZE, "GOBUF_SIZE");
_Static_assert(offsetof(struct rt_m, g0) == M_G0, "M_G0");
_Static_assert(offsetof(struct rt_m, curg) == M_CURG, "M_CURG");
_Static_assert(offsetof(struct rt_m, cgoframe) == M_CGOFRAME, "M_CGOFRAME");
_Static_assert(sizeof(struct rt_cgoframe) == 48, "cgo.S pushes 6 words");

#endif
