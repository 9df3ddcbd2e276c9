/*
 * sampler.c — see sampler.h.  The handler does what the profiler's does, minus
 * the buffer: registers, FP chain, one stack segment.
 */
#include "sampler.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXPCS 128
#define SNAP_MAX (256 * 1024)

void sampler_on_sigprof(int sig, siginfo_t *si, void *uc);

volatile int sampler_stop;
static volatile int phase;
static struct fpu_region thread_stack;
static struct fpu_sample sample;
static uint64_t fp_pcs[MAXPCS];
static uint8_t snapshot[SNAP_MAX];

void sampler_on_sigprof(int sig, siginfo_t *si, void *uc)
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
	sample.fp_end_fp = res.fp;
	uint64_t sp = sample.regs[FPU_REG_RSP];
	uint64_t len = thread_stack.hi - sp;
	if (len > SNAP_MAX)
		len = SNAP_MAX;
	fpu_copy_live_stack(snapshot, (const uint8_t *)(uintptr_t)sp, len);
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

const struct fpu_sample *sample_thread(void (*top)(void),
				       int (*wanted)(const struct fpu_sample *s))
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sampler_on_sigprof;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGPROF, &sa, NULL);
	sampler_stop = 0;
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
		if (wanted(&sample))
			break;
	}
	sampler_stop = 1;
	pthread_join(t, NULL);
	return &sample;
}

struct fpu_dwarf *sampler_session(enum fpu_dwarf_backend b)
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

const char *sampler_fn(struct fpu_dwarf *d, uint64_t pc, int is_return)
{
	struct fpu_symbol sym;
	if (fpu_symbolize(d, pc, is_return, &sym) != 0 || !sym.function)
		return "?";
	return sym.function;
}
