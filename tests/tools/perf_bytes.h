/* perf_bytes.h — perf records built byte by byte as the kernel lays them
 * out, and a ring in memory with the kernel's mmap layout to publish them
 * in: the fixtures of the tests of the perf ABI parser and of the live
 * decoder (test_perf_abi.c, test_perf_order.c). */
#ifndef FPT_TEST_PERF_BYTES_H
#define FPT_TEST_PERF_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>

#include "../../perf-integration/src/perf_ring.h"

/* Bytes appended to b[0..cap); a write past cap fails the test. */
struct perf_bytes {
	uint8_t *b;
	size_t n, cap;
};

void perf_bytes_put64(struct perf_bytes *p, uint64_t v);
void perf_bytes_put32x2(struct perf_bytes *p, uint32_t lo, uint32_t hi);
/* A NUL-padded string field of len bytes (a COMM's or an MMAP2's name). */
void perf_bytes_put_name(struct perf_bytes *p, const char *name, size_t len);
/* Reserves a perf_event_header; returns where it starts, for perf_bytes_end. */
size_t perf_bytes_begin(struct perf_bytes *p);
/* Writes the header reserved at `at`, sized from there to the end. */
void perf_bytes_end(struct perf_bytes *p, size_t at, uint32_t type, uint16_t misc);

/* The event the live sampler opens (perf_record.c's open_events), as far as
 * the layout of its records goes, with a dump of dump_size bytes. */
struct perf_event_attr perf_live_attr(uint32_t dump_size);

/* A ring laid out as the kernel maps it: the metadata page, then
 * data_pages pages of records; nothing read, nothing written yet. */
struct perf_mem_ring {
	struct fpt_ring ring;
	struct perf_event_mmap_page *meta;
	uint8_t *data;
};

void perf_mem_ring_new(struct perf_mem_ring *r, size_t data_pages);
/* Copies len bytes of records at the ring's head and moves data_head past. */
void perf_mem_ring_push(struct perf_mem_ring *r, const uint8_t *recs, size_t len);
void perf_mem_ring_free(struct perf_mem_ring *r);

#endif
