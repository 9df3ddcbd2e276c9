/*
 * perf_ring.h — internal to perf_record.c: the perf mmap ring buffers and the
 * conversion of perf records (SAMPLE, MMAP2, COMM, FORK, LOST) to .fpt records,
 * parsed with fpt_perf_abi.h as the perf.data reader parses them.
 */
#ifndef FPT_PERF_RING_H
#define FPT_PERF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>
#include "fpt_perf_abi.h"
#include "perf_exec.h"
#include "fpt_stack_reach.h"

struct fpt_ring {
	int fd;
	int cpu;
	void *base;              /* metadata page + data pages */
	size_t mmap_len;
	size_t data_size;        /* power of two */
};

/* mmap 1 + data_pages pages of fd (data_pages a power of two). 0 or -1/errno. */
int fpt_ring_map(struct fpt_ring *r, int fd, size_t data_pages);
void fpt_ring_unmap(struct fpt_ring *r);

struct fpt_tid_name {
	uint32_t pid, tid;
	char name[16];
};

struct fpt_range {
	uint64_t start, end;
};

/* Conversion state, shared by all rings of one recording. */
struct fpt_decoder {
	struct fpu_writer *w;
	struct perf_event_attr attr;     /* of the events: how to parse their records */
	uint32_t max_stack;      /* attr.sample_max_stack */
	uint32_t main_pid;

	/* processes running the profiled image: the main pid and its forks */
	uint32_t *pids;
	size_t npids, cap_pids;
	struct fpt_tid_name *names;
	size_t nnames, cap_names;
	struct fpt_range *ranges;        /* executable MMAP2 ranges written */
	size_t nranges, cap_ranges;

	uint64_t samples, lost, foreign, skipped, mappings;
	uint64_t first_time, last_time;  /* of samples (monotonic ns) */
	int write_failed;                /* errno of the first write failure */

	/* programs exec'd by the image's children (perf_exec.h), when followed */
	int follow_exec;
	const char *tmpdir;              /* where their streams' files go */
	struct fpt_exec_stream *execs[FPT_EXEC_STREAMS_MAX];
	size_t nexecs;

	/* where each process's stacks end: dumps keep only [sp, top) */
	struct fpt_stack_reach stack_reach;
	/* Records drained but not decoded yet (perf_order.c): each CPU's ring
	 * is in time order, but a FORK in one ring may come after its child's
	 * COMM/MMAP2/SAMPLEs in another, so they are decoded merged by time. */
	struct fpt_queued *queue;
	size_t nqueue, cap_queue;
	uint64_t queue_seq;              /* arrival number: equal times keep it */
	uint64_t seen_max;               /* the latest time queued so far */
	uint64_t horizon;                /* seen_max when the previous round ended */

	uint8_t *copy;                   /* a record that wraps the ring */
	uint64_t *pcs;                   /* max_stack + 1 entries */
};

struct fpt_queued {
	uint64_t time, seq;
	uint8_t *rec;                    /* a copy, header included */
	size_t size;
};

int fpt_decoder_init(struct fpt_decoder *d, struct fpu_writer *w,
		     const struct perf_event_attr *attr, uint32_t main_pid);
void fpt_decoder_free(struct fpt_decoder *d);

/*
 * Consume every record in the ring into d's queue (fpt_decoder_queue).
 * Returns the number of records consumed.
 */
size_t fpt_ring_drain(struct fpt_ring *r, struct fpt_decoder *d);

/*
 * Time order across the rings, as perf's ordered events do it (perf_order.c).
 * A round is one drain of every ring.  Every record timed up to the latest
 * time seen when the previous round ended has reached its ring before this
 * round began, so when a round ends those are decoded, merged by time; the
 * rest wait for the next round.  After the last round (the events disabled
 * or their tasks gone), fpt_decoder_flush decodes everything left.
 * A write failure is remembered in d->write_failed.
 */
void fpt_decoder_queue(struct fpt_decoder *d, const uint8_t *rec, size_t size);
void fpt_decoder_end_round(struct fpt_decoder *d);
void fpt_decoder_flush(struct fpt_decoder *d);
/* Decode one perf record now and write what it becomes. */
void fpt_decoder_record(struct fpt_decoder *d, const uint8_t *rec, size_t size);


/* Does an executable mapping written so far overlap [start, end)? */
int fpt_decoder_has_range(const struct fpt_decoder *d, uint64_t start, uint64_t end);
/* Remember a range written as a MAPPING. */
void fpt_decoder_add_range(struct fpt_decoder *d, uint64_t start, uint64_t end);
/* Write a record, remembering a failure in d->write_failed. */
void fpt_decoder_put(struct fpt_decoder *d, const struct fpu_record *rec);
/* The same into stream es, or into the file when es is NULL. */
void fpt_decoder_put_to(struct fpt_decoder *d, struct fpt_exec_stream *es,
			const struct fpu_record *rec);

#endif
