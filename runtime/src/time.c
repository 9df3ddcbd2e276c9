/*
 * time.c — rt_sleep and the timer thread.
 *
 * Sleeping goroutines sit in a binary heap ordered by wake time.  A dedicated
 * thread (not an M: it never runs goroutine code, like Go's sysmon) sleeps on a
 * futex until the earliest deadline and readies the expired goroutines in
 * deadline order onto the global run queue.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "rt.h"

static rt_lock_t tlock;
static struct rt_g **heap;
static size_t nheap, capheap;
static uint64_t seqgen;                 /* FIFO among equal deadlines */
static _Atomic uint32_t tseq;           /* futex: bumped when the head changes */

uint64_t rt_nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* timer_when holds the deadline; the low bits of the order key break ties. */
static bool before(struct rt_g *a, struct rt_g *b)
{
	return a->timer_when < b->timer_when ||
	       (a->timer_when == b->timer_when && a->timer_seq < b->timer_seq);
}

static void siftup(size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(heap[i], heap[p]))
			break;
		struct rt_g *t = heap[i]; heap[i] = heap[p]; heap[p] = t;
		i = p;
	}
}

static void siftdown(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < nheap && before(heap[l], heap[m]))
			m = l;
		if (l + 1 < nheap && before(heap[l + 1], heap[m]))
			m = l + 1;
		if (m == i)
			return;
		struct rt_g *t = heap[i]; heap[i] = heap[m]; heap[m] = t;
		i = m;
	}
}

bool rt_timers_pending(void)
{
	return __atomic_load_n(&nheap, __ATOMIC_ACQUIRE) != 0;
}

static void *timerproc(void *arg)
{
	(void)arg;
	for (;;) {
		rt_lock(&tlock);
		uint64_t now = rt_nanotime();
		while (nheap && heap[0]->timer_when <= now) {
			/* Ready first, then leave the heap: checkdead must never see
			 * the G in neither place (all Ms idle, no timer, empty queue
			 * would read as a deadlock).  The G cannot sleep again before
			 * tlock is released. */
			rt_goready(heap[0]);  /* no P here: global queue, in order */
			heap[0] = heap[nheap - 1];
			__atomic_store_n(&nheap, nheap - 1, __ATOMIC_RELEASE);
			siftdown(0);
		}
		int64_t wait = nheap ? (int64_t)(heap[0]->timer_when - now) : -1;
		uint32_t seq = atomic_load(&tseq);
		rt_unlock(&tlock);
		rt_futex_wait(&tseq, seq, wait);
	}
	return NULL;
}

void rt_timers_init(void)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &attr, timerproc, NULL) != 0)
		rt_fatal("cannot start the timer thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

void rt_sleep(int64_t ns)
{
	struct rt_g *gp = rt_getg();
	if (ns <= 0 || !gp || gp->is_g0) {
		rt_gosched();
		return;
	}
	rt_lock(&tlock);
	gp->timer_when = rt_nanotime() + (uint64_t)ns;
	gp->timer_seq = ++seqgen;
	if (nheap == capheap) {
		capheap = capheap ? 2 * capheap : 64;
		heap = realloc(heap, capheap * sizeof *heap);
		if (!heap)
			rt_fatal("out of memory growing the timer heap to %zu", capheap);
	}
	heap[nheap] = gp;
	__atomic_store_n(&nheap, nheap + 1, __ATOMIC_RELEASE);
	siftup(nheap - 1);
	if (heap[0] == gp) {
		atomic_fetch_add(&tseq, 1);
		rt_futex_wake(&tseq, 1);
	}
	/* The timer thread cannot ready gp before park_m has parked it: it needs
	 * tlock, which rt_unlock_lock releases on g0. */
	rt_gopark(rt_unlock_lock, &tlock, "sleep");
}
