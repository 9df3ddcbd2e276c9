/*
 * A perf.data many times larger than the reader's window is read through it:
 * every sample comes out, and peak memory grows by far less than the file.
 * The file is a real pipe-mode recording (perf record -o -: records to EOF,
 * no section table) with its SAMPLE records appended again and again, so its
 * size does not depend on how many samples the kernel happened to take.
 */
#include <criterion/criterion.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "ci_skip.h"
#include "scratch.h"
#include "perfdata.h"

static char dir[64];

static long max_rss_kb(void)
{
	struct rusage ru;
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

Test(perfdata_stream, big_pipe_file_reads_whole_in_flat_memory, .timeout = 240)
{
	char cmd[512], path[128];
	fpt_scratch_make(dir, sizeof dir, "pstream");
	snprintf(cmd, sizeof cmd, "cd '%s' && command -v perf >/dev/null 2>&1 && "
		 "perf record -q -e cpu-clock -F 997 --call-graph dwarf,1024 -o - -- "
		 "sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' > pipe.data "
		 "2> perf.log", dir);
	if (system(cmd) != 0) {
		fpt_scratch_remove(dir);
		fpt_skip_test("perf cannot record here (perf record -e cpu-clock -o -)");
	}
	snprintf(path, sizeof path, "%s/pipe.data", dir);
	size_t len;
	uint8_t *small = slurp(path, &len);
	cr_assert_gt(len, 16);

	/* The SAMPLE records of the recording, back to back. */
	uint8_t *samples = malloc(len);
	size_t slen = 0, nsmall = 0;
	cr_assert_not_null(samples);
	for (size_t off = 16; off + sizeof(struct perf_event_header) <= len;) {
		struct perf_event_header h;
		memcpy(&h, small + off, sizeof h);
		cr_assert_geq(h.size, sizeof h, "record at %zu: size %u", off, h.size);
		cr_assert_leq(off + h.size, len);
		if (h.type == PERF_RECORD_SAMPLE) {
			memcpy(samples + slen, small + off, h.size);
			slen += h.size;
			nsmall++;
		}
		off += h.size;
	}
	cr_assert_gt(nsmall, 0, "the recording holds no sample");

	/* Appended until the file is 16 read windows long. */
	FILE *f = fopen(path, "ab");
	cr_assert_not_null(f);
	size_t size = len;
	uint64_t want = nsmall;
	while (size < 16 * (size_t)FPU_READER_WINDOW) {
		cr_assert_eq(fwrite(samples, 1, slen, f), slen);
		size += slen;
		want += nsmall;
	}
	cr_assert_eq(fclose(f), 0);
	free(samples);
	free(small);

	static struct fpt_perfdata p;   /* large: not on the stack */
	struct fpu_record rec;
	char err[512];
	uint64_t got = 0;
	int rc;
	long rss0 = max_rss_kb();
	cr_assert_eq(fpt_perfdata_open(&p, path, err, sizeof err), 0, "%s", err);
	while ((rc = fpt_perfdata_next(&p, &rec)) > 0)
		got += rec.type == FPU_REC_SAMPLE;
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(&p));
	fpt_perfdata_close(&p);
	long grown_kb = max_rss_kb() - rss0;
	cr_assert_eq(got, want, "%llu samples read, %llu in the file", (unsigned long long)got,
		     (unsigned long long)want);
	cr_assert_lt(grown_kb, (long)(size / 1024 / 4),
		     "peak RSS grew by %ld KB reading a %zu KB perf.data: the file was loaded, "
		     "not streamed", grown_kb, size / 1024);
	fpt_scratch_remove(dir);
}

/*
 * A file-mode perf.data whose one event lists no sample ids (an ids section
 * of size 0: fine with one event, and what tests/arm64/fpt2perf.c writes),
 * read from a file: close used to free the ids pointer, which pointed into the
 * read window (a double free, fptrace check died at exit).
 */
Test(perfdata_stream, event_without_ids_closes_cleanly)
{
	static uint8_t file[4096] __attribute__((aligned(8)));
	struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof a,
				     .config = PERF_COUNT_SW_CPU_CLOCK,
				     .sample_type = PERF_SAMPLE_TID, .sample_id_all = 1 };
	const uint64_t attr_size = sizeof a + 16, data_off = 104 + attr_size;
	uint64_t header[13] = { 0 };
	memcpy(&header[0], "PERFILE2", 8);
	header[1] = 104;
	header[2] = attr_size;
	header[3] = 104;                      /* attrs section */
	header[4] = attr_size;
	header[5] = data_off;                 /* data section: one COMM */
	header[6] = 32;
	memcpy(file, header, sizeof header);
	memcpy(file + 104, &a, sizeof a);     /* its ids section {0, 0} stays zero */
	struct perf_event_header h = { .type = PERF_RECORD_COMM, .size = 32 };
	memcpy(file + data_off, &h, sizeof h);
	uint32_t ids[2] = { 42, 42 };         /* pid, tid, then "prog" and its trailer */
	memcpy(file + data_off + 8, ids, sizeof ids);
	memcpy(file + data_off + 16, "prog", 5);
	memcpy(file + data_off + 24, ids, sizeof ids);

	char path[] = "/tmp/fpt-noids-XXXXXX", err[256];
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, file, data_off + 32), (ssize_t)(data_off + 32));
	close(fd);
	struct fpt_perfdata *p = calloc(1, sizeof *p);
	cr_assert_not_null(p);
	int rc = fpt_perfdata_open(p, path, err, sizeof err);
	unlink(path);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(p->nattrs, 1);
	cr_assert_null(p->attrs[0].ids, "no ids: nothing of the window to keep");
	struct fpu_record r;
	while ((rc = fpt_perfdata_next(p, &r)) == 1)
		;
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(p));
	fpt_perfdata_close(p);
	free(p);
}
