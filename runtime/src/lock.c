/*
 * lock.c — futex primitives and the runtime's internal mutex (Go's lock_futex.go).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

void rt_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	int saved = errno;
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
	errno = saved;
}

void rt_futex_wake(_Atomic uint32_t *addr, int n)
{
	int saved = errno;
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
	errno = saved;
}

/* States: 0 unlocked, 1 locked, 2 locked with sleepers (Drepper, "Futexes are
 * tricky", mutex 2); rt_lock's uncontended try and rt_unlock are inline in
 * rt.h.  A short spin first: critical sections are a few dozen instructions
 * and the holder is usually running on the other core. */
void rt_lock_slow(rt_lock_t *l)
{
	uint32_t c = 0;
	for (int i = 0; i < 100; i++) {
		rt_cpu_relax();
		c = 0;
		if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&l->v, &c, 1))
			return;
	}
	if (c != 2)
		c = atomic_exchange(&l->v, 2);
	while (c != 0) {
		rt_futex_wait(&l->v, 2, -1);
		c = atomic_exchange(&l->v, 2);
	}
}

