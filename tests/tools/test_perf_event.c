/*
 * test_perf_event.c — the perf_event_open recorder's -e EVENT and -c PERIOD
 * (fpt_record_opts.event, .period) with the real kernel interface, on a shell
 * loop that burns CPU for a fixed amount of work (no timing).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "ci_skip.h"
#include "fpu_record.h"
#include "fpt_perf_event.h"
#include "perf_record.h"

static char *busy_argv[] = { "sh", "-c",
			     "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done", NULL };

struct got {
	uint64_t samples, other_weights;
	uint32_t sample_hz;
};

/* Record busy_argv with o (out set here) and read the file back. */
static int record(struct fpt_record_opts *o, struct got *g, char *err, size_t errlen)
{
	char out[64];
	snprintf(out, sizeof out, "/tmp/test_perf_event_%d.fpt", (int)getpid());
	o->out_path = out;
	int st = 0;
	memset(g, 0, sizeof *g);
	if (fpt_perf_record(busy_argv, o, &st, err, errlen) != 0)
		return -1;
	struct fpu_reader r;
	struct fpu_record rec;
	cr_assert_eq(fpu_reader_open(&r, out), 0, "%s", fpu_reader_error(&r));
	while (fpu_reader_next(&r, &rec) == 1) {
		if (rec.type == FPU_REC_PROCESS)
			g->sample_hz = rec.u.process.sample_hz;
		if (rec.type == FPU_REC_SAMPLE) {
			g->samples++;
			g->other_weights += rec.u.sample.weight != o->period;
		}
	}
	fpu_reader_close(&r);
	unlink(out);
	return 0;
}

Test(perf_event, period_of_the_clock)
{
	fpt_need_perf_event();
	struct fpt_record_opts o = { .period = 2000000 };
	struct got g;
	char err[512] = "";
	cr_assert_eq(record(&o, &g, err, sizeof err), 0, "%s", err);
	cr_assert_gt(g.samples, 0);
	/* a fixed period: every sample stands for exactly that many ns */
	cr_expect_eq(g.other_weights, 0, "%llu of %llu samples weigh other than -c 2000000",
		     (unsigned long long)g.other_weights, (unsigned long long)g.samples);
	cr_expect_eq(g.sample_hz, 500, "PROCESS says %u Hz", g.sample_hz);
}

Test(perf_event, task_clock)
{
	fpt_need_perf_event();
	struct fpt_record_opts o = { .event = "task-clock", .period = 1000000 };
	struct got g;
	char err[512] = "";
	cr_assert_eq(record(&o, &g, err, sizeof err), 0, "%s", err);
	cr_expect_gt(g.samples, 0);
	cr_expect_eq(g.other_weights, 0);
	cr_expect_eq(g.sample_hz, 1000);
}

/* A hardware event: recorded where the machine has a PMU, refused with the
 * reason where it has none (a VM without a virtual PMU: this one). */
Test(perf_event, hardware_event)
{
	fpt_need_perf_event();
	int has_pmu = access("/sys/bus/event_source/devices/cpu", F_OK) == 0 ||
		      access("/sys/bus/event_source/devices/cpu_core", F_OK) == 0;
	struct fpt_record_opts o = { .event = "cycles" };
	struct got g;
	char err[512] = "";
	int rc = record(&o, &g, err, sizeof err);
	if (has_pmu) {
		cr_expect_eq(rc, 0, "%s", err);
		return;
	}
	cr_assert_eq(rc, -1, "-e cycles recorded %llu samples on a machine without a PMU",
		     (unsigned long long)g.samples);
	cr_expect(strstr(err, "-e cycles: this machine has no hardware performance counters"),
		  "%s", err);
}

Test(perf_event, unknown_event)
{
	struct fpt_record_opts o = { .event = "cpu-clocks" };
	struct got g;
	char err[512] = "";
	cr_assert_eq(record(&o, &g, err, sizeof err), -1);
	cr_expect(strstr(err, "-e cpu-clocks: no such event (there are cpu-clock, task-clock, "),
		  "%s", err);
}

Test(perf_event, names)
{
	cr_assert_not_null(fpt_perf_event_find(NULL));
	cr_expect_str_eq(fpt_perf_event_find(NULL)->name, "cpu-clock");
	cr_expect_eq(fpt_perf_event_find("task-clock")->config, PERF_COUNT_SW_TASK_CLOCK);
	cr_expect_eq(fpt_perf_event_find("cpu-cycles")->config, PERF_COUNT_HW_CPU_CYCLES);
	cr_expect_eq(fpt_perf_event_find("instructions")->type, PERF_TYPE_HARDWARE);
	cr_expect_null(fpt_perf_event_find("cycle"));
}
