/*
 * bench/prof.c — what the fprt in-process profiler costs, in one run, on one
 * CPU-bound workload with a FIXED amount of work (build/progs/cpuwork, one
 * goroutine per P):
 *
 *   baseline              the workload unprofiled: CPU (user+sys, from wait4)
 *                         and wall time of the child, min and median of K runs
 *   prof-997-fp           profiled, FPTRACE_SNAPSHOT_MAX=0 (FP chains only)
 *   prof-9973-fp
 *   prof-997-snap         profiled with the default 64 KiB snapshots
 *   prof-9973-snap
 *                         overhead = (profiled - baseline) / baseline, for CPU
 *                         and wall time, min and median; samples per run, the
 *                         rate they were actually taken at (CPU samples per
 *                         CPU second) next to the asked one and the source
 *                         the file names (perf-event or timer), extra CPU time
 *                         per sample, and where the overhead goes: the
 *                         handler (samples x its direct cost), the writer
 *                         thread (its own CPU time, which cpuwork -s reads)
 *                         and the rest
 *   timer-997-fp          prof-997-fp with FPRT_PROF_MODE=timer: the fallback
 *                         source, for its cost and the rate it takes
 *   parked-baseline       the same with 10,000 more goroutines parked, whom
 *   parked-997-cap        the wall sampler walks at 97 Hz: capped (the
 *   parked-997-nocap      default, 100 per tick) and uncapped
 *                         (FPTRACE_WALL_CAP=0), each against parked-baseline
 *   handler               direct: a goroutine 10 frames deep sends itself
 *                         SIGPROF (tgkill) with the profiler on, against a no-op
 *                         SA_ONSTACK handler; the difference is the handler.
 *                         Signals in a row run with hot caches: a lower bound
 *                         (perf on a profiled run shows several times more)
 *   crosscheck-libdw      `fptrace check --backend libdw` (and libunwind) on a
 *   crosscheck-libunwind  recorded file, samples per second with process start
 *                         and file setup subtracted (a tiny recording checked
 *                         the same way), and the gross figure
 *   bytes-per-sample      .fpt bytes per CPU sample with snapshots, against
 *                         perf.data bytes per sample of `perf record -e
 *                         cpu-clock --call-graph dwarf -F 997` on the workload
 *
 * The runs of one round go in a rotating order, so that a machine that gets
 * busier or quieter does not favour one configuration.  Overheads of the order
 * of 1% are below the noise of a shared machine: each overhead is the median of
 * the overheads against the baseline run of the same round, printed with twice
 * its standard error, and a target whose limit lies within that is marked
 * "(within the noise)"; the direct handler figure gives a lower bound of what
 * the overhead should be (cost per sample x samples per CPU second).
 * The number of rounds fits a time budget (ROUNDS_BUDGET) unless --rounds.
 *
 *   prof [--tsv] [--rounds K] [--units N] [--keep]
 *   --tsv: NAME<TAB>VALUE<TAB>UNIT per line
 *   --keep: keep the recordings (their directory is printed)
 *
 * Exit status 0, or 1 with a message on a real error (the workload or the
 * checker failed, a recording cannot be read).  A missing `perf` is a note.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fprt.h"
#include "fpu_record.h"

#define MAX_AUTO_ROUNDS 25
#define MIN_ROUNDS 5
#define ROUNDS_BUDGET 60.0      /* seconds for the overhead rounds, by default */
#define DEF_UNITS 40000L        /* ~0.45 s of CPU time (2 goroutines) */
#define XC_FACTOR 6             /* the cross-check recording: 6x the work */
#define XC_TINY_UNITS 2000L
#define XC_REPS 5
#define MAX_ROUNDS 101
#define HANDLER_DEPTH 10
#define HANDLER_BATCH 200
#define HANDLER_BATCHES 30
#define HANDLER_REPS 3

static char tmpdir[PATH_MAX];
static char cpuwork[PATH_MAX], fptrace[PATH_MAX], self[PATH_MAX];
static int verbose;          /* progress on stderr (when it is a terminal) */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("prof: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void progress(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("prof: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bench links no libm. */
static double sqrt_(double x)
{
	if (!(x > 0))
		return 0;
	double r = x > 1 ? x : 1;
	for (int i = 0; i < 64; i++)
		r = (r + x / r) / 2;
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double vmin(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double vmax(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static double vmedian(const double *v, int n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- running a child ------------------------------------------------------ */

struct child {
	double wall, cpu;            /* seconds */
	int status;                  /* wait status */
	char out[8192];              /* stdout (and stderr if asked), truncated */
};

/*
 * Runs argv with env ("NAME=VALUE" strings, NULL-terminated, may be NULL) added
 * to this environment minus every FPTRACE_* variable; captures stdout (and
 * stderr with merge_stderr).  Wall time is fork to reap; CPU time is the
 * child's user+sys from wait4 (its threads included).  -1 if it could not run.
 */
static int run_child(char *const argv[], const char *const env[], int merge_stderr,
		     struct child *c)
{
	int fds[2];
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	memset(c, 0, sizeof *c);
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		static const char *const clear[] = { "FPTRACE_OUT", "FPTRACE_HZ",
			"FPTRACE_WALL_HZ", "FPTRACE_SNAPSHOT_MAX", "FPTRACE_WALL_CAP",
			"FPRT_PROF_MODE" };
		for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++)
			unsetenv(clear[i]);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		dup2(fds[1], 1);
		if (merge_stderr)
			dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	char buf[4096];
	ssize_t got;
	while ((got = read(fds[0], buf, sizeof buf)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		size_t take = (size_t)got;
		if (take > sizeof c->out - 1 - n)
			take = sizeof c->out - 1 - n;
		memcpy(c->out + n, buf, take);
		n += take;
	}
	close(fds[0]);
	c->out[n] = 0;
	struct rusage ru;
	while (wait4(pid, &c->status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	c->wall = now_s() - t0;
	c->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 127)
		return -1;
	return 0;
}

static const char *describe_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "wait status %#x", st);
	return buf;
}

/* ---- reading a recording ---------------------------------------------------- */

struct fpt_stats {
	uint64_t cpu, wall, drops;       /* samples */
	uint32_t cpu_source;             /* SAMPLING's, 0 if the file has none */
	uint64_t bytes;                  /* file size */
	uint64_t cpu_rec_bytes;          /* CPU sample records, headers included */
	uint64_t snap_bytes;             /* stack bytes in CPU samples */
};

static void read_fpt(const char *path, struct fpt_stats *st)
{
	struct fpu_reader r;
	struct fpu_record rec;
	struct stat sb;
	memset(st, 0, sizeof *st);
	if (stat(path, &sb) != 0)
		die("%s: %s (the profiler wrote no file)", path, strerror(errno));
	st->bytes = (uint64_t)sb.st_size;
	if (fpu_reader_open(&r, path) != 0)
		die("%s", fpu_reader_error(&r));
	int rc;
	while ((rc = fpu_reader_next(&r, &rec)) == 1) {
		if (rec.type == FPU_REC_DROPS) {
			st->drops += rec.u.drops.dropped;
		} else if (rec.type == FPU_REC_SAMPLING) {
			st->cpu_source = rec.u.sampling.cpu_source;
		} else if (rec.type == FPU_REC_SAMPLE && rec.u.sample.kind == FPU_SAMPLE_CPU) {
			st->cpu++;
			st->cpu_rec_bytes += FPU_REC_HEADER_SIZE +
					     (((uint64_t)rec.len + FPU_REC_ALIGN - 1) & ~(uint64_t)(FPU_REC_ALIGN - 1));
			for (uint32_t i = 0; i < rec.u.sample.nseg; i++)
				st->snap_bytes += rec.u.sample.seg[i].len;
		} else if (rec.type == FPU_REC_SAMPLE) {
			st->wall++;
		}
	}
	if (rc < 0)
		die("%s", fpu_reader_error(&r));
	fpu_reader_close(&r);
}

/* ---- the workload under each configuration ----------------------------------- */

enum { C_BASE, C_FP997, C_FP9973, C_SNAP997, C_SNAP9973, C_TIMER997, C_PBASE, C_PCAP,
       C_PNOCAP, NCONF };

#define PARKED 10000

static struct conf {
	const char *name;
	unsigned hz;                 /* 0: unprofiled */
	long snap;                   /* FPTRACE_SNAPSHOT_MAX */
	int base;                    /* the unprofiled configuration it is paired with */
	long parked;                 /* cpuwork -p */
	const char *wall_cap;        /* FPTRACE_WALL_CAP, NULL: the default */
	const char *mode;            /* FPRT_PROF_MODE, NULL: the default */
	double cpu[MAX_ROUNDS], wall[MAX_ROUNDS], samples[MAX_ROUNDS], wallsamples[MAX_ROUNDS];
	double writer[MAX_ROUNDS];   /* the writer thread's CPU seconds */
	double ocpu[MAX_ROUNDS], owall[MAX_ROUNDS];   /* overhead against the same round */
	struct fpt_stats last;
	/* results: "min" compares the minima, "med" is the median of the paired
	 * (same round) overheads, se its standard error */
	double cpu_min, cpu_med, wall_min, wall_med;
	double ovh_cpu_min, ovh_cpu_med, ovh_wall_min, ovh_wall_med, se_cpu, se_wall;
	double samp_med, eff_hz, ns_per_sample;
	double ovh_cpu_lo, ovh_cpu_hi;   /* range of the paired overheads */
	double writer_med, wallsamp_med;
} confs[NCONF] = {
	{ .name = "baseline", .base = C_BASE },
	{ .name = "prof-997-fp", .hz = 997, .snap = 0, .base = C_BASE },
	{ .name = "prof-9973-fp", .hz = 9973, .snap = 0, .base = C_BASE },
	{ .name = "prof-997-snap", .hz = 997, .snap = 65536, .base = C_BASE },
	{ .name = "prof-9973-snap", .hz = 9973, .snap = 65536, .base = C_BASE },
	{ .name = "timer-997-fp", .hz = 997, .snap = 0, .base = C_BASE, .mode = "timer" },
	{ .name = "parked-baseline", .base = C_PBASE, .parked = PARKED },
	{ .name = "parked-997-cap", .hz = 997, .snap = 65536, .base = C_PBASE, .parked = PARKED },
	{ .name = "parked-997-nocap", .hz = 997, .snap = 65536, .base = C_PBASE, .parked = PARKED,
	  .wall_cap = "0" },
};

static char checksum[64];
static int nprocs = 2;

static void workload_args(long units, char *nbuf, size_t nlen, char *gbuf, size_t glen,
			  char *argv[])
{
	snprintf(nbuf, nlen, "%ld", units);
	snprintf(gbuf, glen, "%d", nprocs);
	argv[0] = cpuwork;
	argv[1] = "-g";
	argv[2] = gbuf;
	argv[3] = "-n";
	argv[4] = nbuf;
	argv[5] = NULL;
}

/* The writer thread's CPU seconds, as cpuwork -s printed them. */
static double writer_seconds(const char *out)
{
	const char *p = strstr(out, "writer-cpu-ns ");
	unsigned long long ns = 0;
	if (!p || sscanf(p, "writer-cpu-ns %llu", &ns) != 1)
		die("cpuwork -s printed no writer-cpu-ns line: %.200s", out);
	return (double)ns / 1e9;
}

/*
 * One run of the workload; out (if not NULL) gets the recording's path.  cf
 * (may be NULL) adds its parked goroutines, wall cap and -s.
 */
static void run_workload(long units, unsigned hz, long snap, const char *out,
			 struct child *c, int check_sum, const struct conf *cf)
{
	char nbuf[32], gbuf[32], pbuf[32], envout[PATH_MAX + 16], envhz[32], envsnap[48];
	char envcap[48], envmode[48];
	char *argv[12];
	const char *env[6] = { NULL };
	workload_args(units, nbuf, sizeof nbuf, gbuf, sizeof gbuf, argv);
	if (cf) {
		snprintf(pbuf, sizeof pbuf, "%ld", cf->parked);
		argv[5] = "-s";
		argv[6] = cf->parked ? "-p" : NULL;
		argv[7] = cf->parked ? pbuf : NULL;
		argv[8] = NULL;
		int e = 3;
		if (cf->wall_cap) {
			snprintf(envcap, sizeof envcap, "FPTRACE_WALL_CAP=%s", cf->wall_cap);
			env[e++] = envcap;
		}
		if (cf->mode) {
			snprintf(envmode, sizeof envmode, "FPRT_PROF_MODE=%s", cf->mode);
			env[e++] = envmode;
		}
	}
	if (hz) {
		snprintf(envout, sizeof envout, "FPTRACE_OUT=%s", out);
		snprintf(envhz, sizeof envhz, "FPTRACE_HZ=%u", hz);
		snprintf(envsnap, sizeof envsnap, "FPTRACE_SNAPSHOT_MAX=%ld", snap);
		env[0] = envout;
		env[1] = envhz;
		env[2] = envsnap;
		unlink(out);
	}
	if (run_child(argv, env, 0, c) != 0)
		die("cannot run %s", cpuwork);
	char why[128], sum[64] = "";
	const char *p = strstr(c->out, "checksum ");
	if (p)
		sscanf(p, "checksum %63s", sum);
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0 || !strstr(c->out, "\nOK"))
		die("%s -n %ld (FPTRACE_HZ=%u): %s, output: %.200s", cpuwork, units, hz,
		    describe_status(c->status, why, sizeof why), c->out);
	if (!check_sum)
		return;
	if (!checksum[0])
		snprintf(checksum, sizeof checksum, "%s", sum);
	else if (strcmp(checksum, sum) != 0)
		die("the workload's checksum changed (%s, then %s with FPTRACE_HZ=%u): "
		    "the work is not fixed", checksum, sum, hz);
}

/* Standard error of the median of v: 1.2533 sigma / sqrt(n), sigma from the MAD. */
static double median_se(const double *v, int n)
{
	double m = vmedian(v, n), dev[MAX_ROUNDS];
	for (int i = 0; i < n; i++)
		dev[i] = fabs(v[i] - m);
	return 1.2533 * 1.4826 * vmedian(dev, n) / sqrt_((double)n);
}

/*
 * Rounds of one run per configuration, in a rotating order: max_rounds, or
 * (budget > 0) as many as fit in budget seconds, at least MIN_ROUNDS.
 * Returns the number of rounds run.
 */
static int measure_overheads(int max_rounds, double budget, long units)
{
	struct child c;
	char path[PATH_MAX + 64];
	double t0 = now_s();
	int rounds = 0;
	run_workload(units, 0, 0, NULL, &c, 1, NULL);       /* warm up */
	for (int r = 0; r < max_rounds; r++) {
		double el = now_s() - t0;
		if (budget > 0 && r >= MIN_ROUNDS && el + el / r > budget)
			break;
		progress("round %d (%.0f s)", r + 1, el);
		for (int k = 0; k < NCONF; k++) {
			struct conf *cf = &confs[(k + r) % NCONF];
			snprintf(path, sizeof path, "%s/%s.fpt", tmpdir, cf->name);
			run_workload(units, cf->hz, cf->snap, path, &c, 1, cf);
			cf->cpu[r] = c.cpu;
			cf->wall[r] = c.wall;
			cf->writer[r] = writer_seconds(c.out);
			if (cf->hz) {
				read_fpt(path, &cf->last);
				cf->samples[r] = (double)cf->last.cpu;
				cf->wallsamples[r] = (double)cf->last.wall;
			}
		}
		rounds++;
	}
	for (int k = 0; k < NCONF; k++) {
		struct conf *cf = &confs[k], *b = &confs[cf->base];
		for (int r = 0; r < rounds; r++) {
			cf->ocpu[r] = cf->cpu[r] / b->cpu[r] - 1;
			cf->owall[r] = cf->wall[r] / b->wall[r] - 1;
		}
		cf->cpu_min = vmin(cf->cpu, rounds);
		cf->cpu_med = vmedian(cf->cpu, rounds);
		cf->wall_min = vmin(cf->wall, rounds);
		cf->wall_med = vmedian(cf->wall, rounds);
		cf->ovh_cpu_min = cf->cpu_min / b->cpu_min - 1;
		cf->ovh_cpu_med = vmedian(cf->ocpu, rounds);
		cf->se_cpu = median_se(cf->ocpu, rounds);
		cf->ovh_wall_min = cf->wall_min / b->wall_min - 1;
		cf->ovh_wall_med = vmedian(cf->owall, rounds);
		cf->se_wall = median_se(cf->owall, rounds);
		cf->ovh_cpu_lo = vmin(cf->ocpu, rounds);
		cf->ovh_cpu_hi = vmax(cf->ocpu, rounds);
		cf->writer_med = vmedian(cf->writer, rounds);
		if (!cf->hz)
			continue;
		cf->wallsamp_med = vmedian(cf->wallsamples, rounds);
		cf->samp_med = vmedian(cf->samples, rounds);
		cf->eff_hz = cf->samp_med / cf->cpu_med;
		cf->ns_per_sample = cf->samp_med > 0 ? cf->ovh_cpu_med * b->cpu_med / cf->samp_med * 1e9
						     : NAN;
	}
	return rounds;
}

/* ---- the handler, measured directly ----------------------------------------- */

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

static int handler_main(int argc, char **argv)
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

struct handler_result {
	double noop_ns, prof_ns;
	struct fpt_stats st;
	int ok;
};

static void measure_handler(long snap, struct handler_result *h)
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

/* ---- the cross-check ----------------------------------------------------------- */

struct xc_result {
	double wall, cpu;            /* best of XC_REPS, seconds */
	uint64_t samples;            /* as check counted them */
};

static void time_check(const char *file, const char *backend, struct xc_result *x)
{
	char *argv[] = { fptrace, "check", "-i", (char *)file, "--backend", (char *)backend, NULL };
	struct child c;
	char why[128];
	x->wall = x->cpu = 1e18;
	x->samples = 0;
	for (int i = 0; i < XC_REPS; i++) {
		if (run_child(argv, NULL, 1, &c) != 0)
			die("cannot run %s", fptrace);
		/* 0 clean, 3 frame-pointer defects: both mean every sample was checked */
		if (!WIFEXITED(c.status) || (WEXITSTATUS(c.status) != 0 && WEXITSTATUS(c.status) != 3))
			die("fptrace check -i %s --backend %s: %s: %.300s", file, backend,
			    describe_status(c.status, why, sizeof why), c.out);
		const char *p = c.out;
		unsigned long long n = 0;
		while (p && *p) {        /* "N samples (C cpu, W wall), D dropped" */
			if (sscanf(p, "%llu samples (", &n) == 1 && strstr(p, " samples (") &&
			    strstr(p, " samples (") < strchr(p, '\n'))
				break;
			p = strchr(p, '\n');
			p = p ? p + 1 : NULL;
			n = 0;
		}
		if (!n)
			die("fptrace check -i %s: no \"N samples (\" line in its output: %.300s",
			    file, c.out);
		x->samples = n;
		if (c.wall < x->wall)
			x->wall = c.wall;
		if (c.cpu < x->cpu)
			x->cpu = c.cpu;
	}
}

struct xc {
	const char *backend;
	struct xc_result big, tiny;
	double net_wall, net_cpu, gross_wall;     /* samples per second */
};

static void measure_crosscheck(long units, struct xc xc[2], struct fpt_stats *bigst)
{
	char big[PATH_MAX + 64], tiny[PATH_MAX + 64];
	struct child c;
	struct fpt_stats tst;
	snprintf(big, sizeof big, "%s/crosscheck.fpt", tmpdir);
	snprintf(tiny, sizeof tiny, "%s/crosscheck-tiny.fpt", tmpdir);
	progress("recording for the cross-check");
	run_workload(units * XC_FACTOR, 997, 65536, big, &c, 0, NULL);
	read_fpt(big, bigst);
	/* at least one sample, or check refuses the file */
	long tu = XC_TINY_UNITS;
	for (int tries = 0;; tries++) {
		run_workload(tu, 997, 65536, tiny, &c, 0, NULL);
		read_fpt(tiny, &tst);
		if (tst.cpu + tst.wall > 0)
			break;
		if (tries == 4)
			die("%s: no samples in a recording of %ld units", tiny, tu);
		tu *= 2;
	}
	for (int i = 0; i < 2; i++) {
		progress("cross-check with %s", xc[i].backend);
		time_check(big, xc[i].backend, &xc[i].big);
		time_check(tiny, xc[i].backend, &xc[i].tiny);
		double ds = (double)xc[i].big.samples - (double)xc[i].tiny.samples;
		double dw = xc[i].big.wall - xc[i].tiny.wall, dc = xc[i].big.cpu - xc[i].tiny.cpu;
		xc[i].net_wall = dw > 0 ? ds / dw : NAN;
		xc[i].net_cpu = dc > 0 ? ds / dc : NAN;
		xc[i].gross_wall = (double)xc[i].big.samples / xc[i].big.wall;
	}
}

/* ---- perf ---------------------------------------------------------------------- */

struct perf_result {
	int ok;
	char note[256];
	uint64_t samples, bytes;
};

static void measure_perf(long units, struct perf_result *pr)
{
	char data[PATH_MAX + 64], nbuf[32], gbuf[32];
	char *wl[8];
	workload_args(units, nbuf, sizeof nbuf, gbuf, sizeof gbuf, wl);
	snprintf(data, sizeof data, "%s/perf.data", tmpdir);
	char *argv[] = { "perf", "record", "-e", "cpu-clock", "--call-graph", "dwarf", "-F", "997",
			 "-o", data, "--", wl[0], wl[1], wl[2], wl[3], wl[4], NULL };
	struct child c;
	char why[128];
	memset(pr, 0, sizeof *pr);
	progress("perf record --call-graph dwarf");
	if (run_child(argv, NULL, 1, &c) != 0) {
		snprintf(pr->note, sizeof pr->note, "perf is not installed");
		return;
	}
	const char *p = strstr(c.out, "perf record: Captured and wrote");
	const char *q = p ? strstr(p, "MB ") : NULL;
	const char *s = q ? strchr(q, '(') : NULL;
	unsigned long long n = 0;
	struct stat sb;
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || !s ||
	    sscanf(s, "(%llu samples)", &n) != 1 || n == 0 || stat(data, &sb) != 0) {
		size_t len = strcspn(c.out, "\n");
		snprintf(pr->note, sizeof pr->note, "perf record failed (%s): %.*s",
			 describe_status(c.status, why, sizeof why), (int)(len > 160 ? 160 : len),
			 c.out);
		return;
	}
	pr->ok = 1;
	pr->samples = n;
	pr->bytes = (uint64_t)sb.st_size;
}

/* ---- output -------------------------------------------------------------------- */

static int tsv;

static void row(const char *name, double v, const char *unit, int prec)
{
	if (tsv) {
		if (isnan(v))
			printf("%s\t-\t%s\n", name, unit);
		else
			printf("%s\t%.*f\t%s\n", name, prec, v, unit);
	}
}

static const char *pct(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.2f%%", v * 100);
	return buf;
}

struct target {
	const char *name, *what;
	char shown[64];              /* "value < limit" as printed */
	double value, limit, se;     /* se: standard error of value (0: exact enough) */
	int below;                   /* met when value < limit (else >) */
	int met, unsure;             /* unsure: limit within 2 se of value */
};

static void judge(struct target *t)
{
	t->met = !isnan(t->value) && (t->below ? t->value < t->limit : t->value > t->limit);
	t->unsure = !isnan(t->value) && t->se > 0 && fabs(t->value - t->limit) < 2 * t->se;
}

/*
 * The rate each profiled configuration got against the one it asked for, the
 * source that took it, and where its CPU overhead went: the handler (samples
 * per CPU second x the direct cost of one), the writer thread (its own CPU
 * time, against the baseline's CPU time) and the rest (caches, the kernel's
 * side of the perf event or timer, noise).
 */
static void print_rates(double cost_fp, double cost_snap)
{
	char a[32], b[32], c[32];
	int timer = 0;
	printf("\n%-17s %-10s %6s %8s %7s  %-30s %8s %8s %8s\n", "config", "source", "asked",
	       "taken", "wall", "CPU overhead: median", "handler", "writer", "rest");
	printf("%-17s %-10s %6s %8s %7s  %-30s %8s %8s %8s\n", "", "", "Hz", "per CPU s",
	       "samples", "[paired range] (+-2se)", "", "", "");
	for (int k = 0; k < NCONF; k++) {
		struct conf *cf = &confs[k], *base = &confs[cf->base];
		if (!cf->hz)
			continue;
		double handler = cf->eff_hz * (cf->snap ? cost_snap : cost_fp) / 1e9;
		double writer = (cf->writer_med - base->writer_med) / base->cpu_med;
		char ovh[128];
		snprintf(ovh, sizeof ovh, "%s [%s..%s] (%.2f)", pct(cf->ovh_cpu_med, a, sizeof a),
			 pct(cf->ovh_cpu_lo, b, sizeof b), pct(cf->ovh_cpu_hi, c, sizeof c),
			 2 * cf->se_cpu * 100);
		printf("%-17s %-10s %6u %8.0f %7.0f  %-30s %7.2f%% %7.2f%% %7.2f%%\n", cf->name,
		       fpu_cpu_source_name(cf->last.cpu_source), cf->hz, cf->eff_hz, cf->wallsamp_med,
		       ovh, handler * 100, writer * 100, (cf->ovh_cpu_med - handler - writer) * 100);
		timer |= cf->last.cpu_source == FPU_CPU_SOURCE_TIMER;
	}
	printf("  taken: CPU samples per CPU second of the run; wall: wall samples per run;\n"
	       "  parked-*: 10,000 parked goroutines, against parked-baseline\n");
	if (timer)
		printf("  note: a timer source (FPRT_PROF_MODE=timer, or perf_event_open refused)\n"
		       "  expires on the scheduler tick, so a thread gets at most ~CONFIG_HZ samples\n"
		       "  per CPU second whatever FPTRACE_HZ says (each weighs 1 + si_overrun\n"
		       "  periods, so CPU time stays right)\n");
}

static void cleanup(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[PATH_MAX + 300];
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(tmpdir);
}

static void find_binaries(void)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", self);
	char *slash = strrchr(dir, '/');            /* BUILD/bench/prof */
	if (slash)
		*slash = 0;
	snprintf(cpuwork, sizeof cpuwork, "%.4000s/../progs/cpuwork", dir);
	snprintf(fptrace, sizeof fptrace, "%.4000s/../bin/fptrace", dir);
	if (access(cpuwork, X_OK) != 0)
		die("%s: %s (build it: make all)", cpuwork, strerror(errno));
	if (access(fptrace, X_OK) != 0)
		die("%s: %s (build it: make all)", fptrace, strerror(errno));
}

int main(int argc, char **argv)
{
	int rounds = 0, keep = 0;
	long units = DEF_UNITS;
	if (argc == 2 && strcmp(argv[1], "--handler-child") == 0)
		return rt_main(handler_main, argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = 1;
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = atoi(argv[++i]);
			if (rounds < 3 || rounds > MAX_ROUNDS) {
				fprintf(stderr, "prof: --rounds must be 3..%d\n", MAX_ROUNDS);
				return 2;
			}
		} else if (strcmp(argv[i], "--units") == 0 && i + 1 < argc) {
			units = atol(argv[++i]);
			if (units < 1000) {
				fprintf(stderr, "prof: --units must be at least 1000\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: prof [--tsv] [--rounds K] [--units N] [--keep]\n");
			return 2;
		}
	}
	verbose = isatty(2);
	find_binaries();
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	const char *mp = getenv("FPRT_MAXPROCS");
	nprocs = mp && atoi(mp) > 0 ? atoi(mp) : np > 0 ? (int)np : 1;
	snprintf(tmpdir, sizeof tmpdir, "%s/fptrace-bench-prof.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		die("mkdtemp %s: %s", tmpdir, strerror(errno));
	if (!keep)
		atexit(cleanup);
	double t_start = now_s();

	/* best of HANDLER_REPS processes, FP-only and snapshots interleaved */
	struct handler_result hfp = { .noop_ns = 1e18, .prof_ns = 1e18 }, hsnap = hfp, h;
	uint64_t hdrops = 0;
	progress("handler (direct)");
	for (int i = 0; i < 2 * HANDLER_REPS; i++) {
		struct handler_result *best = i % 2 ? &hsnap : &hfp;
		measure_handler(i % 2 ? 65536 : 0, &h);
		if (h.noop_ns < best->noop_ns)
			best->noop_ns = h.noop_ns;
		if (h.prof_ns < best->prof_ns) {
			best->prof_ns = h.prof_ns;
			best->st = h.st;
		}
		hdrops += h.st.drops;
	}
	rounds = rounds ? measure_overheads(rounds, 0, units)
			: measure_overheads(MAX_AUTO_ROUNDS, ROUNDS_BUDGET, units);
	struct xc xc[2] = { { .backend = "libdw" }, { .backend = "libunwind" } };
	struct fpt_stats xcst;
	measure_crosscheck(units, xc, &xcst);
	struct perf_result pr;
	measure_perf(units, &pr);
	double t_total = now_s() - t_start;

	/* ---- figures ---- */
	struct conf *b = &confs[C_BASE];
	double bspread = (b->cpu_med - b->cpu_min) / b->cpu_min;
	double h_fp = hfp.prof_ns - hfp.noop_ns, h_snap = hsnap.prof_ns - hsnap.noop_ns;
	/* per-sample cost the way the thread pays it: delivery + handler */
	double cost_fp = hfp.prof_ns, cost_snap = hsnap.prof_ns;
	double hsnap_bytes = hsnap.st.cpu ? (double)hsnap.st.snap_bytes / (double)hsnap.st.cpu : NAN;
	struct conf *s9 = &confs[C_SNAP9973];
	double fpt_bps = s9->last.cpu ? (double)s9->last.bytes / (double)s9->last.cpu : NAN;
	double xc_bps = xcst.cpu ? (double)xcst.bytes / (double)xcst.cpu : NAN;
	double rec_bps = xcst.cpu ? (double)xcst.cpu_rec_bytes / (double)xcst.cpu : NAN;
	double snap_ps = xcst.cpu ? (double)xcst.snap_bytes / (double)xcst.cpu : NAN;
	double perf_bps = pr.ok ? (double)pr.bytes / (double)pr.samples : NAN;

	struct conf *f1 = &confs[C_FP997], *f2 = &confs[C_FP9973];
	struct conf *n1 = &confs[C_SNAP997], *n2 = &confs[C_SNAP9973];
	struct conf *pc = &confs[C_PCAP];
	struct target tg[] = {
		{ .name = "overhead-997-fp", .what = "CPU overhead, 997 Hz, FP only",
		  .value = f1->ovh_cpu_med * 100, .limit = 1, .se = f1->se_cpu * 100, .below = 1 },
		{ .name = "overhead-9973-fp", .what = "CPU overhead, 9973 Hz, FP only",
		  .value = f2->ovh_cpu_med * 100, .limit = 5, .se = f2->se_cpu * 100, .below = 1 },
		{ .name = "snap-997", .what = "snapshots: overhead - 2 x FP-only, 997 Hz",
		  .value = (n1->ovh_cpu_med - 2 * f1->ovh_cpu_med) * 100, .limit = 0,
		  .se = sqrt_(n1->se_cpu * n1->se_cpu + 4 * f1->se_cpu * f1->se_cpu) * 100, .below = 1 },
		{ .name = "snap-9973", .what = "snapshots: overhead - 2 x FP-only, 9973 Hz",
		  .value = (n2->ovh_cpu_med - 2 * f2->ovh_cpu_med) * 100, .limit = 0,
		  .se = sqrt_(n2->se_cpu * n2->se_cpu + 4 * f2->se_cpu * f2->se_cpu) * 100, .below = 1 },
		{ .name = "snap-cost", .what = "snapshots: cost per sample / FP-only (direct)",
		  .value = cost_fp > 0 ? cost_snap / cost_fp : NAN, .limit = 2, .below = 1 },
		{ .name = "crosscheck-libdw", .what = "libdw cross-check (net, wall)",
		  .value = xc[0].net_wall, .limit = 20000, .below = 0 },
		{ .name = "rate-997", .what = "samples per CPU second / asked, 997 Hz",
		  .value = f1->eff_hz / f1->hz, .limit = 0.9, .below = 0 },
		{ .name = "rate-9973", .what = "samples per CPU second / asked, 9973 Hz",
		  .value = f2->eff_hz / f2->hz, .limit = 0.9, .below = 0 },
		/* What 10,000 parked goroutines add to the writer (wall sampling,
		 * capped), in CPU of their baseline: the cap's own target. */
		{ .name = "wall-cap", .what = "10,000 parked, capped: writer CPU added",
		  .value = (pc->writer_med - n1->writer_med) / confs[C_PBASE].cpu_med * 100,
		  .limit = 1, .below = 1 },
	};
	size_t ntg = sizeof tg / sizeof tg[0];
	for (size_t i = 0; i < ntg; i++) {
		judge(&tg[i]);
		const char *op = tg[i].below ? "<" : ">";
		if (strcmp(tg[i].name, "wall-cap") == 0)
			snprintf(tg[i].shown, sizeof tg[i].shown, "%+.2f%% %s %.0f%%", tg[i].value, op,
				 tg[i].limit);
		else if (i < 4)
			snprintf(tg[i].shown, sizeof tg[i].shown, "%+.2f%% (+-%.2f) %s %.0f%%",
				 tg[i].value, 2 * tg[i].se, op, tg[i].limit);
		else if (i == 4 || strncmp(tg[i].name, "rate-", 5) == 0)
			snprintf(tg[i].shown, sizeof tg[i].shown, "%.2fx %s %.1fx", tg[i].value, op,
				 tg[i].limit);
		else if (strcmp(tg[i].name, "crosscheck-libdw") != 0)
			snprintf(tg[i].shown, sizeof tg[i].shown, "%.2f %s %.2f", tg[i].value, op,
				 tg[i].limit);
		else
			snprintf(tg[i].shown, sizeof tg[i].shown, "%.0f samples/s %s %.0f", tg[i].value,
				 op, tg[i].limit);
	}

	if (tsv) {
		row("workload-units", (double)units, "units", 0);
		row("workload-goroutines", nprocs, "goroutines", 0);
		row("rounds", rounds, "runs", 0);
		for (int k = 0; k < NCONF; k++) {
			struct conf *cf = &confs[k];
			char n[96];
#define R(suffix, v, unit, prec) (snprintf(n, sizeof n, "%s-%s", cf->name, suffix), row(n, v, unit, prec))
			R("cpu-min", cf->cpu_min, "s", 4);
			R("cpu-median", cf->cpu_med, "s", 4);
			R("wall-min", cf->wall_min, "s", 4);
			R("wall-median", cf->wall_med, "s", 4);
			if (!cf->hz)
				continue;
			R("cpu-overhead-min", cf->ovh_cpu_min * 100, "%", 2);
			R("cpu-overhead-median", cf->ovh_cpu_med * 100, "%", 2);
			R("cpu-overhead-se", cf->se_cpu * 100, "%", 2);
			R("cpu-overhead-lo", cf->ovh_cpu_lo * 100, "%", 2);
			R("cpu-overhead-hi", cf->ovh_cpu_hi * 100, "%", 2);
			R("cpu-source", cf->last.cpu_source, "enum", 0);
			R("writer-cpu-median", cf->writer_med * 1e3, "ms", 2);
			R("wall-samples", cf->wallsamp_med, "samples", 0);
			R("wall-overhead-min", cf->ovh_wall_min * 100, "%", 2);
			R("wall-overhead-median", cf->ovh_wall_med * 100, "%", 2);
			R("wall-overhead-se", cf->se_wall * 100, "%", 2);
			R("samples", cf->samp_med, "samples", 0);
			R("expected-samples", cf->hz * cf->cpu_med, "samples", 0);
			R("effective-rate", cf->eff_hz, "Hz", 0);
			R("extra-cpu-per-sample", cf->ns_per_sample, "ns", 0);
			R("model-overhead", cf->eff_hz * (cf->snap ? cost_snap : cost_fp) / 1e7, "%", 3);
#undef R
		}
		row("signal-delivery", hfp.noop_ns, "ns", 0);
		row("handler-fp", h_fp, "ns", 0);
		row("handler-snap", h_snap, "ns", 0);
		row("handler-snap-stack-bytes", hsnap_bytes, "bytes", 0);
		for (int i = 0; i < 2; i++) {
			char n[64];
			snprintf(n, sizeof n, "crosscheck-%s", xc[i].backend);
			row(n, xc[i].net_wall, "samples/s", 0);
			snprintf(n, sizeof n, "crosscheck-%s-cpu", xc[i].backend);
			row(n, xc[i].net_cpu, "samples/s", 0);
			snprintf(n, sizeof n, "crosscheck-%s-gross", xc[i].backend);
			row(n, xc[i].gross_wall, "samples/s", 0);
		}
		row("crosscheck-samples", (double)xc[0].big.samples, "samples", 0);
		row("bytes-per-sample", xc_bps, "bytes", 0);
		row("bytes-per-sample-record", rec_bps, "bytes", 0);
		row("bytes-per-sample-9973", fpt_bps, "bytes", 0);
		row("bytes-per-sample-perf", perf_bps, "bytes", 0);
		for (size_t i = 0; i < ntg; i++)
			printf("target-%s\t%s\t%s\n", tg[i].name, tg[i].met ? "met" : "MISSED",
			       tg[i].unsure ? "within-noise" : "target");
		row("bench-seconds", t_total, "s", 1);
		return 0;
	}

	char a[32], bb[32], c1[32], d[32];
	printf("workload: cpuwork -g %d -n %ld (fixed work, checksum %s); %d rounds, %.0f s in all\n",
	       nprocs, units, checksum, rounds, t_total);
	printf("baseline CPU time: min %.3f s, median %.3f s (%.1f%% above the min: a loaded machine)\n\n",
	       b->cpu_min, b->cpu_med, bspread * 100);
	printf("%-15s %7s %7s %7s %7s  %-24s %-16s %7s %6s %9s\n", "", "cpu s", "cpu s", "wall s",
	       "wall s", "CPU overhead", "wall overhead", "samples", "rate", "extra CPU");
	printf("%-15s %7s %7s %7s %7s  %-24s %-16s %7s %6s %9s\n", "config", "min", "med", "min",
	       "med", "min / med (+-2se)", "min / med", "per run", "Hz", "ns/sample");
	for (int k = 0; k < NCONF; k++) {
		struct conf *cf = &confs[k];
		char ov1[48] = "", ov2[40] = "", sm[32] = "", hz[32] = "", ns[32] = "";
		if (cf->hz) {
			snprintf(ov1, sizeof ov1, "%s / %s (%.2f)", pct(cf->ovh_cpu_min, a, sizeof a),
				 pct(cf->ovh_cpu_med, bb, sizeof bb), 2 * cf->se_cpu * 100);
			snprintf(ov2, sizeof ov2, "%s / %s", pct(cf->ovh_wall_min, c1, sizeof c1),
				 pct(cf->ovh_wall_med, d, sizeof d));
			snprintf(sm, sizeof sm, "%.0f", cf->samp_med);
			snprintf(hz, sizeof hz, "%.0f", cf->eff_hz);
			snprintf(ns, sizeof ns, "%.0f", cf->ns_per_sample);
		}
		printf("%-15s %7.3f %7.3f %7.3f %7.3f  %-24s %-16s %7s %6s %9s\n", cf->name,
		       cf->cpu_min, cf->cpu_med, cf->wall_min, cf->wall_med, ov1, ov2, sm, hz, ns);
	}
	printf("  min: min against min; med: median of the overheads against the baseline run of\n"
	       "  the same round (se: its standard error); rate: CPU samples per CPU second;\n"
	       "  extra CPU: median CPU overhead / samples\n");
	print_rates(cost_fp, cost_snap);

	printf("\nhandler, direct: a goroutine %d frames deep sends itself SIGPROF (tgkill), %d in a\n"
	       "row, best of %d x %d batches; hot caches, so a lower bound of the cost in a program:\n",
	       HANDLER_DEPTH, HANDLER_BATCH, HANDLER_REPS, HANDLER_BATCHES);
	printf("  tgkill + delivery + no-op SA_ONSTACK handler %6.0f ns\n", hfp.noop_ns);
	printf("  profiler handler, FP only                   %7.0f ns  (handler %.0f ns)\n",
	       hfp.prof_ns, h_fp);
	printf("  profiler handler, snapshots                 %7.0f ns  (handler %.0f ns, %.0f stack "
	       "bytes/sample)\n", hsnap.prof_ns, h_snap, hsnap_bytes);
	if (hdrops)
		printf("  note: %llu samples dropped (ring full) during the direct measure\n",
		       (unsigned long long)hdrops);
	printf("  model (samples per CPU second x (delivery + handler); no writer thread):\n");
	for (int k = 1; k < NCONF; k++) {
		struct conf *cf = &confs[k];
		if (!cf->hz)
			continue;
		double per = cf->snap ? cost_snap : cost_fp;
		printf("    %-15s %5.0f/s x %5.0f ns = %.3f%% CPU\n", cf->name, cf->eff_hz, per,
		       cf->eff_hz * per / 1e7);
	}

	printf("\ncross-check: fptrace check on %llu samples (%llu cpu, %llu wall), best of %d,\n"
	       "minus a %llu-sample recording (process start-up):\n",
	       (unsigned long long)xc[0].big.samples, (unsigned long long)xcst.cpu,
	       (unsigned long long)xcst.wall, XC_REPS, (unsigned long long)xc[0].tiny.samples);
	for (int i = 0; i < 2; i++)
		printf("  %-10s %7.0f samples/s (net wall), %7.0f (net CPU), %7.0f gross; %.1f ms, "
		       "start-up %.1f ms\n", xc[i].backend, xc[i].net_wall, xc[i].net_cpu,
		       xc[i].gross_wall, xc[i].big.wall * 1e3, xc[i].tiny.wall * 1e3);

	printf("\nbytes per CPU sample:\n");
	printf("  .fpt, snapshots, 997 Hz    %6.0f  (whole file / CPU samples; the CPU sample record\n"
	       "                                     alone %.0f, of which %.0f bytes of stack)\n",
	       xc_bps, rec_bps, snap_ps);
	printf("  .fpt, snapshots, 9973 Hz   %6.0f\n", fpt_bps);
	if (pr.ok)
		printf("  perf --call-graph dwarf    %6.0f  (%llu samples, %.1f MB: %.1fx the .fpt)\n",
		       perf_bps, (unsigned long long)pr.samples, (double)pr.bytes / 1e6,
		       perf_bps / xc_bps);
	else
		printf("  perf --call-graph dwarf    skipped: %s\n", pr.note);

	printf("\ntargets:\n");
	for (size_t i = 0; i < ntg; i++)
		printf("  %-44s %-28s %s%s\n", tg[i].what, tg[i].shown, tg[i].met ? "met" : "MISSED",
		       tg[i].unsure ? " (within the noise)" : "");
	if (keep)
		printf("\nrecordings kept in %s\n", tmpdir);
	return 0;
}
