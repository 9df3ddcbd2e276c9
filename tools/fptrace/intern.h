/*
 * intern.h — the two small containers the analysis needs: an arena that owns
 * every string and array of one analysis (freed at once), and an open-addressing
 * hash map from 64-bit keys to 32-bit values.
 */
#ifndef FPT_INTERN_H
#define FPT_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct fpt_arena {
	struct fpt_arena_block *head;
};

void *fpt_arena_alloc(struct fpt_arena *a, size_t size);   /* zeroed; NULL on OOM */
char *fpt_arena_strdup(struct fpt_arena *a, const char *s);
char *fpt_arena_strndup(struct fpt_arena *a, const char *s, size_t n);
void fpt_arena_free(struct fpt_arena *a);

struct fpt_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap, count;     /* cap is a power of two; key 0 is reserved */
};

/* 1 and *val when found, else 0. */
int fpt_map_get(const struct fpt_map *m, uint64_t key, uint32_t *val);
/* 0, or -1 on OOM.  key must not be 0. */
int fpt_map_put(struct fpt_map *m, uint64_t key, uint32_t val);
void fpt_map_free(struct fpt_map *m);

/* 64-bit FNV-1a, never 0 (so it can key fpt_map). */
uint64_t fpt_hash(const void *data, size_t len, uint64_t seed);

#endif
