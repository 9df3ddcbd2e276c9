/*
 * .fpt round trips: every record type through the encoders and the reader (in
 * memory and through a real file and the fd writer), the bytes FORMAT.md
 * promises, forward compatibility (unknown types, newer minors, longer
 * headers), refusal of newer majors, encoders that respect cap, and repair of
 * a file whose writer died mid-record.
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test_record_fixture.h"

static struct fixture fx;
static struct fpu_reader rd;
static struct fpu_record got[FIX_NRECS + 4];
static alignas(8) uint8_t buf[FIX_CAP];

static void setup(void) { fixture_build(&fx); }
static void teardown(void) { fpu_reader_close(&rd); }
TestSuite(record, .init = setup, .fini = teardown);

/* shift: how far the records sit from where fixture_build put them (-1: spliced). */
static void expect_fixture(int n, const struct fpu_reader *r, int64_t shift)
{
	cr_assert_null(fpu_reader_error(r), "%s", fpu_reader_error(r));
	cr_assert_eq(n, FIX_NRECS);
	for (int i = 0; i < FIX_NRECS; i++) {
		fixture_expect_equal(&fx.rec[i], &got[i]);
		if (shift >= 0)
			cr_expect_eq(got[i].offset, fx.rec_off[i] + (uint64_t)shift);
	}
	cr_expect(r->has_end);
}

Test(record, every_type_round_trips_in_memory)
{
	int n = fixture_read_all(&rd, fx.file, fx.size, got, FIX_NRECS);
	expect_fixture(n, &rd, 0);
	cr_expect_eq(rd.last_good, fx.size);
	cr_expect_eq(rd.nrecords, FIX_NRECS);
	cr_expect_eq(rd.nunknown, 0);
}

static char *tmp_path(char *p, size_t n, const char *tag)
{
	snprintf(p, n, "/tmp/fpt-test-%d-%s.fpt", (int)getpid(), tag);
	return p;
}

Test(record, every_type_round_trips_through_fd_writer_and_mmap)
{
	char path[128];
	struct fpu_writer w;
	int n = 0;

	cr_assert_eq(fpu_writer_open(&w, tmp_path(path, sizeof path, "rt")), 0);
	for (int i = 0; i < FIX_NRECS; i++)
		cr_assert_eq(fpu_writer_put(&w, &fx.rec[i]), 0);
	cr_assert_eq(w.offset, fx.size);
	cr_assert_eq(fpu_writer_close(&w), 0);
	cr_assert_eq(fpu_reader_open(&rd, path), 0, "%s", rd.err);
	while (fpu_reader_next(&rd, &got[n]) > 0)
		n++;
	expect_fixture(n, &rd, 0);
	/* The file is byte for byte what the encoders produce in memory. */
	cr_expect_eq(memcmp(rd.base, fx.file, fx.size), 0);
	unlink(path);
}

/* FORMAT.md pins these bytes; a change here is a format change. */
Test(record, bytes_match_format_md)
{
	static const uint8_t hdr[20] = { 'F', 'P', 'T', 'R', 'A', 'C', 'E', 0, 1, 0, 3, 0,
					 32, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t end[16 + 32] = {
		7, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* type, len, crc, flags */
		2, 0, 0, 0, 9, 0, 0, 0,                             /* how, status */
		0x70, 0x09, 0x06, 0x2a, 1, 0, 0, 0,                 /* time_ns 5000006000 */
		1, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0,    /* samples, drops */
	};
	const uint8_t *e = fx.file + fx.rec_off[9];
	uint32_t crc;

	cr_assert_eq(memcmp(fx.file, hdr, sizeof hdr), 0);
	uint32_t machine;                   /* 1.2: [24, 28), then 4 reserved */
	memcpy(&machine, fx.file + 24, 4);
	cr_assert_eq(machine, FPU_REC_MACHINE_HOST);
	cr_assert_eq(memcmp(fx.file + 28, "\0\0\0\0", 4), 0);
	cr_assert_eq(memcmp(e, end, 8), 0);
	cr_assert_eq(memcmp(e + 12, end + 12, sizeof end - 12), 0);
	memcpy(&crc, e + 8, 4);
	cr_assert_eq(crc, fpu_crc32c(fpu_crc32c(0, e, 8), e + 12, sizeof end - 12));
	/* Sample: the pcs follow 224 fixed bytes and 3 descriptors of 32. */
	cr_assert_eq(memcmp(fx.file + fx.rec_off[6] + 16 + 224 + 96, fx.rec[6].u.sample.fp_pcs,
			    8 * FIX_NPCS), 0);
}

/* Field offsets from FORMAT.md, one or more per record type. */
Test(record, field_offsets_match_format_md)
{
	const struct fpu_sample *sm = &fx.rec[6].u.sample;
	const struct { int rec; uint32_t off, width; uint64_t want; } c[] = {
		{ 0, 0, 4, 4242 }, { 0, 12, 4, 65536 }, { 0, 24, 8, 5000000000ull },
		{ 0, 32, 4, 8 }, { 0, 40, 8, 0x7070612f6e69622full /* "/bin/app" */ },
		{ 1, 0, 8, 0x400000 }, { 1, 8, 8, 0x401000 }, { 1, 24, 4, 5 }, { 1, 28, 4, 20 },
		{ 1, 32, 4, 8 }, { 1, 40, 4, 0xefbeadde }, { 2, 16, 8, 0x3000 },
		{ 3, 0, 4, 4243 }, { 3, 4, 4, 7 }, { 3, 8, 8, 3 },
		{ 5, 0, 4, FPU_REGION_EV_MOVE }, { 5, 4, 4, FPU_REGION_GOROUTINE },
		{ 5, 24, 8, 0x7f0000010000ull }, { 5, 40, 8, 17 }, { 5, 48, 8, 5000003000ull },
		{ 6, 8, 4, FPU_SAMPLE_CPU }, { 6, 12, 4, 4242 }, { 6, 24, 8, 17 },
		{ 6, 32, 4, FPU_G_CGO }, { 6, 40, 8, 1003009 },
		{ 6, 48 + 8 * FPU_REG_RSP, 8, sm->regs[FPU_REG_RSP] },
		{ 6, 176, 8, sm->regs[FPU_REG_RIP] }, { 6, 184, 4, FIX_NPCS },
		{ 6, 188, 4, FPU_END_ILLEGAL_TRANSITION }, { 6, 208, 4, FPU_REGION_G0 },
		{ 6, 216, 4, 2 }, { 6, 220, 4, 3 }, { 6, 224 + 32 + 8, 4, 1 },
		{ 6, 224 + 64 + 12, 4, FPU_REGION_GOROUTINE }, { 6, 224 + 64 + 16, 8, 15 },
		{ 6, 224 + 96 + 8 * FIX_NPCS + 304, 1, 71 * 1 + 5 },   /* segment 1's byte */
		{ 8, 0, 4, 4243 }, { 8, 8, 8, 3 }, { 8, 16, 8, 12 },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		uint64_t v = 0;
		memcpy(&v, fx.file + fx.rec_off[c[i].rec] + FPU_REC_HEADER_SIZE + c[i].off,
		       c[i].width);
		cr_expect_eq(v, c[i].want, "case %zu: %#lx", i, (unsigned long)v);
	}
}

/* Copy fx.file to out with a raw record of `type` in front of record `at`. */
static size_t splice_raw(uint8_t *out, int at, uint32_t type, const void *pay, uint32_t len)
{
	size_t off = fx.rec_off[at], n;

	memcpy(out, fx.file, off);
	n = fpu_rec_encode_raw(out + off, FIX_CAP - off, type, pay, len);
	cr_assert(n > 0);
	memcpy(out + off + n, fx.file + off, fx.size - off);
	return fx.size + n;
}

Test(record, unknown_types_are_skipped)
{
	static const struct { int at; uint32_t type; const char *pay; uint32_t len; } c[] = {
		{ 0, FPU_REC_TYPE_COUNT, NULL, 0 },
		{ 3, 1000, "future stuff", 12 },
		{ 9, 0xffffffffu, "x", 1 },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		size_t size = splice_raw(buf, c[i].at, c[i].type, c[i].pay, c[i].len);
		int n = fixture_read_all(&rd, buf, size, got, FIX_NRECS);
		expect_fixture(n, &rd, -1);
		cr_expect_eq(rd.nunknown, 1);
		cr_expect_eq(rd.nrecords, FIX_NRECS + 1);
		fpu_reader_close(&rd);
	}
}

/* Rewrite the header's version and length (bytes past 24 zero) and its CRC. */
static void set_header(uint8_t *h, uint16_t major, uint16_t minor, uint32_t hlen)
{
	uint32_t crc;

	memcpy(h + 8, &major, 2);
	memcpy(h + 10, &minor, 2);
	memcpy(h + 12, &hlen, 4);
	crc = fpu_crc32c(fpu_crc32c(0, h, 20), h + 24, hlen - 24);
	memcpy(h + 20, &crc, 4);
}

Test(record, newer_major_is_rejected_with_a_clear_message)
{
	memcpy(buf, fx.file, fx.size);
	set_header(buf, 2, 0, 24);
	cr_assert_eq(fpu_reader_open_mem(&rd, buf, fx.size, "new.fpt"), -1);
	cr_expect_str_eq(fpu_reader_error(&rd), "new.fpt: offset 8: unsupported version 2.0 "
			 "(this reader reads 1.x; written by a newer fptrace)");
	cr_expect_eq(fpu_reader_next(&rd, got), -1);
}

Test(record, newer_minor_and_longer_header_are_read)
{
	/* A 1.7 writer with a 40-byte header: 8 bytes this reader does not know
	 * (and 4 reserved ones it ignores). */
	memset(buf, 0, sizeof buf);
	memcpy(buf, fx.file, 32);
	memcpy(buf + 40, fx.file + 32, fx.size - 32);
	buf[30] = 0x5a;
	buf[36] = 0xa5;
	set_header(buf, 1, 7, 40);
	int n = fixture_read_all(&rd, buf, fx.size + 8, got, FIX_NRECS);
	cr_assert_eq(rd.minor, 7);
	cr_assert_eq(rd.machine, FPU_REC_MACHINE_HOST);
	expect_fixture(n, &rd, 8);
}

Test(record, encoders_respect_cap_and_refuse_bad_objects)
{
	for (int i = 0; i < FIX_NRECS; i++) {
		size_t need = fpu_rec_size(&fx.rec[i]);
		/* Too small by any amount: 0, and not a byte written. */
		for (size_t cap = 0; cap < need; cap += 1 + cap / 4) {
			memset(buf, 0xee, sizeof buf);
			cr_assert_eq(fpu_rec_encode(buf, cap, &fx.rec[i]), 0, "rec %d cap %zu", i, cap);
			for (size_t k = 0; k < sizeof buf; k++)
				cr_assert_eq(buf[k], 0xee, "rec %d cap %zu wrote byte %zu", i, cap, k);
		}
	}
	struct fpu_record r = fx.rec[6];
	r.u.sample.nseg = FPU_MAX_SEGMENTS + 1;
	cr_expect_eq(fpu_rec_size(&r), 0, "nseg over the limit");
	r = fx.rec[6];
	r.u.sample.seg[1].len = 0x9000;             /* past region_hi */
	cr_expect_eq(fpu_rec_size(&r), 0, "segment past its region");
	r = fx.rec[1];
	r.u.mapping.build_id_len = FPU_REC_MAX_BUILD_ID + 1;
	cr_expect_eq(fpu_rec_size(&r), 0, "build-id too long");
	r = fx.rec[1];
	r.u.mapping.end = r.u.mapping.start;
	cr_expect_eq(fpu_rec_size(&r), 0, "empty mapping");
	r = fx.rec[9];
	r.u.end.how = 4;
	cr_expect_eq(fpu_rec_size(&r), 0, "unknown end");
	r.type = 99;
	cr_expect_eq(fpu_rec_size(&r), 0, "unknown type");
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

Test(record, repair_truncates_a_torn_record_and_appends_end)
{
	char path[128], err[FPU_REC_ERRLEN];
	struct fpu_rec_end end = { .how = FPU_END_HOW_UNKNOWN, .samples = 1 };
	int has_end = 1, n;

	/* The writer died 40 bytes into the DROPS record (index 8). */
	write_file(tmp_path(path, sizeof path, "torn"), fx.file, fx.rec_off[8] + 40);
	cr_assert_eq(fpu_reader_last_good(path, &has_end, err, sizeof err),
		     (int64_t)fx.rec_off[8]);
	cr_expect_eq(has_end, 0);
	cr_expect(strstr(err, "truncated record"), "%s", err);
	cr_assert_eq(fpu_rec_repair(path, &end, err, sizeof err), 0, "%s", err);

	cr_assert_eq(fpu_reader_open(&rd, path), 0, "%s", rd.err);
	for (n = 0; fpu_reader_next(&rd, &got[n]) > 0; n++)
		;
	cr_assert_null(fpu_reader_error(&rd), "%s", fpu_reader_error(&rd));
	cr_assert_eq(n, 9);
	cr_expect(rd.has_end);
	cr_expect_eq(got[8].u.end.how, FPU_END_HOW_UNKNOWN);
	fixture_expect_equal(&fx.rec[6], &got[6]);
	fpu_reader_close(&rd);

	/* A complete file is left alone. */
	write_file(path, fx.file, fx.size);
	cr_assert_eq(fpu_rec_repair(path, &end, err, sizeof err), 0, "%s", err);
	cr_assert_eq(fpu_reader_last_good(path, &has_end, err, sizeof err), (int64_t)fx.size);
	cr_expect_eq(has_end, 1);
	cr_expect_str_eq(err, "");
	unlink(path);
}

Test(record, file_errors_name_path_and_offset)
{
	char path[128];

	write_file(tmp_path(path, sizeof path, "empty"), "", 0);
	cr_assert_eq(fpu_reader_open(&rd, path), -1);
	char want[256];
	snprintf(want, sizeof want, "%s: offset 0: empty file", path);
	cr_expect_str_eq(fpu_reader_error(&rd), want);
	unlink(path);
	fpu_reader_close(&rd);
	cr_assert_eq(fpu_reader_open(&rd, path), -1);
	cr_expect(strstr(fpu_reader_error(&rd), ": offset 0: cannot open: "), "%s", rd.err);
	cr_expect_lt(fpu_reader_last_good(path, NULL, NULL, 0), 0);
}
