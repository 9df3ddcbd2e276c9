/*
 * bench/prof_source.c — what a CPU sample source costs the thread it samples,
 * on the kernel's side, before the profiler's handler does anything: the
 * part of bench/prof's overhead that no change to fprt can remove.
 *
 *   none         a fixed amount of work (xorshift), its thread CPU time
 *   event        the same with a perf_event_open task-clock event counting
 *                at the asked period, without a signal: the hrtimer that
 *                drives a software event, one interrupt per period
 *   event+signal the same event signalling the thread (O_ASYNC, F_SETSIG
 *                SIGPROF, F_SETOWN_EX F_OWNER_TID, a no-op handler): what
 *                fprt's perf-event source pays before its handler runs
 *   timer        a CPU-time timer (timer_create on CLOCK_THREAD_CPUTIME_ID)
 *                at the same period and a no-op handler: the fallback source,
 *                whose checks ride on the scheduler tick
 *
 * Each source runs in a child of its own, in rounds that alternate the order;
 * a figure is the median over rounds of (source - none) from the same round,
 * divided by the signals (or periods) it took: ns per sample, with the range.
 *
 *   prof_source [--rounds K] [--hz HZ]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORK 200000000L
#define MAX_ROUNDS 31

enum { S_NONE, S_EVENT, S_SIGNAL, S_TIMER, NSRC };
static const char *const names[NSRC] = { "none", "event", "event+signal", "timer" };

static volatile long signals;
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	signals++;
}

static double thread_cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long work(long n)
{
	unsigned long x = 1, a = 0;
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a += x;
	}
	return a;
}

static int open_event(long period_ns, int with_signal)
{
	struct perf_event_attr at;
	memset(&at, 0, sizeof at);
	at.size = sizeof at;
	at.type = PERF_TYPE_SOFTWARE;
	at.config = PERF_COUNT_SW_TASK_CLOCK;
	at.sample_period = (unsigned long long)period_ns;
	at.disabled = 1;
	at.exclude_kernel = 1;
	at.exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, &at, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct f_owner_ex o = { F_OWNER_TID, (int)syscall(SYS_gettid) };
	if (with_signal && (fcntl(fd, F_SETFL, O_ASYNC) != 0 || fcntl(fd, F_SETSIG, SIGPROF) != 0 ||
			    fcntl(fd, F_SETOWN_EX, &o) != 0))
		return -1;
	return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) == 0 ? fd : -1;
}

static int start_timer(long period_ns)
{
	struct sigevent sev;
	timer_t t;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev._sigev_un._tid = (int)syscall(SYS_gettid);
	struct itimerspec its = { { 0, period_ns }, { 0, period_ns } };
	return timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t) == 0 &&
	       timer_settime(t, 0, &its, NULL) == 0 ? 0 : -1;
}

/* In a child: run the work under source s; print "cpu SECONDS samples N". */
static int child(int s, long period_ns)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	int fd = -1;
	if ((s == S_EVENT || s == S_SIGNAL) && (fd = open_event(period_ns, s == S_SIGNAL)) < 0) {
		fprintf(stderr, "prof_source: perf_event_open(task-clock): %s\n", strerror(errno));
		return 1;
	}
	if (s == S_TIMER && start_timer(period_ns) != 0) {
		fprintf(stderr, "prof_source: timer_create: %s\n", strerror(errno));
		return 1;
	}
	double t0 = thread_cpu();
	unsigned long r = work(WORK);
	double t = thread_cpu() - t0;
	/* Without a signal the event's periods are what its hrtimer fired. */
	long n = s == S_EVENT ? (long)(t * 1e9 / (double)period_ns) : signals;
	printf("cpu %.6f samples %ld (%lu)\n", t, n, r & 1);
	return 0;
}

static int run(const char *self, int s, long period_ns, double *cpu, long *n)
{
	char sarg[16], parg[32], out[256] = "";
	int fds[2];
	snprintf(sarg, sizeof sarg, "%d", s);
	snprintf(parg, sizeof parg, "%ld", period_ns);
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(self, self, "--child", sarg, parg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	out[got > 0 ? got : 0] = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || sscanf(out, "cpu %lf samples %ld", cpu, n) != 2)
		return -1;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = 7;
	long hz = 9973;
	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child(atoi(argv[2]), atol(argv[3]));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--hz") == 0 && i + 1 < argc)
			hz = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: prof_source [--rounds K] [--hz HZ]\n");
			return 2;
		}
	}
	if (rounds < 3 || rounds > MAX_ROUNDS || hz < 1 || hz > 100000) {
		fprintf(stderr, "prof_source: --rounds must be 3..%d and --hz 1..100000 (got %d, %ld)\n",
			MAX_ROUNDS, rounds, hz);
		return 2;
	}
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0)
		return 1;
	self[len] = 0;
	long period = 1000000000L / hz;
	double cost[NSRC][MAX_ROUNDS], rate[NSRC][MAX_ROUNDS], base[MAX_ROUNDS];
	int ok[NSRC] = { 1, 1, 1, 1 };
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < NSRC; k++) {
			int s = (k + r) % NSRC;
			double cpu;
			long n;
			if (!ok[s] || run(self, s, period, &cpu, &n) != 0) {
				ok[s] = 0;
				continue;
			}
			cost[s][r] = cpu;
			rate[s][r] = (double)n / cpu;
			if (s == S_NONE)
				base[r] = cpu;
		}
	}
	if (!ok[S_NONE]) {
		fprintf(stderr, "prof_source: the unsampled run failed\n");
		return 1;
	}
	printf("CPU sample sources at %ld Hz asked: kernel-side cost per sample to the sampled\n"
	       "thread (its CPU time against an unsampled run of the same round), %d rounds:\n",
	       hz, rounds);
	printf("  %-13s %10s %22s\n", "source", "taken/CPU s", "ns per sample [range]");
	for (int s = 1; s < NSRC; s++) {
		if (!ok[s]) {
			printf("  %-13s unavailable (perf_event_open or timer_create refused)\n", names[s]);
			continue;
		}
		double per[MAX_ROUNDS], r2[MAX_ROUNDS];
		for (int r = 0; r < rounds; r++) {
			per[r] = (cost[s][r] - base[r]) / (rate[s][r] * cost[s][r]) * 1e9;
			r2[r] = rate[s][r];
		}
		qsort(per, (size_t)rounds, sizeof *per, cmp);
		qsort(r2, (size_t)rounds, sizeof *r2, cmp);
		printf("  %-13s %10.0f %10.0f [%.0f..%.0f]\n", names[s], r2[rounds / 2],
		       per[rounds / 2], per[0], per[rounds - 1]);
	}
	printf("  event: the hrtimer alone; event+signal: what fprt's perf-event source costs\n"
	       "  before its handler; timer: the fallback, capped by the scheduler tick\n");
	return 0;
}
