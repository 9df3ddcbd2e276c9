/*
 * Region sets, transitions and the graveyard: the writer operations, their
 * error returns, and consistency of what a concurrent reader sees.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include "fpunwind.h"

static struct fpu_region mk(uintptr_t lo, uintptr_t hi, uint32_t kind, uint64_t owner)
{
	return (struct fpu_region){ .lo = lo, .hi = hi, .kind = kind, .owner = owner };
}

Test(regions, add_remove_move_replace)
{
	struct fpu_regions rs;
	struct fpu_region out[FPU_MAX_REGIONS], r;

	fpu_regions_init(&rs);
	cr_assert_eq(fpu_regions_read(&rs, out, FPU_MAX_REGIONS), 0);
	r = mk(0x1000, 0x2000, FPU_REGION_G0, 1);
	cr_assert_eq(fpu_regions_add(&rs, &r), 0);
	r = mk(0x8000, 0x9000, FPU_REGION_GOROUTINE, 5);
	cr_assert_eq(fpu_regions_add(&rs, &r), 0);
	cr_assert_eq(fpu_regions_read(&rs, out, FPU_MAX_REGIONS), 2);
	cr_assert_eq(fpu_regions_move(&rs, 0x8000, 0x20000, 0x22000), 0);
	cr_assert_eq(fpu_regions_read(&rs, out, FPU_MAX_REGIONS), 2);
	cr_assert_eq(out[1].lo, 0x20000);
	cr_assert_eq(out[1].hi, 0x22000);
	cr_assert_eq(out[1].owner, 5, "move keeps the owner");
	cr_assert_eq(fpu_regions_move(&rs, 0x8000, 0x1, 0x2), -1, "old range is gone");
	cr_assert_eq(fpu_regions_move(&rs, 0x20000, 0x3000, 0x3000), -1, "empty range");
	cr_assert_eq(fpu_regions_remove(&rs, 0x1000), 0);
	cr_assert_eq(fpu_regions_remove(&rs, 0x1000), -1);
	cr_assert_eq(fpu_regions_read(&rs, out, FPU_MAX_REGIONS), 1);
	cr_assert_eq(out[0].kind, FPU_REGION_GOROUTINE);
	struct fpu_region two[2] = { mk(1, 2, 1, 0), mk(3, 4, 2, 0) };
	cr_assert_eq(fpu_regions_replace(&rs, two, 2), 0);
	cr_assert_eq(fpu_regions_read(&rs, out, 1), 2, "count is the set's, copy is max");
	cr_assert_eq(out[0].lo, 1);
	two[1].hi = 3;
	cr_assert_eq(fpu_regions_replace(&rs, two, 2), -1, "inverted range rejected");
	cr_assert_eq(fpu_regions_replace(&rs, two, FPU_MAX_REGIONS + 1), -1);
}

Test(regions, full_set_rejects)
{
	struct fpu_regions rs;
	fpu_regions_init(&rs);
	for (unsigned i = 0; i < FPU_MAX_REGIONS; i++) {
		struct fpu_region r = mk(0x1000 * (i + 1), 0x1000 * (i + 1) + 0x800, 1, i);
		cr_assert_eq(fpu_regions_add(&rs, &r), 0);
	}
	struct fpu_region extra = mk(0x100000, 0x200000, 1, 99);
	cr_assert_eq(fpu_regions_add(&rs, &extra), -1);
	struct fpu_region bad = mk(0x5000, 0x5000, 1, 0);
	cr_assert_eq(fpu_regions_remove(&rs, 0x1000), 0);
	cr_assert_eq(fpu_regions_add(&rs, &bad), -1, "empty range rejected");
}

/*
 * A writer republishes sets in which every region carries the same generation
 * number in lo, hi and owner; a reader on another thread must never see two
 * generations mixed in one copy.
 */
#define GENERATIONS 200000
static struct fpu_regions shared;
static volatile int writer_done;

static void *writer(void *arg)
{
	(void)arg;
	struct fpu_region set[4];
	for (uintptr_t gen = 1; gen <= GENERATIONS; gen++) {
		for (int i = 0; i < 4; i++)
			set[i] = mk(gen * 64 + (uintptr_t)i * 16, gen * 64 + (uintptr_t)i * 16 + 8, 1, gen);
		fpu_regions_replace(&shared, set, 1 + gen % 4);
	}
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(regions, concurrent_reader_sees_whole_sets)
{
	pthread_t t;
	struct fpu_region out[FPU_MAX_REGIONS];
	long reads = 0, failures = 0;

	fpu_regions_init(&shared);
	pthread_create(&t, NULL, writer, NULL);
	while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
		int n = fpu_regions_read(&shared, out, FPU_MAX_REGIONS);
		if (n < 0) {
			failures++;
			continue;
		}
		reads++;
		if (n == 0)
			continue;
		uint64_t gen = out[0].owner;
		cr_assert_eq((uint64_t)n, 1 + gen % 4, "count %d from generation %lu", n,
			     (unsigned long)gen);
		for (int i = 0; i < n; i++) {
			cr_assert_eq(out[i].owner, gen, "torn set: %lu vs %lu",
				     (unsigned long)out[i].owner, (unsigned long)gen);
			cr_assert_eq(out[i].lo, gen * 64 + (uintptr_t)i * 16);
		}
	}
	pthread_join(t, NULL);
	cr_log_info("%ld consistent reads, %ld gave up", reads, failures);
	cr_assert_gt(reads, 0);
}

Test(transitions, add_find_full)
{
	static struct fpu_transitions ts;
	cr_assert_eq(fpu_transitions_add(&ts, 0x100, 0x100, "empty"), -1);
	cr_assert_eq(fpu_transitions_add(&ts, 0x100, 0x180, "asmcgocall"), 0);
	cr_assert_str_eq(fpu_transitions_find(&ts, 0x17f)->name, "asmcgocall");
	cr_assert_null(fpu_transitions_find(&ts, 0x180));
	cr_assert_null(fpu_transitions_find(NULL, 0x100));
	for (int i = 1; i < FPU_MAX_TRANSITIONS; i++)
		cr_assert_eq(fpu_transitions_add(&ts, 0x1000u * (unsigned)i, 0x1000u * (unsigned)i + 1, "x"), 0);
	cr_assert_eq(fpu_transitions_add(&ts, 0x900000, 0x900001, "full"), -1);
}

/* The signal fpu_transitions_add_sigreturn borrows for its probe. */
#if defined(__aarch64__)
#define PROBE_SIGNAL SIGWINCH
#else
#define PROBE_SIGNAL SIGRTMAX
#endif

Test(transitions, sigreturn_found_and_old_action_kept)
{
	static struct fpu_transitions ts;
	struct sigaction before, after;
	sigaction(PROBE_SIGNAL, NULL, &before);
	cr_assert_eq(fpu_transitions_add_sigreturn(&ts), 0);
	sigaction(PROBE_SIGNAL, NULL, &after);
	cr_assert_eq(before.sa_handler, after.sa_handler);
#if defined(__aarch64__)
	cr_assert_str_eq(ts.t[0].name, "__kernel_rt_sigreturn");
	cr_assert_eq(ts.t[0].flags, FPU_TRANSITION_OWNS_SIGFRAME);
#else
	cr_assert_str_eq(ts.t[0].name, "__restore_rt");
	cr_assert_eq(ts.t[0].flags, 0);
#endif
}

Test(graveyard, most_recent_grave_wins)
{
	static struct fpu_graveyard gy;
	struct fpu_grave g = { .lo = 0x1000, .hi = 0x2000, .owner = 3,
			       .why = FPU_GRAVE_FREED, .time_ns = 10 }, out;
	fpu_graveyard_bury(&gy, &g);
	g.owner = 4;
	g.time_ns = 20;
	g.why = FPU_GRAVE_MOVED;
	fpu_graveyard_bury(&gy, &g);
	cr_assert_eq(fpu_graveyard_find(&gy, 0x1800, 16, &out), 1);
	cr_assert_eq(out.owner, 4);
	cr_assert_eq(fpu_graveyard_find(&gy, 0x1ff8, 16, &out), 0, "record crosses the top");
	cr_assert_eq(fpu_graveyard_find(&gy, 0x2000, 8, &out), 0);
	cr_assert_eq(fpu_graveyard_find(NULL, 0x1800, 8, &out), 0);
}

Test(graveyard, ring_is_bounded)
{
	static struct fpu_graveyard gy;
	for (uintptr_t i = 0; i < FPU_GRAVEYARD_SIZE + 10; i++) {
		struct fpu_grave g = { .lo = 0x10000 * (i + 1), .hi = 0x10000 * (i + 1) + 0x100 };
		fpu_graveyard_bury(&gy, &g);
	}
	struct fpu_grave out;
	cr_assert_eq(fpu_graveyard_find(&gy, 0x10000 * 1, 8, &out), 0, "oldest is forgotten");
	cr_assert_eq(fpu_graveyard_find(&gy, 0x10000 * (FPU_GRAVEYARD_SIZE + 10), 8, &out), 1);
}

/* A range that died and then became a live stack again is no grave. */
Test(graveyard, reuse_after_death_is_not_stale)
{
	static struct fpu_graveyard gy;
	struct fpu_grave g = { .lo = 0x1000, .hi = 0x2000, .owner = 3, .why = FPU_GRAVE_FREED,
			       .time_ns = 10 }, out;
	fpu_graveyard_bury(&gy, &g);
	fpu_graveyard_revive(&gy, 0x1000, 0x1800);
	cr_assert_eq(fpu_graveyard_find(&gy, 0x1400, 16, &out), 0, "live again");
	cr_assert_eq(fpu_graveyard_find(&gy, 0x1900, 16, &out), 1, "not reused there");
	/* Dies again within the same tick of the clock: the order of writes decides. */
	fpu_graveyard_bury(&gy, &g);
	cr_assert_eq(fpu_graveyard_find(&gy, 0x1400, 16, &out), 1);
	cr_assert_eq(out.why, FPU_GRAVE_FREED);
}
