/*
 * sampler.h — real samples of this process for the DWARF tests: a thread runs
 * a chain of functions; SIGPROF copies its registers, FP chain and stack (from
 * sp to the top of its stack) the way the profiler does, until the caller's
 * predicate accepts a sample.
 */
#ifndef TEST_SAMPLER_H
#define TEST_SAMPLER_H

#include "fpu_dwarf.h"

/* The spinning functions poll this; the sampler sets it to stop them. */
extern volatile int sampler_stop;

/*
 * Run top() on a new thread and sample it until wanted(sample) says yes (at
 * most 1000 samples; the last one is kept either way), then stop and join it.
 * Returns the sample (static storage, valid until the next call).
 */
const struct fpu_sample *sample_thread(void (*top)(void),
				       int (*wanted)(const struct fpu_sample *s));

/* A DWARF session over this process's mappings (asserts on failure). */
struct fpu_dwarf *sampler_session(enum fpu_dwarf_backend b);

/* The function at pc ("?" when unknown). */
const char *sampler_fn(struct fpu_dwarf *d, uint64_t pc, int is_return);

#endif
