/*
 * perf_exec.h — internal to the live decoder (perf_ring.c): the programs that
 * the started program's children exec, followed as perf record follows them.
 *
 * A .fpt file holds one address space after each PROCESS record.
 * `fptrace record -- sh -c './prog; true'` must profile prog, not sh: each
 * process that execs another program gets a stream of its own (its records
 * in a temporary file, with its forks that run the same program), and when
 * the recording ends each stream with samples becomes a section of the file,
 * the most sampled first (perf_sections.c).  `record -p A,B` gives B (and
 * every further process) a stream the same way.
 */
#ifndef FPT_PERF_EXEC_H
#define FPT_PERF_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "fpu_record.h"

#define FPT_EXEC_STREAMS_MAX 64   /* programs followed; later execs are foreign */
#define FPT_EXEC_PIDS_MAX 64      /* processes of one stream */

struct fpt_exec_stream {
	uint32_t pid;                       /* the process that exec'd */
	uint32_t pids[FPT_EXEC_PIDS_MAX];   /* it and its forks */
	size_t npids;
	int fd;                             /* the temporary file, read back at the end */
	struct fpu_writer w;
	int closed;                         /* w is closed (written out) */
	int write_failed;                   /* errno of the first failure */
	uint64_t samples;
	char exe[4096];                     /* /proc/PID/exe when it exec'd */
	char *cmdline;                      /* /proc/PID/cmdline then */
	uint32_t cmdline_len;
};

/* A stream for pid, which just exec'd (its exe and command line are read
 * from /proc now); NULL when none can be made (too many, no temp file). */
struct fpt_exec_stream *fpt_exec_stream_new(uint32_t pid, const char *tmpdir);
void fpt_exec_stream_free(struct fpt_exec_stream *s);
int fpt_exec_stream_has(const struct fpt_exec_stream *s, uint32_t pid);
void fpt_exec_stream_add(struct fpt_exec_stream *s, uint32_t pid);
void fpt_exec_stream_remove(struct fpt_exec_stream *s, uint32_t pid);
void fpt_exec_stream_put(struct fpt_exec_stream *s, const struct fpu_record *rec);

/*
 * Write stream s as a section of a recording into out: PROCESS (process with
 * s's pid, exe and command line), then s's records.  0, or -1 with errno.
 */
int fpt_exec_stream_write(struct fpt_exec_stream *s, struct fpu_writer *out,
			  const struct fpu_rec_process *process);

#endif
