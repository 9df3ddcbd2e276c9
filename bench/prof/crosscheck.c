/*
 * crosscheck.c — `fptrace check` throughput on a recording of the workload,
 * and perf.data's bytes per sample of `perf record --call-graph dwarf` on it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "prof.h"

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

void measure_crosscheck(long units, struct xc xc[2], struct fpt_stats *bigst)
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
void measure_perf(long units, struct perf_result *pr)
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

