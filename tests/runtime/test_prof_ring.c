/*
 * The profiler's per-M ring (runtime/src/prof_ring.c), filled and drained in
 * one thread: records come out whole and in order, and the drain hands the
 * writer runs of records that lie contiguous in the ring, so that it makes
 * one write(2) per run instead of one per sample.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fpu_record.h"
#include "prof.h"

#define RING 4096
#define EXACT 48          /* payload: 64-byte records, 64 of them fill the ring */
#define ODD 40            /* payload: 56-byte records leave a pad at its end */

struct drained {
	int calls;
	int fail;             /* emit refuses its runs */
	uint32_t next_seq;    /* records come out in order */
	uint32_t records;
};

/* A record of payload bytes whose payload starts with seq. */
static void produce(struct rt_prof_ring *r, uint32_t seq, uint32_t payload)
{
	size_t need = FPU_REC_HEADER_SIZE + payload;
	uint8_t *p = rt_prof_ring_reserve(r, need);
	cr_assert_not_null(p, "ring full at record %u", seq);
	uint32_t type = FPU_REC_SAMPLE;
	memset(p, 0, need);
	memcpy(p, &type, 4);
	memcpy(p + 4, &payload, 4);
	memcpy(p + FPU_REC_HEADER_SIZE, &seq, 4);
	rt_prof_ring_commit(r, need);
}

static int emit(const void *recs, size_t len, void *arg)
{
	struct drained *d = arg;
	d->calls++;
	if (d->fail)
		return -1;
	for (size_t off = 0; off < len;) {
		uint32_t type, seq, payload;
		cr_assert_leq(off + FPU_REC_HEADER_SIZE, len, "a run of %zu bytes ends mid-record",
			      len);
		memcpy(&type, (const uint8_t *)recs + off, 4);
		memcpy(&payload, (const uint8_t *)recs + off + 4, 4);
		memcpy(&seq, (const uint8_t *)recs + off + FPU_REC_HEADER_SIZE, 4);
		off += FPU_REC_HEADER_SIZE + payload;
		cr_assert_leq(off, len, "a run of %zu bytes ends mid-record", len);
		cr_assert_eq(type, FPU_REC_SAMPLE, "a pad or garbage in a run at %zu", off);
		cr_assert_eq(seq, d->next_seq, "record %u where %u was due", seq, d->next_seq);
		d->next_seq++;
		d->records++;
	}
	return 0;
}

Test(prof_ring, drain_emits_contiguous_records_as_one_run)
{
	struct rt_prof_ring r;
	struct drained d = { 0 };
	cr_assert_eq(rt_prof_ring_init(&r, RING), 0);
	for (uint32_t i = 0; i < 20; i++)
		produce(&r, i, EXACT);
	cr_assert_eq(rt_prof_ring_drain(&r, emit, &d), 20 * (FPU_REC_HEADER_SIZE + EXACT));
	cr_assert_eq(d.records, 20);
	cr_assert_eq(d.calls, 1, "%d emits for 20 contiguous records", d.calls);
}

Test(prof_ring, a_pad_or_the_ring_end_splits_the_run)
{
	struct rt_prof_ring r;
	struct drained d = { 0 };
	uint32_t seq = 0;
	cr_assert_eq(rt_prof_ring_init(&r, RING), 0);
	/* 64 records of 64 bytes fill the ring exactly: the 65th starts at 0 */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 40; i++)
			produce(&r, seq++, EXACT);
		rt_prof_ring_drain(&r, emit, &d);
	}
	cr_assert_eq(d.records, 120);
	/* 40 | 24 up to the end, 16 from 0 | 40: the end splits one run */
	cr_assert_eq(d.calls, 4, "%d emits", d.calls);

	/* 56-byte records: 73 fit before the end, then an 8-byte pad */
	struct rt_prof_ring r2;
	cr_assert_eq(rt_prof_ring_init(&r2, RING), 0);
	struct drained d2 = { 0 };
	for (uint32_t i = 0; i < 60; i++)
		produce(&r2, i, ODD);
	rt_prof_ring_drain(&r2, emit, &d2);
	for (uint32_t i = 60; i < 80; i++)
		produce(&r2, i, ODD);
	d2.calls = 0;
	rt_prof_ring_drain(&r2, emit, &d2);
	cr_assert_eq(d2.records, 80);
	cr_assert_eq(d2.calls, 2, "%d emits across the pad", d2.calls);
}

Test(prof_ring, a_refused_run_stays_for_the_next_drain)
{
	struct rt_prof_ring r;
	struct drained d = { .fail = 1 };
	cr_assert_eq(rt_prof_ring_init(&r, RING), 0);
	for (uint32_t i = 0; i < 10; i++)
		produce(&r, i, EXACT);
	cr_assert_eq(rt_prof_ring_drain(&r, emit, &d), -1);
	d.fail = 0;
	cr_assert_eq(rt_prof_ring_drain(&r, emit, &d), 10 * (FPU_REC_HEADER_SIZE + EXACT));
	cr_assert_eq(d.records, 10);
}
