/*
 * analyze.c — from a .fpt or perf.data file to an fpt_analysis: two passes
 * over the file, read through a window (memory stays flat).  The first pass
 * collects the process, its mappings, drops and how it ended, so that the DWARF
 * sessions exist before the first sample; the second unwinds, compares,
 * symbolizes and merges every sample.
 */
#include "analyze.h"
#include "perfdata.h"
#include "perfmap_names.h"
#include "fpu_runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_PCS 512

struct state {
	struct fpt_analysis *a;
	const struct fpt_analysis_opts *o;
	struct fpu_mapping *maps;          /* for the DWARF sessions */
	size_t nmaps, capmaps, cappmaps;
	struct fpt_map map_at;             /* start + 1 -> index in maps */
	struct fpt_map pmap_at;            /* start + 1 -> index in profile mappings, or NONE */
	struct fpu_dwarf *dwarf[FPT_BACKENDS];
	uint32_t machine;                  /* the recording's (FPU_REC_MACHINE_*) */
	int primary;                       /* index of the backend that names frames */
	struct fpt_map pc_frames;          /* (pc, is_return) -> offset in inl */
	uint32_t *inl;                     /* per pc: count, then its frames */
	size_t ninl, capinl;
	struct fpt_map functions;          /* (pc, is_return) -> real frame, sites_only */
	struct fpt_map frame_ids;          /* (function, module) -> frame */
	struct fpt_map stack_ids;          /* stack contents -> stack */
	struct fpt_map site_ids[FPT_BACKENDS];
	struct fpu_rec_region_event *events;   /* moves and frees, file order */
	size_t nevents, capevents;
	uint64_t start_ns;                     /* PROCESS start, for event times */
	size_t capframes, capstacks, capsites[FPT_BACKENDS];
	uint64_t first_ns, last_ns;
	const struct fpu_sample *cur;          /* the sample being analysed */
	struct fpt_perfmap perfmap;            /* /tmp/perf-PID.map: JIT names */
	struct fpu_runtime *runtime;           /* Go / ucontext model, or NULL */
};

/* Grow an array of elem-sized items to hold n + 1; 0 or -1. */
static int reserve(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void hex(char *out, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

static int add_mapping(struct state *st, const struct fpu_rec_mapping *m)
{
	struct fpt_analysis *a = st->a;
	struct fpt_profile *p = &a->profile;
	char *path = fpt_arena_strndup(&a->arena, m->path, m->path_len);
	char *bid = fpt_arena_alloc(&a->arena, 2 * m->build_id_len + 1);
	uint8_t *bid_raw = fpt_arena_alloc(&a->arena, m->build_id_len + 1);

	if (!path || !bid || !bid_raw ||
	    reserve((void **)&st->maps, &st->capmaps, st->nmaps, sizeof *st->maps) != 0)
		return -1;
	/*
	 * A writer re-emits its mappings when they change (dlopen): a mapping at
	 * the same start replaces the older one, so a file is reported once.
	 * Found by hash (start + 1: the reader guarantees start < end), since a
	 * hostile file may hold 100,000 mappings.
	 */
	const uint32_t NONE = UINT32_MAX;
	uint64_t key = m->start + 1;
	uint32_t at = NONE, pat = NONE;
	fpt_map_get(&st->map_at, key, &at);
	fpt_map_get(&st->pmap_at, key, &pat);
	hex(bid, m->build_id, m->build_id_len);
	if (m->build_id_len)   /* build_id may be NULL then (perf.data MMAP) */
		memcpy(bid_raw, m->build_id, m->build_id_len);
	if (at == NONE) {
		at = (uint32_t)st->nmaps++;
		if (fpt_map_put(&st->map_at, key, at) != 0)
			return -1;
	}
	st->maps[at] = (struct fpu_mapping){
		.start = m->start, .end = m->end, .pgoff = m->offset, .path = path,
		.build_id = bid_raw, .build_id_len = m->build_id_len, .prot = m->prot };
	struct fpt_mapping pm = { .start = m->start, .limit = m->end, .offset = m->offset,
				  .path = path, .build_id = bid };
	if (pat != NONE && (m->prot & PROT_EXEC)) {
		p->mappings[pat] = pm;
	} else if (pat != NONE) {   /* no longer executable: out of the profile */
		pm = p->mappings[--p->nmappings];
		if (pat < p->nmappings) {
			p->mappings[pat] = pm;
			if (fpt_map_put(&st->pmap_at, pm.start + 1, pat) != 0)
				return -1;
		}
		return fpt_map_put(&st->pmap_at, key, NONE);
	} else if (m->prot & PROT_EXEC) {
		if (reserve((void **)&p->mappings, &st->cappmaps, p->nmappings, sizeof pm) != 0 ||
		    fpt_map_put(&st->pmap_at, key, (uint32_t)p->nmappings) != 0)
			return -1;
		p->mappings[p->nmappings++] = pm;
	}
	return 0;
}

static void set_cmdline(struct fpt_analysis *a, const struct fpu_rec_process *p)
{
	char *c = fpt_arena_strndup(&a->arena, p->cmdline, p->cmdline_len);
	for (uint32_t i = 0; c && i + 1 < p->cmdline_len; i++)
		if (!c[i])
			c[i] = ' ';
	a->cmdline = c;
	a->exe = fpt_arena_strndup(&a->arena, p->exe, p->exe_len);
	a->pid = p->pid;
	a->hz = p->sample_hz;
	a->wall_hz = p->wall_hz;
}

/* Pass 1: everything but samples. */
static int scan_metadata(struct state *st, struct fpt_source *r, char *err, size_t errlen)
{
	struct fpu_record rec;
	int rc;

	while ((rc = fpt_source_next(r, &rec)) > 0) {
		st->a->nrecords++;
		if (rec.type == FPU_REC_PROCESS && !st->a->exe) {
			set_cmdline(st->a, &rec.u.process);
			st->start_ns = rec.u.process.start_monotonic_ns;
		}
		else if (rec.type == FPU_REC_MAPPING && add_mapping(st, &rec.u.mapping) != 0)
			rc = -2;
		else if (rec.type == FPU_REC_DROPS)
			st->a->drops += rec.u.drops.dropped;
		else if (rec.type == FPU_REC_SAMPLING) {
			st->a->has_sampling = 1;   /* the last one wins */
			st->a->sampling = rec.u.sampling;
		}
		else if (rec.type == FPU_REC_REGION_EVENT) {
			*(rec.u.region.event == FPU_REGION_EV_MOVE ? &st->a->stack_moves
								   : &st->a->stack_frees) += 1;
			if (reserve((void **)&st->events, &st->capevents, st->nevents,
				    sizeof *st->events) == 0)
				st->events[st->nevents++] = rec.u.region;
		}
		else if (rec.type == FPU_REC_END) {
			st->a->has_end = 1;
			st->a->end = rec.u.end;
		}
		if (rc == -2)
			break;
	}
	if (rc == -2)
		snprintf(err, errlen, "out of memory reading mappings");
	else if (rc < 0)
		snprintf(err, errlen, "%s", fpt_source_error(r));
	return rc < 0 ? -1 : 0;
}

static int open_sessions(struct state *st, char *err, size_t errlen)
{
	static const enum fpu_dwarf_backend kinds[FPT_BACKENDS] = { FPU_DWARF_LIBDW,
								    FPU_DWARF_LIBUNWIND };
	st->primary = -1;
	for (int b = 0; b < FPT_BACKENDS; b++) {
		if (!(st->o->backends & (1u << b)))
			continue;
		st->dwarf[b] = fpu_dwarf_new_machine(kinds[b], st->machine, st->maps, st->nmaps,
						     err, errlen);
		if (!st->dwarf[b])
			return -1;
		if (st->primary < 0 && fpu_dwarf_note(st->dwarf[b]))   /* once, not per backend */
			fprintf(stderr, "fptrace: warning: %s\n", fpu_dwarf_note(st->dwarf[b]));
		st->a->backend[b].used = 1;
		if (st->primary < 0)
			st->primary = b;
	}
	if (st->primary < 0) {
		snprintf(err, errlen, "no DWARF backend selected");
		return -1;
	}
	/* Where DWARF is not the truth: the runtime's stack switches. */
	st->runtime = fpu_runtime_new(st->maps, st->nmaps);
	st->a->go_version = fpu_runtime_go_version(st->runtime)
		? fpt_arena_strdup(&st->a->arena, fpu_runtime_go_version(st->runtime)) : NULL;
	st->a->go_path = st->a->go_version && fpu_runtime_go_path(st->runtime)
		? fpt_arena_strdup(&st->a->arena, fpu_runtime_go_path(st->runtime)) : NULL;
	return 0;
}

uint64_t fpt_pc_key(uint64_t pc, int is_return)
{
	return ((pc << 1) | (uint64_t)(is_return != 0)) + 1;
}

int fpt_module_is_system(const char *module, const char *exe)
{
	if (!module || !fpu_path_is_system(module))
		return 0;
	return !exe || strcmp(module, exe) != 0;
}

int fpt_both_defect(const enum fpu_class cls[2], const int system[2], int strict)
{
	for (int b = 0; b < 2; b++)
		if (!fpu_class_is_malignant(cls[b]) || (system[b] && !strict))
			return 0;
	return 1;
}

/*
 * The frame for a symbol, interned by (function, module).  A function inlined
 * at pc is named "f (inlined)", the way perf marks it, so it is never taken for
 * a real call (it has no frame of its own, in either chain).
 */
static int intern_frame(struct state *st, const struct fpu_symbol *sym, int inlined,
			uint64_t pc, uint32_t *out)
{
	struct fpt_analysis *a = st->a;
	struct fpt_profile *p = &a->profile;
	char fallback[64], marked[512];
	const char *fn = sym->function;

	if (fn && inlined) {
		snprintf(marked, sizeof marked, "%s (inlined)", fn);
		fn = marked;
	} else if (!fn) {
		const char *base = sym->module ? strrchr(sym->module, '/') : NULL;
		if (base)
			snprintf(fallback, sizeof fallback, "%s+%#" PRIx64, base + 1, sym->offset);
		else
			snprintf(fallback, sizeof fallback, "%#" PRIx64, pc);
		fn = fallback;
	}
	const char *mod = sym->module ? sym->module : "";
	uint64_t key = fpt_hash(fn, strlen(fn), fpt_hash(mod, strlen(mod), 0));
	if (fpt_map_get(&st->frame_ids, key, out))
		return 0;
	if (reserve((void **)&p->frames, &st->capframes, p->nframes, sizeof *p->frames) != 0)
		return -1;
	struct fpt_frame *f = &p->frames[p->nframes];
	*f = (struct fpt_frame){
		.function = fpt_arena_strdup(&a->arena, fn),
		.module = fpt_arena_strdup(&a->arena, mod),
		.file = fpt_arena_strdup(&a->arena, sym->file ? sym->file : ""),
		.line = sym->line > 0 ? (uint32_t)sym->line : 0,
		.mapping = -1, .address = pc,
		.system = fpt_module_is_system(sym->module, a->exe) };
	for (size_t i = 0; i < p->nmappings; i++)
		if (pc >= p->mappings[i].start && pc < p->mappings[i].limit)
			f->mapping = (int32_t)i;
	if (!f->function || !f->module || !f->file)
		return -1;
	*out = (uint32_t)p->nframes++;
	return fpt_map_put(&st->frame_ids, key, *out);
}

/*
 * A chain of frames made from a chain of pcs, each pc expanded into the
 * functions inlined there (innermost first), with at[i] the position of pc i's
 * first frame, so indexes from the comparator map onto the expanded chain.
 */
#define MAX_INLINE 8
#define MAX_FRAMES (4 * MAX_PCS)
struct chain {
	uint32_t f[MAX_FRAMES];
	uint32_t at[MAX_PCS + 1];
	size_t n;
};

/*
 * The frames of pc: the functions inlined there and the real one last, from
 * a per-pc cache (inl[off] = count, then the frame ids).  Index 0 of a chain
 * is an interrupted pc, later ones are return addresses (is_return).
 */
static int pc_frames(struct state *st, uint64_t pc, int is_return, size_t *off)
{
	uint64_t key = fpt_pc_key(pc, is_return);
	struct fpu_symbol syms[MAX_INLINE];
	uint32_t o;

	if (fpt_map_get(&st->pc_frames, key, &o)) {
		*off = o;
		return 0;
	}
	struct fpu_dwarf *d = st->dwarf[st->primary];
	int n = fpu_symbolize_inlined(d, pc, is_return, syms, MAX_INLINE);
	if (n <= 0) {
		fpu_symbolize(d, pc, is_return, &syms[0]);
		const struct fpt_perfmap_ent *jit;
		if (!syms[0].function &&
		    (jit = fpt_perfmap_find(&st->perfmap, st->a->pid, pc, is_return))) {
			syms[0].function = jit->name;   /* code in no file: a perf map names it */
			syms[0].offset = pc - jit->start;
			syms[0].module = st->perfmap.path;
			syms[0].system = 0;
		}
		n = 1;
	}
	while (st->ninl + (size_t)n + 1 > st->capinl) {
		size_t cap = st->capinl ? st->capinl * 2 : 4096;
		uint32_t *p = realloc(st->inl, cap * sizeof *p);
		if (!p)
			return -1;
		st->inl = p;
		st->capinl = cap;
	}
	o = (uint32_t)st->ninl;
	st->inl[o] = (uint32_t)n;
	for (int i = 0; i < n; i++)
		if (intern_frame(st, &syms[i], i < n - 1, pc, &st->inl[o + 1 + i]) != 0)
			return -1;
	st->ninl += (size_t)n + 1;
	*off = o;
	return fpt_map_put(&st->pc_frames, key, o);
}

/* The real function at pc (the outermost of its inline chain). */
static int frame_of(struct state *st, uint64_t pc, int is_return, uint32_t *out)
{
	size_t off;
	if (pc_frames(st, pc, is_return, &off) != 0)
		return -1;
	*out = st->inl[off + st->inl[off]];
	return 0;
}

/*
 * The real function at pc for a site.  With sites_only, by its symbol alone
 * when it has one: the name frame_of gives (the real function is last in
 * every inline chain, and is the symbol's), without reading the module's
 * DWARF for the inlined frames.
 */
static int function_of(struct state *st, uint64_t pc, int is_return, uint32_t *out)
{
	uint64_t key = fpt_pc_key(pc, is_return);
	struct fpu_symbol sym;

	if (!st->o->sites_only)
		return frame_of(st, pc, is_return, out);
	if (fpt_map_get(&st->functions, key, out))
		return 0;
	fpu_symbolize_function(st->dwarf[st->primary], pc, is_return, &sym);
	/* No symbol: a name from DWARF or from a perf map, as frame_of finds it. */
	if (!sym.function ? frame_of(st, pc, is_return, out) != 0
			  : intern_frame(st, &sym, 0, pc, out) != 0)
		return -1;
	return fpt_map_put(&st->functions, key, *out);
}

static int expand(struct state *st, const uint64_t *pcs, size_t n, struct chain *c)
{
	/*
	 * A wall sample starts at a saved resume pc (sched.pc after mcall,
	 * syscallpc): a return address like every later pc, so it names the
	 * function that made the call, not whatever was inlined right after it
	 * (rt_getg after rt_gopark's call to rt_mcall).
	 */
	int leaf_is_return = st->cur && st->cur->kind == FPU_SAMPLE_WALL;
	c->n = 0;
	for (size_t i = 0; i < n; i++) {
		size_t off;
		c->at[i] = (uint32_t)c->n;
		if (pc_frames(st, pcs[i], i > 0 || leaf_is_return, &off) != 0)
			return -1;
		for (uint32_t k = 0; k < st->inl[off] && c->n < MAX_FRAMES; k++)
			c->f[c->n++] = st->inl[off + 1 + k];
	}
	c->at[n] = (uint32_t)c->n;
	return 0;
}

/* The expanded position of pc index i of a chain of n pcs (clamped). */
static uint32_t expanded_index(const struct chain *c, size_t npcs, uint32_t i)
{
	return c->at[i < npcs ? i : npcs];
}

static int add_stack(struct state *st, const uint32_t *frames, size_t depth,
		     const struct fpu_sample *s, const struct fpu_verdict *v, int32_t mark)
{
	struct fpt_profile *p = &st->a->profile;
	/* One stack per goroutine too: pprof labels each with its goroutine. */
	uint64_t key = fpt_hash(frames, depth * sizeof *frames,
				((uint64_t)s->kind << 40) ^ ((uint64_t)v->cls << 32) ^ (uint32_t)mark ^
				s->g_id * 0x9e3779b97f4a7c15ull);
	uint32_t id;

	if (!fpt_map_get(&st->stack_ids, key, &id)) {
		if (reserve((void **)&p->stacks, &st->capstacks, p->nstacks, sizeof *p->stacks) != 0)
			return -1;
		uint32_t *copy = fpt_arena_alloc(&st->a->arena, (depth + 1) * sizeof *copy);
		if (!copy)
			return -1;
		memcpy(copy, frames, depth * sizeof *copy);
		id = (uint32_t)p->nstacks++;
		p->stacks[id] = (struct fpt_stack){ .frames = copy, .depth = (uint32_t)depth,
						    .kind = s->kind, .cls = v->cls, .mark = mark,
						    .goid = s->g_id };
		if (fpt_map_put(&st->stack_ids, key, id) != 0)
			return -1;
	}
	p->stacks[id].samples++;
	p->stacks[id].weight_ns += s->weight;
	p->total_samples++;
	return 0;
}

static void fill_example(struct fpt_site *site, const struct chain *fp, size_t nfp,
			 const struct chain *dw, size_t ndw, const struct fpu_verdict *v,
			 const struct fpu_dwarf_result *dres)
{
	site->nfp = (uint32_t)(fp->n < FPT_EXAMPLE_FRAMES ? fp->n : FPT_EXAMPLE_FRAMES);
	site->ndwarf = (uint32_t)(dw->n < FPT_EXAMPLE_FRAMES ? dw->n : FPT_EXAMPLE_FRAMES);
	memcpy(site->fp, fp->f, site->nfp * sizeof *fp->f);
	memcpy(site->dwarf, dw->f, site->ndwarf * sizeof *dw->f);
	site->fp_index = expanded_index(fp, nfp, v->fp_index);
	site->dwarf_index = expanded_index(dw, ndw, v->dwarf_index);
	snprintf(site->dwarf_reason, sizeof site->dwarf_reason, "%s", dres->reason);
}

static const char *kind_name(uint32_t k)
{
	return fpu_region_kind_name((enum fpu_region_kind)k);
}

/* The latest move or free before time t of a stack that held addr, or NULL. */
static const struct fpu_rec_region_event *grave_of(const struct state *st, uint64_t addr,
						   uint64_t t)
{
	const struct fpu_rec_region_event *best = NULL;
	for (size_t i = 0; i < st->nevents; i++) {
		const struct fpu_rec_region_event *e = &st->events[i];
		if (addr >= e->lo && addr < e->hi && e->time_ns <= t &&
		    (!best || e->time_ns >= best->time_ns))
			best = e;
	}
	return best;
}

/*
 * Say which stacks a broken chain involved, where the sample knows: the region
 * kinds of an illegal crossing with the M and G, or whose dead stack a stale
 * fp points into (from the file's REGION_EVENT records).
 */
static void describe_stacks(const struct state *st, const struct fpu_sample *s,
			    const struct fpu_verdict *v, char *buf, size_t len)
{
	char m[32] = "", g[40] = "";
	if (s->m_id)
		snprintf(m, sizeof m, " of M%llu", (unsigned long long)(s->m_id - 1));
	if (s->g_id)
		snprintf(g, sizeof g, " (G%llu was current)", (unsigned long long)s->g_id);
	buf[0] = 0;
	if (s->fp_end == FPU_END_ILLEGAL_TRANSITION && v->cls == FPU_CLASS_FP_LEAK) {
		snprintf(buf, len, "the chain leaves the %s stack%s into a %s stack%s",
			 kind_name(s->fp_end_from), m, kind_name(s->fp_end_to), g);
	} else if (v->cls == FPU_CLASS_FP_STALE) {
		const struct fpu_rec_region_event *e = grave_of(st, s->fp_end_fp, s->time_ns);
		if (e)
			snprintf(buf, len, "fp %#llx points into the stack G%llu %s at +%.3f s",
				 (unsigned long long)s->fp_end_fp, (unsigned long long)e->owner,
				 e->event == FPU_REGION_EV_MOVE ? "left (copystack)" : "freed",
				 st->start_ns && e->time_ns > st->start_ns
					 ? (double)(e->time_ns - st->start_ns) / 1e9 : 0.0);
		else
			snprintf(buf, len, "fp %#llx points into a freed or moved stack",
				 (unsigned long long)s->fp_end_fp);
	}
}

/*
 * Count the sample's verdict at its culprit; *system: the culprit's module is
 * one.  fp and dw hold the chains of fp_pcs and dw_pcs expanded, or, with
 * sites_only, are expanded here for a new site's example.
 */
static int count_site(struct state *st, int b, const struct fpu_verdict *v,
		      const uint64_t *fp_pcs, struct chain *fp, size_t nfp,
		      const uint64_t *dw_pcs, struct chain *dw, size_t ndw,
		      const struct fpu_dwarf_result *dres, int *system)
{
	struct fpt_backend_stats *bs = &st->a->backend[b];
	uint32_t culprit, missing = 0, id;

	*system = 0;
	if (v->cls == FPU_CLASS_MATCH)
		return 0;
	if (function_of(st, v->culprit_pc, v->culprit_is_return, &culprit) != 0 ||
	    (v->missing_pc && function_of(st, v->missing_pc, 1, &missing) != 0))
		return -1;
	*system = st->a->profile.frames[culprit].system;
	uint64_t key = ((uint64_t)v->cls << 32 | culprit) + 1;
	if (!fpt_map_get(&st->site_ids[b], key, &id)) {
		if (reserve((void **)&bs->sites, &st->capsites[b], bs->nsites, sizeof *bs->sites) != 0)
			return -1;
		id = (uint32_t)bs->nsites++;
		struct fpt_site *site = &bs->sites[id];
		memset(site, 0, sizeof *site);
		site->cls = v->cls;
		site->culprit = culprit;
		site->missing = v->missing_pc ? (int32_t)missing : -1;
		site->system = st->a->profile.frames[culprit].system;
		if (st->o->sites_only && (site->system || !fpu_class_is_malignant(site->cls))) {
			/* check prints examples of defects in the code under test only */
			snprintf(site->dwarf_reason, sizeof site->dwarf_reason, "%s", dres->reason);
		} else {
			if (st->o->sites_only && (expand(st, fp_pcs, nfp, fp) != 0 ||
						  expand(st, dw_pcs, ndw, dw) != 0))
				return -1;
			fill_example(site, fp, nfp, dw, ndw, v, dres);
		}
		describe_stacks(st, st->cur, v, site->stacks, sizeof site->stacks);
		const char *why = fpu_runtime_why(st->runtime, v);
		if (!site->stacks[0] && why)
			snprintf(site->stacks, sizeof site->stacks, "%s", why);
		if (fpt_map_put(&st->site_ids[b], key, id) != 0)
			return -1;
	}
	bs->sites[id].samples++;
	/* A DWARF failure the snapshot's size does not explain: the CFI's. */
	if (v->cls == FPU_CLASS_DWARF_FAIL && !dres->read_outside_snapshot) {
		if (!bs->sites[id].cfi_failures)
			snprintf(bs->sites[id].cfi_reason, sizeof bs->sites[id].cfi_reason, "%s",
				 dres->reason);
		bs->sites[id].cfi_failures++;
	}
	return 0;
}

static int kind_selected(const struct state *st, const struct fpu_sample *s)
{
	unsigned bit = s->kind == FPU_SAMPLE_WALL ? FPT_KIND_WALL : FPT_KIND_CPU;
	return (st->o->kinds & bit) != 0;
}

/* No byte of stack copied: perf record --call-graph fp, or a sample taken
 * where there was no user stack; DWARF has nothing to unwind. */
static int sample_has_no_stack(const struct fpu_sample *s)
{
	for (uint32_t i = 0; i < s->nseg; i++)
		if (s->seg[i].len)
			return 0;
	return 1;
}

static int analyze_sample(struct state *st, const struct fpu_sample *s)
{
	static uint64_t dpcs[FPT_BACKENDS][MAX_PCS];
	static struct chain fpc, dwc;
	struct fpu_verdict v[FPT_BACKENDS];
	struct fpu_dwarf_result dres[FPT_BACKENDS];
	size_t nd[FPT_BACKENDS] = { 0 };
	enum fpu_class cls[FPT_BACKENDS] = { FPU_CLASS_MATCH, FPU_CLASS_MATCH };
	int system[FPT_BACKENDS] = { 0 }, none[FPT_BACKENDS] = { 0 };
	size_t nfp = s->nfp < MAX_PCS ? s->nfp : MAX_PCS;
	struct fpt_analysis *a = st->a;

	st->cur = s;
	if (!kind_selected(st, s)) {
		a->samples_skipped++;
		return 0;
	}
	a->samples++;
	*(s->kind == FPU_SAMPLE_WALL ? &a->samples_wall : &a->samples_cpu) += 1;
	a->samples_no_stack += sample_has_no_stack(s);
	if (!st->first_ns || s->time_ns < st->first_ns)
		st->first_ns = s->time_ns;
	if (s->time_ns > st->last_ns)
		st->last_ns = s->time_ns;
	if (!st->o->sites_only && expand(st, s->fp_pcs, nfp, &fpc) != 0)
		return -1;
	for (int b = 0; b < FPT_BACKENDS; b++) {
		if (!st->dwarf[b])
			continue;
		nd[b] = fpu_runtime_compare(st->runtime, st->dwarf[b], s, dpcs[b], MAX_PCS,
					    &dres[b], &v[b]);
		a->backend[b].classes[v[b].cls]++;
		if (v[b].cls == FPU_CLASS_DWARF_FAIL && dres[b].larger_snapshot_helps)
			a->backend[b].outside_snapshot++;
		if ((!st->o->sites_only && expand(st, dpcs[b], nd[b], &dwc) != 0) ||
		    count_site(st, b, &v[b], s->fp_pcs, &fpc, nfp, dpcs[b], &dwc, nd[b], &dres[b],
			       &system[b]) != 0)
			return -1;
		cls[b] = v[b].cls;
	}
	if (st->dwarf[0] && st->dwarf[1]) {
		a->malignant_both += (uint64_t)fpt_both_defect(cls, none, 1);
		a->defects_both += (uint64_t)fpt_both_defect(cls, system, 0);
		a->backends_disagree += v[0].cls != v[1].cls;
	}
	if (st->o->sites_only)
		return 0;
	/*
	 * The profile shows the DWARF stack when DWARF unwound the sample.  dwc
	 * holds the last backend's chain; only with both backends is that not
	 * the primary's, and only then is it expanded again.
	 */
	int b = st->primary;
	int use_dwarf = v[b].cls != FPU_CLASS_DWARF_FAIL && nd[b] > 0;
	int last = st->dwarf[1] ? 1 : 0;
	if (use_dwarf && b != last && expand(st, dpcs[b], nd[b], &dwc) != 0)
		return -1;
	const struct chain *c = use_dwarf ? &dwc : &fpc;
	size_t npcs = use_dwarf ? nd[b] : nfp;
	int32_t mark = -1;
	if (v[b].cls != FPU_CLASS_MATCH && c->n) {
		uint32_t at = expanded_index(c, npcs, use_dwarf ? v[b].dwarf_index : v[b].fp_index);
		mark = at < c->n ? (int32_t)at : (int32_t)c->n - 1;
	}
	return add_stack(st, c->f, c->n, s, &v[b], mark);
}

static int scan_samples(struct state *st, struct fpt_source *r, char *err, size_t errlen)
{
	struct fpu_record rec;
	int rc;

	while ((rc = fpt_source_next(r, &rec)) > 0) {
		if (rec.type != FPU_REC_SAMPLE)
			continue;
		if (analyze_sample(st, &rec.u.sample) != 0) {
			snprintf(err, errlen, "out of memory analysing samples");
			return -1;
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", fpt_source_error(r));
		return -1;
	}
	return 0;
}

static void free_state(struct state *st)
{
	for (int b = 0; b < FPT_BACKENDS; b++) {
		fpu_dwarf_free(st->dwarf[b]);
		fpt_map_free(&st->site_ids[b]);
	}
	fpu_runtime_free(st->runtime);
	fpt_map_free(&st->pc_frames);
	fpt_map_free(&st->functions);
	fpt_map_free(&st->frame_ids);
	fpt_map_free(&st->stack_ids);
	fpt_map_free(&st->map_at);
	fpt_map_free(&st->pmap_at);
	free(st->maps);
	free(st->events);
	free(st->inl);
	fpt_perfmap_free(&st->perfmap);
}

int fpt_analyze(const char *path, const struct fpt_analysis_opts *o,
		struct fpt_analysis *a, char *err, size_t errlen)
{
	struct state st = { .a = a, .o = o };
	struct fpt_source r;
	int rc = -1;

	memset(a, 0, sizeof *a);
	if (fpt_source_open_pids(&r, path, o->pids, o->npids) != 0) {
		snprintf(err, errlen, "%s", fpt_source_error(&r));
		fpt_source_close(&r);   /* frees what a failed open holds */
		return -1;
	}
	/* perf.data: the machine its HEADER_ARCH names (perfdata.h) */
	st.machine = r.kind == FPT_SOURCE_FPT ? r.fpt.machine : r.perf->machine;
	if (!fpu_rec_machine_name(st.machine)) {
		char what[64];
		if (r.kind == FPT_SOURCE_PERF && r.perf->arch[0])
			snprintf(what, sizeof what, "%s", r.perf->arch);
		else
			snprintf(what, sizeof what, "ELF machine %u", st.machine);
		snprintf(err, errlen, "%s: recorded on an unsupported architecture (%s): "
			 "fptrace reads x86-64 and aarch64 recordings", path, what);
		fpt_source_close(&r);
		return -1;
	}
	if (scan_metadata(&st, &r, err, errlen) == 0 && open_sessions(&st, err, errlen) == 0) {
		/* rewound, not opened again: a perf.data's open reads the whole file */
		if (fpt_source_rewind(&r, path) != 0)
			snprintf(err, errlen, "%s", fpt_source_error(&r));
		else
			rc = scan_samples(&st, &r, err, errlen);
	}
	fpt_source_close(&r);
	a->profile.exe = a->exe ? a->exe : path;
	a->profile.period_ns = a->hz ? 1000000000ull / a->hz : 0;
	a->profile.duration_ns = st.last_ns - st.first_ns;
	free_state(&st);
	if (rc != 0)
		fpt_analysis_free(a);
	return rc;
}

int fpt_judge_backend(const struct fpt_analysis *a)
{
	return a->backend[0].used ? 0 : 1;
}

void fpt_analysis_free(struct fpt_analysis *a)
{
	for (int b = 0; b < FPT_BACKENDS; b++)
		free(a->backend[b].sites);
	free(a->profile.mappings);
	free(a->profile.frames);
	free(a->profile.stacks);
	fpt_arena_free(&a->arena);
	memset(a, 0, sizeof *a);
}

void fpt_describe_end(const struct fpt_analysis *a, char *buf, size_t len)
{
	if (!a->has_end)
		/* fptrace record appends END from the wait status; a program
		 * that profiled itself (FPTRACE_OUT alone) has no one to write it */
		snprintf(buf, len, "no end record: recorded without fptrace record, or cut short");
	else if (a->end.how == FPU_END_HOW_EXITED)
		snprintf(buf, len, "exited with status %d", a->end.status);
	else if (a->end.how == FPU_END_HOW_SIGNALED)
		snprintf(buf, len, "killed by signal %d (%s)", a->end.status,
			 strsignal(a->end.status));
	else
		snprintf(buf, len, "how it ended is not recorded");
}

void fpt_describe_sampling(const struct fpt_analysis *a, char *buf, size_t len)
{
	const struct fpu_rec_sampling *s = &a->sampling;
	int n = 0;

	buf[0] = 0;
	if (!a->has_sampling)
		return;
	if (s->cpu_source == FPU_CPU_SOURCE_PERF_EVENT)
		n = snprintf(buf, len, "perf-event (task-clock per thread) at %u Hz", a->hz);
	else if (s->perf_errno)
		n = snprintf(buf, len, "timer (CPU-time timer per thread; perf_event_open refused: "
			     "%s), %u Hz asked, at most ~CONFIG_HZ taken", strerror(s->perf_errno),
			     a->hz);
	else
		n = snprintf(buf, len, "timer (CPU-time timer per thread, as asked), %u Hz asked, "
			     "at most ~CONFIG_HZ taken", a->hz);
	if (n >= 0 && (size_t)n < len && s->cpu_source == FPU_CPU_SOURCE_PERF_EVENT &&
	    s->timer_threads)
		n += snprintf(buf + n, len - (size_t)n, "; %u threads on a timer instead",
			      s->timer_threads);
	if (n >= 0 && (size_t)n < len && s->wall_cap)
		snprintf(buf + n, len - (size_t)n, "; wall: at most %u goroutines per tick",
			 s->wall_cap);
}
