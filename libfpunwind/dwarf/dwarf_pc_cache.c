/*
 * dwarf_pc_cache.c — what a session already learnt about one address, kept for
 * the next sample.  A profile revisits the same few thousand pcs millions of
 * times, and libdw answers each question afresh: dwfl_module_addrinfo scans the
 * symbol table linearly, dwarf_cfi_addrframe parses and mallocs the row.  That
 * made `fptrace check` several times slower than `perf report` on the same
 * perf.data (perf keeps its symbols in an rb-tree per DSO for the same reason).
 *
 * A session's mappings never change, so an address always means the same
 * code: the key is the absolute address (with a flag), and it is compared in
 * full, since the same file mapped at two addresses gives two answers (its
 * module offsets, and whether the second copy is mapped at all).
 */
#include "dwarf_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct fpu_pc_cache *c, uint64_t key)
{
	/* Fold the high half in: pcs differ mostly in their middle bits. */
	uint64_t x = key * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(x ^ (x >> 32)) & (c->cap - 1);
	while (c->keys[i] && c->keys[i] != key)
		i = (i + 1) & (c->cap - 1);
	return i;
}

void fpu_pc_cache_init(struct fpu_pc_cache *c, size_t value_size)
{
	memset(c, 0, sizeof *c);
	c->value_size = value_size;
}

void *fpu_pc_cache_find(struct fpu_pc_cache *c, uint64_t key)
{
	if (c->cap) {
		size_t i = slot_of(c, key + 1);
		if (c->keys[i]) {
			c->hits++;
			return c->values + (size_t)c->index[i] * c->value_size;
		}
	}
	c->misses++;
	return NULL;
}

static int grow_table(struct fpu_pc_cache *c)
{
	struct fpu_pc_cache bigger = *c;
	bigger.cap = c->cap ? c->cap * 2 : 1024;
	bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
	bigger.index = calloc(bigger.cap, sizeof *bigger.index);
	if (!bigger.keys || !bigger.index) {
		free(bigger.keys);
		free(bigger.index);
		return -1;
	}
	for (size_t i = 0; i < c->cap; i++)
		if (c->keys[i]) {
			size_t j = slot_of(&bigger, c->keys[i]);
			bigger.keys[j] = c->keys[i];
			bigger.index[j] = c->index[i];
		}
	free(c->keys);
	free(c->index);
	*c = bigger;
	return 0;
}

void *fpu_pc_cache_add(struct fpu_pc_cache *c, uint64_t key)
{
	if ((c->count + 1) * 2 > c->cap && grow_table(c) != 0)
		return NULL;
	if (c->count == c->value_cap) {
		size_t cap = c->value_cap ? c->value_cap * 2 : 256;
		unsigned char *v = realloc(c->values, cap * c->value_size);
		if (!v)
			return NULL;
		c->values = v;
		c->value_cap = cap;
	}
	size_t i = slot_of(c, key + 1);
	if (!c->keys[i]) {
		c->keys[i] = key + 1;
		c->index[i] = (uint32_t)c->count++;
	}
	void *value = c->values + (size_t)c->index[i] * c->value_size;
	memset(value, 0, c->value_size);
	return value;
}

void fpu_pc_cache_free(struct fpu_pc_cache *c)
{
	free(c->keys);
	free(c->index);
	free(c->values);
	fpu_pc_cache_init(c, c->value_size);
}

void fpu_dwarf_cache_stats(const struct fpu_dwarf *d, struct fpu_dwarf_cache_stats *out)
{
	out->symbol_hits = d->symbols.hits;
	out->symbol_misses = d->symbols.misses;
	out->cfi_hits = d->cfi_rows.hits;
	out->cfi_misses = d->cfi_rows.misses;
	out->steps_samples = d->steps_samples;
	out->steps_handed_over = d->steps_handed_over;
	out->step_rule_hits = d->step_rules.hits;
	out->step_rule_misses = d->step_rules.misses;
}
