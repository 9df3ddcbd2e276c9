/*
 * The DWARF backends on real samples of this process.  A thread spins in a
 * known chain; SIGPROF copies its registers, FP chain and stack (from sp to the
 * top of its stack) the way the profiler does; then libdw and libunwind unwind
 * the copy, and the comparator judges the two chains.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "fpu_dwarf.h"
#include "nofp_helpers.h"

void dwarf_chain_leaf(void);
void dwarf_chain_mid(void);
void dwarf_chain_top(void);
void dwarf_chain_top_nofp(void);
void dwarf_on_sigprof(int sig, siginfo_t *si, void *uc);

#define MAXPCS 128
#define SNAP_MAX (256 * 1024)

static volatile int stop, phase;
static struct fpu_region thread_stack;
static struct fpu_sample sample;
static uint64_t fp_pcs[MAXPCS];
static uint8_t snapshot[SNAP_MAX];

__attribute__((noinline)) void dwarf_chain_leaf(void)
{
	volatile char buf[64];
	while (!stop)
		buf[stop & 63]++;
}

__attribute__((noinline)) void dwarf_chain_mid(void)
{
	dwarf_chain_leaf();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dwarf_chain_top(void)
{
	dwarf_chain_mid();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dwarf_chain_top_nofp(void)
{
	nofp_middle(dwarf_chain_leaf);
	__asm__ volatile("" ::: "memory");
}

/*
 * A snapshot reads whatever a live stack holds, ASan's redzones between the
 * interrupted frames' locals included: the point of a snapshot, not a bug.
 * (libfpunwind's record encoder does the same.)
 */
#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address, noinline))
#endif
static void copy_stack(uint8_t *dst, const uint8_t *src, size_t n)
{
	const volatile uint8_t *v = src;
	for (size_t i = 0; i < n; i++)
		dst[i] = v[i];
}

/* What the profiler's handler does, minus the buffer: regs, FP chain, stack. */
void dwarf_on_sigprof(int sig, siginfo_t *si, void *uc)
{
	struct fpu_ctx ctx = { .fixed = &thread_stack, .nfixed = 1 };
	struct fpu_walk_result res;
	uintptr_t pcs[MAXPCS];
	(void)sig;
	(void)si;

	fpu_regs_from_ucontext(sample.regs, uc);
	size_t n = fpu_walk_ucontext(&ctx, uc, pcs, MAXPCS, &res);
	for (size_t i = 0; i < n; i++)
		fp_pcs[i] = pcs[i];
	sample.fp_pcs = fp_pcs;
	sample.nfp = (uint32_t)n;
	sample.fp_end = res.end;
	uint64_t sp = sample.regs[FPU_REG_RSP];
	uint64_t len = thread_stack.hi - sp;
	if (len > SNAP_MAX)
		len = SNAP_MAX;
	copy_stack(snapshot, (const uint8_t *)(uintptr_t)sp, len);
	sample.nseg = 1;
	sample.seg[0] = (struct fpu_segment){ .lo = sp, .len = (uint32_t)len,
					      .kind = FPU_REGION_THREAD,
					      .region_hi = thread_stack.hi, .data = snapshot };
	phase = 2;
}

static void *spinner(void *arg)
{
	fpu_region_current_thread(&thread_stack);
	phase = 1;
	((void (*)(void))arg)();
	return NULL;
}

/* Sample a thread running top() until the FP chain shows the spinning leaf. */
static void sample_thread(void (*top)(void))
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = dwarf_on_sigprof;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGPROF, &sa, NULL);
	stop = 0;
	phase = 0;
	pthread_create(&t, NULL, spinner, (void *)top);
	while (phase != 1)
		usleep(1000);
	for (int tries = 0; tries < 1000; tries++) {
		usleep(2000);
		phase = 1;
		pthread_kill(t, SIGPROF);
		while (phase != 2)
			usleep(100);
		/* Interrupted in the loop body, not in a prologue: the FP chain's second
		 * frame is then the leaf's caller. */
		if (sample.nfp >= 3 && sample.regs[FPU_REG_RBP] > sample.regs[FPU_REG_RSP])
			break;
	}
	stop = 1;
	pthread_join(t, NULL);
}

static struct fpu_dwarf *session(enum fpu_dwarf_backend b)
{
	size_t nmaps;
	char err[256];
	struct fpu_mapping *maps = fpu_mappings_from_proc(0, &nmaps);
	cr_assert_not_null(maps);
	struct fpu_dwarf *d = fpu_dwarf_new(b, maps, nmaps, err, sizeof err);
	free(maps);
	cr_assert_not_null(d, "%s", err);
	return d;
}

static const char *fn(struct fpu_dwarf *d, uint64_t pc, int is_return)
{
	struct fpu_symbol sym;
	if (fpu_symbolize(d, pc, is_return, &sym) != 0 || !sym.function)
		return "?";
	return sym.function;
}

ParameterizedTestParameters(dwarf, clean_chain_matches)
{
	static enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	return cr_make_param_array(enum fpu_dwarf_backend, backends, 2);
}

ParameterizedTest(enum fpu_dwarf_backend *backend, dwarf, clean_chain_matches)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;
	struct fpu_verdict v;

	sample_thread(dwarf_chain_top);
	struct fpu_dwarf *d = session(*backend);
	size_t n = fpu_dwarf_unwind(d, &sample, pcs, MAXPCS, &dres);
	cr_assert_geq(n, 4, "%s: %zu frames (%s)", fpu_dwarf_backend_name(*backend), n,
		      dres.reason);
	cr_assert_str_eq(fn(d, pcs[0], 0), "dwarf_chain_leaf");
	cr_assert_str_eq(fn(d, pcs[1], 1), "dwarf_chain_mid");
	cr_assert_str_eq(fn(d, pcs[2], 1), "dwarf_chain_top");
	cr_assert_str_eq(fn(d, pcs[3], 1), "spinner");
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(pcs[i], sample.fp_pcs[i], "frame %zu differs", i);
	fpu_compare(&sample, pcs, n, &dres, &v);
	/* Past spinner the FP chain enters libc's start_thread (no frame pointer):
	 * either it happens to end cleanly, or it is cut short there, in libc. */
	if (v.cls != FPU_CLASS_MATCH) {
		struct fpu_symbol sym;
		cr_assert_eq(v.cls, FPU_CLASS_FP_TRUNCATED, "%s", fpu_class_name(v.cls));
		cr_assert_eq(fpu_symbolize(d, v.culprit_pc, v.culprit_is_return, &sym), 0);
		cr_assert(sym.system, "blamed %s in %s", sym.function, sym.module);
	}
	fpu_dwarf_free(d);
}

ParameterizedTestParameters(dwarf, frameless_caller_is_fp_skips)
{
	static enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	return cr_make_param_array(enum fpu_dwarf_backend, backends, 2);
}

ParameterizedTest(enum fpu_dwarf_backend *backend, dwarf, frameless_caller_is_fp_skips)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;
	struct fpu_verdict v;

	sample_thread(dwarf_chain_top_nofp);
	struct fpu_dwarf *d = session(*backend);
	size_t n = fpu_dwarf_unwind(d, &sample, pcs, MAXPCS, &dres);
	cr_assert_geq(n, 4, "%zu frames (%s)", n, dres.reason);
	fpu_compare(&sample, pcs, n, &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_str_eq(fn(d, v.culprit_pc, v.culprit_is_return), "nofp_middle");
	cr_assert_str_eq(fn(d, v.missing_pc, 1), "dwarf_chain_top_nofp");
	fpu_dwarf_free(d);
}

Test(dwarf, symbolize_gives_file_and_line)
{
	struct fpu_dwarf *d = session(FPU_DWARF_LIBDW);
	struct fpu_symbol sym;
	cr_assert_eq(fpu_symbolize(d, (uint64_t)(uintptr_t)dwarf_chain_mid + 4, 0, &sym), 0);
	cr_assert_str_eq(sym.function, "dwarf_chain_mid");
	cr_assert_not_null(sym.file);
	cr_assert(strstr(sym.file, "test_dwarf.c"), "%s", sym.file);
	cr_assert_gt(sym.line, 0);
	cr_assert_not(sym.system);
	cr_assert_eq(fpu_symbolize(d, 16, 0, &sym), -1, "no mapping at 16");
	fpu_dwarf_free(d);
}

Test(dwarf, bad_backend_and_system_paths)
{
	char err[128];
	cr_assert_null(fpu_dwarf_new(99, NULL, 0, err, sizeof err));
	cr_assert(strstr(err, "99"), "%s", err);
	cr_assert(fpu_path_is_system("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	cr_assert(fpu_path_is_system("/lib64/ld-linux-x86-64.so.2"));
	cr_assert_not(fpu_path_is_system("/work/build/progs/yield"));
	cr_assert_not(fpu_path_is_system(NULL));
}

/* A snapshot that stops short of the caller frames: DWARF must say so. */
Test(dwarf, truncated_snapshot_is_reported)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;

	sample_thread(dwarf_chain_top);
	sample.seg[0].len = 16;
	struct fpu_dwarf *d = session(FPU_DWARF_LIBDW);
	size_t n = fpu_dwarf_unwind(d, &sample, pcs, MAXPCS, &dres);
	cr_assert_lt(n, 4);
	cr_assert_eq(dres.end, FPU_DWARF_END_ERROR);
	cr_assert(dres.read_outside_snapshot);
	fpu_dwarf_free(d);
}

static inline __attribute__((always_inline)) int inl_inner(int x)
{
	for (int i = 0; i < 100; i++)
		x = x * 3 + i;
	return x;
}

static inline __attribute__((always_inline)) int inl_middle(int x)
{
	return inl_inner(x) + 1;
}

int inl_outer(int x);
__attribute__((noinline)) int inl_outer(int x)
{
	int r = inl_middle(x);
	__asm__ volatile("" : "+r"(r));
	return r;
}

/* Every pc of inl_outer: its inline chain ends in inl_outer, and where
 * inl_inner is inlined the chain is inner, middle, outer, as gdb and perf show. */
Test(dwarf, inlined_frames)
{
	struct fpu_dwarf *d = session(FPU_DWARF_LIBDW);
	struct fpu_symbol syms[8];
	int deepest = 0;
	for (uint64_t pc = (uint64_t)(uintptr_t)inl_outer; pc < (uint64_t)(uintptr_t)inl_outer + 64; pc++) {
		struct fpu_symbol real;
		fpu_symbolize(d, pc, 0, &real);
		if (!real.function || strcmp(real.function, "inl_outer") != 0)
			break;   /* past the end of inl_outer */
		int n = fpu_symbolize_inlined(d, pc, 0, syms, 8);
		cr_assert_gt(n, 0, "no scope at inl_outer+%llu",
			     (unsigned long long)(pc - (uint64_t)(uintptr_t)inl_outer));
		cr_assert_str_eq(syms[n - 1].function, "inl_outer");
		if (n == 3) {
			cr_assert_str_eq(syms[0].function, "inl_inner");
			cr_assert_str_eq(syms[1].function, "inl_middle");
			cr_assert_gt(syms[1].line, 0, "the line in inl_middle where inl_inner was inlined");
		}
		if (n > deepest)
			deepest = n;
	}
	cr_assert_eq(deepest, 3, "no pc showed the whole inline chain");
	fpu_dwarf_free(d);
}
