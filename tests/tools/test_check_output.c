/*
 * What `fptrace check` prints, on a hand-built analysis: the JSON verdict
 * carries its exit status and reason, and --top caps the defect listing, with
 * side-by-side chains only for the top sites.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { F_MAIN, F_NOFP, F_LEAF, F_LIBC, NFRAMES };

static struct fpt_frame frames[NFRAMES] = {
	[F_MAIN] = { "main", "/tmp/prog", "prog.c", 10, -1, 0x400100, 0 },
	[F_NOFP] = { "nofp", "/tmp/prog", "prog.c", 20, -1, 0x400200, 0 },
	[F_LEAF] = { "leaf", "/tmp/prog", "prog.c", 30, -1, 0x400300, 0 },
	[F_LIBC] = { "clock_gettime", "/usr/lib/x86_64-linux-gnu/libc.so.6", "", 0, -1,
		     0x7f0000001000, 1 },
};

#define NSITES 6
static struct fpt_site sites[NSITES];

/*
 * Five fp-skips sites in the program with 50, 40, 30, 20, 10 samples, and one
 * in libc with 7.  Each site's example has a distinct first FP frame so the
 * test can tell which sites printed their chains.
 */
static void make_analysis(struct fpt_analysis *a)
{
	static const uint64_t counts[NSITES] = { 10, 50, 30, 7, 20, 40 };
	memset(a, 0, sizeof *a);
	memset(sites, 0, sizeof sites);
	a->profile = (struct fpt_profile){ .frames = frames, .nframes = NFRAMES,
					   .exe = "/tmp/prog" };
	for (int i = 0; i < NSITES; i++) {
		struct fpt_site *s = &sites[i];
		s->cls = FPU_CLASS_FP_SKIPS;
		s->system = counts[i] == 7;
		s->culprit = s->system ? F_LIBC : F_NOFP;
		s->missing = -1;
		s->samples = counts[i];
		s->fp[0] = F_LEAF;
		s->fp[1] = F_MAIN;
		s->nfp = 2;
		s->dwarf[0] = F_LEAF;
		s->dwarf[1] = F_NOFP;
		s->dwarf[2] = F_MAIN;
		s->ndwarf = 3;
		s->fp_index = s->dwarf_index = 1;
		snprintf(s->stacks, sizeof s->stacks, "site with %llu samples",
			 (unsigned long long)counts[i]);
	}
	a->backend[0].used = 1;
	a->backend[0].sites = sites;
	a->backend[0].nsites = NSITES;
	a->backend[0].classes[FPU_CLASS_MATCH] = 1000;
	a->backend[0].classes[FPU_CLASS_FP_SKIPS] = 157;
	a->samples = a->samples_cpu = 1157;
	a->cmdline = "/tmp/prog";
}

static char *print(const struct fpt_analysis *a, const struct fpt_check_opts *o, int *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	*status = fpt_check_print(f, a, o);
	fclose(f);
	return buf;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *s = text; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

Test(check_output, json_carries_verdict_status_and_reason)
{
	struct fpt_analysis a;
	struct fpt_check_opts o = { .json = 1, .top = 20 };
	int status;
	make_analysis(&a);
	char *j = print(&a, &o, &status);
	cr_assert_eq(status, 3);
	cr_assert_not_null(strstr(j, "\"verdict\":\"fail\",\"exit_status\":3,\"reason\":\"150 "
				     "defect samples in the code under test, more than --max-defects 0; "
				     "7 in system libraries do not count without --strict\","), "%s", j);
	/* The verdict follows the counts that scripts read first. */
	static const char counts[] = "{\"samples\":1157,\"cpu\":1157,\"wall\":0,\"defects\":150,";
	cr_assert(strncmp(j, counts, strlen(counts)) == 0, "%s", j);
	free(j);

	o.max_defects = 150;
	j = print(&a, &o, &status);
	cr_assert_eq(status, 0);
	cr_assert_not_null(strstr(j, "\"verdict\":\"ok\",\"exit_status\":0,\"reason\":\"150 defect "
				     "samples in the code under test, within --max-defects 150;"), "%s", j);
	free(j);

	o.strict = 1;
	j = print(&a, &o, &status);
	cr_assert_eq(status, 3);
	cr_assert_not_null(strstr(j, "\"reason\":\"157 defect samples, more than --max-defects 150\""),
			   "%s", j);
	free(j);
}

Test(check_output, json_error_object)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fpt_check_print_error_json(f, 1, "p.fpt: no \"samples\" to check");
	fclose(f);
	cr_assert_str_eq(buf, "{\"verdict\":\"error\",\"exit_status\":1,"
			      "\"reason\":\"p.fpt: no \\\"samples\\\" to check\"}\n");
	free(buf);
}

Test(check_output, top_caps_the_listing_and_chains_go_with_the_top_sites)
{
	struct fpt_analysis a;
	struct fpt_check_opts o = { .top = 4 };
	int status;
	make_analysis(&a);
	char *t = print(&a, &o, &status);
	cr_assert_eq(status, 3);
	/* Most samples first, four of the five program sites, then a summary. */
	const char *s50 = strstr(t, "site with 50 samples"), *s40 = strstr(t, "site with 40 samples");
	const char *s30 = strstr(t, "site with 30 samples"), *s20 = strstr(t, "site with 20 samples");
	cr_assert(s50 && s40 && s30 && s20 && s50 < s40 && s40 < s30 && s30 < s20, "%s", t);
	cr_assert_null(strstr(t, "site with 10 samples"), "%s", t);
	cr_assert_not_null(strstr(t, "  ... 1 more sites with 10 samples (--top 5 lists them)"), "%s", t);
	/* Chains for the top three only. */
	cr_assert_eq(count(t, "frame-pointer chain"), FPT_CHECK_CHAINS, "%s", t);
	cr_assert_null(strstr(s20, "frame-pointer chain"), "%s", t);
	/* The system library section is capped on its own and has its site. */
	cr_assert_not_null(strstr(t, "site with 7 samples"), "%s", t);
	cr_assert_not_null(strstr(t, "verdict: FAIL: 150 defect samples in the code under test, "
				     "more than --max-defects 0"), "%s", t);
	free(t);
}

/*
 * Most samples not unwound with DWARF: a clean verdict would rest on the few
 * that were, so the check cannot judge (exit 1) and says why; defects found in
 * the few still fail it (exit 3).
 */
Test(check_output, too_few_unwound_cannot_pass_but_defects_still_fail)
{
	struct fpt_analysis a;
	struct fpt_check_opts o = { .top = 20, .max_defects = 1000 };
	char reason[512];
	make_analysis(&a);
	a.backend[0].classes[FPU_CLASS_MATCH] = 400;
	a.backend[0].classes[FPU_CLASS_DWARF_FAIL] = 600;
	a.backend[0].outside_snapshot = 600;
	cr_assert_eq(fpt_check_verdict(&a, &o, reason, sizeof reason), 1);
	cr_assert(strncmp(reason, "only 557 of 1157 samples (48.1%) could be unwound with DWARF, "
			  "fewer than 50%: too few were checked to call the program clean (most "
			  "read past their stack copy: raise fptrace record --snapshot-max, or "
			  "perf record --call-graph dwarf,SIZE)", 200) == 0, "%s", reason);
	int status;
	char *t = print(&a, &o, &status);
	cr_assert_eq(status, 1);
	cr_assert_not_null(strstr(t, "\nverdict: cannot judge: only 557 of 1157 samples"), "%s", t);
	free(t);
	o.json = 1;
	t = print(&a, &o, &status);
	cr_assert_not_null(strstr(t, "\"verdict\":\"error\",\"exit_status\":1,"), "%s", t);
	free(t);

	o.max_defects = 0;   /* the 150 defect samples are proven: they fail */
	cr_assert_eq(fpt_check_verdict(&a, &o, reason, sizeof reason), 3, "%s", reason);

	o.max_defects = 1000;   /* half unwound is enough */
	a.backend[0].classes[FPU_CLASS_DWARF_FAIL] = 578;
	cr_assert_eq(fpt_check_verdict(&a, &o, reason, sizeof reason), 0, "%s", reason);
}

/* Most samples without a byte of stack (perf record --call-graph fp). */
Test(check_output, samples_without_stack_dumps_cannot_be_checked)
{
	struct fpt_analysis a;
	char reason[512];
	make_analysis(&a);
	a.samples_no_stack = a.samples / 2;
	cr_assert_eq(fpt_check_has_stacks(&a, "p.data", reason, sizeof reason), 0);
	a.samples_no_stack = a.samples / 2 + 1;
	cr_assert_eq(fpt_check_has_stacks(&a, "p.data", reason, sizeof reason), -1);
	cr_assert_str_eq(reason, "p.data: no user stack dumps in 579 of 1157 samples: record with "
				 "--call-graph dwarf (perf record --call-graph fp copies no stack, so "
				 "DWARF cannot check a single frame)");
}

/* Under 100 samples the verdict says how few it rests on; from 100, nothing. */
Test(check_output, few_samples_are_said)
{
	struct fpt_analysis a;
	struct fpt_check_opts o = { .top = 20, .max_defects = 1000 };
	int status;
	make_analysis(&a);
	char *t = print(&a, &o, &status);
	cr_assert_null(strstr(t, "rests on"), "%s", t);
	free(t);
	a.samples = a.samples_cpu = 99;
	a.backend[0].classes[FPU_CLASS_MATCH] = 0;
	a.backend[0].classes[FPU_CLASS_FP_SKIPS] = 99;
	t = print(&a, &o, &status);
	cr_assert_not_null(strstr(t, "\nthe verdict rests on 99 samples (fewer than 100): record "
				     "for longer or at a higher rate\n"), "%s", t);
	free(t);
}

/*
 * The libc of the sites above is the real one, which Debian builds without
 * frame pointers.  With two sites there, they become one line (the audit's
 * verdicts decide), while /tmp/prog, which the audit cannot open, keeps its
 * sites listed.  A single site stays a site (the top_caps test above).
 */
Test(check_output, module_without_frame_pointers_is_one_line)
{
	struct fpt_analysis a;
	struct fpt_check_opts o = { .top = 20 };
	int status;
	make_analysis(&a);
	sites[0].system = 1;            /* the site with 10 samples moves into libc */
	sites[0].culprit = F_LIBC;
	char *t = print(&a, &o, &status);
	const char *sys = strstr(t, "\nDefects in system libraries");
	cr_assert_not_null(sys, "%s", t);
	cr_assert_not_null(strstr(sys, "\n  libc.so.6: built without frame pointers ("), "%s", t);
	cr_assert_not_null(strstr(sys, " functions that call keep no frame record), 2 sites, "
				       "17 samples (1.5% of all)\n"), "%s", t);
	cr_assert_null(strstr(t, "site with 7 samples"), "%s", t);
	cr_assert_null(strstr(t, "site with 10 samples"), "%s", t);
	cr_assert_not_null(strstr(t, "site with 20 samples"), "%s", t);
	free(t);

	o.json = 1;
	char *j = print(&a, &o, &status);
	cr_assert_not_null(strstr(j, "\"modules_without_frame_pointers\":[{\"module\":"
				     "\"/usr/lib/x86_64-linux-gnu/libc.so.6\",\"system\":true,"
				     "\"sites\":2,\"samples\":17,"), "%s", j);
	free(j);

	o.json = 0;
	o.all_sites = 1;
	t = print(&a, &o, &status);
	cr_assert_null(strstr(t, "built without frame pointers"), "%s", t);
	cr_assert_not_null(strstr(t, "site with 7 samples"), "%s", t);
	free(t);
}
