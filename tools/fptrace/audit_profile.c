/*
 * audit_profile.c — the audit weighed by a recording: which functions that
 * break frame-pointer stacks (no-frame, clobbers-rbp) are on how many of the
 * recorded stacks, and which callers they hide there.
 *
 * The stacks are the analysis's (DWARF's, when DWARF unwound the sample: the
 * truth).  A frame is matched to an audited function by its module's file
 * name and its function name (both come from the same symbol tables).  A
 * no-frame function hides its caller when it is not the leaf (it made a
 * call: the fp-skips case; at the leaf it is the benign leaf window); a
 * clobbers-rbp function breaks the chain wherever it is.
 */
#include "audit.h"
#include "analyze.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLERS 8

struct acc {
	size_t mod, func;
	uint64_t on, hides;
	uint32_t callers[MAX_CALLERS];      /* profile frame ids */
	uint64_t caller_samples[MAX_CALLERS];
	/* Leaves sampled while it was their caller: their FP chain is broken
	 * at once (check blames the leaf, where the chains part). */
	uint32_t leaves[MAX_CALLERS];
	uint64_t leaf_samples[MAX_CALLERS];
	uint64_t last_stack;                /* stack index + 1 that counted it last */
};

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static uint64_t name_key(const char *module_base, const char *name, size_t len)
{
	return fpt_hash(name, len, fpt_hash(module_base, strlen(module_base), 0));
}

/* (module file name, function name and every alias) -> function. */
struct slot {
	size_t mod, func;
};

static int index_functions(struct fpt_map *names, struct fpt_audit_module *mods, size_t nmods,
			   struct slot *slots, size_t nslots)
{
	size_t slot = 0;
	for (size_t m = 0; m < nmods; m++)
		for (size_t i = 0; i < mods[m].nfuncs && mods[m].funcs; i++, slot++) {
			if (slot >= nslots)
				return -1;
			slots[slot] = (struct slot){ m, i };
			const struct fpt_audit_func *f = &mods[m].funcs[i];
			const char *mb = base(mods[m].path);
			if (fpt_map_put(names, name_key(mb, f->name, strlen(f->name)), (uint32_t)slot))
				return -1;
			for (const char *a = f->aliases; a && *a;) {
				size_t len = strcspn(a, " ");
				uint32_t old;
				uint64_t k = name_key(mb, a, len);
				if (len && !fpt_map_get(names, k, &old) && fpt_map_put(names, k, (uint32_t)slot))
					return -1;
				a += len;
				a += *a == ' ';
			}
		}
	return 0;
}

/*
 * A frame the symbolizer could not name is called "<file>+0x<offset>" (the
 * file offset of its pc, already moved into the call for a return address):
 * place the offset in the module's segments and find the function there.
 */
static int slot_by_offset(const struct fpt_frame *fr, const struct fpt_audit_module *mods,
			  size_t nmods, const struct slot *slots, size_t nslots, uint32_t *out)
{
	const char *mb = base(fr->module);
	size_t len = strlen(mb);
	if (strncmp(fr->function, mb, len) != 0 || strncmp(fr->function + len, "+0x", 3) != 0)
		return 0;
	uint64_t off = strtoull(fr->function + len + 3, NULL, 16), vaddr = 0;
	size_t first = 0;
	for (size_t m = 0; m < nmods; first += mods[m].funcs ? mods[m].nfuncs : 0, m++) {
		if (!mods[m].funcs || strcmp(base(mods[m].path), mb) != 0)
			continue;
		int placed = 0;
		for (size_t i = 0; i < mods[m].nsegs && !placed; i++) {
			const struct fpt_elf_segment *sg = &mods[m].segs[i];
			if (off >= sg->offset && off - sg->offset < sg->filesz) {
				vaddr = off - sg->offset + sg->vaddr;
				placed = 1;
			}
		}
		size_t l = 0, h = mods[m].nfuncs;
		while (placed && l < h) {
			size_t mid = (l + h) / 2;
			if (mods[m].funcs[mid].lo <= vaddr)
				l = mid + 1;
			else
				h = mid;
		}
		if (placed && l > 0 && vaddr < mods[m].funcs[l - 1].hi && first + l - 1 < nslots) {
			*out = (uint32_t)(first + l - 1);
			(void)slots;
			return 1;
		}
	}
	return 0;
}

/* Count samples for frame in a small table (the first MAX_CALLERS frames). */
static void tally(uint32_t *ids, uint64_t *counts, uint32_t frame, uint64_t samples)
{
	int free_slot = -1;
	for (int i = 0; i < MAX_CALLERS; i++) {
		if (counts[i] && ids[i] == frame) {
			counts[i] += samples;
			return;
		}
		if (!counts[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		ids[free_slot] = frame;
		counts[free_slot] = samples;
	}
}

/* The audited function a frame is in, by name (symbol version dropped) or
 * by file offset; 0 if none. */
static int lookup(const struct fpt_frame *fr, const struct fpt_map *names,
		  const struct fpt_audit_module *mods, size_t nmods, const struct slot *slots,
		  size_t nslots, uint32_t *slot)
{
	if (!fr->module[0])
		return 0;
	const char *mb = base(fr->module);
	size_t len = strcspn(fr->function, "@");
	return fpt_map_get(names, name_key(mb, fr->function, strlen(fr->function)), slot) ||
	       fpt_map_get(names, name_key(mb, fr->function, len), slot) ||
	       slot_by_offset(fr, mods, nmods, slots, nslots, slot);
}

/* Indexes of counts[], most samples first (a handful: insertion sort). */
static void order(const uint64_t *counts, int idx[MAX_CALLERS])
{
	for (int i = 0; i < MAX_CALLERS; i++) {
		int j = i;
		for (; j > 0 && counts[idx[j - 1]] < counts[i]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
}

static int by_on(const void *a, const void *b)
{
	const struct acc *x = a, *y = b;
	if (x->on != y->on)
		return x->on < y->on ? 1 : -1;
	return x->hides < y->hides ? 1 : x->hides > y->hides ? -1 : 0;
}

void fpt_audit_print_profile(FILE *out, const struct fpt_analysis *a,
			     struct fpt_audit_module *mods, size_t nmods,
			     const struct fpt_audit_print_opts *o)
{
	const struct fpt_profile *p = &a->profile;
	size_t nslots = 0;
	for (size_t m = 0; m < nmods; m++)
		nslots += mods[m].funcs ? mods[m].nfuncs : 0;
	struct fpt_map names = { 0 }, accs = { 0 };
	struct slot *slots = malloc((nslots + 1) * sizeof *slots);
	struct acc *v = calloc(nslots + 1, sizeof *v);
	size_t nv = 0;
	uint64_t matched = 0, frames = 0;

	if (!slots || !v || index_functions(&names, mods, nmods, slots, nslots) != 0)
		goto out;
	for (size_t s = 0; s < p->nstacks; s++) {
		const struct fpt_stack *st = &p->stacks[s];
		/* The leaf's caller is the first audited function above it (frames
		 * in between were inlined into that caller). */
		int leaf_caller_seen = 0;
		for (uint32_t i = 0; i < st->depth; i++) {
			const struct fpt_frame *fr = &p->frames[st->frames[i]];
			uint32_t slot, ai;
			frames += st->samples;
			if (!lookup(fr, &names, mods, nmods, slots, nslots, &slot))
				continue;
			matched += st->samples;
			int is_leaf_caller = i >= 1 && !leaf_caller_seen;
			if (i >= 1)
				leaf_caller_seen = 1;
			const struct slot *sl = &slots[slot];
			const struct fpt_audit_func *f = &mods[sl->mod].funcs[sl->func];
			if (f->verdict != FPT_VERDICT_NO_FRAME && f->verdict != FPT_VERDICT_CLOBBERS_RBP)
				continue;
			if (!fpt_map_get(&accs, (uint64_t)slot + 1, &ai)) {
				ai = (uint32_t)nv++;
				v[ai] = (struct acc){ .mod = sl->mod, .func = sl->func };
				if (fpt_map_put(&accs, (uint64_t)slot + 1, ai))
					goto out;
			}
			struct acc *c = &v[ai];
			uint32_t leaf_slot;
			if (is_leaf_caller && lookup(&p->frames[st->frames[0]], &names, mods, nmods, slots,
					     nslots, &leaf_slot) &&
			    mods[slots[leaf_slot].mod].funcs[slots[leaf_slot].func].verdict <
			    FPT_VERDICT_NO_FRAME)
				tally(c->leaves, c->leaf_samples, st->frames[0], st->samples);
			if (c->last_stack == s + 1)
				continue;   /* recursion: one count per stack */
			c->last_stack = s + 1;
			c->on += st->samples;
			if ((i > 0 || f->verdict == FPT_VERDICT_CLOBBERS_RBP) && i + 1 < st->depth) {
				c->hides += st->samples;
				tally(c->callers, c->caller_samples, st->frames[i + 1], st->samples);
			}
		}
	}
	qsort(v, nv, sizeof *v, by_on);
	uint64_t total = p->total_samples;
	if (o->json) {
		fprintf(out, ",\n\"profile\":{\"samples\":%" PRIu64 ",\"frames\":%" PRIu64
			",\"frames_matched\":%" PRIu64 ",\"breaking\":[", total, frames, matched);
		for (size_t i = 0; i < nv; i++) {
			const struct fpt_audit_func *f = &mods[v[i].mod].funcs[v[i].func];
			fprintf(out, "%s\n{\"function\":", i ? "," : "");
			fpt_json_string(out, f->name);
			fprintf(out, ",\"module\":");
			fpt_json_string(out, mods[v[i].mod].path);
			fprintf(out, ",\"verdict\":\"%s\",\"on\":%" PRIu64 ",\"hides\":%" PRIu64 ",\"callers\":[",
				fpt_verdict_name(f->verdict), v[i].on, v[i].hides);
			for (int k = 0, first = 1; k < MAX_CALLERS; k++) {
				if (!v[i].caller_samples[k])
					continue;
				fprintf(out, "%s{\"function\":", first ? "" : ",");
				fpt_json_string(out, p->frames[v[i].callers[k]].function);
				fprintf(out, ",\"samples\":%" PRIu64 "}", v[i].caller_samples[k]);
				first = 0;
			}
			fprintf(out, "],\"leaves\":[");
			for (int k = 0, first = 1; k < MAX_CALLERS; k++) {
				if (!v[i].leaf_samples[k])
					continue;
				fprintf(out, "%s{\"function\":", first ? "" : ",");
				fpt_json_string(out, p->frames[v[i].leaves[k]].function);
				fprintf(out, ",\"samples\":%" PRIu64 "}", v[i].leaf_samples[k]);
				first = 0;
			}
			fprintf(out, "]}");
		}
		fprintf(out, "]}");
		goto out;
	}
	fprintf(out, "\nWeighed by the recording: %" PRIu64 " samples; %.1f%% of their frames are "
		"functions audited here\n", total, frames ? 100.0 * (double)matched / (double)frames : 0.0);
	if (!nv)
		fprintf(out, "  no function that breaks frame-pointer stacks is on a recorded stack\n");
	for (size_t i = 0; i < nv && i < o->top; i++) {
		const struct fpt_audit_func *f = &mods[v[i].mod].funcs[v[i].func];
		double on = total ? 100.0 * (double)v[i].on / (double)total : 0.0;
		double hides = total ? 100.0 * (double)v[i].hides / (double)total : 0.0;
		fprintf(out, "  %s (%s, %s): on %.1f%% of your stacks, hides its caller in %.1f%%",
			f->name, base(mods[v[i].mod].path), fpt_verdict_name(f->verdict), on, hides);
		int idx[MAX_CALLERS];
		order(v[i].caller_samples, idx);
		for (int j = 0, first = 1; j < MAX_CALLERS; j++) {
			int k = idx[j];
			if (!v[i].caller_samples[k])
				continue;
			fprintf(out, "%s%s %.1f%%", first ? ": " : ", ", p->frames[v[i].callers[k]].function,
				100.0 * (double)v[i].caller_samples[k] / (double)total);
			first = 0;
		}
		fprintf(out, "\n");
	}
	if (nv > o->top)
		fprintf(out, "  ... and %zu more (--top N)\n", nv - o->top);
out:
	fpt_map_free(&names);
	fpt_map_free(&accs);
	free(slots);
	free(v);
}
