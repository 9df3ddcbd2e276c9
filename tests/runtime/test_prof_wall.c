/*
 * The wall sampler's round-robin (runtime/src/prof_wall.c), driven tick by
 * tick with made-up times, so nothing here depends on a clock: however many
 * goroutines a tick may look at, the wall weight of parked goroutines adds up
 * to goroutines x elapsed time, and no tick looks at more than its cap.
 */
#include "helpers.h"
#include "prof.h"
#include "rt.h"

#define NPARKED 300
#define NLATE 40          /* started halfway through */
#define PERIOD_NS 10000000ull
#define ROUNDS 10         /* full rounds of the round-robin per run */

static rt_chan *never;
static uint64_t goids[NPARKED + NLATE];
static int ngoids;

static void parked(void *arg)
{
	(void)arg;
	rt_chan_recv(never, NULL);   /* until the channel closes */
}

static int ours(uint64_t goid)
{
	for (int i = 0; i < ngoids; i++)
		if (goids[i] == goid)
			return 1;
	return 0;
}

static int count_gs(void)
{
	int n = 0;
	for (struct rt_g *gp = __atomic_load_n(&rt_sched.allgs, __ATOMIC_ACQUIRE); gp;
	     gp = gp->alllink)
		n++;
	return n;
}

/* Until every goroutine of ours is parked: then only the ticks decide. */
static void wait_parked(void)
{
	for (;;) {
		int waiting = 0;
		for (struct rt_g *gp = __atomic_load_n(&rt_sched.allgs, __ATOMIC_ACQUIRE); gp;
		     gp = gp->alllink)
			waiting += ours(gp->goid) && rt_readgstatus(gp) == G_WAITING;
		if (waiting == ngoids)
			return;
		rt_gosched();
	}
}

/* Until every goroutine of ours has exited: then nobody uses the channel. */
static void wait_exited(void)
{
	for (;;) {
		int alive = 0;
		for (struct rt_g *gp = __atomic_load_n(&rt_sched.allgs, __ATOMIC_ACQUIRE); gp;
		     gp = gp->alllink)
			alive += ours(gp->goid) && rt_readgstatus(gp) != G_DEAD;
		if (!alive)
			return;
		rt_gosched();
	}
}

static void start(int n)
{
	for (int i = 0; i < n; i++)
		goids[ngoids++] = rt_go(parked, NULL);
	wait_parked();
}

struct tally { uint64_t weight_ns, samples, others; };

static void on_sample(struct rt_g *gp, uint32_t status, uint64_t weight_ns, void *arg)
{
	struct tally *t = arg;
	CHECK(status == G_WAITING || !ours(gp->goid), "G%llu sampled as status %u",
	      (unsigned long long)gp->goid, status);
	if (!ours(gp->goid)) {
		t->others++;
		return;
	}
	t->weight_ns += weight_ns;
	t->samples++;
}

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * NPARKED goroutines for the whole run, NLATE more from its middle, ticks
 * PERIOD_NS apart.  Every goroutine's weight is the time from its start (or the
 * first tick) to the last time a tick looked at it, so the total is off from
 * goroutines x time by less than one round per goroutine.
 */
static void run_cap(unsigned cap)
{
	struct rt_prof_wall w = { .last_ns = 1000 * PERIOD_NS };
	struct tally t = { 0 };
	uint64_t now = w.last_ns;
	ngoids = 0;
	never = rt_chan_new(1, 0);
	start(NPARKED);
	int nall = count_gs() + NLATE;
	int per_round = cap ? (nall + (int)cap - 1) / (int)cap : 1;
	int ticks = ROUNDS * per_round, late_at = ticks / 2;
	uint64_t late_ns = 0;
	for (int i = 1; i <= ticks; i++) {
		if (i == late_at + 1) {
			start(NLATE);
			late_ns = now;   /* they appeared after the previous tick */
		}
		now += PERIOD_NS;
		uint64_t before = t.samples + t.others;
		unsigned looked = rt_prof_wall_tick(&w, cap, now, on_sample, &t);
		CHECK(cap == 0 || looked <= cap, "cap %u: a tick looked at %u goroutines", cap,
		      looked);
		CHECK(cap == 0 || t.samples + t.others - before <= cap,
		      "cap %u: a tick took %llu samples", cap,
		      (unsigned long long)(t.samples + t.others - before));
	}
	uint64_t start_ns = 1000 * PERIOD_NS;
	uint64_t want = NPARKED * (now - start_ns) + NLATE * (now - late_ns);
	uint64_t slack = (uint64_t)(NPARKED + NLATE) * (uint64_t)per_round * PERIOD_NS;
	CHECK(abs_diff(t.weight_ns, want) <= slack,
	      "cap %u: wall weight %.3f goroutine-s, want %.3f +- %.3f (%llu samples, %d ticks, "
	      "%d per round)", cap, t.weight_ns / 1e9, want / 1e9, slack / 1e9,
	      (unsigned long long)t.samples, ticks, per_round);
	/* Without a cap every tick looks at every goroutine: exact. */
	CHECK(cap != 0 || t.weight_ns == want, "no cap: weight %llu ns, want %llu",
	      (unsigned long long)t.weight_ns, (unsigned long long)want);
	rt_chan_close(never);
	wait_exited();   /* before the next run, and before the channel goes */
	rt_chan_free(never);
}

static int weights(int argc, char **argv)
{
	(void)argc; (void)argv;
	run_cap(0);
	run_cap(7);
	run_cap(64);
	return 0;
}
RT_TEST(prof_wall, weight_is_goroutines_times_time_under_any_cap, weights, 120)
