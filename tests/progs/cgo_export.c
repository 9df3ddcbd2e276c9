/*
 * cgo_export — scenario program: C code calls goroutine code through thunks
 * made by rt_cgo_export, in a hot loop, for -t SECONDS (default 2):
 *
 *   - `-f` foreign pthreads (default 2), each in c_foreign_loop calling the
 *     thunk "export_work_foreign" -> ce_go_work on the thread's extra M;
 *   - one goroutine that enters C with rt_cgocall (c_cgocall_loop), which
 *     calls the thunk "export_work_cgocall" -> ce_go_work on that goroutine.
 *
 * ce_go_work runs on a goroutine (rt_goid() != 0), spins, may yield and grow
 * its stack; every result is checked.  Under perf the chain of a sample in
 * the spin is ce_go_work, rt_cgocallbackg,
 * rt_cgocallback_asm, rt_cgocallback, the thunk, the C loop.
 * Prints the call counts and OK; exit 0 (1: a wrong result).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

struct work {
	uint64_t in, out;
	uint64_t goid;
};

static uint64_t deadline;
static _Atomic long calls_foreign, calls_cgocall, bad;
static void (*thunk_foreign)(void *), (*thunk_cgocall)(void *);

/* Inlined into its callers: a leaf would have no frame record (gcc's
 * default here omits the leaf frame pointer), and the samples are meant to
 * land in ce_go_work itself. */
__attribute__((always_inline)) static inline uint64_t ce_go_spin(uint64_t x)
{
	uint64_t acc = 0;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x;
	}
	return acc;
}

static uint64_t expect(uint64_t in) { return ce_go_spin(in | 1) ^ in; }

/* Goroutine code, called from C through a thunk. */
__attribute__((noinline)) static void ce_go_work(void *arg)
{
	struct work *w = arg;
	RT_STACK_CHECK(512);
	w->goid = rt_goid();
	w->out = ce_go_spin(w->in | 1) ^ w->in;
	if ((w->in & 1023) == 0)
		rt_gosched();
}

static void check(const struct work *w)
{
	if (w->goid == 0 || w->out != expect(w->in)) {
		if (bad++ == 0)
			fprintf(stderr, "cgo_export: wrong result for %llu (goid %llu)\n",
				(unsigned long long)w->in, (unsigned long long)w->goid);
	}
}

__attribute__((noinline)) static void c_foreign_loop(long id)
{
	struct work w;
	for (uint64_t i = (uint64_t)id << 32; rt_nanotime() < deadline; i++) {
		w = (struct work){ .in = i };
		thunk_foreign(&w);
		check(&w);
		calls_foreign++;
	}
}

static void *foreign(void *arg)
{
	c_foreign_loop((long)(intptr_t)arg);
	return NULL;
}

__attribute__((noinline)) static void c_cgocall_loop(void *arg)
{
	(void)arg;
	struct work w;
	for (uint64_t i = 0; rt_nanotime() < deadline; i++) {
		w = (struct work){ .in = i * 7 };
		thunk_cgocall(&w);
		check(&w);
		calls_cgocall++;
	}
}

static void cgocaller(void *wg)
{
	rt_cgocall(c_cgocall_loop, NULL);
	rt_wg_done(wg);
}

/* In C entered with rt_cgocall, as Go code would call pthread_join: with
 * FPRT_MAXPROCS=1 the foreign threads' last callbacks need this goroutine's P,
 * which a syscall lets them take (retake) and a plain pthread_join would not. */
struct joins { pthread_t *t; int n; };

static void join_foreign(void *arg)
{
	struct joins *j = arg;
	for (int i = 0; i < j->n; i++)
		pthread_join(j->t[i], NULL);
}

static int realmain(int argc, char **argv)
{
	double secs = 2;
	int nforeign = 2, opt;
	const char *usage = "cgo_export [-t SECONDS] [-f FOREIGN_THREADS (0..64)]";
	long v;
	while ((opt = getopt(argc, argv, "t:f:")) != -1) {
		if (opt == 't' && prog_seconds(optarg, &secs))
			continue;
		if (opt == 'f' && prog_long(optarg, 0, 64, &v)) {
			nforeign = (int)v;
			continue;
		}
		return prog_usage(usage, opt == '?' ? NULL : optarg);
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	thunk_foreign = rt_cgo_export(ce_go_work, "export_work_foreign");
	thunk_cgocall = rt_cgo_export(ce_go_work, "export_work_cgocall");
	deadline = rt_nanotime() + (uint64_t)(secs * 1e9);
	pthread_t t[64];
	for (int i = 0; i < nforeign; i++)
		if (pthread_create(&t[i], NULL, foreign, (void *)(intptr_t)(i + 1)) != 0) {
			perror("pthread_create");
			return 1;
		}
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	rt_wg_add(&wg, 1);
	rt_go(cgocaller, &wg);
	rt_wg_wait(&wg);
	struct joins j = { t, nforeign };
	rt_cgocall(join_foreign, &j);
	printf("calls: %ld from foreign threads, %ld from rt_cgocall\n", (long)calls_foreign,
	       (long)calls_cgocall);
	if (bad || calls_cgocall == 0 || (nforeign && calls_foreign == 0)) {
		printf("FAIL: %ld wrong results\n", (long)bad);
		return 1;
	}
	printf("OK\n");
	return 0;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
