/*
 * perf_order.c — the live decoder's records in time order across the per-CPU
 * rings (see perf_ring.h), the way perf's ordered events (FINISHED_ROUND)
 * give them to perf report.
 *
 * Why: a process's FORK record goes to the ring of the CPU its parent ran on,
 * its COMM (exec), MMAP2 and SAMPLE records to the rings of the CPUs it runs
 * on.  Decoded ring after ring, a child's exec and samples can come before
 * the FORK that says whose child it is: `sh -c './prog; true'` then lost
 * prog's samples to sh, whose mappings cannot name them.
 */
#include "perf_ring.h"

#include <stdlib.h>
#include <string.h>

void fpt_decoder_queue(struct fpt_decoder *d, const uint8_t *rec, size_t size)
{
	uint64_t time;
	fpt_perf_record_time(&d->attr, rec, size, &time);   /* untimed: 0, decoded first */
	uint8_t *copy = malloc(size);
	if (copy && d->nqueue == d->cap_queue) {
		size_t cap = d->cap_queue ? 2 * d->cap_queue : 256;
		struct fpt_queued *q = realloc(d->queue, cap * sizeof *q);
		if (q) {
			d->queue = q;
			d->cap_queue = cap;
		}
	}
	if (!copy || d->nqueue == d->cap_queue) {
		free(copy);
		fpt_decoder_record(d, rec, size);   /* out of memory: decoded out of order, not lost */
		return;
	}
	memcpy(copy, rec, size);
	d->queue[d->nqueue++] = (struct fpt_queued){ .time = time, .seq = d->queue_seq++,
						     .rec = copy, .size = size };
	if (time > d->seen_max)
		d->seen_max = time;
}

static int by_time(const void *a, const void *b)
{
	const struct fpt_queued *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Decode the queued records timed up to limit, in time order; keep the rest. */
static void decode_until(struct fpt_decoder *d, uint64_t limit)
{
	qsort(d->queue, d->nqueue, sizeof *d->queue, by_time);
	size_t n = 0;
	while (n < d->nqueue && d->queue[n].time <= limit) {
		fpt_decoder_record(d, d->queue[n].rec, d->queue[n].size);
		free(d->queue[n].rec);
		n++;
	}
	memmove(d->queue, d->queue + n, (d->nqueue - n) * sizeof *d->queue);
	d->nqueue -= n;
}

void fpt_decoder_end_round(struct fpt_decoder *d)
{
	decode_until(d, d->horizon);
	d->horizon = d->seen_max;
}

void fpt_decoder_flush(struct fpt_decoder *d)
{
	decode_until(d, UINT64_MAX);
	d->horizon = d->seen_max;
}
