/*
 * Unwinding from a signal handler.  A thread spins in a known call chain
 * (signal_chain_a -> b -> c); SIGPROF interrupts it; the handler unwinds
 * either from its ucontext (what a sampling profiler does) or from its own
 * frame on the alternate signal stack across the kernel's sigreturn frame.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "fpunwind.h"

#define MAXPCS 64
#define ALTSTACK_SIZE (64 * 1024)

void signal_chain_a(void);
void signal_chain_b(void);
void signal_chain_c(void);

static volatile int stop, sampled;
static struct fpu_regions thread_regions;
static struct fpu_transitions transitions;
static int from_ucontext;       /* which walk the handler does */
static uintptr_t pcs[MAXPCS];
static size_t npcs;
static struct fpu_walk_result result;

__attribute__((noinline)) void signal_chain_c(void)
{
	/* A stack array forces a frame even for a leaf at -O2. */
	volatile char buf[64];
	while (!stop)
		buf[stop & 63]++;
}

__attribute__((noinline)) void signal_chain_b(void)
{
	signal_chain_c();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void signal_chain_a(void)
{
	signal_chain_b();
	__asm__ volatile("" ::: "memory");
}

void on_sigprof(int sig, siginfo_t *si, void *uc);

/* Exported so dladdr names it. */
void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	struct fpu_ctx ctx = { .regions = &thread_regions, .transitions = &transitions };
	if (from_ucontext)
		npcs = fpu_walk_ucontext(&ctx, uc, pcs, MAXPCS, &result);
	else
		npcs = fpu_walk_here(&ctx, pcs, MAXPCS, &result);
	sampled = 1;
}

static void *spinner(void *arg)
{
	struct fpu_region r;
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	(void)arg;

	fpu_regions_init(&thread_regions);
	fpu_region_current_thread(&r);
	fpu_regions_add(&thread_regions, &r);
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	sigaltstack(&ss, NULL);
	r = (struct fpu_region){ .lo = (uintptr_t)ss.ss_sp,
				 .hi = (uintptr_t)ss.ss_sp + ALTSTACK_SIZE,
				 .kind = FPU_REGION_SIGNAL };
	fpu_regions_add(&thread_regions, &r);
	__atomic_store_n(&sampled, -1, __ATOMIC_RELEASE);   /* ready */
	signal_chain_a();
	/* Take the heap signal stack away before freeing it and exiting. */
	stack_t off = { .ss_flags = SS_DISABLE };
	sigaltstack(&off, NULL);
	free(ss.ss_sp);
	return NULL;
}

/*
 * Walking from the handler's own frame, the frame at pcs[2] is the interrupted
 * function's caller on amd64: the handler's record leaves the signal stack at
 * __restore_rt straight into the interrupted rbp.  On arm64 the kernel's signal
 * frame holds a record {interrupted x29, interrupted x30} (see
 * FPU_TRANSITION_OWNS_SIGFRAME), so the chain has x30 first: in
 * signal_chain_c, which calls nothing, the return into signal_chain_b, which
 * c's own record then gives again.
 */
#if defined(__aarch64__)
#define SIGFRAME_RECORDS 1
static const char *const across_sigreturn[] = {
	"signal_chain_b", "signal_chain_b", "signal_chain_a" };
#else
#define SIGFRAME_RECORDS 0
static const char *const across_sigreturn[] = { "signal_chain_b", "signal_chain_a" };
#endif
#define ACROSS_SIGRETURN_N (sizeof across_sigreturn / sizeof across_sigreturn[0])

static const char *symbol_of(uintptr_t pc)
{
	Dl_info info;
	if (!dladdr((void *)(pc - 1), &info) || !info.dli_sname)
		return "?";
	return info.dli_sname;
}

static const char *const from_ucontext_chain[] = {
	"signal_chain_c", "signal_chain_b", "signal_chain_a" };

/*
 * Has the sample caught the spinner in signal_chain_c's loop, with the whole
 * chain the tests expect?  Until it is in that loop the spinner may be in a
 * prologue, where the frame-pointer chain lacks a caller by construction (on
 * arm64 the signal frame's {x29, x30} then reads b and a: pcs[2] is b, as in
 * the loop, but pcs[3] is a).  Checking one frame let such a sample through.
 */
static int steady(int ucontext_mode)
{
	const char *const *want = ucontext_mode ? from_ucontext_chain : across_sigreturn;
	size_t n = ucontext_mode ? 3 : ACROSS_SIGRETURN_N, at = ucontext_mode ? 0 : 2;
	if (npcs < at + n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(symbol_of(pcs[at + i]), want[i]) != 0)
			return 0;
	return 1;
}

/* Sample the spinner once, with the given handler mode. */
static void sample_spinner(int ucontext_mode)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	from_ucontext = ucontext_mode;
	stop = 0;
	sampled = 0;
	pthread_create(&t, NULL, spinner, NULL);
	while (__atomic_load_n(&sampled, __ATOMIC_ACQUIRE) != -1)
		usleep(1000);
	/* The spinner may still be between the ready flag and the loop: retry.
	 * (Without a transition the walk stops at the signal stack's edge and
	 * nothing is steady: 2000 tries, then the test judges the last.) */
	for (int tries = 0; tries < 2000; tries++) {
		sampled = 0;
		pthread_kill(t, SIGPROF);
		while (!sampled)
			usleep(100);
		if (steady(ucontext_mode))
			break;
	}
	stop = 1;
	pthread_join(t, NULL);
}

Test(signal, unwind_from_ucontext)
{
	sample_spinner(1);
	cr_assert_geq(npcs, 3, "%zu frames, end %s", npcs, fpu_end_name(result.end));
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(symbol_of(pcs[i]), from_ucontext_chain[i]);
	cr_assert_eq(result.crossings, 0);
}

/*
 * From the handler's own frame on the alternate stack: the chain crosses from
 * the signal stack to the thread stack at __restore_rt, which is legal only
 * because it is registered as a transition.  (The interrupted function itself
 * is not in the chain: its pc is only in the ucontext.)
 */
Test(signal, unwind_across_sigreturn_is_a_legal_transition)
{
	cr_assert_eq(fpu_transitions_add_sigreturn(&transitions), 0);
	sample_spinner(0);
	cr_assert_geq(npcs, 2 + ACROSS_SIGRETURN_N, "%zu frames, end %s", npcs,
		      fpu_end_name(result.end));
	cr_assert_str_eq(symbol_of(pcs[0]), "on_sigprof");
	cr_assert_eq(pcs[1], transitions.t[0].lo);
	for (size_t i = 0; i < ACROSS_SIGRETURN_N; i++)
		cr_assert_str_eq(symbol_of(pcs[2 + i]), across_sigreturn[i]);
	cr_assert_geq(result.crossings, 1);
}

Test(signal, unwind_across_sigreturn_without_transition_is_illegal)
{
	memset(&transitions, 0, sizeof transitions);
	sample_spinner(0);
	cr_assert_eq(result.end, FPU_END_ILLEGAL_TRANSITION, "end %s", fpu_end_name(result.end));
	cr_assert_eq(result.from.kind, FPU_REGION_SIGNAL);
	cr_assert_eq(result.to.kind, FPU_REGION_THREAD);
	/* The handler's return and the trampoline; on arm64 also the interrupted
	 * pc, read from the signal frame's record before the step is refused. */
	cr_assert_eq(npcs, 2 + SIGFRAME_RECORDS, "%zu frames", npcs);
}
