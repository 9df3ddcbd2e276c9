/*
 * stackshare — scenario program: an object on a running goroutine's stack that
 * another thread writes.  The goroutine keeps a counter in its own frame and
 * spins until a plain pthread (not an M: it needs no P) has incremented it N
 * times.  Profiled in process, every CPU sample of the goroutine copies its
 * stack from sp up, counter included, while the pthread writes it: a race by
 * design (a torn data word in a snapshot is harmless; the frame records the
 * unwinder needs are the goroutine's own).  Under ThreadSanitizer the profiler
 * must say so, or TSan reports the copy (scripts/tsan-scenarios.sh runs this
 * profiled).  Go shares stack objects the same way (sendDirect writes into a
 * parked receiver's stack slot).
 *
 *   stackshare [-n INCREMENTS]   (default 3000000)
 *
 * The amount of work is fixed, not the time.  Prints "OK N increments".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

static long increments = 3000000;

static void *writer(void *arg)
{
	_Atomic uint64_t *shared = arg;
	for (long i = 0; i < increments; i++)
		atomic_fetch_add_explicit(shared, 1, memory_order_relaxed);
	return NULL;
}

/* noinline: the counter lives in this frame, right above the spinning sp */
__attribute__((noinline)) static int spin_on_own_stack(void)
{
	_Atomic uint64_t shared = 0;
	pthread_t t;
	int err = pthread_create(&t, NULL, writer, (void *)&shared);
	if (err) {
		fprintf(stderr, "stackshare: pthread_create: error %d\n", err);
		return 1;
	}
	uint64_t seen;
	while ((seen = atomic_load_explicit(&shared, memory_order_relaxed)) < (uint64_t)increments)
		__asm__ volatile("" ::: "memory");
	pthread_join(t, NULL);
	if (seen != (uint64_t)increments) {
		fprintf(stderr, "stackshare: counter %llu, want %ld\n",
			(unsigned long long)seen, increments);
		return 1;
	}
	return 0;
}

static int realmain(int argc, char **argv)
{
	const char *usage = "stackshare [-n INCREMENTS]";
	int c;
	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == '?' || !prog_long(optarg, 1, 1000000000L, &increments))
			return prog_usage(usage, c == '?' ? NULL : optarg);
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	if (spin_on_own_stack())
		return 1;
	printf("OK %ld increments\n", increments);
	return 0;
}

int main(int argc, char **argv) { return rt_main(realmain, argc, argv); }
