/*
 * handler.c — the profiler's SIGPROF handler measured directly: a goroutine
 * HANDLER_DEPTH frames deep sends itself SIGPROF, against a no-op handler
 * (handler_main runs in a child that profiles itself).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fprt.h"
#include "prof.h"

static volatile sig_atomic_t noop_count;
static void on_noop(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	noop_count++;
}

static double h_noop_ns, h_prof_ns;

static void time_signals(void)
{
	pid_t pid = getpid();
	pid_t tid = (pid_t)syscall(SYS_gettid);
	h_noop_ns = h_prof_ns = 1e18;
	for (int b = 0; b < HANDLER_BATCHES; b++) {
		/* the writer drains every 10 ms: the ring never fills */
		rt_sleep(12000000);
		/* the M may have changed while parked */
		tid = (pid_t)syscall(SYS_gettid);
		uint64_t t0 = rt_nanotime();
		for (int i = 0; i < HANDLER_BATCH; i++)
			syscall(SYS_tgkill, pid, tid, SIGUSR1);
		uint64_t t1 = rt_nanotime();
		for (int i = 0; i < HANDLER_BATCH; i++)
			syscall(SYS_tgkill, pid, tid, SIGPROF);
		uint64_t t2 = rt_nanotime();
		double noop = (double)(t1 - t0) / HANDLER_BATCH, prof = (double)(t2 - t1) / HANDLER_BATCH;
		if (noop < h_noop_ns)
			h_noop_ns = noop;
		if (prof < h_prof_ns)
			h_prof_ns = prof;
	}
}

/* A stack like the workload's: frames with locals, HANDLER_DEPTH deep. */
__attribute__((noinline)) static unsigned long deep(int level)
{
	volatile unsigned long locals[6];
	for (int i = 0; i < 6; i++)
		locals[i] = (unsigned long)(level * i);
	if (level > 1)
		return deep(level - 1) + locals[level % 6];
	time_signals();
	return locals[0];
}

int handler_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_noop;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;   /* as the profiler's */
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	struct sigaction cur;
	sigaction(SIGPROF, NULL, &cur);
	if (!(cur.sa_flags & SA_SIGINFO)) {
		fprintf(stderr, "prof: the profiler installed no SIGPROF handler\n");
		return 1;
	}
	deep(HANDLER_DEPTH);
	printf("handler noop_ns %.1f prof_ns %.1f\n", h_noop_ns, h_prof_ns);
	return 0;
}

void measure_handler(long snap, struct handler_result *h)
{
	char out[PATH_MAX + 64], envout[PATH_MAX + 80], envsnap[48];
	snprintf(out, sizeof out, "%s/handler-%ld.fpt", tmpdir, snap);
	snprintf(envout, sizeof envout, "FPTRACE_OUT=%s", out);
	snprintf(envsnap, sizeof envsnap, "FPTRACE_SNAPSHOT_MAX=%ld", snap);
	/* 1 Hz: the timer's own samples are negligible; 1 Hz wall samples (0 is
	 * refused by the runtime) */
	const char *env[] = { envout, "FPTRACE_HZ=1", "FPTRACE_WALL_HZ=1", envsnap,
			      "FPRT_MAXPROCS=1", NULL };
	char *argv[] = { self, "--handler-child", NULL };
	struct child c;
	char why[128];
	memset(h, 0, sizeof *h);
	unlink(out);
	if (run_child(argv, env, 0, &c) != 0 || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0)
		die("the handler benchmark (%s --handler-child) failed: %s; output: %.200s", self,
		    describe_status(c.status, why, sizeof why), c.out);
	const char *p = strstr(c.out, "handler ");
	if (!p || sscanf(p, "handler noop_ns %lf prof_ns %lf", &h->noop_ns, &h->prof_ns) != 2)
		die("the handler benchmark printed no figures: %.200s", c.out);
	read_fpt(out, &h->st);
	h->ok = 1;
}
