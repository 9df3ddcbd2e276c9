/*
 * grow — scenario program: goroutines recurse deep enough to move their stacks
 * several times (16 KiB -> ... -> -k KiB).  After every move the deepest frame
 * checks that
 *   - a checked FP walk (fpu_walk_checked on the M's regions + graveyard) ends
 *     FPU_END_CLEAN at the goroutine base, with no stale fp;
 *   - no saved frame pointer of the chain points into the old stack, and every
 *     one lies in the new stack;
 * and on the way back every frame checks that its local data survived the
 * copies and a tracked slot that pointed into the first stack points to the
 * same place in the last one.  Prints OK.  Options: -g GOROUTINES (4), -k TARGET_KIB (256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

#define FRAME 480

static _Atomic int failures;
static _Atomic uint64_t total_moves;

struct ctx {
	int id;
	size_t target;          /* stack bytes to reach */
	rt_waitgroup *wg;
	/* The old bounds live here, not in locals: the stack copier relocates
	 * every word of the stack that looks like an address inside the old stack,
	 * and a local holding the old lo is such a word. */
	uintptr_t oldlo, oldhi;
};

/* fprintf to unbuffered stderr wants ~10 KiB of stack */
#define FAIL(...) do { RT_STACK_CHECK(16384); fprintf(stderr, "grow: " __VA_ARGS__); fputc('\n', stderr); \
		       failures++; } while (0)

static void check_after_move(struct ctx *c, int depth)
{
	uintptr_t oldlo = c->oldlo, oldhi = c->oldhi;
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	uintptr_t *pcs = malloc(4096 * sizeof *pcs);   /* not on the small stack */
	struct fpu_walk_result res;
	size_t n = rt_callers(pcs, 4096, &res);
	free(pcs);
	if (res.end != FPU_END_CLEAN)
		FAIL("g%d depth %d: checked walk ended %s at fp %#lx after %zu frames", c->id,
		     depth, fpu_end_name(res.end), res.fp, n);
	for (uintptr_t fp = (uintptr_t)__builtin_frame_address(0); fp;
	     fp = *(uintptr_t *)fp) {
		if (fp >= oldlo && fp < oldhi) {
			FAIL("g%d depth %d: frame pointer %#lx points into the old stack [%#lx, %#lx)",
			     c->id, depth, fp, oldlo, oldhi);
			break;
		}
		if (fp < lo || fp + 16 > hi) {
			FAIL("g%d depth %d: frame pointer %#lx outside the stack [%#lx, %#lx)",
			     c->id, depth, fp, lo, hi);
			break;
		}
	}
}

__attribute__((noinline)) static uint64_t recurse(struct ctx *c, int depth)
{
	volatile unsigned char buf[FRAME];
	for (int i = 0; i < FRAME; i++)
		buf[i] = (unsigned char)(depth * 31 + i);
	rt_stack_bounds(&c->oldlo, &c->oldhi);
	uint64_t moves = rt_stack_moves();
	RT_STACK_CHECK(FRAME + 512);
	if (rt_stack_moves() != moves) {
		total_moves++;
		check_after_move(c, depth);
	}
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	uint64_t sum = 0;
	if (hi - lo < c->target || (uintptr_t)__builtin_frame_address(0) > hi - c->target / 2)
		sum = recurse(c, depth + 1);
	for (int i = 0; i < FRAME; i++) {
		if (buf[i] != (unsigned char)(depth * 31 + i)) {
			FAIL("g%d depth %d: local byte %d is %u after the moves", c->id, depth, i,
			     buf[i]);
			break;
		}
		sum += buf[i];
	}
	return sum;
}

static void grower(void *arg)
{
	struct ctx *c = arg;
	volatile uint64_t anchor = 0xfeedf00d00000000ULL | (unsigned)c->id;
	volatile uintptr_t slot = (uintptr_t)&anchor;   /* a raw pointer into our stack */
	rt_stack_track((void *)&slot);
	recurse(c, 0);
	/* The slot was relocated with the stack: it points at `anchor` in the
	 * new stack (this frame's own accesses are rbp/rsp-relative, and both
	 * were relocated). */
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	if (slot != (uintptr_t)&anchor || slot < lo || slot >= hi ||
	    *(volatile uint64_t *)slot != anchor)
		FAIL("g%d: tracked slot holds %#lx, anchor is at %p in [%#lx, %#lx)", c->id,
		     (uintptr_t)slot, (void *)&anchor, lo, hi);
	rt_stack_untrack((void *)&slot);
	if (hi - lo < c->target)
		FAIL("g%d: stack is %lu bytes, wanted %zu", c->id, hi - lo, c->target);
}

static void run(void *arg)
{
	struct ctx *c = arg;
	grower(c);
	rt_wg_done(c->wg);
}

static int realmain(int argc, char **argv)
{
	int ng = 4, kib = 256, opt;
	const char *usage = "grow [-g GOROUTINES (1..100000)] [-k TARGET_KIB (1..1048576)]";
	long v;
	while ((opt = getopt(argc, argv, "g:k:")) != -1) {
		if (opt == 'g' && prog_long(optarg, 1, 100000, &v))
			ng = (int)v;
		else if (opt == 'k' && prog_long(optarg, 1, 1048576, &v))
			kib = (int)v;
		else
			return prog_usage(usage, opt == '?' ? NULL : optarg);
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	struct ctx *cs = calloc((size_t)ng, sizeof *cs);
	rt_wg_add(&wg, ng);
	for (int i = 0; i < ng; i++) {
		cs[i] = (struct ctx){ .id = i, .target = (size_t)kib * 1024, .wg = &wg };
		rt_go(run, &cs[i]);
	}
	rt_wg_wait(&wg);
	free(cs);
	if (failures) {
		fprintf(stderr, "grow: FAIL, %d failures\n", (int)failures);
		return 1;
	}
	printf("OK %d goroutines grew to %d KiB, %llu moves\n", ng, kib,
	       (unsigned long long)total_moves);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
