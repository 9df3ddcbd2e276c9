/*
 * fpchain.c — a plain C scenario program (no fprt runtime) with a known call
 * chain, for `fptrace record --perf` and `fptrace check` end to end:
 *
 *   main -> fpc_a -> fpc_b -> fpc_spin          (the main thread)
 *   fpc_thread -> fpc_b -> fpc_spin             (with "thread")
 *
 * Usage: fpchain [MODE] [SECONDS]   (SECONDS of CPU time per thread, default 0.5)
 *   ""/"main"  spin on the main thread, exit 0
 *   thread     also spin on a second thread
 *   segv       spin, then die by SIGSEGV (no core file)
 *   forever    spin until killed
 *   exitN      exit with status N at once (e.g. exit3)
 *
 * It spins for CPU time, not wall time, so the number of samples does not
 * depend on how loaded the machine is.  Built with frame pointers like every
 * program in tests/progs; all frames are in this one file.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "prog_args.h"

volatile unsigned long fpc_sink;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void fpc_spin(double secs)
{
	double t0 = cpu_now();
	while (secs < 0 || cpu_now() - t0 < secs)
		for (unsigned long i = 0; i < 2000000; i++)
			fpc_sink += i ^ (fpc_sink >> 3);
}

__attribute__((noinline)) void fpc_b(double secs)
{
	fpc_spin(secs);
	fpc_sink++;
}

__attribute__((noinline)) void fpc_a(double secs)
{
	fpc_b(secs);
	fpc_sink++;
}

__attribute__((noinline)) void *fpc_thread(void *arg)
{
	fpc_b(*(double *)arg);
	fpc_sink++;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *usage = "fpchain [main|thread|segv|forever|exitN] [SECONDS]";
	const char *mode = argc > 1 ? argv[1] : "";
	double secs = 0.5;
	long status;
	if (argc > 3)
		return prog_usage(usage, argv[3]);
	if (argc > 2 && !prog_seconds(argv[2], &secs))
		return prog_usage(usage, argv[2]);
	if (!strncmp(mode, "exit", 4))
		return prog_long(mode + 4, 0, 255, &status) ? (int)status : prog_usage(usage, mode);
	if (*mode && strcmp(mode, "main") && strcmp(mode, "thread") && strcmp(mode, "segv") &&
	    strcmp(mode, "forever"))
		return prog_usage(usage, mode);
	if (!strcmp(mode, "forever"))
		secs = -1;
	int threaded = !strcmp(mode, "thread");
	pthread_t t;
	double tsecs = secs;
	if (threaded && pthread_create(&t, NULL, fpc_thread, &tsecs) != 0)
		return 1;
	fpc_a(secs);
	if (threaded)
		pthread_join(t, NULL);
	if (!strcmp(mode, "segv")) {
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl);
		volatile int *volatile p = NULL;
		*p = 1;
	}
	return 0;
}
