/*
 * The runtime's graveyard and stack reuse: a goroutine whose stack is a dead
 * G's stack again, or a range a freed stack had, runs on a live stack.  An fp
 * into it is not stale; a walker that said so would call a chain that leaks
 * into a running goroutine (seed 003) "stale" instead of a leak.
 */
#include "helpers.h"

#define NPROBES 64

struct probe {
	rt_waitgroup *wg;
	uintptr_t lo, hi, at;
	int grave;
};

static void probe(void *p)
{
	struct probe *a = p;
	volatile uintptr_t here[4];
	struct fpu_grave g;

	rt_stack_bounds(&a->lo, &a->hi);
	a->at = (uintptr_t)&here[0] & ~(uintptr_t)15;
	a->grave = fpu_graveyard_find(rt_graveyard(), a->at, 16, &g);
	rt_wg_done(a->wg);
}

static int reused_stacks_are_live(int argc, char **argv)
{
	(void)argc; (void)argv;
	static struct probe probes[NPROBES];
	int reused = 0;

	for (int i = 0; i < NPROBES; i++) {
		rt_waitgroup wg = RT_WAITGROUP_INIT;
		rt_wg_add(&wg, 1);
		probes[i] = (struct probe){ .wg = &wg };
		rt_go(probe, &probes[i]);
		rt_wg_wait(&wg);
		int again = 0;
		for (int j = 0; j < i; j++)
			again |= probes[i].at >= probes[j].lo && probes[i].at < probes[j].hi;
		reused += again;
		CHECK(!probes[i].grave, "probe %d: live stack [%#lx, %#lx)%s is reported dead at %#lx",
		      i, probes[i].lo, probes[i].hi, again ? ", a reused range," : "", probes[i].at);
	}
	CHECK(reused > 0, "no probe ran on a stack an earlier one had: nothing was tested");
	return 0;
}

/*
 * Not under stackfaultonfree: there no stack is ever reused.  One P: a dead G
 * (and its stack) goes to the free list of the P it died on, so with several
 * Ps every probe may be stolen by another P and no stack comes back to the
 * spawner; on one P each probe gets the previous one's G and stack.
 */
Test(graveyard, reused_stacks_are_live, .timeout = 120)
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(reused_stacks_are_live, NULL);
}
