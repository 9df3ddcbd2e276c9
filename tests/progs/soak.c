/*
 * soak: the runtime at full load, for the profiler soak.  -g
 * goroutines (default 10,000) each loop for -t SECONDS: compute, recurse a
 * little past a stack check (with FPRT_DEBUG=stackforcemove every check moves
 * the stack), yield, and pass a token on a channel to the next goroutine.
 * Meanwhile -f threads that fprt did not create (default 64) call back into
 * goroutine code (rt_cgocallback: extra Ms, needm/dropm) as fast as they can;
 * each callback recurses past a stack check too.  At the end every count is
 * checked: each callback ran once per call, each goroutine made progress and
 * every token sent was received or is still in a channel.  Prints OK.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fprt.h"
#include "prog_args.h"

static uint64_t deadline;
static int ngoroutines = 10000, nforeign = 64;
static _Atomic uint64_t ran, tokens_sent, tokens_received, callbacks;
static _Atomic int foreign_done;

__attribute__((noinline)) static uint64_t recurse(int n, uint64_t x)
{
	volatile char pad[256];
	pad[0] = (char)x;
	RT_STACK_CHECK(512);
	if (n > 0)
		x = recurse(n - 1, x * 31 + (uint64_t)pad[0]);
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x + 1;
}

struct link { rt_chan *in, *out; };

static void member(void *arg)
{
	struct link *l = arg;
	uint64_t x = (uintptr_t)arg;
	/* At least one round each: a goroutine the scheduler never ran would
	 * keep the program from finishing, which the soak reports as a hang. */
	do {
		x = recurse((int)(x % 8), x);
		uint64_t token = x;
		/* A token travels round the ring; a full buffer is not waited for. */
		if (rt_chan_len(l->out) < 1) {
			rt_chan_send(l->out, &token);
			tokens_sent++;
		}
		if (rt_chan_len(l->in) > 0 && rt_chan_recv(l->in, &token))
			tokens_received++;
		rt_gosched();
	} while (rt_nanotime() < deadline);
	ran++;
}

static void callback(void *arg)
{
	uint64_t *count = arg;
	*count = recurse(4, *count) ? *count + 1 : *count;
	callbacks++;
}

static void *foreign(void *arg)
{
	uint64_t count = 0, calls = 0;
	(void)arg;
	while (rt_nanotime() < deadline) {
		uint64_t before = count;
		rt_cgocallback(callback, &count);
		calls++;
		if (count != before + 1) {
			fprintf(stderr, "soak: callback ran %llu times for one call\n",
				(unsigned long long)(count - before));
			exit(1);
		}
	}
	foreign_done++;
	return (void *)(uintptr_t)calls;
}

/* The joins run in C entered with rt_cgocall, as Go code would call
 * pthread_join: the goroutine is in a syscall, and with FPRT_MAXPROCS=1 the
 * foreign threads' callbacks take its P (retake) until they are done.  A
 * plain pthread_join on the goroutine would keep the only P from them. */
struct joins { pthread_t *threads; uint64_t calls; };

static void join_foreign(void *arg)
{
	struct joins *j = arg;
	for (int i = 0; i < nforeign; i++) {
		void *r;
		pthread_join(j->threads[i], &r);
		j->calls += (uintptr_t)r;
	}
}

static int realmain(int argc, char **argv)
{
	double secs = 5;
	int c;
	const char *usage = "soak [-t SECONDS] [-g GOROUTINES (1..1000000)] [-f FOREIGN_THREADS (0..1024)]";
	long v;
	while ((c = getopt(argc, argv, "t:g:f:")) != -1) {
		if (c == 't' && prog_seconds(optarg, &secs))
			continue;
		else if (c == 'g' && prog_long(optarg, 1, 1000000, &v))
			ngoroutines = (int)v;
		else if (c == 'f' && prog_long(optarg, 0, 1024, &v))
			nforeign = (int)v;
		else
			return prog_usage(usage, c == '?' ? NULL : optarg);
	}
	if (optind != argc)
		return prog_usage(usage, argv[optind]);
	deadline = rt_nanotime() + (uint64_t)(secs * 1e9);
	struct link *links = calloc((size_t)ngoroutines, sizeof *links);
	rt_chan **chans = calloc((size_t)ngoroutines, sizeof *chans);
	pthread_t *threads = calloc((size_t)nforeign, sizeof *threads);
	if (!links || !chans || !threads) {
		fprintf(stderr, "soak: out of memory\n");
		return 1;
	}
	for (int i = 0; i < ngoroutines; i++)
		chans[i] = rt_chan_new(sizeof(uint64_t), 1);
	for (int i = 0; i < ngoroutines; i++) {
		links[i] = (struct link){ chans[i], chans[(i + 1) % ngoroutines] };
		rt_go(member, &links[i]);
	}
	for (int i = 0; i < nforeign; i++)
		if (pthread_create(&threads[i], NULL, foreign, NULL) != 0) {
			fprintf(stderr, "soak: pthread_create %d failed\n", i);
			return 1;
		}
	struct joins j = { threads, 0 };
	rt_cgocall(join_foreign, &j);
	uint64_t calls = j.calls;
	free(threads);
	while (atomic_load(&ran) < (uint64_t)ngoroutines)
		rt_sleep(10000000);
	/* Tokens still in buffers were sent, not received: at most one each.
	 * Every goroutine has counted itself in `ran` after its last channel
	 * operation, so the ring can go (LeakSanitizer found it otherwise, once
	 * no stack held a pointer to it any more). */
	uint64_t in_flight = 0;
	for (int i = 0; i < ngoroutines; i++) {
		in_flight += rt_chan_len(chans[i]);
		rt_chan_free(chans[i]);
	}
	free(chans);
	free(links);
	if (calls != callbacks || tokens_sent != tokens_received + in_flight) {
		fprintf(stderr, "soak: calls %llu callbacks %llu; tokens sent %llu received %llu "
			"in flight %llu\n",
			(unsigned long long)calls, (unsigned long long)callbacks,
			(unsigned long long)tokens_sent, (unsigned long long)tokens_received,
			(unsigned long long)in_flight);
		return 1;
	}
	printf("OK %d goroutines, %d foreign threads, %llu callbacks, %llu tokens\n", ngoroutines,
	       nforeign, (unsigned long long)calls, (unsigned long long)tokens_received);
	return 0;
}

int main(int argc, char **argv)
{
	return rt_main(realmain, argc, argv);
}
