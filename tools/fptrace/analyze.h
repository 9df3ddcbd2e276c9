/*
 * analyze.h — read a .fpt file, unwind every sample with DWARF (libdw,
 * libunwind or both), compare each with its frame-pointer chain, symbolize, and
 * build the profile and the defect tables that report and check print.
 */
#ifndef FPT_ANALYZE_H
#define FPT_ANALYZE_H

#include "fpu_record.h"
#include "intern.h"
#include "profile.h"

enum { FPT_BACKEND_LIBDW = 1, FPT_BACKEND_LIBUNWIND = 2, FPT_BACKENDS = 2 };
enum { FPT_KIND_CPU = 1, FPT_KIND_WALL = 2 };

struct fpt_analysis_opts {
	unsigned backends;        /* FPT_BACKEND_* bits */
	unsigned kinds;           /* FPT_KIND_* bits: which samples count */
	const uint32_t *pids;     /* --pid: these processes' samples only */
	size_t npids;             /* 0: every process of the file */
	/* check: the sites alone.  No profile stacks; a culprit named by its
	 * symbol, without the DWARF of its module (inlined frames and lines);
	 * the example chains only for defect sites in the code under test, the
	 * only ones check prints.  A small file's check no longer inflates
	 * libc6-dbg's debug info for libc's culprits. */
	int sites_only;
};

#define FPT_EXAMPLE_FRAMES 24

/* One place where frame-pointer chains break: a class at a culprit frame. */
struct fpt_site {
	uint32_t cls;             /* enum fpu_class */
	uint32_t culprit;         /* frame index (profile.frames) */
	int32_t missing;          /* the frame the FP chain lacks, or -1 */
	int system;               /* culprit in a system library */
	uint64_t samples;
	/* One example: both stacks, leaf first, and where they part. */
	uint32_t fp[FPT_EXAMPLE_FRAMES], dwarf[FPT_EXAMPLE_FRAMES];
	uint32_t nfp, ndwarf, fp_index, dwarf_index;
	char dwarf_reason[128];
	/* dwarf-fail: samples not explained by a short snapshot, and the first
	 * one's reason (broken or missing CFI at the culprit). */
	uint64_t cfi_failures;
	char cfi_reason[128];
	/* Where the runtime knows: the stacks involved, e.g. "the chain leaves
	 * g0 of M2 into a goroutine stack (G17 was current)". */
	char stacks[256];
};

struct fpt_backend_stats {
	int used;
	uint64_t classes[FPU_CLASS_COUNT];
	uint64_t outside_snapshot;   /* dwarf-fail that a larger snapshot would fix */
	struct fpt_site *sites;
	size_t nsites;
};

struct fpt_analysis {
	struct fpt_arena arena;
	struct fpt_profile profile;
	struct fpt_backend_stats backend[FPT_BACKENDS];   /* [0] libdw, [1] libunwind */
	uint64_t samples;            /* samples analysed (after --kind) */
	uint64_t samples_cpu, samples_wall, samples_skipped;
	uint64_t samples_no_stack;   /* analysed samples without a byte of stack copy */
	/* With both backends, per sample: malignant for both (any module), and
	 * a defect for both in the code under test (fpt_both_defect). */
	uint64_t malignant_both;
	uint64_t defects_both;
	uint64_t backends_disagree;  /* with both: classes differ */
	uint64_t drops;              /* from DROPS and END records */
	uint64_t stack_moves, stack_frees;   /* REGION_EVENT records */
	uint32_t pid, hz, wall_hz;
	int has_sampling;            /* a SAMPLING record (in-process, since 1.1) */
	struct fpu_rec_sampling sampling;
	const char *exe;
	const char *cmdline;         /* first argument list, spaces between */
	const char *go_version;      /* "go1.19.8" for a Go program, else NULL */
	const char *go_path;         /* the Go binary's path, with go_version */
	int has_end;
	struct fpu_rec_end end;
	uint64_t nrecords;
};

/*
 * The cache key of (pc, is_return): exact, never 0.  (A hash seeded with
 * is_return made a return address and an interrupted pc 0xf apart collide:
 * work's "call leafwork" return address took cfi_spin's name.)
 */
uint64_t fpt_pc_key(uint64_t pc, int is_return);

/*
 * Is module a system library of the program whose executable is exe?  The
 * system library directories (fpu_path_is_system), but never the executable
 * itself, wherever it is installed (/usr/lib/<pkg>/, /usr/libexec/).
 */
int fpt_module_is_system(const char *module, const char *exe);

/*
 * With both backends, does a sample count against the code under test?  Only
 * if both call it malignant and, unless strict, neither blames a system
 * library: one backend's opinion is not a defect, and a defect in libc is
 * reported, not failed on.
 */
int fpt_both_defect(const enum fpu_class cls[2], const int system[2], int strict);

/* The backend whose verdict counts (index into backend[]): libdw when used,
 * else libunwind. */
int fpt_judge_backend(const struct fpt_analysis *a);

/* 0, or -1 with a one-line reason (file and offset for a bad file) in err. */
int fpt_analyze(const char *path, const struct fpt_analysis_opts *o,
		struct fpt_analysis *a, char *err, size_t errlen);
void fpt_analysis_free(struct fpt_analysis *a);

/* "perf-event per thread at 997 Hz", "timer at 997 Hz (perf_event_open:
 * Permission denied; at most ~CONFIG_HZ per CPU second)": how the CPU samples
 * were taken; "" when the file does not say. */
void fpt_describe_sampling(const struct fpt_analysis *a, char *buf, size_t len);
/* "exited with status 0", "killed by signal 9 (Killed)", "still running ...". */
void fpt_describe_end(const struct fpt_analysis *a, char *buf, size_t len);

#endif
