/*
 * fprt.h — the fprt runtime: goroutines on an M:N scheduler for C programs, with
 * stacks that grow by copying and the frame-pointer rules of DESIGN.md.
 *
 * A program hands its main function to rt_main(); everything else in this header
 * is called from goroutines (code that runs under rt_main), unless its comment
 * says otherwise.
 *
 * Stacks move.  A goroutine's stack is copied to a larger one at a stack check
 * (RT_STACK_CHECK).  The runtime relocates every saved frame pointer, the
 * goroutine's saved registers and the tracked slots (rt_stack_track), but not other
 * pointers into the stack: code must not keep a raw pointer to its own stack in
 * memory across an RT_STACK_CHECK, except in a tracked slot.  Runtime entries
 * (channels, locks, sleep) never move the stack: they run within the reserve kept
 * below the stack guard, so passing &local to them is always fine.
 *
 * The conservative scan.  A C compiler gives no stack maps, and it keeps stack
 * addresses where it likes: spill slots, callee-saved registers that a callee's
 * prologue pushes.  So the copy also relocates EVERY aligned word of the used
 * stack whose value lies inside the old stack, whatever it means.  That makes
 * compiler-generated code safe across a move; it is not a licence for program
 * code, for three reasons:
 *   - it sees the goroutine stack only: a pointer into it kept in the heap, a
 *     global, or on another stack goes stale (use a tracked slot, which may
 *     lie anywhere);
 *   - an integer that merely looks like an old-stack address is "relocated"
 *     too (bits 12-47 change): fully initialise byte buffers kept across a
 *     stack check;
 *   - it heals a stale frame pointer as silently as a spill, the very defect
 *     fptrace exists to find: the runtime never relies on it for a saved
 *     frame pointer or for the syscall state of a cgo callback (seed 000).
 * FPRT_DEBUG=stackscanreport lists on stderr every word the scan relocated
 * that is neither a saved frame pointer of the goroutine's frame chains nor a
 * tracked slot, with the function whose frame holds it.  In the runtime itself
 * only the cgo callback path shows up there: rt_cgocallback_asm parks the
 * goroutine's sched (and the callee-saved registers C carried across
 * rt_cgocall) on the goroutine stack, and rt_cgocallbackg's prologue pushes
 * those registers; tests/runtime/test_cgo.c keeps that list.
 */
#ifndef FPRT_H
#define FPRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "fpunwind.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- goroutines --------------------------------------------------------- */

/*
 * Starts the runtime (once per process; later calls reuse it), runs
 * fn(argc, argv) as a new goroutine and returns its result when it returns.
 * Other goroutines keep running.  Called from an ordinary thread.
 * Environment:
 *   FPRT_MAXPROCS   Ps (default: online CPUs)
 *   FPRT_STACK      initial goroutine stack in bytes, rounded up to a power of
 *                   two (default 16384)
 *   FPRT_DEBUG      stackforcemove (every RT_STACK_CHECK moves the stack),
 *                   stackfaultonfree (old stacks become PROT_NONE: a stale
 *                   access is a fatal error naming old and new range),
 *                   stackpoison (freed stacks are filled with 0xdeadbeef...),
 *                   stackscanreport (list what the conservative scan
 *                   relocated beyond frame pointers and tracked slots)
 *   FPRT_INJECT     regressions of the checked runtime (README lists them);
 *                   the release runtime contains none and refuses any
 *   FPRT_TRACEBACK  crash: after a fatal error's tracebacks, abort (core dump)
 * An unknown name or a bad value is a fatal error (exit 2).
 */
int rt_main(int (*fn)(int argc, char **argv), int argc, char **argv);

/* Starts fn(arg) as a new goroutine; returns its id. */
uint64_t rt_go(void (*fn)(void *arg), void *arg);
void rt_gosched(void);
uint64_t rt_goid(void);            /* 0 outside goroutines (g0, foreign thread) */
int rt_gomaxprocs(void);

/* Runs fn(arg) on the current M's system stack (g0) and returns. */
void rt_systemstack(void (*fn)(void *arg), void *arg);

/* ---- channels ----------------------------------------------------------- */

typedef struct rt_chan rt_chan;
/* Every operation but new and free must run on a goroutine (fatal otherwise),
 * not on a system stack or a thread fprt does not run. */

rt_chan *rt_chan_new(size_t elem_size, size_t cap);   /* cap 0: unbuffered */
void rt_chan_send(rt_chan *c, const void *elem);      /* fatal if closed */
/* Receives into elem (may be NULL); returns true, or false once closed+drained. */
bool rt_chan_recv(rt_chan *c, void *elem);
void rt_chan_close(rt_chan *c);                      /* fatal if closed twice */
size_t rt_chan_len(rt_chan *c);
void rt_chan_free(rt_chan *c);                       /* no goroutine may use it */

/* ---- synchronisation ---------------------------------------------------- */

/* Zero-initialised storage is an unlocked mutex / an empty wait group. */
typedef struct rt_mutex {
	uint32_t state;    /* private */
	uint32_t lock;
	void *head, *tail;
} rt_mutex;
#define RT_MUTEX_INIT {0, 0, 0, 0}
void rt_mutex_lock(rt_mutex *mu);
bool rt_mutex_trylock(rt_mutex *mu);
void rt_mutex_unlock(rt_mutex *mu);

typedef struct rt_waitgroup {
	int64_t count;     /* private */
	uint32_t lock;
	uint32_t pad_;
	void *head, *tail;
} rt_waitgroup;
#define RT_WAITGROUP_INIT {0, 0, 0, 0, 0}
void rt_wg_add(rt_waitgroup *wg, int64_t delta);
void rt_wg_done(rt_waitgroup *wg);
void rt_wg_wait(rt_waitgroup *wg);

/* Parks the goroutine for at least ns nanoseconds (ns <= 0: rt_gosched). */
void rt_sleep(int64_t ns);
uint64_t rt_nanotime(void);        /* CLOCK_MONOTONIC; callable anywhere */

/* ---- stacks ------------------------------------------------------------- */

/*
 * Makes sure `bytes` bytes of stack are available below the caller's stack
 * pointer, growing (moving) the stack if not.  With FPRT_DEBUG=stackforcemove
 * every check moves the stack.  On g0 it never moves: too little room is fatal.
 */
void rt_stack_check(size_t bytes);
#define RT_STACK_CHECK(bytes) rt_stack_check((size_t)(bytes))

/*
 * Tracked slots (Go's unsafe.Pointer in a stack map): slot is the address of an
 * aligned pointer-sized variable; while tracked, a stack move of the calling
 * goroutine relocates its value if it points into the old stack.  The slot may
 * lie on the goroutine's own stack (it moves with it and stays tracked) or
 * anywhere else, heap or global, where the conservative scan never looks.  At
 * most RT_MAX_SLOTS per goroutine; untrack before the slot goes away.
 */
#define RT_MAX_SLOTS 32
void rt_stack_track(void *slot);
void rt_stack_untrack(void *slot);

/* The current goroutine's stack [lo, hi) and how many times it moved. */
void rt_stack_bounds(uintptr_t *lo, uintptr_t *hi);
uint64_t rt_stack_moves(void);

/* ---- syscalls and cgo ------------------------------------------------------ */

/*
 * Blocking system calls for goroutines: the goroutine enters a syscall
 * (G status "syscall", traced back from the call site) and its P is handed to
 * another M, so other goroutines keep running even with FPRT_MAXPROCS=1.
 * Outside goroutines they are the plain calls.  errno as the plain calls.
 */
struct timespec;
struct pollfd;
long rt_read(int fd, void *buf, size_t n);
long rt_write(int fd, const void *buf, size_t n);
int rt_nanosleep(const struct timespec *req, struct timespec *rem);
int rt_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms);

/*
 * rt_cgocall: runs fn(arg), ordinary C code, on the M's system stack (g0);
 * the goroutine is "in a syscall" meanwhile and its stack does not move.  The
 * M keeps its P (a long blocking call should use the wrappers above).
 * rt_cgocallback: from C, runs fn(arg) on a goroutine: inside rt_cgocall on
 * the goroutine that called rt_cgocall (its stack may grow and move during
 * fn); on any other thread (one fprt did not create, after rt_main started)
 * on an extra M bound to that thread until it exits.  fn may use every fprt
 * call.  C code between must not switch stacks inside rt_cgocall (fatal
 * "cgocallback sp out of bounds"); a foreign thread may (coroutines).
 *
 * Pointers into the goroutine stack while C runs.  `arg` may point into the
 * calling goroutine's stack (&local): that stack does not move while fn runs,
 * EXCEPT during a callback, which may grow it by copying.  copystack
 * relocates the goroutine's own frames and registers (rt_asmcgocall keeps the
 * caller's callee-saved registers on the goroutine stack, so a caller that
 * holds &local in rbx or r12-r15 across rt_cgocall gets the new address
 * back), but never C's frames on g0: a copy of `arg`, or of any address in
 * the goroutine stack, that C keeps in a local, a register or the heap is
 * stale once an rt_cgocallback has returned.  C that calls back must not use
 * such a pointer after the callback; it either passes heap memory as `arg`,
 * or gets the address anew from the callback (the goroutine side may take
 * &local again, which is always current).  Go forbids the same by making
 * the compiler move anything passed to C off the stack.
 */
void rt_cgocall(void (*fn)(void *arg), void *arg);
void rt_cgocallback(void (*fn)(void *arg), void *arg);

/*
 * rt_cgo_export: a C-callable function pointer, generated at run time, with
 * which C calls goroutine code the way cgo's exported functions let C call Go:
 * thunk(arg) runs rt_cgocallback(fn, arg), so fn(arg) runs on a goroutine
 * (the rules of rt_cgocallback: from C inside rt_cgocall, or from a thread
 * fprt did not create) and thunk returns when fn does.  Arguments and results
 * go through arg.  The thunk is ordinary code to every unwinder: a frame
 * pointer prologue (push %rbp; mov %rsp,%rbp ... leave; ret), CFI registered
 * with libgcc (__register_frame: glibc backtrace(), C++ exceptions) and, when
 * the process has libunwind loaded, with libunwind (_U_dyn_register); gdb
 * learns its name and CFI through the GDB JIT interface.  name (copied; NULL:
 * "rt_cgo_export_thunk") names it there and for perf:
 *   FPRT_PERFMAP=1  append "START SIZE name" to /tmp/perf-PID.map
 *   FPRT_JITDUMP=1  write jit-PID.dump (in $FPRT_JITDUMP_DIR, default /tmp)
 *                   for `perf record -k mono` + `perf inject --jit`.
 * Thunks are never freed.  Callable from any thread once rt_main started (or
 * before: it starts the runtime's state as rt_main would).
 */
void (*rt_cgo_export(void (*fn)(void *arg), const char *name))(void *arg);

/* ---- tracebacks --------------------------------------------------------- */

/* The current goroutine's FP chain from the caller (pcs[0] is in the caller). */
size_t rt_callers(uintptr_t *pcs, size_t max, struct fpu_walk_result *res);
/* Print like Go: "goroutine N [status]:" then one frame per line, to fd. */
void rt_traceback(int fd);                         /* current goroutine */
int rt_traceback_goid(int fd, uint64_t goid);      /* 0, or -1: no such goroutine */
void rt_traceback_all(int fd);                     /* every goroutine */
/* The FP chain of goroutine goid, as its traceback would print it (from
 * sched, or from syscallpc/syscallbp while in a syscall or in C); returns
 * frames, or -1 when it cannot be traced now (running, no such goroutine).
 * *status gets the G status name. */
long rt_goroutine_pcs(uint64_t goid, uintptr_t *pcs, size_t max,
		      struct fpu_walk_result *res, const char **status);
/* "name+0xoff" (dladdr; needs -rdynamic for the main program's names) */
void rt_symbolize(uintptr_t pc, char *buf, size_t len);

/* ---- libfpunwind integration (for the profiler) ------------------------- */

/* The stacks the current M owns (g0, signal stack, current goroutine); NULL off an M. */
const struct fpu_regions *rt_m_regions(void);
const struct fpu_transitions *rt_transitions(void);
const struct fpu_graveyard *rt_graveyard(void);
/* A context for fpu_walk_checked on the current M: its regions, the transitions,
 * the graveyard.  Async-signal-safe. */
void rt_unwind_ctx(struct fpu_ctx *ctx);

/* ---- diagnostics -------------------------------------------------------- */

/* Prints "fatal error: <msg>", every goroutine's traceback, exits 2. */
_Noreturn void rt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* true when the runtime was built with injectable regressions (libfprt-checked). */
bool rt_checked_build(void);
/* true when regression `name` was enabled with FPRT_INJECT. */
bool rt_injected(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* FPRT_H */
