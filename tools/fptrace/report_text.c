/*
 * report_text.c — the profile as a table of functions: self (the frame was the
 * leaf) and total (the frame was anywhere on the stack, counted once per stack
 * however deep the recursion), in time and in samples.
 *
 * CPU samples and wall samples measure different things (time on a CPU, time a
 * goroutine spent off CPU), so each kind gets its own table and its own 100%:
 * one table mixing them would rank a parked goroutine's rt_gopark next to a
 * CPU hog.  Time is weighed as pprof weighs it: a sample's recorded weight (a
 * CPU sample may stand for several timer periods the kernel folded into one
 * signal), or the nominal period of its kind when the recording has none.
 *
 * A module built without frame pointers gets a line in the heading: its
 * frame-pointer stacks are broken, so perf's or any FP profiler's view of it
 * is wrong, while this table (DWARF's stacks) is not.
 */
#include "report.h"
#include "nofp_modules.h"

#include <stdlib.h>
#include <string.h>

struct row {
	uint32_t frame;
	uint64_t self, total;         /* samples */
	uint64_t self_ns, total_ns;   /* weighed time */
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

static int kind_bit(uint32_t kind)
{
	return kind == FPU_SAMPLE_WALL ? FPT_KIND_WALL : FPT_KIND_CPU;
}

/* The time a merged stack stands for; the nominal period when unweighed. */
static uint64_t stack_ns(const struct fpt_analysis *a, const struct fpt_stack *st)
{
	if (st->weight_ns)
		return st->weight_ns;
	unsigned hz = st->kind == FPU_SAMPLE_WALL ? a->wall_hz : a->hz;
	return hz ? st->samples * (1000000000ull / hz) : st->samples * a->profile.period_ns;
}

static int by_self(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->self_ns != b->self_ns)
		return a->self_ns < b->self_ns ? 1 : -1;
	if (a->total_ns != b->total_ns)
		return a->total_ns < b->total_ns ? 1 : -1;
	if (a->self != b->self)
		return a->self < b->self ? 1 : -1;
	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	return (a->frame > b->frame) - (a->frame < b->frame);
}

/*
 * Rows of the functions that occur in the stacks of the kinds in `kinds`,
 * sorted by self time, then total time; *nrows of them; NULL on OOM.  Frames
 * interned only for a frame-pointer chain that the profile replaced by its
 * DWARF stack (garbage return addresses like "0" read past libc's start-up
 * code) occur in no stack: they never become rows.
 */
static struct row *tabulate(const struct fpt_analysis *a, unsigned kinds, size_t *nrows)
{
	const struct fpt_profile *p = &a->profile;
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
		if (!(kind_bit(st->kind) & kinds))
			continue;
		uint64_t ns = stack_ns(a, st);
		if (st->depth) {
			rows[st->frames[0]].self += st->samples;
			rows[st->frames[0]].self_ns += ns;
		}
		for (uint32_t i = 0; i < st->depth; i++) {
			uint32_t f = st->frames[i];
			if (seen[f] == s + 1)
				continue;
			seen[f] = (uint32_t)s + 1;
			rows[f].total += st->samples;
			rows[f].total_ns += ns;
		}
	}
	free(seen);
	size_t n = 0;
	for (size_t f = 0; f < p->nframes; f++)
		if (rows[f].total)
			rows[n++] = rows[f];
	qsort(rows, n, sizeof *rows, by_self);
	*nrows = n;
	return rows;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

/* A duration the way pprof prints one: "1.25s", "340ms", "80us". */
static const char *duration(uint64_t ns, char *buf, size_t len)
{
	if (ns == 0)
		snprintf(buf, len, "0");
	else if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, len, "%.4gms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.4gus", (double)ns / 1e3);
	return buf;
}

static const char *module_base(const struct fpt_frame *f)
{
	const char *mod = strrchr(f->module, '/');
	return mod ? mod + 1 : (f->module[0] ? f->module : "?");
}

/* The time a kind's samples stand for. */
static uint64_t kind_ns(const struct fpt_analysis *a, uint32_t kind)
{
	uint64_t ns = 0;
	for (size_t i = 0; i < a->profile.nstacks; i++)
		if (a->profile.stacks[i].kind == kind)
			ns += stack_ns(a, &a->profile.stacks[i]);
	return ns;
}

/* One kind's table: a heading with its time, then the top rows. */
static void print_kind(FILE *out, const struct fpt_analysis *a, uint32_t kind, uint64_t samples,
		       unsigned top)
{
	const struct fpt_profile *p = &a->profile;
	uint64_t ns = kind_ns(a, kind);
	char t1[32], t2[32];

	if (!samples)
		return;
	fprintf(out, "#\n# %s: %s %s\n", kind == FPU_SAMPLE_WALL ? "wall" : "cpu",
		duration(ns, t1, sizeof t1),
		kind == FPU_SAMPLE_WALL ? "of goroutine time off CPU" : "of CPU time");
	fprintf(out, "# %7s %9s %8s %7s %9s %8s  %s\n", "self%", "self", "samples", "total%",
		"total", "samples", "function (module)");

	size_t n = 0;
	struct row *rows = tabulate(a, (unsigned)kind_bit(kind), &n);
	for (size_t i = 0; rows && i < n && i < top; i++) {
		const struct fpt_frame *f = &p->frames[rows[i].frame];
		fprintf(out, "  %6.2f%% %9s %8llu %6.2f%% %9s %8llu  %s (%s)\n",
			pct(rows[i].self_ns, ns), duration(rows[i].self_ns, t1, sizeof t1),
			(unsigned long long)rows[i].self, pct(rows[i].total_ns, ns),
			duration(rows[i].total_ns, t2, sizeof t2),
			(unsigned long long)rows[i].total, f->function, module_base(f));
	}
	if (rows && n > top)
		fprintf(out, "  ... %zu more functions (fptrace report --top %zu lists them)\n",
			n - top, n);
	free(rows);
}

void fpt_report_text(FILE *out, const struct fpt_analysis *a, unsigned top)
{
	const struct fpt_profile *p = &a->profile;
	uint64_t cpu = 0, wall = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		*(p->stacks[i].kind == FPU_SAMPLE_WALL ? &wall : &cpu) += p->stacks[i].samples;
	fprintf(out, "# %s: %llu samples", a->cmdline ? a->cmdline : p->exe,
		(unsigned long long)p->total_samples);
	if (cpu)
		fprintf(out, ", %llu cpu at %u Hz (%.2f s of CPU)", (unsigned long long)cpu, a->hz,
			(double)kind_ns(a, FPU_SAMPLE_CPU) / 1e9);
	if (wall)
		fprintf(out, ", %llu wall at %u Hz (%.2f goroutine-seconds off CPU)",
			(unsigned long long)wall, a->wall_hz, (double)kind_ns(a, FPU_SAMPLE_WALL) / 1e9);
	fprintf(out, "\n");
	char sampling[256];
	fpt_describe_sampling(a, sampling, sizeof sampling);
	if (sampling[0])
		fprintf(out, "# cpu sampling: %s\n", sampling);
	struct fpt_nofp nofp;
	fpt_nofp_find(a, &nofp);   /* out of memory: no summary */
	for (size_t i = 0; i < nofp.n; i++)
		fpt_nofp_print(out, "# ", &nofp.v[i], a->samples);
	if (nofp.n)
		fprintf(out, "# (frame-pointer stacks break there; these tables use DWARF's stacks; "
			"fptrace check --all-sites lists the sites)\n");
	fpt_nofp_free(&nofp);
	print_kind(out, a, FPU_SAMPLE_CPU, cpu, top);
	print_kind(out, a, FPU_SAMPLE_WALL, wall, top);
}

void fpt_report_json(FILE *out, const struct fpt_analysis *a, unsigned top)
{
	const struct fpt_profile *p = &a->profile;
	size_t n = 0;
	struct row *rows = tabulate(a, FPT_KIND_CPU | FPT_KIND_WALL, &n);

	fprintf(out, "{\"exe\":");
	fpt_json_string(out, p->exe);
	fprintf(out, ",\"samples\":%llu,\"cpu\":%llu,\"wall\":%llu,\"hz\":%u,\"wall_hz\":%u,"
		"\"functions\":[", (unsigned long long)p->total_samples,
		(unsigned long long)a->samples_cpu, (unsigned long long)a->samples_wall,
		a->hz, a->wall_hz);
	for (size_t i = 0; rows && i < n && i < top; i++) {
		const struct fpt_frame *f = &p->frames[rows[i].frame];
		fprintf(out, "%s{\"function\":", i ? "," : "");
		fpt_json_string(out, f->function);
		fprintf(out, ",\"module\":");
		fpt_json_string(out, f->module);
		fprintf(out, ",\"file\":");
		fpt_json_string(out, f->file);
		fprintf(out, ",\"line\":%u,\"self\":%llu,\"total\":%llu,\"self_ns\":%llu,"
			"\"total_ns\":%llu}", f->line, (unsigned long long)rows[i].self,
			(unsigned long long)rows[i].total, (unsigned long long)rows[i].self_ns,
			(unsigned long long)rows[i].total_ns);
	}
	fprintf(out, "]}\n");
	free(rows);
}
