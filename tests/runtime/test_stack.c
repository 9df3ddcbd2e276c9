/* Stacks: growth to 1 MiB with FP chain checks after every move, tracked slots,
 * overflow and stale accesses are fatal with the values, scenario programs. */
#include <stdio.h>
#include <string.h>

#include "helpers.h"

#define FRAME 1000

struct grow { size_t target; uintptr_t oldlo, oldhi; int moves_checked; };

/* After a move: the checked walk from here ends cleanly at the goroutine base
 * and every frame pointer of the chain is in the new stack. */
static void check_chain(struct grow *g, int depth)
{
	uintptr_t lo, hi, *pcs = malloc(4096 * sizeof *pcs);
	rt_stack_bounds(&lo, &hi);
	struct fpu_walk_result res;
	size_t n = rt_callers(pcs, 4096, &res);
	free(pcs);
	CHECK(res.end == FPU_END_CLEAN, "depth %d: walk ended %s (fp %#lx) after %zu frames",
	      depth, fpu_end_name(res.end), res.fp, n);
	CHECK(n >= (size_t)depth, "depth %d: only %zu frames", depth, n);
	for (uintptr_t fp = (uintptr_t)__builtin_frame_address(0); fp; fp = *(uintptr_t *)fp) {
		if (fp < lo || fp + 16 > hi || (fp >= g->oldlo && fp < g->oldhi)) {
			CHECK(0, "depth %d: fp %#lx not in new stack [%#lx, %#lx) (old [%#lx, %#lx))",
			      depth, fp, lo, hi, g->oldlo, g->oldhi);
			break;
		}
	}
	g->moves_checked++;
}

__attribute__((noinline)) static unsigned deep(struct grow *g, int depth)
{
	/* Fully initialised: the copier relocates every word that looks like an
	 * old-stack address, and a word mixing a few live bytes with leftover
	 * addresses from earlier calls would look like one (see stack.c). */
	volatile unsigned char buf[FRAME];
	for (int i = 0; i < FRAME; i++)
		buf[i] = (unsigned char)(depth + i);
	rt_stack_bounds(&g->oldlo, &g->oldhi);
	uint64_t moves = rt_stack_moves();
	RT_STACK_CHECK(FRAME + 256);
	if (rt_stack_moves() != moves)
		check_chain(g, depth);
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	unsigned s = 0;
	if (hi - lo < g->target)
		s = deep(g, depth + 1);
	for (int i = 0; i < FRAME; i++) {
		CHECK(buf[i] == (unsigned char)(depth + i), "depth %d byte %d", depth, i);
		s += buf[i];
	}
	return s;
}

static void grower(void *p)
{
	struct grow *g = p;
	volatile long anchor = 77;
	volatile long *slot = &anchor;          /* tracked pointer into our stack */
	rt_stack_track((void *)&slot);
	deep(g, 1);
	CHECK(slot == &anchor && *slot == 77, "tracked slot %p, anchor at %p", (void *)slot,
	      (void *)&anchor);
	rt_stack_untrack((void *)&slot);
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	CHECK(hi - lo >= g->target, "stack %lu bytes", hi - lo);
	rt_wg_done((rt_waitgroup *)((void **)(g + 1))[0]);
}

static int grow_1mib(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	struct { struct grow g; rt_waitgroup *wg; } a[2];
	rt_wg_add(&wg, 2);
	for (int i = 0; i < 2; i++) {
		a[i].g = (struct grow){ .target = 1 << 20 };
		a[i].wg = &wg;
		rt_go(grower, &a[i]);
	}
	rt_wg_wait(&wg);
	for (int i = 0; i < 2; i++)
		CHECK(a[i].g.moves_checked >= 6, "goroutine %d: %d moves (16 KiB -> 1 MiB is 6)", i,
		      a[i].g.moves_checked);
	return 0;
}
RT_TEST(stack, grow_to_1mib, grow_1mib, 120)

/* ---- fatal paths ---------------------------------------------------------- */

__attribute__((noinline)) static int unchecked(int n)
{
	volatile char buf[512];
	buf[0] = (char)n;
	return n ? unchecked(n - 1) + buf[0] : 0;
}

static int overflow(int argc, char **argv)
{
	(void)argc; (void)argv;
	return unchecked(1 << 20);     /* no stack checks: hits the guard page */
}

Test(stack, overflow_is_fatal, .timeout = 60)
{
	struct child_result r = run_child(overflow, NULL);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%.2000s", r.status, r.err);
	cr_assert(strstr(r.err, "fatal error: goroutine 1 stack overflow: fault at 0x"),
		  "stderr:\n%.2000s", r.err);
	cr_assert(strstr(r.err, "goroutine 1 [running]:"), "stderr:\n%.2000s", r.err);
	cr_assert(strstr(r.err, "unchecked+0x"), "no frames in:\n%.2000s", r.err);
	child_result_free(&r);
}

static volatile long *leaked;

__attribute__((noinline)) static void force_move(void)
{
	RT_STACK_CHECK(64 * 1024);           /* more than 16 KiB: must move */
}

static int stale(int argc, char **argv)
{
	(void)argc; (void)argv;
	volatile long x = 5;
	leaked = &x;                         /* a heap-held pointer: not relocated */
	force_move();
	return (int)*leaked;                 /* stale: the old stack is PROT_NONE */
}

Test(stack, stale_access_names_old_and_new_range, .timeout = 60)
{
	const char *env[] = { "FPRT_DEBUG=stackfaultonfree", NULL };
	struct child_result r = run_child(stale, env);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%.2000s", r.status, r.err);
	cr_assert(strstr(r.err, "fatal error: access to stale stack address 0x"),
		  "stderr:\n%.2000s", r.err);
	cr_assert(strstr(r.err, "goroutine 1's stack [0x"), "stderr:\n%.2000s", r.err);
	cr_assert(strstr(r.err, ") moved to [0x"), "stderr:\n%.2000s", r.err);
	child_result_free(&r);
}

/* ---- tracked slots off the stack, and the conservative scan ---------------- */

/*
 * A tracked slot may lie off the goroutine stack (heap, globals, g0): a move
 * relocates its value, as it does for cgocallbackg's saved syscall sp and bp
 * (seed 000).  The same pointer in an untracked heap word stays where it was:
 * copystack's conservative scan covers the goroutine stack only.
 */
/* &v where v lies now: the compiler may not fold it into an address it took
 * before the stack moved (a local's address never changes in C's model). */
#if defined(__aarch64__)
/* arm64 has no lea of a memory operand; a register the compiler kept &v in
 * is relocated with the stack (copystack relocates the gobuf's x19..x28 and
 * every spill), so &v computed now is where v lies now. */
#define ADDR_NOW(v) ({ uintptr_t a_ = (uintptr_t)&(v); __asm__ volatile("" : "+r"(a_)); a_; })
#else
#define ADDR_NOW(v) ({ uintptr_t a_; __asm__ volatile("lea %1, %0" : "=r"(a_) : "m"(v)); a_; })
#endif

__attribute__((noinline)) static uintptr_t stack_hi(void)
{
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	return hi;
}

static int offstack_slot(int argc, char **argv)
{
	(void)argc; (void)argv;
	volatile long anchor = 11;
	/* volatile: read from the heap after the move, not from a register (the
	 * callee-saved registers are relocated with the goroutine's sched) */
	void *volatile *tracked = malloc(sizeof *tracked);
	void *volatile *untracked = malloc(sizeof *untracked);
	*tracked = (void *)&anchor;
	*untracked = (void *)&anchor;
	rt_stack_track((void *)tracked);
	uint64_t moves = rt_stack_moves();
	force_move();
	CHECK(rt_stack_moves() == moves + 1, "the stack moved %llu times, want 1",
	      (unsigned long long)(rt_stack_moves() - moves));
	uintptr_t now = ADDR_NOW(anchor), before = (uintptr_t)*untracked;
	CHECK(now != before, "anchor still at %#lx: the untracked heap word was relocated", now);
	CHECK((uintptr_t)*tracked == now, "tracked heap slot holds %p, anchor is at %#lx (was %#lx)",
	      *tracked, now, before);
	CHECK(*(volatile long *)*tracked == 11, "anchor through the slot: %ld",
	      *(volatile long *)*tracked);
	rt_stack_untrack((void *)tracked);
	free((void *)tracked);
	free((void *)untracked);
	return 0;
}

Test(stack, offstack_tracked_slot_is_relocated, .timeout = 60)
{
	rt_test_run(offstack_slot, NULL);
}

/*
 * copystack's relocation covers exactly [lo, hi) of the old stack: a word
 * equal to lo or to the last word's address moves by the stack's delta; a
 * word equal to hi (one past the end: another mapping's address) or just
 * below lo (the guard page) keeps its value.  The one-pass copy tests the
 * range with an unsigned subtraction, where an off-by-one is easy to make.
 */
/* the bounds before the move, off the stack: a copy of lo in a register or
 * a spill slot would itself be relocated */
static volatile uintptr_t reloc_lo, reloc_hi;

static int reloc_bounds(int argc, char **argv)
{
	(void)argc; (void)argv;
	uintptr_t l, h;
	rt_stack_bounds(&l, &h);
	reloc_lo = l;
	reloc_hi = h;
	volatile uintptr_t at_lo = l, at_last = h - 8, at_hi = h, below = l - 8;
	force_move();
	uintptr_t lo = reloc_lo, hi = reloc_hi, nlo, nhi;
	rt_stack_bounds(&nlo, &nhi);
	CHECK(nhi != hi, "the stack did not move ([%#lx, %#lx))", lo, hi);
	uintptr_t delta = nhi - hi;
	CHECK(at_lo == lo + delta, "word = old lo %#lx became %#lx, want %#lx", lo,
	      (uintptr_t)at_lo, lo + delta);
	CHECK(at_last == hi - 8 + delta, "word = old hi-8 %#lx became %#lx, want %#lx", hi - 8,
	      (uintptr_t)at_last, hi - 8 + delta);
	CHECK(at_hi == hi, "word = old hi %#lx became %#lx: hi is outside the stack", hi,
	      (uintptr_t)at_hi);
	CHECK(below == lo - 8, "word = old lo-8 %#lx became %#lx: below the stack", lo - 8,
	      (uintptr_t)below);
	return 0;
}

RT_TEST(stack, copystack_relocates_exactly_the_old_range, reloc_bounds, 60)

/*
 * FPRT_DEBUG=stackscanreport names the words the conservative scan relocated
 * beyond the frame chain and the tracked slots: here a stack word holding
 * &anchor that nothing tracks is listed, at its depth below the stack top and
 * in its function; the tracked slot beside it and the saved frame pointers
 * are not.  And the scan did relocate the untracked word.
 */
static volatile uintptr_t scan_hidden_depth, scan_tracked_depth;

__attribute__((noinline)) static int scan_subject(void)
{
	volatile long anchor = 3;
	volatile uintptr_t hidden = (uintptr_t)&anchor;     /* untracked */
	volatile uintptr_t slot = (uintptr_t)&anchor;
	rt_stack_track((void *)&slot);
	/* no stack word may hold lo: an integer equal to an old-stack address is
	 * relocated like a pointer (and listed) */
	uintptr_t hi = stack_hi();
	scan_hidden_depth = hi - (uintptr_t)&hidden;
	scan_tracked_depth = hi - (uintptr_t)&slot;
	force_move();
	rt_stack_untrack((void *)&slot);
	uintptr_t now = ADDR_NOW(anchor);
	CHECK(hidden == now && slot == now, "after the move: hidden %#lx, slot %#lx, anchor at %#lx",
	      (uintptr_t)hidden, (uintptr_t)slot, now);
	CHECK(stack_hi() != hi, "the stack did not move");
	printf("hidden hi-%#lx tracked hi-%#lx\n", (unsigned long)scan_hidden_depth,
	       (unsigned long)scan_tracked_depth);
	/* the saved frame pointers' depths, which the report must not list */
	uintptr_t lo, top;
	rt_stack_bounds(&lo, &top);
	for (uintptr_t fp = (uintptr_t)__builtin_frame_address(0); fp >= lo && fp < top;
	     fp = *(uintptr_t *)fp)
		printf("fp hi-%#lx\n", (unsigned long)(top - fp));
	return 0;
}

static int scan_report(int argc, char **argv)
{
	(void)argc; (void)argv;
	return scan_subject();
}

Test(stack, stackscanreport_lists_untracked_stack_words, .timeout = 60)
{
	const char *env[] = { "FPRT_DEBUG=stackscanreport", NULL };
	struct child_result r = run_child(scan_report, env);
	cr_assert_eq(r.status, 0, "status %d, stderr:\n%.2000s", r.status, r.err);
	unsigned long hidden, tracked;
	cr_assert_eq(sscanf(r.out, "hidden hi-%lx tracked hi-%lx", &hidden, &tracked), 2,
		     "stdout: %s", r.out);
	char want[128];
	snprintf(want, sizeof want, "word at hi-%#lx in scan_subject+", hidden);
	cr_assert(strstr(r.err, want), "no \"%s\" in stderr:\n%.2000s", want, r.err);
	snprintf(want, sizeof want, "word at hi-%#lx ", tracked);
	cr_assert(!strstr(r.err, want), "the tracked slot is listed:\n%.2000s", r.err);
	/* no saved frame pointer of the chain (ASan frames add spills of their
	 * own, so the count of listed words is not fixed) */
	int fps = 0;
	for (const char *l = r.out; (l = strstr(l, "\nfp hi-")); l++) {
		unsigned long depth;
		cr_assert_eq(sscanf(l, "\nfp hi-%lx", &depth), 1, "stdout: %s", r.out);
		snprintf(want, sizeof want, "word at hi-%#lx ", depth);
		cr_assert(!strstr(r.err, want), "saved fp at hi-%#lx listed:\n%.2000s", depth, r.err);
		fps++;
	}
	cr_assert(fps >= 2, "only %d frame records found: %s", fps, r.out);
	cr_assert(strstr(r.err, "(neither a saved frame pointer nor a tracked slot)"),
		  "stderr:\n%.2000s", r.err);
	child_result_free(&r);
}

static int g0_check(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 0;
}

static void on_g0_huge(void *arg)
{
	(void)arg;
	RT_STACK_CHECK(1 << 20);           /* g0 never grows: fatal */
}

static int g0_overflow(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_systemstack(on_g0_huge, NULL);
	return 0;
}

Test(stack, g0_check_is_fatal, .timeout = 60)
{
	(void)g0_check;
	struct child_result r = run_child(g0_overflow, NULL);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%.2000s", r.status, r.err);
	cr_assert(strstr(r.err, "fatal error: g0 stack overflow on M"), "stderr:\n%.2000s", r.err);
	cr_assert(strstr(r.err, "1048576 bytes asked"), "stderr:\n%.2000s", r.err);
	child_result_free(&r);
}

static int stack_size(int argc, char **argv)
{
	(void)argc; (void)argv;
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	const char *want = getenv("WANT_STACK");
	CHECK(hi - lo == strtoul(want, NULL, 0), "stack %lu bytes, want %s", hi - lo, want);
	return 0;
}

Test(stack, fprt_stack_env, .timeout = 60)
{
	const char *env1[] = { "FPRT_STACK=65536", "WANT_STACK=65536", NULL };
	struct child_result r = run_child(stack_size, env1);
	cr_assert_eq(r.status, 0, "status %d, stderr:\n%s", r.status, r.err);
	child_result_free(&r);
	const char *env2[] = { "FPRT_STACK=10000", "WANT_STACK=16384", NULL };  /* power of 2 */
	r = run_child(stack_size, env2);
	cr_assert_eq(r.status, 0, "status %d, stderr:\n%s", r.status, r.err);
	child_result_free(&r);
	const char *env3[] = { "FPRT_STACK=lots", NULL };
	r = run_child(stack_size, env3);
	cr_assert_eq(r.status, 2, "status %d", r.status);
	cr_assert(strstr(r.err, "fatal error: FPRT_STACK=\"lots\": not a positive integer"),
		  "stderr:\n%s", r.err);
	child_result_free(&r);
}

/* ---- the scenario programs, plain and with the stack debug options ---------- */

static void prog_ok(const char *name, const char *const *argv, const char *debug)
{
	char env0[128];
	snprintf(env0, sizeof env0, "FPRT_DEBUG=%s", debug ? debug : "");
	const char *env[] = { env0, NULL };
	struct child_result r = run_prog(name, argv, env);
	cr_assert_eq(r.status, 0, "%s (FPRT_DEBUG=%s): status %d\nstdout:\n%s\nstderr:\n%.3000s",
		     name, debug ? debug : "", r.status, r.out, r.err);
	cr_assert(strncmp(r.out, "OK", 2) == 0, "%s: stdout %s", name, r.out);
	child_result_free(&r);
}

Test(progs, grow, .timeout = 120)
{
	const char *argv[] = { "grow", "-k", "1024", NULL };
	prog_ok("grow", argv, NULL);
	prog_ok("grow", argv, RT_DEBUG_ENV);
	prog_ok("grow", argv, "stackforcemove,stackpoison");
}

Test(progs, yield, .timeout = 120)
{
	const char *argv[] = { "yield", "-t", "0.5", NULL };
	prog_ok("yield", argv, NULL);
	prog_ok("yield", argv, RT_DEBUG_ENV);
}

Test(progs, switch, .timeout = 60)
{
	const char *argv[] = { "switch", NULL };
	prog_ok("switch", argv, NULL);
	prog_ok("switch", argv, RT_DEBUG_ENV);
}
