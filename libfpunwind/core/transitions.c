/*
 * transitions.c — code ranges where a frame-pointer chain may legally move from
 * one stack to another: asmcgocall and systemstack (g0 frames chain into the
 * goroutine), cgocallback (goroutine frames chain into C frames on g0), and the
 * signal return trampoline (a handler's frame chains into the interrupted one).
 *
 * Append-only: an entry is complete before the count that covers it is
 * published with a release store, so a reader that loads the count with acquire
 * sees only complete entries and needs no retry.
 */
#include "internal.h"
#include "atomics.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static int transitions_add_flags(struct fpu_transitions *ts, uintptr_t lo,
				 uintptr_t hi, const char *name, uint32_t flags)
{
	int rc = -1;

	if (lo >= hi)
		return -1;
	while (__atomic_exchange_n(&ts->lock, 1, __ATOMIC_ACQUIRE))
		;
	uint32_t n = load_relaxed(&ts->count);
	if (n < FPU_MAX_TRANSITIONS) {
		ts->t[n].lo = lo;
		ts->t[n].hi = hi;
		ts->t[n].name = name;
		ts->t[n].flags = flags;
		store_release(&ts->count, n + 1);
		rc = 0;
	}
	__atomic_store_n(&ts->lock, 0, __ATOMIC_RELEASE);
	return rc;
}

int fpu_transitions_add(struct fpu_transitions *ts, uintptr_t lo, uintptr_t hi,
			const char *name)
{
	return transitions_add_flags(ts, lo, hi, name, 0);
}

const struct fpu_transition *fpu_transitions_find(const struct fpu_transitions *ts,
						  uintptr_t pc)
{
	if (!ts)
		return NULL;
	uint32_t n = load_acquire(&ts->count);
	for (uint32_t i = 0; i < n && i < FPU_MAX_TRANSITIONS; i++)
		if (pc >= ts->t[i].lo && pc < ts->t[i].hi)
			return &ts->t[i];
	return NULL;
}

#if defined(__aarch64__)
static volatile uintptr_t probed_return;

static void probe_return_handler(int sig)
{
	(void)sig;
	/* x30 at handler entry: where the kernel (or qemu-user) made the handler
	 * return to, the sigreturn trampoline. */
	probed_return = (uintptr_t)__builtin_return_address(0);
}

/*
 * glibc on arm64 installs no sa_restorer: the kernel returns handlers to the
 * vDSO's __kernel_rt_sigreturn (qemu-user to its own trampoline page), which
 * no symbol lookup in this process finds reliably.  Deliver one probe signal
 * to this thread and read the handler's return address instead; then put the
 * old action and signal mask back.  SIGWINCH, not SIGRTMAX as on amd64: this
 * signal is really delivered, and qemu-user cannot deliver the guest's
 * SIGRTMAX (it keeps the host's last real-time signals for itself); SIGWINCH's
 * default action is to ignore it, so nothing dies if it arrives late.
 */
int fpu_transitions_add_sigreturn(struct fpu_transitions *ts)
{
	struct sigaction probe, old;
	sigset_t only, oldmask;

	memset(&probe, 0, sizeof probe);
	probe.sa_handler = probe_return_handler;
	sigemptyset(&probe.sa_mask);
	sigemptyset(&only);
	sigaddset(&only, SIGWINCH);
	if (sigaction(SIGWINCH, &probe, &old) != 0)
		return -1;
	probed_return = 0;
	pthread_sigmask(SIG_UNBLOCK, &only, &oldmask);
	/* A signal a thread sends itself while unblocked is delivered before
	 * pthread_kill returns. */
	pthread_kill(pthread_self(), SIGWINCH);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGWINCH, &old, NULL);
	uintptr_t tramp = probed_return;
	if (!tramp)
		return -1;
	/* mov x8, #139; svc #0: two instructions. */
	return transitions_add_flags(ts, tramp, tramp + 8, "__kernel_rt_sigreturn",
				     FPU_TRANSITION_OWNS_SIGFRAME);
}
#else
static void probe_handler(int sig)
{
	(void)sig;
}

/*
 * glibc installs every handler with sa_restorer = __restore_rt, a local symbol
 * that dlsym cannot find.  Install a throwaway handler on SIGRTMAX (never
 * delivered: the signal stays blocked-free but nobody sends it), read the
 * restorer back, and put the old action back.  A signal handler's frame record
 * has __restore_rt as its return address, so that is the pc the walker sees.
 */
int fpu_transitions_add_sigreturn(struct fpu_transitions *ts)
{
	struct sigaction probe, old, readback;

	memset(&probe, 0, sizeof probe);
	probe.sa_handler = probe_handler;
	sigemptyset(&probe.sa_mask);
	if (sigaction(SIGRTMAX, &probe, &old) != 0)
		return -1;
	int ok = sigaction(SIGRTMAX, NULL, &readback) == 0;
	sigaction(SIGRTMAX, &old, NULL);
	if (!ok || !readback.sa_restorer)
		return -1;
	uintptr_t restorer = (uintptr_t)readback.sa_restorer;
	/* mov $15,%rax; syscall is 9 bytes; 16 covers it and its padding. */
	return fpu_transitions_add(ts, restorer, restorer + 16, "__restore_rt");
}
#endif
