/*
 * bench/prof/main.c — what the fprt in-process profiler costs, in one run, on one
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"
#include "fpu_record.h"
#include "prof.h"

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
			R("effective-rate-lo", cf->rate_lo, "Hz", 0);
			R("effective-rate-hi", cf->rate_hi, "Hz", 0);
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
		row("bytes-per-sample-997-median", n1->bps_med, "bytes", 0);
		row("bytes-per-sample-997-lo", n1->bps_lo, "bytes", 0);
		row("bytes-per-sample-997-hi", n1->bps_hi, "bytes", 0);
		row("bytes-per-sample-9973-median", n2->bps_med, "bytes", 0);
		row("bytes-per-sample-9973-lo", n2->bps_lo, "bytes", 0);
		row("bytes-per-sample-9973-hi", n2->bps_hi, "bytes", 0);
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
	printf("  per round, median [range] of %d: 997 Hz %.0f [%.0f..%.0f], 9973 Hz %.0f "
	       "[%.0f..%.0f]\n", rounds, n1->bps_med, n1->bps_lo, n1->bps_hi, n2->bps_med,
	       n2->bps_lo, n2->bps_hi);
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
