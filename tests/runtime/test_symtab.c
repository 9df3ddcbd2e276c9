/*
 * Symbolization (symtab.c) from several threads at once, the first time: the
 * thread that loses the race for a module's table must still get the static
 * function's name, not "module+offset".  The stack-scan report symbolizes on
 * g0 while goroutines take tracebacks, so first uses do meet.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

#define NTHREADS 8

static pthread_barrier_t start;
static char names[NTHREADS][256];

__attribute__((noinline)) static void symtab_static_target(void)
{
	__asm__ volatile("");
}

static void *symbolize_once(void *arg)
{
	char *out = arg;
	pthread_barrier_wait(&start);
	rt_symbolize((uintptr_t)symtab_static_target + 1, out, 256);
	return NULL;
}

static int concurrent_first_use(int argc, char **argv)
{
	(void)argc; (void)argv;
	pthread_t t[NTHREADS];
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, symbolize_once, names[i]) == 0, "pthread_create");
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	int wrong = 0;
	for (int i = 0; i < NTHREADS; i++)
		if (strncmp(names[i], "symtab_static_target+", 21) != 0) {
			fprintf(stderr, "thread %d: \"%s\"\n", i, names[i]);
			wrong++;
		}
	return wrong;
}

/* Each round is a fresh process, where no thread has symbolized yet. */
Test(symtab, concurrent_first_use_names_static_functions, .timeout = 120)
{
	for (int round = 0; round < 20; round++) {
		struct child_result r = run_child(concurrent_first_use, NULL);
		cr_assert_eq(r.status, 0, "round %d: %d threads got no name:\n%s", round,
			     r.status, r.err);
		child_result_free(&r);
	}
}
