/*
 * perf_session.h — internal to the perf_event_open recorders (perf_record.c,
 * perf_attach.c): one recording's events, rings, decoder and file.
 */
#ifndef FPT_PERF_SESSION_H
#define FPT_PERF_SESSION_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "perf_ring.h"
#include "fpt_launch.h"
#include "fpt_perf_event.h"
#include "fpunwind.h"

struct fpt_perf_rec {
	pid_t pid;
	struct fpt_launch launch;
	struct perf_event_attr attr;   /* what the events were opened with */
	struct fpt_ring *rings;          /* one per CPU */
	size_t nrings;
	int *extra_fds;                  /* more threads' events, output to a ring */
	size_t nextra;
	struct fpt_decoder dec;
	struct fpu_writer w;
	const struct fpt_perf_event *event;   /* -e */
	uint64_t period;                      /* -c; 0: hz */
	int no_inherit;                       /* --no-inherit */
};

struct fpt_status {
	int on;
	uint64_t last_ns, last_samples;
	int shown;
};

uint64_t fpt_now_ns(clockid_t c);
long fpt_read_sysctl(const char *path, long dflt);

/*
 * Open the sampling event on every CPU for each of tids (with inherit: their
 * future children and threads too) and map one ring per CPU.  attach: the
 * tasks run already (enabled now; a task gone meanwhile is skipped); else
 * one program held before exec (enabled at exec).  Sets r->attr.  0, or -1
 * with a one-line reason in err.
 */
int fpt_rec_open_events(struct fpt_perf_rec *r, const pid_t *tids, size_t ntids, int attach,
			unsigned hz, uint32_t stack, uint32_t max_stack, char *err, size_t errlen);
void fpt_rec_close_events(struct fpt_perf_rec *r);
/* One pass over the rings (a round, perf_ring.h): what they hold now; the
 * records consumed.  The loops that run while the tasks do use this: a pass
 * never chases samples taken while it runs.  Records newer than the
 * previous round wait for the next one, or for fpt_rec_drain. */
size_t fpt_rec_drain_once(struct fpt_perf_rec *r);
/* Drain every ring until all are empty, and decode all that waits: once
 * the tasks ended or sampling is disabled (else it may never end). */
void fpt_rec_drain(struct fpt_perf_rec *r);
/* Stop sampling (the tasks run on). */
void fpt_rec_disable(struct fpt_perf_rec *r);
/* [vdso] with our vDSO's build-id, unless a mapping covers it: 1 if written.
 * Into stream es (another process of the recording), or the file (NULL). */
uint64_t fpt_rec_put_vdso_mapping(struct fpt_perf_rec *r, struct fpt_exec_stream *es,
				  uint64_t start, uint64_t end);
/* Executable file mappings that no MMAP2 record covered; how many written. */
uint64_t fpt_rec_put_proc_mappings(struct fpt_perf_rec *r, struct fpt_exec_stream *es,
				   const struct fpu_mapping *maps, size_t nmaps);
/* END, with the decoder's totals. */
void fpt_rec_put_end(struct fpt_perf_rec *r, struct fpu_rec_end end);
/* The directory of path, where the streams' temporary files go. */
void fpt_rec_tmpdir(const char *path, char *dir, size_t len);

/*
 * The end of a recording (perf_sections.c).  When only the file's own process
 * (the started program or the first -p process, with its forks) has samples:
 * END, as fpt_rec_put_end.  When other processes have samples too (programs
 * exec'd by the started one's children, the other -p processes: the
 * decoder's streams), the file at path is rewritten as one section per
 * process with samples (PROCESS, then its records; docs/FORMAT.md), the most
 * sampled first, then END with the total; END is `end` when the file's own
 * process comes first, else how unknown (not our child).  The writer is
 * closed either way.  0, or an errno.
 */
int fpt_rec_finish(struct fpt_perf_rec *r, const char *path, const struct fpu_rec_process *base,
		   struct fpu_rec_end end);

/* The live status line on stderr (samples, rate, lost), when on. */
void fpt_status_update(struct fpt_status *s, const struct fpt_decoder *d, int force);
void fpt_status_clear(struct fpt_status *s);

#endif
