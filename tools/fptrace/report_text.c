/*
 * report_text.c — the profile as a table of functions: self samples (the frame
 * was the leaf) and total samples (the frame was anywhere on the stack, counted
 * once per stack however deep the recursion).
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

struct row {
	uint32_t frame;
	uint64_t self, total;
};

void fpt_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static int by_self(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->self != b->self)
		return a->self < b->self ? 1 : -1;
	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	return (a->frame > b->frame) - (a->frame < b->frame);
}

/* Rows sorted by self, then total; NULL on OOM. */
static struct row *tabulate(const struct fpt_profile *p)
{
	struct row *rows = calloc(p->nframes + 1, sizeof *rows);
	uint32_t *seen = calloc(p->nframes + 1, sizeof *seen);   /* stack id + 1 */
	if (!rows || !seen) {
		free(rows);
		free(seen);
		return NULL;
	}
	for (size_t f = 0; f < p->nframes; f++)
		rows[f].frame = (uint32_t)f;
	for (size_t s = 0; s < p->nstacks; s++) {
		const struct fpt_stack *st = &p->stacks[s];
		if (st->depth)
			rows[st->frames[0]].self += st->samples;
		for (uint32_t i = 0; i < st->depth; i++) {
			uint32_t f = st->frames[i];
			if (seen[f] == s + 1)
				continue;
			seen[f] = (uint32_t)s + 1;
			rows[f].total += st->samples;
		}
	}
	free(seen);
	qsort(rows, p->nframes, sizeof *rows, by_self);
	return rows;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

void fpt_report_text(FILE *out, const struct fpt_analysis *a, unsigned top)
{
	const struct fpt_profile *p = &a->profile;
	struct row *rows = tabulate(p);
	uint64_t total = p->total_samples;

	fprintf(out, "# %s: %llu samples", a->cmdline ? a->cmdline : p->exe,
		(unsigned long long)total);
	/*
	 * CPU samples stand for CPU time, wall samples for goroutine time off CPU;
	 * both by their weights (a CPU sample may stand for several timer periods
	 * the kernel folded into one signal).
	 */
	uint64_t w[3] = { 0, 0, 0 };
	for (size_t i = 0; i < p->nstacks; i++)
		w[p->stacks[i].kind == FPU_SAMPLE_WALL ? 2 : 1] += p->stacks[i].weight_ns;
	if (a->hz && a->samples_cpu)
		fprintf(out, ", %llu cpu at %u Hz (%.2f s of CPU)",
			(unsigned long long)a->samples_cpu, a->hz, (double)w[1] / 1e9);
	if (a->wall_hz && a->samples_wall)
		fprintf(out, ", %llu wall at %u Hz (%.2f goroutine-seconds off CPU)",
			(unsigned long long)a->samples_wall, a->wall_hz, (double)w[2] / 1e9);
	fprintf(out, "\n#\n# %7s %8s %7s %8s  %s\n", "self%", "self", "total%", "total",
		"function (module)");
	for (size_t i = 0; rows && i < p->nframes && i < top; i++) {
		const struct fpt_frame *f = &p->frames[rows[i].frame];
		const char *mod = strrchr(f->module, '/');
		fprintf(out, "  %6.2f%% %8llu %6.2f%% %8llu  %s (%s)\n", pct(rows[i].self, total),
			(unsigned long long)rows[i].self, pct(rows[i].total, total),
			(unsigned long long)rows[i].total, f->function,
			mod ? mod + 1 : (f->module[0] ? f->module : "?"));
	}
	free(rows);
}

void fpt_report_json(FILE *out, const struct fpt_analysis *a, unsigned top)
{
	const struct fpt_profile *p = &a->profile;
	struct row *rows = tabulate(p);

	fprintf(out, "{\"exe\":");
	fpt_json_string(out, p->exe);
	fprintf(out, ",\"samples\":%llu,\"hz\":%u,\"functions\":[",
		(unsigned long long)p->total_samples, a->hz);
	for (size_t i = 0; rows && i < p->nframes && i < top; i++) {
		const struct fpt_frame *f = &p->frames[rows[i].frame];
		fprintf(out, "%s{\"function\":", i ? "," : "");
		fpt_json_string(out, f->function);
		fprintf(out, ",\"module\":");
		fpt_json_string(out, f->module);
		fprintf(out, ",\"file\":");
		fpt_json_string(out, f->file);
		fprintf(out, ",\"line\":%u,\"self\":%llu,\"total\":%llu}", f->line,
			(unsigned long long)rows[i].self, (unsigned long long)rows[i].total);
	}
	fprintf(out, "]}\n");
	free(rows);
}
