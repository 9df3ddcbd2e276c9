/*
 * perfdata.h — read a perf.data file (what `perf record` writes; pipe mode too)
 * as the same stream of records the .fpt reader gives, so that `fptrace check`
 * and `fptrace report` work on files made by `perf record --call-graph dwarf`.
 *
 * What a perf.data file becomes:
 *   PROCESS  first: the sampled process (the most-sampled pid), its executable
 *            (its first executable file mapping), its command line (the
 *            arguments after "--" in perf's own command line, else its comm);
 *   MAPPING  executable file mappings (MMAP, MMAP2) of that process;
 *   THREAD   COMM records of that process;
 *   SAMPLE   its samples: registers from PERF_SAMPLE_REGS_USER (x86-64's or
 *            aarch64's, as the HEADER_ARCH feature says: machine); the stack
 *            snapshot is the user-stack dump [sp, sp + dyn_size) (one segment,
 *            region_hi 0: unknown); the frame-pointer chain is the user part
 *            of the kernel's callchain when it has one (--call-graph fp), else
 *            (--call-graph dwarf: the kernel leaves it out) it is walked with
 *            fpu_walk_checked inside the dump, from rip/rsp/rbp.  A walk that
 *            runs off the top of a dump cut at the size perf asked for (the
 *            stack goes on above it) ends as FPU_END_DEPTH, not out-of-bounds:
 *            the snapshot ended, not the chain;
 *   DROPS    LOST and LOST_SAMPLES records;
 *   END      last, how = FPU_END_HOW_UNKNOWN (perf.data has no exit status).
 * Samples of other processes are skipped and counted (foreign).
 *
 * Robustness: the file is read through a 4 MiB window (a regular file only,
 * see fpu_stream) and every read is bounded by the record it belongs to;
 * nothing is allocated from a length the file claims beyond what the file
 * holds (the window grows for a section larger than itself; event ids are
 * copied), and one fixed 64 KiB scratch buffer.  Bad or unsupported input gives one line
 * "<path>: offset <N>: <reason>" naming the record at fault.
 */
#ifndef FPT_PERFDATA_H
#define FPT_PERFDATA_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>

#include "fpu_record.h"

#define FPT_PERFDATA_MAX_ATTRS 64     /* events in one file */
#define FPT_PERFDATA_MAX_PCS 1024     /* frames of one FP chain */
#define FPT_PERFDATA_PIDS 1024        /* distinct pids counted to pick one */
#define FPT_PIDS_MAX 64               /* --pid: processes selected at most */

struct fpt_perf_attr {
	struct perf_event_attr attr;  /* zero-extended copy of the file's attr */
	const uint8_t *ids;           /* its sample ids (u64, unaligned): in the caller's
					 memory, or a copy of the file's (owned) */
	uint64_t nids;
};

struct fpt_perf_pid {
	uint32_t pid;                 /* key + 1 in the table: 0 is free */
	uint32_t pad_;
	uint64_t samples;
	uint64_t comm_off;            /* its first COMM record, 0 if none */
	uint64_t exe_off;             /* its first executable file MMAP/MMAP2, 0 if none */
};

struct fpt_perfdata {
	const uint8_t *base;          /* the caller's memory (fpt_perfdata_open_mem) */
	uint64_t size;
	int streamed;                 /* a file, read through stream: memory stays flat */
	struct fpu_stream stream;
	int pipe;                     /* pipe-mode file (attrs in HEADER_ATTR records) */
	int state;                    /* 0: PROCESS next, 1: records, 2: done */
	int failed;
	uint64_t data_off, data_end;  /* the data section */
	uint64_t off;                 /* next record */

	struct fpt_perf_attr attrs[FPT_PERFDATA_MAX_ATTRS];
	unsigned nattrs;
	int has_stacks;               /* some event samples STACK_USER + REGS_USER */
	int last_attr;                /* cache for id lookups */
	uint32_t machine;             /* ELF e_machine of the recording (HEADER_ARCH; this
					 machine's without it), 0 for an arch fptrace does not know */
	char arch[32];                /* HEADER_ARCH's uname -m, "" without it */

	uint32_t pid;                 /* the process whose samples are read */
	uint32_t want[FPT_PIDS_MAX];  /* --pid: the processes read (pid is the most
					 sampled of them); none: pid alone */
	size_t nwant;
	const char *exe;              /* exe_path, or NULL */
	char exe_path[FPU_REC_MAX_PATH + 1];
	char comm[17];
	char cmdline[4096];           /* NUL-separated arguments */
	uint32_t cmdline_len;

	/* counters, over what was read so far */
	uint64_t records;             /* perf records read */
	uint64_t samples;             /* SAMPLE records given out */
	uint64_t foreign;             /* samples of other processes, skipped */
	uint64_t no_regs;             /* samples without user registers, skipped */
	uint64_t no_stack;            /* samples given out without a stack dump */
	uint64_t lost;                /* from LOST / LOST_SAMPLES */
	uint64_t mappings;            /* MAPPING records given out */

	struct fpt_perf_pid pids[FPT_PERFDATA_PIDS];
	uint64_t pcs[FPT_PERFDATA_MAX_PCS + 1];
	uint8_t *scratch;             /* aligned copy of a misaligned stack dump */

	char note[512];               /* a warning about the whole file, or "" */
	char path[256];
	char err[FPU_REC_ERRLEN];
};

/* Does path start with the perf.data magic "PERFILE2"?  1, 0 (or unreadable). */
int fpt_is_perfdata(const char *path);

/*
 * Open path and read its header, events and (one pass over the data section)
 * which process to present.  The file is read through a window (pread, never
 * mapped: a file cut meanwhile gives an error, not SIGBUS), so memory stays
 * flat whatever its size, and a record's pointers last until the next record.  0, or -1 with the reason in p->err (and in err
 * when not NULL).  Call fpt_perfdata_close in both cases.
 */
int fpt_perfdata_open(struct fpt_perfdata *p, const char *path, char *err, size_t errlen);
/*
 * The same, reading the processes pids[0, npids) (perf's --pid) instead of
 * the most sampled one: their samples, mappings and threads, as one process
 * (PROCESS is the most sampled of them).  A pid without samples in the file
 * fails the open: "<path>: --pid 99: no samples of that process (the file's
 * most sampled: 4242 (1200 samples), 4241 (3 samples))".
 */
int fpt_perfdata_open_pids(struct fpt_perfdata *p, const char *path, const uint32_t *pids,
			   size_t npids, char *err, size_t errlen);
/* The same over memory the caller keeps alive; name is for messages. */
int fpt_perfdata_open_mem(struct fpt_perfdata *p, const void *data, size_t size,
			  const char *name, char *err, size_t errlen);
/*
 * The next record: 1 (rec filled), 0 at the end, -1 on error (p->err set;
 * every later call returns -1).  A sample's fp_pcs (and its segment data when
 * the dump had to be realigned) stay valid until the next call; every other
 * pointer points into the file and stays valid until close.
 */
int fpt_perfdata_next(struct fpt_perfdata *p, struct fpu_record *rec);
const char *fpt_perfdata_error(const struct fpt_perfdata *p);
/*
 * Read the records again from the first (PROCESS), the same as a fresh open
 * gives, without the open's pass over the whole file (which process, which
 * events): the analysis reads a file twice.  0, or -1 after an error.
 */
int fpt_perfdata_rewind(struct fpt_perfdata *p);
void fpt_perfdata_close(struct fpt_perfdata *p);

/* ---------------------------------------------------------------------------
 * A record source: a .fpt file or a perf.data file, chosen by its magic.  The
 * same calls as fpu_reader's, so the analysis reads either.
 * ------------------------------------------------------------------------- */
enum fpt_source_kind { FPT_SOURCE_FPT = 1, FPT_SOURCE_PERF = 2 };

struct fpt_source {
	int kind;
	struct fpu_reader fpt;
	struct fpt_perfdata *perf;    /* allocated: it is large */
	uint32_t pids[FPT_PIDS_MAX];  /* --pid: the processes read; none: all */
	size_t npids;
	int selected;                 /* .fpt: the current PROCESS is one of pids */
	uint64_t sections;            /* .fpt: PROCESS records read */
	int first_selected;           /* .fpt: the first PROCESS, whose END it is, is */
	char err[FPU_REC_ERRLEN];
};

/* 0, or -1 with fpt_source_error set.  Call fpt_source_close in both cases.
 * A perf.data file whose samples cannot be unwound with DWARF (no stack dumps:
 * --call-graph fp) is read anyway, with a warning on stderr (once per path). */
int fpt_source_open(struct fpt_source *s, const char *path);
/*
 * The same, reading only the processes pids[0, npids) (report/check --pid).
 * A .fpt file (since 1.3, docs/FORMAT.md) holds one or more processes, each a
 * PROCESS record followed by its records: the records of the other processes
 * are skipped (END is kept; its fate, the first process's, becomes unknown
 * when that process is not selected).  A perf.data file: fpt_perfdata_open_pids.  A pid
 * that is not in the file fails the open with one line naming the file's
 * processes: "<path>: --pid 99: no such process in the recording (it holds
 * 4242 prog (1200 samples), 4241 sh (3 samples))".
 */
int fpt_source_open_pids(struct fpt_source *s, const char *path, const uint32_t *pids,
			 size_t npids);
int fpt_source_next(struct fpt_source *s, struct fpu_record *rec);
/* From the first record again (path: the one it was opened with); 0, or -1
 * with fpt_source_error set. */
int fpt_source_rewind(struct fpt_source *s, const char *path);
const char *fpt_source_error(const struct fpt_source *s);
void fpt_source_close(struct fpt_source *s);

#endif
