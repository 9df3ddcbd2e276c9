/*
 * audit_module.c — audit one object: open it, list its functions, judge
 * each, and count the verdicts.
 */
#include "audit.h"

#include <stdio.h>
#include <string.h>

uint64_t fpt_audit_breaking(const struct fpt_audit_module *m)
{
	return m->counts[FPT_VERDICT_NO_FRAME] + m->counts[FPT_VERDICT_CLOBBERS_RBP];
}

int fpt_audit_module(struct fpt_decoder_cs *d, const char *path, struct fpt_arena *arena,
		     int keep_funcs, struct fpt_audit_module *m)
{
	struct fpt_elf o;
	struct fpt_elf_func *ef = NULL;
	size_t n = 0;

	m->path = m->path ? m->path : fpt_arena_strdup(arena, path);
	if (fpt_elf_open(&o, path, m->error, sizeof m->error) != 0)
		return -1;
	fpt_elf_load_debug(&o, 1, keep_funcs);   /* producer hints: kept functions only */
	if (fpt_elf_functions(&o, arena, &ef, &n) != 0) {
		snprintf(m->error, sizeof m->error, "out of memory listing its functions");
		fpt_elf_close(&o);
		return -1;
	}
	struct fpt_audit_func one, *funcs = keep_funcs ? fpt_arena_alloc(arena, (n + 1) * sizeof *funcs) : NULL;
	if (keep_funcs && !funcs) {
		snprintf(m->error, sizeof m->error, "out of memory for %zu functions", n);
		fpt_elf_close(&o);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct fpt_audit_func *f = keep_funcs ? &funcs[i] : &one;
		*f = (struct fpt_audit_func){ .lo = ef[i].lo, .hi = ef[i].hi, .name = ef[i].name,
					      .aliases = ef[i].aliases };
		fpt_audit_judge(d, &o, f, ef, n);
		if (keep_funcs)
			f->producer = fpt_elf_producer_hint(&o, f->lo);
		m->counts[f->verdict]++;
	}
	m->funcs = funcs;
	m->nfuncs = n;
	if (keep_funcs && (m->segs = fpt_arena_alloc(arena, (o.nsegs + 1) * sizeof *m->segs))) {
		memcpy(m->segs, o.segs, o.nsegs * sizeof *m->segs);
		m->nsegs = o.nsegs;
	}
	fpt_elf_close(&o);
	return 0;
}
