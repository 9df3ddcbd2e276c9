/*
 * perf_order.c — the perf mmap ring buffers, drained with the barriers the
 * kernel documents (acquire load of data_head, release store of data_tail),
 * and their records given to the decoder (perf_ring.c) in time order across
 * the per-CPU rings (see perf_ring.h), the way perf's ordered events
 * (FINISHED_ROUND) give them to perf report.
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
#include <sys/mman.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * Ring buffers
 * ------------------------------------------------------------------------- */

int fpt_ring_map(struct fpt_ring *r, int fd, size_t data_pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (1 + data_pages) * page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	r->fd = fd;
	r->base = p;
	r->mmap_len = len;
	r->data_size = data_pages * page;
	return 0;
}

void fpt_ring_unmap(struct fpt_ring *r)
{
	if (r->base)
		munmap(r->base, r->mmap_len);
	r->base = NULL;
}

static uint8_t *ring_data(const struct fpt_ring *r)
{
	const struct perf_event_mmap_page *m = r->base;
	size_t off = m->data_offset ? m->data_offset : (size_t)sysconf(_SC_PAGESIZE);
	return (uint8_t *)r->base + off;
}

size_t fpt_ring_drain(struct fpt_ring *r, struct fpt_decoder *d)
{
	struct perf_event_mmap_page *m = r->base;
	uint8_t *data = ring_data(r);
	uint64_t mask = r->data_size - 1;
	/* acquire: the record bytes written before head are visible after it */
	uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = m->data_tail;
	size_t n = 0;

	while (tail < head) {
		size_t off = (size_t)(tail & mask);
		struct perf_event_header h;
		/* records are 8-aligned and the ring size is a power of two >= 8,
		 * so the 8-byte header never wraps */
		memcpy(&h, data + off, sizeof h);
		if (h.size < sizeof h || h.size > head - tail) {
			tail = head;   /* cannot happen with a sane kernel: resync */
			break;
		}
		const uint8_t *rec = data + off;
		if (off + h.size > r->data_size) {
			size_t first = r->data_size - off;
			memcpy(d->copy, data + off, first);
			memcpy(d->copy + first, data, h.size - first);
			rec = d->copy;
		}
		fpt_decoder_queue(d, rec, h.size);
		tail += h.size;
		n++;
	}
	/* release: our reads of the records happen before the kernel may reuse them */
	__atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

/* ---------------------------------------------------------------------------
 * Time order
 * ------------------------------------------------------------------------- */

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
	if (d->nqueue == 0)
		return;   /* and no qsort of a NULL queue: UBSan's nonnull */
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
