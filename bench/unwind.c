/*
 * bench/unwind.c — what one stack trace costs, per unwinder, at several depths.
 *
 * Every unwinder walks the SAME stack: a thread runs a recursion of exactly DEPTH
 * noinline frames, rooted in an asm trampoline that clears %rbp so the frame
 * pointer chain ends cleanly (fp == 0) instead of running into glibc's
 * frame-pointer-less thread start.  At the bottom each unwinder is first
 * validated (enough frames, and the recursion's return addresses all present:
 * a benchmark that times a broken unwinder is worthless), then timed.
 *
 * Timing: per (unwinder, depth), warm up while doubling the iteration count
 * until a batch takes CALIBRATE_NS and size a slice to ~BATCH_NS / SLICES.
 * Then ROUNDS rounds; a round times SLICES slices of every unwinder, in an
 * order that rotates from round to round, so that the unwinders compared in a
 * ratio ran side by side under the same load, and an unwinder's figure for the
 * round is its fastest slice: on a shared machine a slice that a preemption or
 * an interrupt hit is slower, never faster, and a ~1 ms slice is shorter than
 * the scheduler's time slice.  A figure is the median over the rounds; a ratio
 * is the median of the per-round ratios, with their range.  Each slice also
 * times one dependent load that hits L1 (a pointer chase): the physical floor
 * of a frame-pointer walk, one dependent load per frame.
 *
 * fp-raw and fp-checked are timed twice.  Back to back, a walk's loads overlap
 * with the next walk's in the out-of-order window, as far as the window holds
 * both, so the loop with fewer instructions per frame gains more than its
 * latency: fp-raw at depth 32 runs below one L1 load per frame.  The -serial
 * rows put a serializing instruction (x86-64 lfence, arm64 isb) after every
 * walk, so each is timed alone, as a profiler pays it: one walk per sample.
 *
 *   unwind [--tsv] [--depths N,N,...] [--help]
 *
 * Built with BENCH_NO_DWARF (the arm64 build, make bench ARCH=arm64, run under
 * qemu-user), it times fp-raw, fp-checked and glibc-backtrace only: the
 * libunwind and libdw columns need libunwind-dev:arm64 and libdw-dev:arm64,
 * which cannot be installed beside their amd64 packages.
 */
#ifndef BENCH_NO_DWARF
#define UNW_LOCAL_ONLY /* the local-only libunwind: fast path and caching */
#include <libunwind.h>
#include <elfutils/libdwfl.h>
#endif

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fpunwind.h"

/* noipa (GCC) also forbids cloning and partial inlining, which would change the
 * number of frames the recursion builds. */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noipa))
#endif

#define MAX_DEPTHS    16
#define MAX_DEPTH     10000
#define EXTRA_FRAMES  64            /* max = depth + 64: nobody is cut short */
#define THREAD_STACK  (8u << 20)
#define ROUNDS        7
#define SLICES        16            /* per round and unwinder: the fastest counts */
#define CHASE_LEN     64            /* pointers in the L1 chase: 512 bytes */
#define CHASE_LOADS   (1u << 16)
#define BATCH_NS      15e6          /* per round and unwinder, in SLICES slices */
#define CALIBRATE_NS  2e6
#define DW_NREGS      17            /* DWARF x86-64: rax..r15 = 0..15, rip = 16 */
#define DW_RSP        7

/* ---- asm: the recursion's root and the register capture for libdw -------- */

/*
 * fpb_root(fn, b, depth) calls fn(b, depth) with the frame pointer (%rbp, x29)
 * = 0, so the recursion's outermost frame record holds a saved fp of 0:
 * fp-raw and fp-checked end there cleanly.  Its CFI is ordinary (x86-64: CFA =
 * rsp + 16, caller's rbp at CFA - 16; arm64: CFA = sp + 16, x29 and x30 at
 * CFA - 16 and CFA - 8), so the DWARF unwinders go on through it into the
 * thread's start.
 *
 * fpb_capture_regs(regs) (x86-64) stores the caller's registers in DWARF
 * order, with rsp and rip as they are just after the call returns.
 */
#if defined(__x86_64__)
__asm__(
	".text\n"
	".globl fpb_root; .hidden fpb_root; .type fpb_root, @function\n"
	"fpb_root:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %rbp, 0\n"
	"	mov %rdi, %rax; mov %rsi, %rdi; mov %edx, %esi\n"
	"	xor %ebp, %ebp\n"
	"	call *%rax\n"
	"	pop %rbp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size fpb_root, .-fpb_root\n"
	".globl fpb_capture_regs; .hidden fpb_capture_regs\n"
	".type fpb_capture_regs, @function\n"
	"fpb_capture_regs:\n"
	"	.cfi_startproc\n"
	"	mov %rax, 0(%rdi);   mov %rdx, 8(%rdi);   mov %rcx, 16(%rdi)\n"
	"	mov %rbx, 24(%rdi);  mov %rsi, 32(%rdi);  mov %rdi, 40(%rdi)\n"
	"	mov %rbp, 48(%rdi);  lea 8(%rsp), %rax;   mov %rax, 56(%rdi)\n"
	"	mov %r8, 64(%rdi);   mov %r9, 72(%rdi);   mov %r10, 80(%rdi)\n"
	"	mov %r11, 88(%rdi);  mov %r12, 96(%rdi);  mov %r13, 104(%rdi)\n"
	"	mov %r14, 112(%rdi); mov %r15, 120(%rdi)\n"
	"	mov (%rsp), %rax;    mov %rax, 128(%rdi)\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size fpb_capture_regs, .-fpb_capture_regs\n");

#elif defined(__aarch64__)
__asm__(
	".text\n"
	".globl fpb_root; .hidden fpb_root; .type fpb_root, %function\n"
	"fpb_root:\n"
	"	.cfi_startproc\n"
	"	stp x29, x30, [sp, #-16]!\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset 29, -16\n"
	"	.cfi_offset 30, -8\n"
	"	mov x3, x0\n"
	"	mov x0, x1\n"
	"	mov w1, w2\n"
	"	mov x29, #0\n"
	"	blr x3\n"
	"	ldp x29, x30, [sp], #16\n"
	"	.cfi_def_cfa_offset 0\n"
	"	.cfi_restore 29\n"
	"	.cfi_restore 30\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size fpb_root, .-fpb_root\n");
#else
#error "bench/unwind.c: only x86-64 and arm64 are supported"
#endif

struct bench;
void fpb_root(void (*fn)(struct bench *, unsigned), struct bench *b, unsigned depth);
#ifndef BENCH_NO_DWARF
void fpb_capture_regs(Dwarf_Word regs[DW_NREGS]);
#endif

/* ---- state ---------------------------------------------------------------- */

#ifndef BENCH_NO_DWARF
/* What libdw unwinds: registers and a copy of the stack [lo, hi), as perf has. */
struct snapshot {
	Dwarf_Word regs[DW_NREGS];
	uintptr_t lo, hi;
	unsigned char *copy;    /* THREAD_STACK bytes, allocated once */
	pid_t pid, tid;
};
#endif

struct result {
	size_t frames;
	double ns;              /* per trace: the median over the rounds */
	double round_ns[ROUNDS];  /* the fastest slice of each round */
	uint64_t iters;         /* per slice */
};

enum {
	U_FP_RAW, U_FP_CHECKED, U_FP_RAW_SERIAL, U_FP_CHECKED_SERIAL,
#ifndef BENCH_NO_DWARF
	U_UNW_BACKTRACE, U_UNW_STEP,
#endif
	U_GLIBC,
#ifndef BENCH_NO_DWARF
	U_LIBDW,
#endif
	NUNW
};

struct bench {
	unsigned depths[MAX_DEPTHS], ndepths, di;  /* di: the depth being measured */
	unsigned depth;
	size_t max;
	uintptr_t pcs[MAX_DEPTH + EXTRA_FRAMES];
	uintptr_t ref[MAX_DEPTH + EXTRA_FRAMES];  /* fp-raw's trace at this depth */
	size_t nref;
	unsigned failures;

	struct fpu_regions regions;
	struct fpu_ctx fctx;
	struct fpu_walk_result res;               /* of the last fp-checked walk */
	uintptr_t stack_hi;

	int (*glibc_backtrace)(void **, int);
#ifndef BENCH_NO_DWARF
	Dwfl *dwfl;
	struct snapshot snap;
#endif

	struct result results[NUNW][MAX_DEPTHS];
	double l1_ns[MAX_DEPTHS][ROUNDS];         /* one dependent L1 load */
};

static void die(const char *what)
{
	fprintf(stderr, "unwind: error: %s\n", what);
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the unwinders -------------------------------------------------------- */

typedef size_t (*unwind_fn)(struct bench *b, uintptr_t *pcs, size_t max);

static NOINLINE size_t uw_fp_raw(struct bench *b, uintptr_t *pcs, size_t max)
{
	(void)b;
	size_t n = fpu_walk((uintptr_t)__builtin_frame_address(0), pcs, max);
	/* Not a tail call: the walk starts at this frame's record, which a tail
	 * call pops first (arm64 GCC makes one; the walk then ends at once). */
	__asm__ volatile("" ::: "memory");
	return n;
}

/* From the same fp as fp-raw, so both return the same pcs and the ratio compares
 * the same work.  fpu_walk_here is checked (untimed) in check_walk_here. */
static NOINLINE size_t uw_fp_checked(struct bench *b, uintptr_t *pcs, size_t max)
{
	uintptr_t sp;

#if defined(__x86_64__)
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#else
	__asm__ volatile("mov %0, sp" : "=r"(sp));
#endif
	size_t n = fpu_walk_checked(&b->fctx, sp, (uintptr_t)__builtin_frame_address(0),
				    pcs, max, &b->res);
	__asm__ volatile("" ::: "memory");   /* not a tail call: see uw_fp_raw */
	return n;
}

#ifndef BENCH_NO_DWARF
static NOINLINE size_t uw_unw_backtrace(struct bench *b, uintptr_t *pcs, size_t max)
{
	int n = unw_backtrace((void **)pcs, (int)max);

	(void)b;
	return n > 0 ? (size_t)n : 0;
}

/* The cursor loop of profilers that need registers at every frame. */
static NOINLINE size_t uw_unw_step(struct bench *b, uintptr_t *pcs, size_t max)
{
	unw_context_t uc;
	unw_cursor_t c;
	unw_word_t ip;
	size_t n = 0;

	(void)b;
	if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
		return 0;
	do {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
			break;
		pcs[n++] = ip;
	} while (n < max && unw_step(&c) > 0);
	return n;
}

#endif

static NOINLINE size_t uw_glibc(struct bench *b, uintptr_t *pcs, size_t max)
{
	int n = b->glibc_backtrace((void **)pcs, (int)max);

	return n > 0 ? (size_t)n : 0;
}

#ifndef BENCH_NO_DWARF
struct dw_walk {
	uintptr_t *pcs;
	size_t n, max;
};

static int dw_frame(Dwfl_Frame *state, void *arg)
{
	struct dw_walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	w->pcs[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Unwinds the snapshot of this depth (capture_snapshot), not the live stack.
 * The return value is ignored as perf does: -1 may just mean the outermost frame
 * had no CFI; the frame count is what validation checks. */
static NOINLINE size_t uw_libdw(struct bench *b, uintptr_t *pcs, size_t max)
{
	struct dw_walk w = { pcs, 0, max };

	(void)dwfl_getthread_frames(b->dwfl, b->snap.tid, dw_frame, &w);
	return w.n;
}
#endif

static const struct unwinder {
	const char *name;
	unwind_fn fn;
	bool serial;            /* a serializing instruction after every call */
} unwinders[NUNW] = {
	[U_FP_RAW]        = { "fp-raw", uw_fp_raw, false },
	[U_FP_CHECKED]    = { "fp-checked", uw_fp_checked, false },
	[U_FP_RAW_SERIAL]     = { "fp-raw-serial", uw_fp_raw, true },
	[U_FP_CHECKED_SERIAL] = { "fp-checked-serial", uw_fp_checked, true },
#ifndef BENCH_NO_DWARF
	[U_UNW_BACKTRACE] = { "unw_backtrace", uw_unw_backtrace },
	[U_UNW_STEP]      = { "unw_step", uw_unw_step },
	[U_LIBDW]         = { "libdw", uw_libdw },
#endif
	[U_GLIBC]         = { "glibc-backtrace", uw_glibc },
};

#ifndef BENCH_NO_DWARF
/* ---- libdw: one Dwfl per process, attached to a snapshot -------------------- */

static pid_t dw_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	const struct snapshot *s = dwfl_arg;

	(void)dwfl;
	if (*thread_argp != NULL)
		return 0;           /* one thread only */
	*thread_argp = dwfl_arg;
	return s->tid;
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			   void *dwfl_arg)
{
	const struct snapshot *s = dwfl_arg;
	struct iovec local = { result, sizeof *result };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof *result };

	(void)dwfl;
	if (addr >= s->lo && addr < s->hi && s->hi - addr >= sizeof *result) {
		memcpy(result, s->copy + (addr - s->lo), sizeof *result);
		return true;
	}
	/* Outside the snapshot (rare: nothing the unwind needs lies there): live
	 * memory, through a syscall so that a wild address fails instead of faulting. */
	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof *result;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct snapshot *s = thread_arg;

	return dwfl_thread_state_registers(thread, 0, DW_NREGS, s->regs);
}

static const Dwfl_Thread_Callbacks dw_thread_callbacks = {
	.next_thread = dw_next_thread,
	.memory_read = dw_memory_read,
	.set_initial_registers = dw_set_initial_registers,
};

static const Dwfl_Callbacks dw_proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* The way perf keeps it: modules from /proc/PID/maps, reported once. */
static void dw_setup(struct bench *b)
{
	/* A benchmark must not fetch debug info over the network. */
	unsetenv("DEBUGINFOD_URLS");
	b->snap.pid = getpid();
	b->dwfl = dwfl_begin(&dw_proc_callbacks);
	if (b->dwfl == NULL || dwfl_linux_proc_report(b->dwfl, b->snap.pid) != 0 ||
	    dwfl_report_end(b->dwfl, NULL, NULL) != 0 ||
	    !dwfl_attach_state(b->dwfl, NULL, b->snap.pid, &dw_thread_callbacks, &b->snap)) {
		fprintf(stderr, "unwind: error: libdw setup: %s\n", dwfl_errmsg(-1));
		exit(1);
	}
}

/*
 * Registers here and a copy of [sp, stack top), once per depth and outside the
 * timed loop: libdw's figure measures unwinding, not copying.  The copy is made
 * after the capture, but everything it holds at and above the captured sp (this
 * frame's record and all callers') is unchanged by then, provided this frame
 * lives until the copy is done: hence the barrier that keeps memcpy from being a
 * tail call (the first call through the PLT would then overwrite this frame).
 */
static NOINLINE void capture_snapshot(struct bench *b)
{
	struct snapshot *s = &b->snap;

	fpb_capture_regs(s->regs);
	s->lo = s->regs[DW_RSP];
	s->hi = b->stack_hi;
	if (s->hi - s->lo > THREAD_STACK)
		die("stack snapshot larger than the thread stack");
	memcpy(s->copy, (const void *)s->lo, s->hi - s->lo);
	__asm__ volatile("" ::: "memory");
}
#endif

/* ---- validation and timing at the bottom of the recursion ------------------ */

/*
 * The recursion's part of a trace: the return addresses into the DEPTH
 * recursive frames and into the trampoline, i.e. the last depth + 1 pcs of
 * fp-raw's trace (which ends at the trampoline).  Every unwinder must contain
 * them in order; what comes before (the benchmark's own frames) and after (the
 * DWARF unwinders go on into libc) differs.
 */
static bool has_recursion(const struct bench *b, const uintptr_t *pcs, size_t n)
{
	size_t len = (size_t)b->depth + 1;
	const uintptr_t *rec;

	if (b->nref < len)
		return false;
	rec = b->ref + b->nref - len;
	for (size_t i = 0; i + len <= n; i++)
		if (pcs[i] == rec[0] && memcmp(pcs + i, rec, len * sizeof *rec) == 0)
			return true;
	return false;
}

/* Nothing after it starts before everything before it has completed. */
static inline void serialize(void)
{
#if defined(__x86_64__)
	__asm__ volatile("lfence" ::: "memory");
#else
	__asm__ volatile("dsb ish; isb" ::: "memory");
#endif
}

/* One batch of iters traces, in ns per trace; *frames gets the last count. */
static NOINLINE double run_batch(struct bench *b, const struct unwinder *u,
				 uint64_t iters, size_t *frames)
{
	double t0 = now_ns();
	size_t n = 0;

	if (u->serial) {
		for (uint64_t i = 0; i < iters; i++) {
			n = u->fn(b, b->pcs, b->max);
			serialize();
		}
	} else {
		for (uint64_t i = 0; i < iters; i++)
			n = u->fn(b, b->pcs, b->max);
	}
	*frames = n;
	return (now_ns() - t0) / (double)iters;
}

static void fail(struct bench *b, const char *name, const char *why)
{
	fprintf(stderr, "unwind: error: %s at depth %u: %s\n", name, b->depth, why);
	b->failures++;
}

/* Called through run_batch, like the timed calls, so the frame counts agree. */
static NOINLINE void validate_one(struct bench *b, unsigned i)
{
	const struct unwinder *u = &unwinders[i];
	struct result *r = &b->results[i][b->di];
	char why[160];

	run_batch(b, u, 1, &r->frames);
	if (r->frames < b->depth) {
		snprintf(why, sizeof why, "returned %zu frames, expected >= %u",
			 r->frames, b->depth);
		fail(b, u->name, why);
		return;
	}
	if (i == U_FP_RAW) {
		memcpy(b->ref, b->pcs, r->frames * sizeof *b->pcs);
		b->nref = r->frames;
	}
	if (!has_recursion(b, b->pcs, r->frames))
		fail(b, u->name, "trace does not contain the recursion's return addresses");
	if ((i == U_FP_CHECKED || i == U_FP_CHECKED_SERIAL) && b->res.end != FPU_END_CLEAN) {
		snprintf(why, sizeof why, "walk ended '%s' (fp %#lx, pc %#lx), expected 'clean'",
			 fpu_end_name(b->res.end), (unsigned long)b->res.fp,
			 (unsigned long)b->res.pc);
		fail(b, u->name, why);
	}
}

/* fpu_walk_here is the other entry of the checked walker: not timed, but it
 * must end cleanly on the same chain. */
static NOINLINE void check_walk_here(struct bench *b)
{
	struct fpu_walk_result res;
	size_t n = fpu_walk_here(&b->fctx, b->pcs, b->max, &res);

	if (res.end != FPU_END_CLEAN || !has_recursion(b, b->pcs, n)) {
		char why[160];
		snprintf(why, sizeof why, "returned %zu frames ending '%s', expected a clean "
			 "walk through the recursion", n, fpu_end_name(res.end));
		fail(b, "fpu_walk_here", why);
	}
}

/* Warm up (caches, lazily loaded CFI) while finding the order of magnitude,
 * then size a slice to ~BATCH_NS / SLICES. */
static NOINLINE void calibrate_one(struct bench *b, unsigned i)
{
	const struct unwinder *u = &unwinders[i];
	struct result *r = &b->results[i][b->di];
	uint64_t iters = 1;
	size_t frames;
	double ns;

	while ((ns = run_batch(b, u, iters, &frames)) * (double)iters < CALIBRATE_NS)
		iters *= 2;
	r->iters = ns < BATCH_NS / SLICES ? (uint64_t)(BATCH_NS / SLICES / ns) : 1;
}

/* One slice of unwinder i in round `round`: the round keeps its fastest. */
static NOINLINE void time_slice(struct bench *b, unsigned i, int round, int slice)
{
	const struct unwinder *u = &unwinders[i];
	struct result *r = &b->results[i][b->di];
	size_t frames;
	double ns = run_batch(b, u, r->iters, &frames);

	if (slice == 0 || ns < r->round_ns[round])
		r->round_ns[round] = ns;
	if (frames != r->frames) {
		char why[96];
		snprintf(why, sizeof why, "returned %zu frames while timed, %zu when validated",
			 frames, r->frames);
		fail(b, u->name, why);
		exit(1);
	}
}

/* ns per load of a chase through CHASE_LEN pointers in a shuffled ring: each
 * load's address is the previous load's value, as in a frame-pointer walk. */
static NOINLINE double time_l1_load(void)
{
	static void *ring[CHASE_LEN];
	unsigned order[CHASE_LEN];

	for (unsigned i = 0; i < CHASE_LEN; i++)
		order[i] = i;
	for (unsigned i = CHASE_LEN - 1; i > 0; i--) {   /* fixed shuffle: LCG */
		unsigned j = (i * 2654435761u + 12345u) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < CHASE_LEN; i++)
		ring[order[i]] = &ring[order[(i + 1) % CHASE_LEN]];
	void *volatile *p = (void *volatile *)&ring[order[0]];
	double t0 = now_ns();
	for (unsigned i = 0; i < CHASE_LEN; i++)    /* warm */
		p = (void *volatile *)*p;
	t0 = now_ns();
	for (unsigned i = 0; i < CHASE_LOADS; i++)
		p = (void *volatile *)*p;
	double ns = (now_ns() - t0) / CHASE_LOADS;
	__asm__ volatile("" : : "r"(p) : "memory");
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of n values (n <= ROUNDS); *lo and *hi get the range when not NULL. */
static double median(const double *v, int n, double *lo, double *hi)
{
	double s[ROUNDS];
	memcpy(s, v, (size_t)n * sizeof *v);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	if (lo)
		*lo = s[0];
	if (hi)
		*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static NOINLINE void measure_depth(struct bench *b)
{
	b->nref = 0;    /* no reference until fp-raw passes at this depth */
#ifndef BENCH_NO_DWARF
	capture_snapshot(b);
#endif
	for (unsigned i = 0; i < NUNW; i++)
		validate_one(b, i);
	check_walk_here(b);
	if (b->failures)
		exit(1);
	for (unsigned i = 0; i < NUNW; i++)
		calibrate_one(b, i);
	for (int k = 0; k < ROUNDS; k++)
		for (int s = 0; s < SLICES; s++) {
			double l1 = time_l1_load();
			if (s == 0 || l1 < b->l1_ns[b->di][k])
				b->l1_ns[b->di][k] = l1;
			for (unsigned j = 0; j < NUNW; j++)
				time_slice(b, (j + (unsigned)k) % NUNW, k, s);
		}
	for (unsigned i = 0; i < NUNW; i++) {
		struct result *r = &b->results[i][b->di];
		r->ns = median(r->round_ns, ROUNDS, NULL, NULL);
	}
}

/* n frames of this function; the outermost is called by fpb_root.  The empty asm
 * after the call keeps the call from becoming a jump. */
static NOINLINE void recurse(struct bench *b, unsigned n)
{
	if (n > 1)
		recurse(b, n - 1);
	else
		measure_depth(b);
	__asm__ volatile("" ::: "memory");
}

static void *bench_thread(void *arg)
{
	struct bench *b = arg;
	struct fpu_region r;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);

	if (fpu_region_current_thread(&r) != 0)
		die("fpu_region_current_thread failed");
	if (here < r.lo || here >= r.hi)
		die("fpu_region_current_thread: the region does not contain this thread's stack");
	fpu_regions_init(&b->regions);
	if (fpu_regions_add(&b->regions, &r) != 0)
		die("fpu_regions_add failed");
	b->fctx = (struct fpu_ctx){ .regions = &b->regions };
	b->stack_hi = r.hi;
#ifndef BENCH_NO_DWARF
	b->snap.tid = gettid();
#endif

	for (b->di = 0; b->di < b->ndepths; b->di++) {
		b->depth = b->depths[b->di];
		b->max = (size_t)b->depth + EXTRA_FRAMES;
		fpb_root(recurse, b, b->depth);
	}
	return NULL;
}

/* ---- output ------------------------------------------------------------------ */

static void print_tsv(const struct bench *b)
{
	for (unsigned d = 0; d < b->ndepths; d++)
		for (unsigned i = 0; i < NUNW; i++) {
			const struct result *r = &b->results[i][d];
			printf("%s\t%u\t%zu\t%.1f\t%.2f\n", unwinders[i].name, b->depths[d],
			       r->frames, r->ns, r->ns / (double)r->frames);
		}
}

/*
 * A target: the per-round ratio num/den (or, with den == PER_L1_LOAD, num's ns
 * per frame over one L1 load) at the depths from min_depth to max_depth.
 */
#define PER_L1_LOAD NUNW
static const struct target {
	unsigned num, den;
	unsigned min_depth, max_depth;
	bool at_most;
	double goal;
} targets[] = {
	{ U_FP_CHECKED, U_FP_RAW, 1, 31, true, 1.5 },
	{ U_FP_CHECKED, U_FP_RAW, 32, MAX_DEPTH, true, 1.1 },
#ifndef BENCH_NO_DWARF
	{ U_UNW_BACKTRACE, U_FP_CHECKED, 32, 32, false, 6 },
#endif
	{ U_FP_CHECKED, PER_L1_LOAD, 128, MAX_DEPTH, true, 1.3 },
	/* The same targets, one walk at a time. */
	{ U_FP_CHECKED_SERIAL, U_FP_RAW_SERIAL, 1, 31, true, 1.5 },
	{ U_FP_CHECKED_SERIAL, U_FP_RAW_SERIAL, 32, MAX_DEPTH, true, 1.1 },
	{ U_FP_CHECKED_SERIAL, PER_L1_LOAD, 128, MAX_DEPTH, true, 1.3 },
};

static double round_ratio(const struct bench *b, const struct target *g, unsigned d, int k)
{
	const struct result *n = &b->results[g->num][d];
	if (g->den == PER_L1_LOAD)
		return n->round_ns[k] / (double)n->frames / b->l1_ns[d][k];
	return n->round_ns[k] / b->results[g->den][d].round_ns[k];
}

static void print_targets(const struct bench *b)
{
	printf("targets (median of %d paired rounds [range]):\n", ROUNDS);
	for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
		const struct target *g = &targets[t];
		for (unsigned d = 0; d < b->ndepths; d++) {
			if (b->depths[d] < g->min_depth || b->depths[d] > g->max_depth)
				continue;
			double v[ROUNDS], lo, hi;
			for (int k = 0; k < ROUNDS; k++)
				v[k] = round_ratio(b, g, d, k);
			double m = median(v, ROUNDS, &lo, &hi);
			bool met = g->at_most ? m <= g->goal : m >= g->goal;
			char label[80];
			snprintf(label, sizeof label, "%s / %s", unwinders[g->num].name,
				 g->den == PER_L1_LOAD ? "L1 load (per frame)"
						       : unwinders[g->den].name);
			printf("  %-42s depth %-4u %6.2f [%.2f..%.2f]  target %s %-4g %s\n", label,
			       b->depths[d], m, lo, hi, g->at_most ? "<=" : ">=", g->goal,
			       met ? "met" : "MISSED");
		}
	}
}

static void print_table(const struct bench *b)
{
	printf("median ns over %d rounds (in each, the fastest of %d ~%.1f ms slices of every "
	       "unwinder, in rotating order); every unwinder walks the same recursion; "
	       "max = depth + %d\n\n",
	       ROUNDS, SLICES, BATCH_NS / SLICES / 1e6, EXTRA_FRAMES);
	printf("%-17s %6s %7s %12s %10s %13s\n", "unwinder", "depth", "frames",
	       "ns/trace", "ns/frame", "x fp-checked");
	for (unsigned d = 0; d < b->ndepths; d++) {
		double base = b->results[U_FP_CHECKED][d].ns;

		for (unsigned i = 0; i < NUNW; i++) {
			const struct result *r = &b->results[i][d];
			printf("%-17s %6u %7zu %12.1f %10.2f %13.2f\n", unwinders[i].name,
			       b->depths[d], r->frames, r->ns, r->ns / (double)r->frames,
			       r->ns / base);
		}
		printf("%-17s %6s %7s %12s %10.2f\n\n", "L1 load", "", "", "",
		       median(b->l1_ns[d], ROUNDS, NULL, NULL));
	}
	print_targets(b);
}

/* ---- main ---------------------------------------------------------------------- */

#define USAGE "usage: unwind [--tsv] [--depths N,N,...] [--help]"

static void usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "unwind: %s '%s' (" USAGE ")\n", what, arg);
	exit(2);
}

static void parse_depths(struct bench *b, const char *list)
{
	const char *p = list;

	b->ndepths = 0;
	for (;;) {
		char *end;
		unsigned long d = strtoul(p, &end, 10);

		if (end == p || d < 1 || d > MAX_DEPTH || b->ndepths == MAX_DEPTHS ||
		    (*end != ',' && *end != '\0'))
			usage_error("bad --depths (at most 16 depths, each 1..10000):", list);
		b->depths[b->ndepths++] = (unsigned)d;
		if (*end == '\0')
			return;
		p = end + 1;
	}
}

int main(int argc, char **argv)
{
	static struct bench bench = { .depths = { 8, 32, 128, 512 }, .ndepths = 4 };
	struct bench *b = &bench;
	bool tsv = false;
	pthread_attr_t attr;
	pthread_t th;
	void *libc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = true;
		} else if (strcmp(argv[i], "--depths") == 0) {
			if (++i == argc)
				usage_error("missing value for", "--depths");
			parse_depths(b, argv[i]);
		} else if (strncmp(argv[i], "--depths=", 9) == 0) {
			parse_depths(b, argv[i] + 9);
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf(USAGE "\n\nTimes");
			for (unsigned u = 0; u < NUNW; u++)
				printf("%s %s", u ? (u + 1 < NUNW ? "," : " and") : "",
				       unwinders[u].name);
			printf(" on the same\nrecursion at each depth "
			       "(default 8,32,128,512).  --tsv: NAME DEPTH FRAMES NS_PER_TRACE "
			       "NS_PER_FRAME\nper line, tab-separated.  Exits 1 if an unwinder "
			       "returns a broken trace.\n");
			return 0;
		} else {
			usage_error("unknown option", argv[i]);
		}
	}

	/* libunwind.so defines a weak `backtrace` that wins over glibc's in symbol
	 * lookup (it is loaded first), so glibc's is looked up in libc itself. */
	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	b->glibc_backtrace = libc ? (int (*)(void **, int))dlsym(libc, "backtrace") : NULL;
	if (b->glibc_backtrace == NULL)
		die("cannot find glibc's backtrace in libc.so.6");
	/* Its first call dlopens libgcc_s: do it before the Dwfl reads the maps. */
	b->glibc_backtrace((void **)b->pcs, 1);

#ifndef BENCH_NO_DWARF
	dw_setup(b);
	b->snap.copy = malloc(THREAD_STACK);
	if (b->snap.copy == NULL)
		die("out of memory");
#endif

	if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, THREAD_STACK) != 0 ||
	    pthread_create(&th, &attr, bench_thread, b) != 0 || pthread_join(th, NULL) != 0)
		die("cannot run the benchmark thread");
	pthread_attr_destroy(&attr);

	if (tsv)
		print_tsv(b);
	else
		print_table(b);
#ifndef BENCH_NO_DWARF
	dwfl_end(b->dwfl);
	free(b->snap.copy);
#endif
	return 0;
}
