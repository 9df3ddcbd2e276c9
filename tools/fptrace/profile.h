/*
 * profile.h — the analyzed profile that every fptrace output is written from.
 *
 * analyze.c builds it from a .fpt file: each sample unwound with DWARF and
 * compared with its FP chain, its frames symbolized and interned, identical
 * stacks merged.  A stack is the DWARF stack when DWARF unwound the sample
 * (that is the truth the FP chain is judged against) and the FP chain
 * otherwise; `mark` points at the frame where the two disagree, so a flame
 * graph can colour it by class.
 */
#ifndef FPT_PROFILE_H
#define FPT_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "fpu_dwarf.h"

/* A mapped file of the profiled process (pprof Mapping). */
struct fpt_mapping {
	uint64_t start, limit, offset;
	const char *path;
	const char *build_id;     /* lowercase hex, "" if unknown */
};

/* One distinct frame: a function in a module, at a representative line. */
struct fpt_frame {
	const char *function;     /* "??" style fallbacks are made by analyze.c:
				     never NULL (e.g. "libc.so.6+0x2724a") */
	const char *module;       /* path, or "" */
	const char *file;         /* source file, or "" */
	uint32_t line;            /* 0 if unknown */
	int32_t mapping;          /* index into fpt_profile.mappings, -1 if none */
	uint64_t address;         /* a pc in this frame (pprof Location.address) */
	int system;               /* module in a system library directory */
};

struct fpt_stack {
	uint32_t *frames;         /* indexes into fpt_profile.frames, leaf first */
	uint32_t depth;
	uint32_t kind;            /* enum fpu_sample_kind */
	uint32_t cls;             /* enum fpu_class of the samples merged here */
	int32_t mark;             /* frames[mark] is where FP and DWARF part, or -1 */
	uint64_t samples;
	uint64_t weight_ns;       /* sum of sample weights (CPU or wall time) */
	uint64_t goid;            /* the goroutine (an fprt program's own samples), or 0 */
};

struct fpt_profile {
	struct fpt_mapping *mappings;
	size_t nmappings;
	struct fpt_frame *frames;
	size_t nframes;
	struct fpt_stack *stacks;
	size_t nstacks;
	uint64_t total_samples;   /* over all stacks */
	uint64_t period_ns;       /* nominal sampling period (1e9 / hz) */
	const char *exe;          /* the profiled program, for titles */
	uint64_t duration_ns;     /* first to last sample */
};

/* Writers.  Each returns 0, or -1 with a one-line reason in err. */
int fpt_write_folded(FILE *out, const struct fpt_profile *p, char *err, size_t errlen);
int fpt_write_pprof(const char *path, const struct fpt_profile *p, char *err, size_t errlen);
int fpt_write_svg(FILE *out, const struct fpt_profile *p, const char *title,
		  char *err, size_t errlen);
/* speedscope's file format; name titles the file and its profiles. */
int fpt_write_speedscope(FILE *out, const struct fpt_profile *p, const char *name,
			 char *err, size_t errlen);

#endif
