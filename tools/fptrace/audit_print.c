/*
 * audit_print.c — one audited module as text (counts, then the functions
 * that break frame-pointer stacks, worst verdict first) or as one JSON
 * object with every function.
 */
#include "audit.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

/* Worst first: clobbers-rbp, no-frame, unknown, leaf, frame; then address. */
static int severity(uint32_t v)
{
	static const int rank[FPT_VERDICT_COUNT] = { 4, 3, 1, 0, 2 };
	return v < FPT_VERDICT_COUNT ? rank[v] : 5;
}

static int by_severity(const void *a, const void *b)
{
	const struct fpt_audit_func *x = *(const struct fpt_audit_func *const *)a;
	const struct fpt_audit_func *y = *(const struct fpt_audit_func *const *)b;
	if (severity(x->verdict) != severity(y->verdict))
		return severity(x->verdict) - severity(y->verdict);
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void print_func(FILE *out, const struct fpt_audit_func *f)
{
	fprintf(out, "    %-12s %#10" PRIx64 "-%-#10" PRIx64 " %s: %s", fpt_verdict_name(f->verdict),
		f->lo, f->hi, f->name, f->evidence);
	if (f->producer)
		fprintf(out, " [producer: %s]", f->producer);
	fprintf(out, "\n");
}

static void print_text(FILE *out, const struct fpt_audit_module *m, const struct fpt_audit_print_opts *o)
{
	uint64_t total = m->nfuncs;
	uint64_t noframe = total - m->counts[FPT_VERDICT_FRAME] - m->counts[FPT_VERDICT_UNKNOWN];
	fprintf(out, "%s", m->path);
	if (m->needed_by)
		fprintf(out, " (needed by %s)", base(m->needed_by));
	if (m->package)
		fprintf(out, " [%s]", m->package);
	fprintf(out, "\n  %s: %" PRIu64 " of %" PRIu64 " functions keep no frame record; %" PRIu64
		" break frame-pointer stacks (%.1f%%)\n", base(m->path), noframe, total,
		fpt_audit_breaking(m), pct(fpt_audit_breaking(m), total));
	fprintf(out, " ");
	for (int v = 0; v < FPT_VERDICT_COUNT; v++)
		fprintf(out, " %s %" PRIu64 " (%.1f%%)", fpt_verdict_name(v), m->counts[v],
			pct(m->counts[v], total));
	fprintf(out, "\n");
	if (!m->nfuncs)
		return;
	const struct fpt_audit_func **v = malloc(m->nfuncs * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < m->nfuncs; i++)
		v[i] = &m->funcs[i];
	qsort(v, m->nfuncs, sizeof *v, by_severity);
	size_t shown = 0, breaking = fpt_audit_breaking(m);
	size_t limit = o->all_functions ? m->nfuncs : breaking < o->top ? breaking : o->top;
	if (limit)
		fprintf(out, "  %s:\n", o->all_functions ? "functions" : "functions that break frame-pointer stacks");
	for (size_t i = 0; i < m->nfuncs && shown < limit; i++, shown++)
		print_func(out, v[i]);
	if (!o->all_functions && breaking > shown)
		fprintf(out, "    ... and %zu more (--top N, --all)\n", breaking - shown);
	free(v);
}

static void print_json(FILE *out, const struct fpt_audit_module *m)
{
	fprintf(out, "{\"path\":");
	fpt_json_string(out, m->path);
	if (m->needed_by) {
		fprintf(out, ",\"needed_by\":");
		fpt_json_string(out, m->needed_by);
	}
	if (m->package) {
		fprintf(out, ",\"package\":");
		fpt_json_string(out, m->package);
	}
	if (m->error[0]) {
		fprintf(out, ",\"error\":");
		fpt_json_string(out, m->error);
		fprintf(out, "}");
		return;
	}
	fprintf(out, ",\"functions_total\":%zu,\"counts\":{", m->nfuncs);
	for (int v = 0; v < FPT_VERDICT_COUNT; v++)
		fprintf(out, "%s\"%s\":%" PRIu64, v ? "," : "", fpt_verdict_name(v), m->counts[v]);
	fprintf(out, "},\"functions\":[");
	for (size_t i = 0; i < m->nfuncs && m->funcs; i++) {
		const struct fpt_audit_func *f = &m->funcs[i];
		fprintf(out, "%s\n{\"name\":", i ? "," : "");
		fpt_json_string(out, f->name);
		if (f->aliases) {
			fprintf(out, ",\"aliases\":");
			fpt_json_string(out, f->aliases);
		}
		fprintf(out, ",\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"verdict\":\"%s\",\"calls\":%u,\"evidence\":",
			f->lo, f->hi, fpt_verdict_name(f->verdict), f->calls);
		fpt_json_string(out, f->evidence);
		if (f->producer) {
			fprintf(out, ",\"producer\":");
			fpt_json_string(out, f->producer);
		}
		fprintf(out, "}");
	}
	fprintf(out, "]}");
}

void fpt_audit_print_module(FILE *out, const struct fpt_audit_module *m,
			    const struct fpt_audit_print_opts *o, int first)
{
	if (o->json) {
		fprintf(out, "%s\n", first ? "" : ",");
		print_json(out, m);
		return;
	}
	if (m->error[0])
		return;   /* said on stderr, one line */
	if (!first)
		fprintf(out, "\n");
	print_text(out, m, o);
}
