/*
 * `fptrace report` as text and JSON on a hand-built analysis whose every value
 * is known: CPU and wall samples in separate tables, time weighed by the
 * samples' recorded weights (or by the nominal period when they have none),
 * and no row for a frame that occurs in no stack.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum { F_MAIN, F_HOT, F_COOL, F_GOPARK, F_CHANRECV, F_PHANTOM, NFRAMES };

static struct fpt_frame frames[NFRAMES] = {
	[F_MAIN] = { "main", "/tmp/prog", "prog.c", 10, -1, 0x400100, 0 },
	[F_HOT] = { "hot", "/tmp/prog", "prog.c", 20, -1, 0x400200, 0 },
	[F_COOL] = { "cool", "/tmp/prog", "prog.c", 30, -1, 0x400300, 0 },
	[F_GOPARK] = { "rt_gopark", "/tmp/prog", "proc.c", 40, -1, 0x400400, 0 },
	[F_CHANRECV] = { "rt_chan_recv", "/tmp/prog", "chan.c", 50, -1, 0x400500, 0 },
	/* Interned for a frame-pointer chain only: a garbage return address. */
	[F_PHANTOM] = { "0", "", "", 0, -1, 0, 0 },
};

static uint32_t st_hot[] = { F_HOT, F_MAIN };
static uint32_t st_cool[] = { F_COOL, F_MAIN };
static uint32_t st_park[] = { F_GOPARK, F_CHANRECV, F_MAIN };

#define MS 1000000ull
/*
 * hot: 1 sample that stands for 3 ms (the kernel folded 3 timer periods into
 * one signal); cool: 2 samples of 1 ms.  By count cool leads, by time hot.
 * The wall stack has no weight: 100 Hz makes each sample 10 ms.
 */
static struct fpt_stack stacks[] = {
	{ st_hot, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 1, 3 * MS, 0 },
	{ st_cool, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 2, 2 * MS, 0 },
	{ st_park, 3, FPU_SAMPLE_WALL, FPU_CLASS_MATCH, -1, 50, 0, 0 },
};

static void make_analysis(struct fpt_analysis *a, size_t nstacks)
{
	memset(a, 0, sizeof *a);
	a->profile = (struct fpt_profile){ .frames = frames, .nframes = NFRAMES,
					   .stacks = stacks, .nstacks = nstacks,
					   .period_ns = MS, .exe = "/tmp/prog" };
	for (size_t i = 0; i < nstacks; i++) {
		a->profile.total_samples += stacks[i].samples;
		*(stacks[i].kind == FPU_SAMPLE_WALL ? &a->samples_wall : &a->samples_cpu) +=
			stacks[i].samples;
	}
	a->samples = a->profile.total_samples;
	a->hz = 1000;
	a->wall_hz = 100;
	a->cmdline = "/tmp/prog";
}

static char *report(void (*fn)(FILE *, const struct fpt_analysis *, unsigned),
		    const struct fpt_analysis *a, unsigned top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	fn(f, a, top);
	fclose(f);
	return buf;
}

/* The line of the table that names function fn in the section after `from`. */
static const char *row_of(const char *text, const char *from, const char *fn)
{
	const char *s = strstr(text, from);
	cr_assert_not_null(s, "no section '%s' in:\n%s", from, text);
	char needle[64];
	snprintf(needle, sizeof needle, "  %s (", fn);
	const char *r = strstr(s, needle);
	if (!r)
		return NULL;
	while (r > text && r[-1] != '\n')
		r--;
	return r;
}

Test(report_text, no_row_for_a_frame_in_no_stack)
{
	struct fpt_analysis a;
	make_analysis(&a, 3);
	char *t = report(fpt_report_text, &a, 20);
	cr_assert_null(strstr(t, "  0 ("), "phantom row for frame \"0\":\n%s", t);
	cr_assert_null(strstr(t, " (?)"), "a row without a module:\n%s", t);
	free(t);
	char *j = report(fpt_report_json, &a, 20);
	cr_assert_null(strstr(j, "\"function\":\"0\""), "phantom JSON row:\n%s", j);
	free(j);
}

Test(report_text, cpu_and_wall_in_separate_tables)
{
	struct fpt_analysis a;
	make_analysis(&a, 3);
	char *t = report(fpt_report_text, &a, 20);
	cr_assert(strncmp(t, "# /tmp/prog: 53 samples, 3 cpu at 1000 Hz (0.01 s of CPU), 50 wall "
			  "at 100 Hz (0.50 goroutine-seconds off CPU)\n", 97) == 0, "%s", t);
	const char *cpu = strstr(t, "\n# cpu: 5ms of CPU time\n");
	const char *wall = strstr(t, "\n# wall: 500ms of goroutine time off CPU\n");
	cr_assert(cpu && wall && cpu < wall, "headings:\n%s", t);
	/* rt_gopark is 100% of the wall table and absent from the CPU table. */
	const char *park = row_of(t, "# wall:", "rt_gopark");
	cr_assert(park && park > wall, "%s", t);
	cr_assert(strstr(park, "100.00%     500ms       50 100.00%     500ms       50") == park + 2,
		  "wall row: %.80s", park);
	const char *in_cpu = strstr(cpu, "rt_gopark");
	cr_assert(in_cpu > wall, "rt_gopark in the CPU table:\n%s", t);
	free(t);
}

Test(report_text, time_weighed_by_sample_weights)
{
	struct fpt_analysis a;
	make_analysis(&a, 2);
	char *t = report(fpt_report_text, &a, 20);
	const char *hot = row_of(t, "# cpu:", "hot"), *cool = row_of(t, "# cpu:", "cool");
	/* By samples cool (2) beats hot (1); by time hot (3 ms of 5) leads. */
	cr_assert(hot && cool && hot < cool, "order by time:\n%s", t);
	cr_assert(strncmp(hot, "   60.00%       3ms        1", 28) == 0, "hot: %.60s", hot);
	cr_assert(strncmp(cool, "   40.00%       2ms        2", 28) == 0, "cool: %.60s", cool);
	cr_assert_null(strstr(t, "# wall:"), "a wall table without wall samples:\n%s", t);
	free(t);
}

Test(report_text, top_caps_rows_and_says_how_many_more)
{
	struct fpt_analysis a;
	make_analysis(&a, 2);
	char *t = report(fpt_report_text, &a, 1);
	cr_assert_not_null(strstr(t, "  hot ("), "%s", t);
	cr_assert_null(strstr(t, "  cool ("), "%s", t);
	cr_assert_not_null(strstr(t, "... 2 more functions (fptrace report --top 3 lists them)"), "%s", t);
	free(t);
}
