/*
 * util.c — build/bench/prof's helpers: messages, statistics, running a child
 * and reading the .fpt it wrote.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fpu_record.h"
#include "prof.h"

char tmpdir[PATH_MAX];
char cpuwork[PATH_MAX], fptrace[PATH_MAX], self[PATH_MAX];
int verbose;

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("prof: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void progress(const char *fmt, ...)
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

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bench links no libm. */
double sqrt_(double x)
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

double vmin(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double vmax(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

double vmedian(const double *v, int n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- running a child ------------------------------------------------------ */

/* Standard error of the median of v: 1.2533 sigma / sqrt(n), sigma from the MAD. */
double median_se(const double *v, int n)
{
	double m = vmedian(v, n), dev[MAX_ROUNDS];
	for (int i = 0; i < n; i++)
		dev[i] = fabs(v[i] - m);
	return 1.2533 * 1.4826 * vmedian(dev, n) / sqrt_((double)n);
}

const char *pct(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.2f%%", v * 100);
	return buf;
}

/*
 * Runs argv with env ("NAME=VALUE" strings, NULL-terminated, may be NULL) added
 * to this environment minus every FPTRACE_* variable; captures stdout (and
 * stderr with merge_stderr).  Wall time is fork to reap; CPU time is the
 * child's user+sys from wait4 (its threads included).  -1 if it could not run.
 */
int run_child(char *const argv[], const char *const env[], int merge_stderr,
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

const char *describe_status(int st, char *buf, size_t len)
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
void read_fpt(const char *path, struct fpt_stats *st)
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
