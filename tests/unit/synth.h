/*
 * synth.h — synthetic stacks for the walker tests: arrays of words in which a
 * test lays out frame records by index, so every end reason can be produced
 * exactly and checked against the word that caused it.
 */
#ifndef TEST_SYNTH_H
#define TEST_SYNTH_H

#include "fpunwind.h"
#include <stdint.h>
#include <string.h>

#define SYNTH_WORDS 256

struct synth {
	uintptr_t w[SYNTH_WORDS] __attribute__((aligned(16)));
};

static inline uintptr_t synth_addr(struct synth *s, int i)
{
	return (uintptr_t)&s->w[i];
}

/* A frame record at word `at`: saved fp -> word `next_at` (-1: 0), return `ret`. */
static inline void synth_frame(struct synth *s, int at, int next_at, uintptr_t ret)
{
	s->w[at] = next_at < 0 ? 0 : synth_addr(s, next_at);
	s->w[at + 1] = ret;
}

static inline struct fpu_region synth_region(struct synth *s, uint32_t kind,
					     uint64_t owner)
{
	struct fpu_region r = {
		.lo = synth_addr(s, 0),
		.hi = synth_addr(s, SYNTH_WORDS),
		.owner = owner,
		.kind = kind,
	};
	return r;
}

#endif
