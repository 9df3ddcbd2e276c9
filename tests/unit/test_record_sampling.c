/*
 * The SAMPLING record (format 1.1): its bytes as FORMAT.md gives them, a round
 * trip, the range of cpu_source on both sides, and 1.0 files (without it)
 * still read.
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <string.h>
#include "fpu_record.h"

static alignas(8) uint8_t buf[256];

static size_t file_with(const struct fpu_rec_sampling *z)
{
	size_t off = fpu_rec_encode_file_header(buf, sizeof buf);
	return off + fpu_rec_encode_sampling(buf + off, sizeof buf - off, z);
}

Test(record_sampling, bytes_match_format_md)
{
	struct fpu_rec_sampling z = { .cpu_source = FPU_CPU_SOURCE_TIMER, .perf_errno = 13,
				      .timer_threads = 3, .wall_cap = 100 };
	static const uint8_t want[16 + 16] = {
		8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* type, len, crc, flags */
		1, 0, 0, 0, 13, 0, 0, 0, 3, 0, 0, 0, 100, 0, 0, 0,  /* source, errno, threads, cap */
	};
	cr_assert_eq(fpu_rec_sampling_size(&z), sizeof want);
	size_t size = file_with(&z);
	const uint8_t *r = buf + FPU_REC_FILE_HEADER_SIZE;
	cr_assert_eq(size, FPU_REC_FILE_HEADER_SIZE + sizeof want);
	cr_assert_eq(memcmp(r, want, 8), 0);
	cr_assert_eq(memcmp(r + 12, want + 12, sizeof want - 12), 0);
	cr_assert_geq(buf[10], 1, "minor %u: SAMPLING is new in 1.1", buf[10]);
}

Test(record_sampling, round_trips)
{
	struct fpu_rec_sampling z = { .cpu_source = FPU_CPU_SOURCE_PERF_EVENT, .perf_errno = 0,
				      .timer_threads = 1, .wall_cap = 7 };
	struct fpu_reader rd;
	struct fpu_record rec;
	size_t size = file_with(&z);
	cr_assert_eq(fpu_reader_open_mem(&rd, buf, size, "s.fpt"), 0);
	cr_assert_eq(fpu_reader_next(&rd, &rec), 1, "%s", fpu_reader_error(&rd));
	cr_assert_eq(rec.type, FPU_REC_SAMPLING);
	cr_assert_eq(memcmp(&rec.u.sampling, &z, sizeof z), 0);
	cr_assert_eq(fpu_reader_next(&rd, &rec), 0);
	fpu_reader_close(&rd);
	cr_expect_str_eq(fpu_cpu_source_name(FPU_CPU_SOURCE_PERF_EVENT), "perf-event");
	cr_expect_str_eq(fpu_cpu_source_name(FPU_CPU_SOURCE_TIMER), "timer");
	cr_expect_str_eq(fpu_cpu_source_name(0), "unknown");
}

Test(record_sampling, cpu_source_out_of_range_is_refused)
{
	struct fpu_rec_sampling z = { .cpu_source = 3 };
	cr_assert_eq(fpu_rec_sampling_size(&z), 0, "the encoder accepted cpu_source 3");
	/* Written by hand (a raw payload), the reader refuses it. */
	uint8_t pay[16] = { 3 };
	size_t off = fpu_rec_encode_file_header(buf, sizeof buf);
	off += fpu_rec_encode_raw(buf + off, sizeof buf - off, FPU_REC_SAMPLING, pay, sizeof pay);
	struct fpu_reader rd;
	struct fpu_record rec;
	cr_assert_eq(fpu_reader_open_mem(&rd, buf, off, "bad.fpt"), 0);
	cr_assert_eq(fpu_reader_next(&rd, &rec), -1);
	cr_expect(strstr(fpu_reader_error(&rd), "cpu_source = 3 out of range [1, 2]"), "%s",
		  fpu_reader_error(&rd));
	fpu_reader_close(&rd);
}

Test(record_sampling, a_1_0_file_still_reads)
{
	struct fpu_rec_drops d = { .tid = 1, .dropped = 2 };
	/* a 1.0 header: 24 bytes */
	fpu_rec_encode_file_header(buf, sizeof buf);
	uint16_t minor = 0;
	uint32_t hlen = 24;
	memcpy(buf + 10, &minor, 2);
	memcpy(buf + 12, &hlen, 4);
	uint32_t crc = fpu_crc32c(0, buf, 20);
	memcpy(buf + 20, &crc, 4);
	size_t off = hlen;
	off += fpu_rec_encode_drops(buf + off, sizeof buf - off, &d);
	struct fpu_reader rd;
	struct fpu_record rec;
	cr_assert_eq(fpu_reader_open_mem(&rd, buf, off, "old.fpt"), 0, "%s", fpu_reader_error(&rd));
	cr_assert_eq(rd.minor, 0);
	cr_assert_eq(fpu_reader_next(&rd, &rec), 1, "%s", fpu_reader_error(&rd));
	cr_assert_eq(rec.type, FPU_REC_DROPS);
	fpu_reader_close(&rd);
}
