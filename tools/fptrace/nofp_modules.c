/*
 * nofp_modules.c — which modules of a recording were built without frame
 * pointers (see nofp_modules.h): tally the malignant sites per module, audit
 * each module that has any with the audit's per-module pass, keep those where
 * most functions that call keep no frame record.
 */
#include "nofp_modules.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"

/*
 * Built without frame pointers: more than half of the functions that make
 * calls break the chain.  A module built with them has a handful such
 * functions (assembly, a stack switch) among hundreds that keep a frame;
 * Debian's python3.11 has 2 frames among 7892 that call.
 */
static int built_without_fp(uint64_t breaking, uint64_t calling)
{
	return breaking > 0 && 2 * breaking > calling;
}

/* Index of module in v[0..n), or n. */
static size_t find(const struct fpt_nofp_module *v, size_t n, const char *module)
{
	size_t i = 0;
	while (i < n && strcmp(v[i].path, module) != 0)
		i++;
	return i;
}

int fpt_nofp_find(const struct fpt_analysis *a, struct fpt_nofp *out)
{
	const struct fpt_backend_stats *bs = &a->backend[fpt_judge_backend(a)];
	struct fpt_nofp_module *v = calloc(bs->nsites + 1, sizeof *v);
	size_t n = 0;

	out->v = NULL;
	out->n = 0;
	if (!v)
		return -1;
	/* The candidates: every module a malignant site blames, with its tally. */
	for (size_t i = 0; i < bs->nsites; i++) {
		const struct fpt_site *s = &bs->sites[i];
		const struct fpt_frame *f = &a->profile.frames[s->culprit];
		if (!fpu_class_is_malignant(s->cls) || !f->module[0])
			continue;
		size_t m = find(v, n, f->module);
		if (m == n)
			v[n++] = (struct fpt_nofp_module){ .path = f->module, .system = s->system };
		v[m].sites++;
		v[m].samples += s->samples;
	}

	char err[256];
	struct fpt_decoder_cs *d = n ? fpt_audit_decoder_new(err, sizeof err) : NULL;
	if (d)   /* counts of breaking and framed functions only */
		fpt_audit_decoder_breaking_only(d, 1);
	size_t kept = 0;
	for (size_t i = 0; d && i < n; i++) {
		uint64_t counts[FPT_VERDICT_COUNT];
		/* One site is one line too, and says more: the function, and the
		 * caller it hides ("clock_gettime ..., hiding its caller rt_nanotime"). */
		if (v[i].sites < 2)
			continue;
		/* Go keeps frame pointers, but makes its frame record with
		 * mov [rsp+n],rbp; lea rbp,[rsp+n] and describes every frame with
		 * an rsp-based CFA: the audit, which looks for push rbp; mov rbp,rsp
		 * and for an rbp-based CFA at each call, calls all of it broken. */
		if (a->go_path && !strcmp(v[i].path, a->go_path))
			continue;
		/* Counts only, kept across runs (audit_cache.c): libc's are most
		 * of a small file's check, and the same every time. */
		if (fpt_audit_counts(d, v[i].path, counts, err, sizeof err) != 0)
			continue;
		v[i].breaking = counts[FPT_VERDICT_NO_FRAME] + counts[FPT_VERDICT_CLOBBERS_RBP];
		v[i].calling = v[i].breaking + counts[FPT_VERDICT_FRAME];
		if (built_without_fp(v[i].breaking, v[i].calling))
			v[kept++] = v[i];
	}
	fpt_audit_decoder_free(d);
	if (!kept) {
		free(v);
		return 0;
	}
	out->v = v;
	out->n = kept;
	return 0;
}

const struct fpt_nofp_module *fpt_nofp_lookup(const struct fpt_nofp *n, const char *module)
{
	size_t i = find(n->v, n->n, module);
	return i < n->n ? &n->v[i] : NULL;
}

void fpt_nofp_print(FILE *out, const char *prefix, const struct fpt_nofp_module *m,
		    uint64_t total)
{
	const char *base = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
	fprintf(out, "%s%s: built without frame pointers (%llu of %llu functions that call "
		"keep no frame record), %llu site%s, %llu sample%s (%.1f%% of all)\n", prefix, base,
		(unsigned long long)m->breaking, (unsigned long long)m->calling,
		(unsigned long long)m->sites, m->sites == 1 ? "" : "s",
		(unsigned long long)m->samples, m->samples == 1 ? "" : "s",
		total ? 100.0 * (double)m->samples / (double)total : 0.0);
}

void fpt_nofp_free(struct fpt_nofp *n)
{
	free(n->v);
	n->v = NULL;
	n->n = 0;
}
