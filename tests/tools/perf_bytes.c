/* perf_bytes.c — see perf_bytes.h. */
#include "perf_bytes.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpt_perf_abi.h"

static void reserve(struct perf_bytes *p, size_t len)
{
	cr_assert_leq(p->n + len, p->cap, "a record of %zu bytes does not fit in %zu",
		      p->n + len, p->cap);
}

void perf_bytes_put64(struct perf_bytes *p, uint64_t v)
{
	reserve(p, 8);
	memcpy(p->b + p->n, &v, 8);
	p->n += 8;
}

void perf_bytes_put32x2(struct perf_bytes *p, uint32_t lo, uint32_t hi)
{
	perf_bytes_put64(p, (uint64_t)hi << 32 | lo);
}

void perf_bytes_put_name(struct perf_bytes *p, const char *name, size_t len)
{
	size_t n = strlen(name);
	cr_assert_lt(n, len, "the name \"%s\" does not fit in %zu bytes", name, len);
	reserve(p, len);
	memset(p->b + p->n, 0, len);
	memcpy(p->b + p->n, name, n);
	p->n += len;
}

size_t perf_bytes_begin(struct perf_bytes *p)
{
	size_t at = p->n;
	reserve(p, sizeof(struct perf_event_header));
	p->n += sizeof(struct perf_event_header);
	return at;
}

void perf_bytes_end(struct perf_bytes *p, size_t at, uint32_t type, uint16_t misc)
{
	cr_assert_leq(p->n - at, UINT16_MAX, "a record of %zu bytes", p->n - at);
	struct perf_event_header h = { .type = type, .misc = misc,
				       .size = (uint16_t)(p->n - at) };
	memcpy(p->b + at, &h, sizeof h);
}

struct perf_event_attr perf_live_attr(uint32_t dump_size)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_type = FPT_PERF_SAMPLE_TYPE;
	a.sample_regs_user = fpt_perf_regs_mask();
	a.sample_stack_user = dump_size;
	a.sample_max_stack = 127;
	a.sample_id_all = 1;
	a.freq = 1;
	a.sample_freq = 997;
	return a;
}

void perf_mem_ring_new(struct perf_mem_ring *r, size_t data_pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), data = data_pages * page;
	uint8_t *base = aligned_alloc(page, page + data);
	cr_assert_not_null(base);
	memset(base, 0, page + data);
	r->meta = (struct perf_event_mmap_page *)base;
	r->meta->data_offset = page;
	r->meta->data_size = data;
	r->data = base + page;
	r->ring = (struct fpt_ring){ .fd = -1, .base = base, .mmap_len = page + data,
				     .data_size = data };
}

void perf_mem_ring_push(struct perf_mem_ring *r, const uint8_t *recs, size_t len)
{
	uint64_t head = r->meta->data_head;
	cr_assert_lt(head + len, r->ring.data_size, "the test ring is full");
	memcpy(r->data + head, recs, len);
	r->meta->data_head = head + len;
}

void perf_mem_ring_free(struct perf_mem_ring *r)
{
	free(r->ring.base);
	r->ring.base = NULL;
}
