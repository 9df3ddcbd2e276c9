/*
 * fuzz_fpt_reader.c — libFuzzer target for the .fpt reader (fpu_record.h).
 *
 * The input is a whole file.  It is copied into an exactly sized heap block
 * (ASan then catches any read past its end or before its start), opened with
 * fpu_reader_open_mem and read to the end.  For every record it checks that
 * each decoded pointer lies inside the input and reads every byte it covers,
 * then re-encodes the record and decodes it again: the second decoding must
 * equal the first (the encoders and the reader share their layout tables, so a
 * record one accepts the other must reproduce).  Any violated promise aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpu_record.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_fpt_reader: %s:%d: %s\n",       \
				__FILE__, __LINE__, #c);                      \
			abort();                                              \
		}                                                             \
	} while (0)

static const uint8_t *g_base;
static size_t g_size;
static volatile uint64_t g_sink;

/* [p, p + n) must lie inside the input; every byte is read. */
static void touch(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint64_t sum = 0;

	if (n == 0)
		return;
	CHECK(b != NULL);
	CHECK(b >= g_base && n <= g_size && (uint64_t)(b - g_base) <= g_size - n);
	for (uint64_t i = 0; i < n; i++)
		sum += b[i];
	g_sink += sum;
}

static void touch_record(const struct fpu_record *rec)
{
	switch (rec->type) {
	case FPU_REC_PROCESS:
		CHECK(rec->u.process.exe_len <= FPU_REC_MAX_PATH);
		CHECK(rec->u.process.cmdline_len <= FPU_REC_MAX_CMDLINE);
		touch(rec->u.process.exe, rec->u.process.exe_len);
		touch(rec->u.process.cmdline, rec->u.process.cmdline_len);
		break;
	case FPU_REC_MAPPING:
		CHECK(rec->u.mapping.end > rec->u.mapping.start);
		CHECK(rec->u.mapping.build_id_len <= FPU_REC_MAX_BUILD_ID);
		CHECK(rec->u.mapping.path_len <= FPU_REC_MAX_PATH);
		touch(rec->u.mapping.build_id, rec->u.mapping.build_id_len);
		touch(rec->u.mapping.path, rec->u.mapping.path_len);
		break;
	case FPU_REC_THREAD:
		CHECK(rec->u.thread.name_len <= FPU_REC_MAX_NAME);
		touch(rec->u.thread.name, rec->u.thread.name_len);
		break;
	case FPU_REC_REGION_EVENT:
		CHECK(rec->u.region.hi > rec->u.region.lo);
		CHECK(rec->u.region.kind < FPU_REGION_KIND_COUNT);
		break;
	case FPU_REC_SAMPLE: {
		const struct fpu_sample *s = &rec->u.sample;
		uint64_t w;
		CHECK(s->nseg <= FPU_MAX_SEGMENTS);
		CHECK(s->fp_end < FPU_END_COUNT);
		CHECK(((uintptr_t)s->fp_pcs & 7) == 0);   /* loaded in place */
		touch(s->fp_pcs, (uint64_t)s->nfp * 8);
		for (uint32_t i = 0; i < s->nfp; i++)
			g_sink += s->fp_pcs[i];
		for (uint32_t k = 0; k < s->nseg; k++) {
			const struct fpu_segment *g = &s->seg[k];
			CHECK(g->lo + g->len >= g->lo);
			CHECK(!g->region_hi || g->lo + g->len <= g->region_hi);
			touch(g->data, g->len);
			/* The DWARF backends read the snapshot through this. */
			if (g->len >= 8) {
				CHECK(fpu_sample_read(s, g->lo + g->len - 8, &w, 8) == 0);
				g_sink += w;
			}
			(void)fpu_sample_read(s, g->lo + g->len - 4, &w, 8);
		}
		(void)fpu_sample_read(s, s->regs[FPU_REG_RSP], &w, 8);
		break;
	}
	case FPU_REC_DROPS:
		break;
	case FPU_REC_SAMPLING:
		CHECK(rec->u.sampling.cpu_source >= FPU_CPU_SOURCE_TIMER &&
		      rec->u.sampling.cpu_source <= FPU_CPU_SOURCE_PERF_EVENT);
		break;
	case FPU_REC_END:
		CHECK(rec->u.end.how >= FPU_END_HOW_EXITED &&
		      rec->u.end.how <= FPU_END_HOW_UNKNOWN);
		break;
	default:
		CHECK(!"unknown record type returned");
	}
}

static int same_bytes(const void *a, const void *b, uint64_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* decode(encode(rec)) == rec, field by field (pointers compared by content). */
static void roundtrip(const struct fpu_record *rec)
{
	static uint64_t buf[(1u << 21) / 8 + 64];   /* > any record the reader takes */
	uint8_t *b = (uint8_t *)buf;
	size_t hdr = fpu_rec_encode_file_header(b, sizeof buf);
	size_t need = fpu_rec_size(rec);
	struct fpu_reader r;
	struct fpu_record again;

	CHECK(hdr == FPU_REC_FILE_HEADER_SIZE);
	CHECK(need > 0 && need == FPU_REC_HEADER_SIZE + ((rec->len + 7u) & ~7u));
	if (need > sizeof buf - hdr)
		return;
	CHECK(fpu_rec_encode(b + hdr, sizeof buf - hdr, rec) == need);
	CHECK(fpu_reader_open_mem(&r, b, hdr + need, "roundtrip") == 0);
	CHECK(fpu_reader_next(&r, &again) == 1);
	CHECK(again.type == rec->type && again.len == rec->len);
	{
		struct fpu_record tail;
		CHECK(fpu_reader_next(&r, &tail) == 0);
	}
	fpu_reader_close(&r);

	switch (rec->type) {
	case FPU_REC_PROCESS: {
		const struct fpu_rec_process *x = &rec->u.process, *y = &again.u.process;
		CHECK(x->pid == y->pid && x->sample_hz == y->sample_hz &&
		      x->wall_hz == y->wall_hz && x->snapshot_max == y->snapshot_max &&
		      x->start_realtime_ns == y->start_realtime_ns &&
		      x->start_monotonic_ns == y->start_monotonic_ns &&
		      x->exe_len == y->exe_len && x->cmdline_len == y->cmdline_len);
		CHECK(same_bytes(x->exe, y->exe, x->exe_len));
		CHECK(same_bytes(x->cmdline, y->cmdline, x->cmdline_len));
		break;
	}
	case FPU_REC_MAPPING: {
		const struct fpu_rec_mapping *x = &rec->u.mapping, *y = &again.u.mapping;
		CHECK(x->start == y->start && x->end == y->end && x->offset == y->offset &&
		      x->prot == y->prot && x->build_id_len == y->build_id_len &&
		      x->path_len == y->path_len);
		CHECK(same_bytes(x->build_id, y->build_id, x->build_id_len));
		CHECK(same_bytes(x->path, y->path, x->path_len));
		break;
	}
	case FPU_REC_THREAD: {
		const struct fpu_rec_thread *x = &rec->u.thread, *y = &again.u.thread;
		CHECK(x->tid == y->tid && x->name_len == y->name_len && x->m_id == y->m_id &&
		      x->time_ns == y->time_ns);
		CHECK(same_bytes(x->name, y->name, x->name_len));
		break;
	}
	case FPU_REC_REGION_EVENT:
		CHECK(!memcmp(&rec->u.region, &again.u.region, sizeof rec->u.region));
		break;
	case FPU_REC_DROPS:
		CHECK(rec->u.drops.tid == again.u.drops.tid &&
		      rec->u.drops.m_id == again.u.drops.m_id &&
		      rec->u.drops.dropped == again.u.drops.dropped &&
		      rec->u.drops.time_ns == again.u.drops.time_ns);
		break;
	case FPU_REC_END:
		CHECK(!memcmp(&rec->u.end, &again.u.end, sizeof rec->u.end));
		break;
	case FPU_REC_SAMPLING:
		CHECK(!memcmp(&rec->u.sampling, &again.u.sampling, sizeof rec->u.sampling));
		break;
	case FPU_REC_SAMPLE: {
		const struct fpu_sample *x = &rec->u.sample, *y = &again.u.sample;
		CHECK(x->time_ns == y->time_ns && x->kind == y->kind && x->tid == y->tid &&
		      x->m_id == y->m_id && x->g_id == y->g_id && x->g_status == y->g_status &&
		      x->sp_kind == y->sp_kind && x->weight == y->weight &&
		      !memcmp(x->regs, y->regs, sizeof x->regs) && x->nfp == y->nfp &&
		      x->fp_end == y->fp_end && x->fp_end_fp == y->fp_end_fp &&
		      x->fp_end_pc == y->fp_end_pc && x->fp_end_from == y->fp_end_from &&
		      x->fp_end_to == y->fp_end_to && x->fp_crossings == y->fp_crossings &&
		      x->nseg == y->nseg);
		CHECK(same_bytes(x->fp_pcs, y->fp_pcs, (uint64_t)x->nfp * 8));
		for (uint32_t k = 0; k < x->nseg; k++) {
			const struct fpu_segment *g = &x->seg[k], *h = &y->seg[k];
			CHECK(g->lo == h->lo && g->len == h->len && g->kind == h->kind &&
			      g->owner == h->owner && g->region_hi == h->region_hi);
			CHECK(same_bytes(g->data, h->data, g->len));
		}
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly sized, so any over-read hits the redzone; malloc aligns to 16. */
	uint8_t *copy = malloc(size ? size : 1);
	struct fpu_reader r;
	struct fpu_record rec;
	uint64_t prev_off;
	int rc;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	g_base = copy;
	g_size = size;

	if (fpu_reader_open_mem(&r, copy, size, "fuzz.fpt") != 0) {
		const char *e = fpu_reader_error(&r);
		CHECK(e && !strncmp(e, "fuzz.fpt: offset ", 17));
		CHECK(!strchr(e, '\n'));
		CHECK(fpu_reader_next(&r, &rec) == -1);
		fpu_reader_close(&r);
		free(copy);
		return 0;
	}
	CHECK(r.off >= FPU_REC_MIN_HEADER_SIZE && r.off <= size && r.off % 8 == 0);
	prev_off = r.off;
	while ((rc = fpu_reader_next(&r, &rec)) > 0) {
		CHECK(rec.type > 0 && rec.type < FPU_REC_TYPE_COUNT);
		CHECK(rec.offset >= prev_off && rec.offset < size && rec.offset % 8 == 0);
		CHECK(rec.offset + FPU_REC_HEADER_SIZE + rec.len <= size);
		CHECK(r.last_good == r.off && r.off <= size && r.off > rec.offset);
		touch(copy + rec.offset, FPU_REC_HEADER_SIZE + (uint64_t)rec.len);
		touch_record(&rec);
		roundtrip(&rec);
		prev_off = r.off;
	}
	if (rc < 0) {
		const char *e = fpu_reader_error(&r);
		CHECK(e && !strncmp(e, "fuzz.fpt: offset ", 17));
		CHECK(!strchr(e, '\n'));
		CHECK(r.last_good <= size);
	} else {
		CHECK(r.off == size && fpu_reader_error(&r) == NULL);
	}
	/* A reader that has stopped stays stopped. */
	CHECK(fpu_reader_next(&r, &rec) == rc);
	fpu_reader_close(&r);
	free(copy);
	return 0;
}
