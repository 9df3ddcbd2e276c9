/* intern.c — arena and hash map for the analysis (see intern.h). */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

struct fpt_arena_block {
	struct fpt_arena_block *next;
	size_t used, size;
	max_align_t data[];
};

#define BLOCK_SIZE (256 * 1024)

void *fpt_arena_alloc(struct fpt_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct fpt_arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->size = cap;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *fpt_arena_strndup(struct fpt_arena *a, const char *s, size_t n)
{
	char *p = fpt_arena_alloc(a, n + 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *fpt_arena_strdup(struct fpt_arena *a, const char *s)
{
	return fpt_arena_strndup(a, s, strlen(s));
}

void fpt_arena_free(struct fpt_arena *a)
{
	while (a->head) {
		struct fpt_arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

uint64_t fpt_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static size_t slot_of(const struct fpt_map *m, uint64_t key)
{
	/* The product's low bits depend only on the key's low bits: fold the high
	 * half in, or keys that differ only above bit 16 (mapping addresses)
	 * would all probe from one slot. */
	uint64_t x = key * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(x ^ (x >> 32)) & (m->cap - 1);
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

int fpt_map_get(const struct fpt_map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return 0;
	size_t i = slot_of(m, key);
	if (!m->keys[i])
		return 0;
	*val = m->vals[i];
	return 1;
}

static int grow(struct fpt_map *m)
{
	struct fpt_map bigger = { .cap = m->cap ? m->cap * 2 : 1024 };
	bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
	bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
	if (!bigger.keys || !bigger.vals) {
		fpt_map_free(&bigger);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t j = slot_of(&bigger, m->keys[i]);
			bigger.keys[j] = m->keys[i];
			bigger.vals[j] = m->vals[i];
		}
	bigger.count = m->count;
	fpt_map_free(m);
	*m = bigger;
	return 0;
}

int fpt_map_put(struct fpt_map *m, uint64_t key, uint32_t val)
{
	if ((m->count + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	size_t i = slot_of(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

void fpt_map_free(struct fpt_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}
