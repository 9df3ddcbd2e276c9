/*
 * overhead.c — the workload (build/progs/cpuwork) under each configuration, in
 * rounds of a rotating order, the paired overheads against the unprofiled run
 * of the same round, and where the overhead goes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fpu_record.h"
#include "prof.h"

struct conf confs[NCONF] = {
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

char checksum[64];
int nprocs = 2;

void workload_args(long units, char *nbuf, size_t nlen, char *gbuf, size_t glen,
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
void run_workload(long units, unsigned hz, long snap, const char *out,
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

/*
 * Rounds of one run per configuration, in a rotating order: max_rounds, or
 * (budget > 0) as many as fit in budget seconds, at least MIN_ROUNDS.
 * Returns the number of rounds run.
 */
int measure_overheads(int max_rounds, double budget, long units)
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
				cf->rate[r] = cf->samples[r] / c.cpu;
				cf->bps[r] = cf->last.cpu ? (double)cf->last.bytes / (double)cf->last.cpu
							  : NAN;
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
		cf->rate_lo = vmin(cf->rate, rounds);
		cf->rate_hi = vmax(cf->rate, rounds);
		cf->bps_med = vmedian(cf->bps, rounds);
		cf->bps_lo = vmin(cf->bps, rounds);
		cf->bps_hi = vmax(cf->bps, rounds);
		cf->ns_per_sample = cf->samp_med > 0 ? cf->ovh_cpu_med * b->cpu_med / cf->samp_med * 1e9
						     : NAN;
	}
	return rounds;
}

/*
 * The rate each profiled configuration got against the one it asked for, the
 * source that took it, and where its CPU overhead went: the handler (samples
 * per CPU second x the direct cost of one), the writer thread (its own CPU
 * time, against the baseline's CPU time) and the rest (caches, the kernel's
 * side of the perf event or timer, noise).
 */
void print_rates(double cost_fp, double cost_snap)
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
	printf("  taken per CPU s, range of the rounds:");
	for (int k = 0, n = 0; k < NCONF; k++)
		if (confs[k].hz)
			printf("%s %s %.0f..%.0f", n++ % 3 ? "," : "\n   ", confs[k].name,
			       confs[k].rate_lo, confs[k].rate_hi);
	printf("\n");
	if (timer)
		printf("  note: a timer source (FPRT_PROF_MODE=timer, or perf_event_open refused)\n"
		       "  expires on the scheduler tick, so a thread gets at most ~CONFIG_HZ samples\n"
		       "  per CPU second whatever FPTRACE_HZ says (each weighs 1 + si_overrun\n"
		       "  periods, so CPU time stays right)\n");
}
