/* prof_ring.c — the per-M sample ring (see prof.h for the protocol). */
#include <string.h>
#include <sys/mman.h>

#include "fpu_record.h"
#include "prof.h"

#define PAD_MARKER 0u   /* record type 0 is invalid in the format: a pad */

int rt_prof_ring_init(struct rt_prof_ring *r, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	r->buf = p;
	r->size = size;
	atomic_store(&r->head, 0);
	atomic_store(&r->tail, 0);
	return 0;
}

void *rt_prof_ring_reserve(struct rt_prof_ring *r, size_t need)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t pos = (size_t)(head & (r->size - 1));
	size_t room_to_end = r->size - pos;
	size_t pad = room_to_end < need ? room_to_end : 0;

	if (need > r->size / 2 || head + pad + need - tail > r->size)
		return NULL;
	if (pad) {
		/* Every record and pad is 8-aligned, so 4 bytes are always there. */
		uint32_t marker = PAD_MARKER;
		memcpy(r->buf + pos, &marker, sizeof marker);
		head += pad;
	}
	r->reserved_at = head;
	return r->buf + (head & (r->size - 1));
}

void rt_prof_ring_commit(struct rt_prof_ring *r, size_t need)
{
	atomic_store_explicit(&r->head, r->reserved_at + need, memory_order_release);
}

/*
 * Whole records lie contiguous up to a pad or the ring's end, so they are
 * handed to emit as one run: the writer then makes one write(2) per run, not
 * one per sample (20,000 a second at 9,973 Hz on two Ms, most of the
 * writer thread's CPU time).
 */
long rt_prof_ring_drain(struct rt_prof_ring *r,
			int (*emit)(const void *rec, size_t len, void *arg), void *arg)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t start = tail, run = tail;   /* run: the first record not emitted */
	int failed = 0;

	while (tail < head && !failed) {
		size_t pos = (size_t)(tail & (r->size - 1));
		uint32_t type, len;
		/* A run never goes past the ring's end: the next record is at 0. */
		if (pos == 0 && tail > run) {
			failed = emit(r->buf + (run & (r->size - 1)), (size_t)(tail - run), arg) != 0;
			if (failed)
				break;
			run = tail;
		}
		memcpy(&type, r->buf + pos, sizeof type);
		if (type == PAD_MARKER) {
			if (tail > run &&
			    (failed = emit(r->buf + (run & (r->size - 1)), (size_t)(tail - run),
					   arg) != 0))
				break;
			tail += r->size - pos;
			run = tail;
			continue;
		}
		memcpy(&len, r->buf + pos + 4, sizeof len);
		tail += FPU_REC_HEADER_SIZE + (((size_t)len + 7) & ~(size_t)7);
	}
	if (!failed && tail > run)
		failed = emit(r->buf + (run & (r->size - 1)), (size_t)(tail - run), arg) != 0;
	if (failed)
		tail = run;   /* the run stays for the next call */
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	return tail == head || tail > start ? (long)(tail - start) : -1;
}
