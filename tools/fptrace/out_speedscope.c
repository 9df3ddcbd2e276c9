/*
 * out_speedscope.c — the profile in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json): shared frames and one
 * "sampled" profile per sample kind present (CPU, then off-CPU wall time), as
 * Go's profiles carry several sample types.
 *
 * Weights are nanoseconds, weighed the way the pprof writer weighs them: a
 * sample's recorded weight, or the nominal period when it has none.  A merged
 * stack is one sample with the weight of all the samples merged into it, so
 * speedscope's left-heavy and sandwich views add up exactly; only its
 * time-ordered view loses the order, which merging already lost.
 */
#include <errno.h>
#include <string.h>

#include "profile.h"
#include "report.h"

static const struct {
	uint32_t kind;
	const char *name;
} kinds[] = {
	{ FPU_SAMPLE_CPU, "cpu" },
	{ FPU_SAMPLE_WALL, "wall (off-CPU)" },
};

static uint64_t stack_weight(const struct fpt_profile *p, const struct fpt_stack *st)
{
	return st->weight_ns ? st->weight_ns : st->samples * p->period_ns;
}

static int has_kind(const struct fpt_profile *p, uint32_t kind)
{
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].kind == kind && p->stacks[i].samples)
			return 1;
	return 0;
}

static void put_frames(FILE *out, const struct fpt_profile *p)
{
	fputs("\"shared\":{\"frames\":[", out);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct fpt_frame *f = &p->frames[i];

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
		fpt_json_string(out, f->function[0] ? f->function : "[unknown]");
		if (f->file[0]) {
			fputs(",\"file\":", out);
			fpt_json_string(out, f->file);
		} else if (f->module[0]) {   /* where to look when there is no source */
			fputs(",\"file\":", out);
			fpt_json_string(out, f->module);
		}
		if (f->line)
			fprintf(out, ",\"line\":%u", f->line);
		fputc('}', out);
	}
	fputs("]}", out);
}

/* One sampled profile of the stacks of one kind; stacks are written root first. */
static void put_profile(FILE *out, const struct fpt_profile *p, uint32_t kind,
			const char *kind_name, const char *name)
{
	uint64_t total = 0;
	int first = 1;

	fputs("\n{\"type\":\"sampled\",\"name\":", out);
	char title[512];
	snprintf(title, sizeof title, "%s: %s", kind_name, name);
	fpt_json_string(out, title);
	fputs(",\"unit\":\"nanoseconds\",\"startValue\":0,\"samples\":[", out);
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fpt_stack *st = &p->stacks[i];

		if (st->kind != kind || !st->samples)
			continue;
		fputs(first ? "\n[" : ",\n[", out);
		first = 0;
		for (uint32_t d = st->depth; d-- > 0;)
			fprintf(out, "%u%s", st->frames[d], d ? "," : "");
		fputc(']', out);
	}
	fputs("],\"weights\":[", out);
	first = 1;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fpt_stack *st = &p->stacks[i];

		if (st->kind != kind || !st->samples)
			continue;
		fprintf(out, "%s%llu", first ? "" : ",", (unsigned long long)stack_weight(p, st));
		first = 0;
		total += stack_weight(p, st);
	}
	fprintf(out, "],\"endValue\":%llu}", (unsigned long long)total);
}

int fpt_write_speedscope(FILE *out, const struct fpt_profile *p, const char *name,
			 char *err, size_t errlen)
{
	int nprofiles = 0;

	if (!name || !*name)
		name = p->exe && *p->exe ? p->exe : "fptrace profile";
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
	      "\"exporter\":\"fptrace\",\"name\":", out);
	fpt_json_string(out, name);
	fputs(",\"activeProfileIndex\":0,\n", out);
	put_frames(out, p);
	fputs(",\n\"profiles\":[", out);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (!has_kind(p, kinds[k].kind))
			continue;
		if (nprofiles++)
			fputc(',', out);
		put_profile(out, p, kinds[k].kind, kinds[k].name, name);
	}
	/* An empty recording still gets its (empty) CPU profile: speedscope
	 * refuses a file without profiles. */
	if (!nprofiles)
		put_profile(out, p, kinds[0].kind, kinds[0].name, name);
	fputs("]}\n", out);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "speedscope: write error: %s", strerror(errno));
		return -1;
	}
	return 0;
}
