/*
 * test_perfdata_rewind.c — fpt_perfdata_rewind and fpt_source_rewind: after a
 * full pass, the records come again, the same ones in the same order as from
 * a fresh open (the analysis reads a file twice and no longer opens it twice:
 * a perf.data's open reads the whole file to choose its process).  The file
 * is recorded by the real perf from a shell loop (CPU work, nothing timed).
 *
 * Skipped (failed under CI=true) when perf cannot record here.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci_skip.h"
#include "scratch.h"
#include "perfdata.h"

static char tmpdir[256], data[320];

static void remove_scratch(void)
{
	fpt_scratch_remove(tmpdir);
}

static void setup(void)
{
	char cmd[1024];
	fpt_scratch_make(tmpdir, sizeof tmpdir, "rewind");
	snprintf(data, sizeof data, "%s/loop.data", tmpdir);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && command -v perf >/dev/null 2>&1 && perf record -q -e cpu-clock -F 2000 "
		 "--call-graph dwarf,1024 -o loop.data -- sh -c 'i=0; while [ $i -lt 200000 ]; do "
		 "i=$((i+1)); done' >perf.log 2>&1", tmpdir);
	if (system(cmd) != 0) {
		fpt_scratch_remove(tmpdir);
		fpt_skip_test("perf cannot record here (perf record -e cpu-clock failed, or no perf)");
	}
}

TestSuite(perfdata_rewind, .init = setup, .fini = remove_scratch, .timeout = 120);

/* A fingerprint of one pass: records, samples, and a hash of what they say. */
struct pass {
	uint64_t records, samples, mappings, hash;
};

static void fold(struct pass *p, uint64_t v)
{
	p->hash = (p->hash ^ v) * 0x100000001b3ull;
}

static struct pass read_pass(struct fpt_source *s)
{
	struct pass p = { .hash = 0xcbf29ce484222325ull };
	struct fpu_record rec;
	int rc;
	while ((rc = fpt_source_next(s, &rec)) > 0) {
		p.records++;
		fold(&p, rec.type);
		fold(&p, rec.offset);
		if (rec.type == FPU_REC_SAMPLE) {
			p.samples++;
			fold(&p, rec.u.sample.regs[FPU_REG_RIP]);
			fold(&p, rec.u.sample.nfp);
		} else if (rec.type == FPU_REC_MAPPING) {
			p.mappings++;
			fold(&p, rec.u.mapping.start);
		} else if (rec.type == FPU_REC_END) {
			fold(&p, rec.u.end.samples);
		}
	}
	cr_assert_eq(rc, 0, "%s", fpt_source_error(s));
	return p;
}

Test(perfdata_rewind, second_pass_is_a_fresh_open)
{
	struct fpt_source s;
	cr_assert_eq(fpt_source_open(&s, data), 0, "%s", fpt_source_error(&s));
	cr_assert_eq(s.kind, FPT_SOURCE_PERF);
	struct pass first = read_pass(&s);
	cr_assert_eq(fpt_source_rewind(&s, data), 0, "%s", fpt_source_error(&s));
	struct pass again = read_pass(&s);
	/* half a pass, then from the start once more */
	struct fpu_record rec;
	cr_assert_eq(fpt_source_rewind(&s, data), 0, "%s", fpt_source_error(&s));
	for (uint64_t i = 0; i < first.records / 2; i++)
		cr_assert_eq(fpt_source_next(&s, &rec), 1);
	cr_assert_eq(fpt_source_rewind(&s, data), 0, "%s", fpt_source_error(&s));
	struct pass third = read_pass(&s);
	fpt_source_close(&s);

	cr_assert_eq(fpt_source_open(&s, data), 0, "%s", fpt_source_error(&s));
	struct pass fresh = read_pass(&s);
	fpt_source_close(&s);

	fprintf(stderr, "perfdata_rewind: %llu records, %llu samples, %llu mappings\n",
		(unsigned long long)fresh.records, (unsigned long long)fresh.samples,
		(unsigned long long)fresh.mappings);
	cr_assert_gt(fresh.samples, 20, "only %llu samples", (unsigned long long)fresh.samples);
	cr_assert_gt(fresh.mappings, 0);
	const struct pass *passes[3] = { &first, &again, &third };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(passes[i]->records, fresh.records, "pass %d: %llu records, a fresh "
			     "open %llu", i, (unsigned long long)passes[i]->records,
			     (unsigned long long)fresh.records);
		cr_assert_eq(passes[i]->samples, fresh.samples, "pass %d", i);
		cr_assert_eq(passes[i]->mappings, fresh.mappings, "pass %d", i);
		cr_assert_eq(passes[i]->hash, fresh.hash, "pass %d: other records", i);
	}
}
