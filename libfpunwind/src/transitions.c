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

#include <signal.h>
#include <string.h>

int fpu_transitions_add(struct fpu_transitions *ts, uintptr_t lo, uintptr_t hi,
			const char *name)
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
		store_release(&ts->count, n + 1);
		rc = 0;
	}
	__atomic_store_n(&ts->lock, 0, __ATOMIC_RELEASE);
	return rc;
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
