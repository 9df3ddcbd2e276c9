/*
 * fuzz_perfdata.c — libFuzzer target for the perf.data reader
 * (perf-integration/include/perfdata.h, linked from libfptperf): random bytes (seeded with small real perf.data
 * files, normal and pipe mode) into fpt_perfdata_open_mem, then every record
 * it gives, with every byte its pointers cover read.  Each record must also be
 * one the .fpt encoders accept (fpu_rec_size != 0): the analysis reads both
 * sources the same way and relies on the same limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpu_record.h"
#include "perfdata.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_perfdata: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

static volatile uint64_t g_sink;

static void touch(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint64_t sum = 0;

	if (n == 0)
		return;
	CHECK(b != NULL);
	for (uint64_t i = 0; i < n; i++)
		sum += b[i];
	g_sink += sum;
}

static void touch_record(const struct fpu_record *rec)
{
	switch (rec->type) {
	case FPU_REC_PROCESS:
		touch(rec->u.process.exe, rec->u.process.exe_len);
		touch(rec->u.process.cmdline, rec->u.process.cmdline_len);
		break;
	case FPU_REC_MAPPING:
		touch(rec->u.mapping.build_id, rec->u.mapping.build_id_len);
		touch(rec->u.mapping.path, rec->u.mapping.path_len);
		break;
	case FPU_REC_THREAD:
		touch(rec->u.thread.name, rec->u.thread.name_len);
		break;
	case FPU_REC_SAMPLE: {
		const struct fpu_sample *s = &rec->u.sample;
		uint64_t w;
		CHECK(s->nseg <= FPU_MAX_SEGMENTS);
		CHECK(s->nfp <= FPT_PERFDATA_MAX_PCS + 1);
		touch(s->fp_pcs, (uint64_t)s->nfp * 8);
		for (uint32_t k = 0; k < s->nseg; k++) {
			touch(s->seg[k].data, s->seg[k].len);
			if (s->seg[k].len >= 8)
				CHECK(fpu_sample_read(s, s->seg[k].lo + s->seg[k].len - 8, &w, 8) == 0);
		}
		(void)fpu_sample_read(s, s->regs[FPU_REG_RSP], &w, 8);
		break;
	}
	case FPU_REC_REGION_EVENT:
	case FPU_REC_DROPS:
	case FPU_REC_END:
		break;
	default:
		CHECK(!"unknown record type");
	}
	/* Within the limits of the format (the encoders check every one). */
	CHECK(fpu_rec_size(rec) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fpt_perfdata p;   /* large: not on the stack */
	uint8_t *copy = malloc(size ? size : 1);   /* exactly sized for ASan */
	struct fpu_record rec;
	char err[FPU_REC_ERRLEN];
	int rc;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (fpt_perfdata_open_mem(&p, copy, size, "fuzz.data", err, sizeof err) != 0) {
		const char *e = fpt_perfdata_error(&p);
		CHECK(e && !strncmp(e, "fuzz.data: ", 11) && !strchr(e, '\n'));
		fpt_perfdata_close(&p);
		free(copy);
		return 0;
	}
	for (unsigned n = 0; (rc = fpt_perfdata_next(&p, &rec)) > 0; n++) {
		CHECK(n < 4 * size + 16);   /* progress: a record costs bytes */
		touch_record(&rec);
	}
	if (rc < 0) {
		const char *e = fpt_perfdata_error(&p);
		CHECK(e && !strncmp(e, "fuzz.data: ", 11) && !strchr(e, '\n'));
	}
	CHECK(fpt_perfdata_next(&p, &rec) == rc);
	fpt_perfdata_close(&p);
	free(copy);
	return 0;
}
