/*
 * The reader against hostile input: every truncation and every
 * single-byte flip of a small valid file, records claiming huge lengths,
 * garbage, mutated payloads that carry a valid checksum, and each field rule.
 * Each case copies the bytes into a buffer of exactly their size, so a read
 * past the end is caught by ASan/valgrind, and checks not just "an error" but
 * that everything accepted before it is exactly what was written.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_record_fixture.h"

static struct fixture fx;
static struct fpu_reader rd;
static struct fpu_record got[FIX_NRECS + 2];

/* The copy the last read_copy decoded; got[] points into it until the next. */
static uint8_t *copy;

static void setup(void) { fixture_build(&fx); }
static void teardown(void) { free(copy); }
TestSuite(hostile, .init = setup, .fini = teardown);

/* Read a copy of p[0..n) and return the records read; rd is closed. */
static int read_copy(const void *p, size_t n, char *err, size_t errlen)
{
	int k;

	/* malloc: 16-aligned, and exactly n bytes for the sanitizers. */
	free(copy);
	copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	memcpy(copy, p, n);
	k = fixture_read_all(&rd, copy, n, got, FIX_NRECS + 2);
	snprintf(err, errlen, "%s", fpu_reader_error(&rd) ? fpu_reader_error(&rd) : "");
	fpu_reader_close(&rd);
	return k;
}

/* The index of the record holding byte pos (-1: the file header). */
static int record_at(size_t pos)
{
	for (int i = FIX_NRECS - 1; i >= 0; i--)
		if (pos >= fx.rec_off[i])
			return i;
	return -1;
}

static void expect_prefix(int n, int want, const char *what)
{
	cr_assert_eq(n, want, "%s: read %d records, want %d", what, n, want);
	for (int i = 0; i < n; i++)
		fixture_expect_equal(&fx.rec[i], &got[i]);
}

Test(hostile, every_truncation)
{
	char err[FPU_REC_ERRLEN], want[128];

	for (size_t len = 0; len < fx.size; len++) {
		int n = read_copy(fx.file, len, err, sizeof err);
		int k = len < FPU_REC_FILE_HEADER_SIZE ? 0 : record_at(len) + 0;
		if (len == 0) {
			cr_assert_str_eq(err, "fix.fpt: offset 0: empty file");
		} else if (len < FPU_REC_FILE_HEADER_SIZE) {
			cr_assert(strstr(err, "offset 0: truncated file header"), "%zu: %s", len, err);
		} else if (len == fx.rec_off[k]) {
			/* A record boundary: a clean, shorter file without END. */
			cr_assert_str_eq(err, "", "%zu: %s", len, err);
		} else {
			snprintf(want, sizeof want, "fix.fpt: offset %" PRIu64 ": truncated record",
				 fx.rec_off[k]);
			cr_assert(!strncmp(err, want, strlen(want)), "len %zu: '%s'", len, err);
		}
		expect_prefix(n, len < FPU_REC_FILE_HEADER_SIZE ? 0 : k, "truncation");
	}
}

Test(hostile, every_single_byte_flip_is_detected)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff, 0x5a };
	static uint8_t f[FIX_CAP];
	char err[FPU_REC_ERRLEN];

	for (size_t pos = 0; pos < fx.size; pos++)
		for (size_t j = 0; j < sizeof flips; j++) {
			int k = record_at(pos), n;
			uint64_t off;
			memcpy(f, fx.file, fx.size);
			f[pos] ^= flips[j];
			n = read_copy(f, fx.size, err, sizeof err);
			cr_assert(err[0], "flip %02x at %zu accepted", flips[j], pos);
			/* Blamed on the record (or header word) that holds the byte. */
			cr_assert_eq(sscanf(err, "fix.fpt: offset %" SCNu64 ":", &off), 1, "%s", err);
			if (k < 0)
				cr_assert(off == 0 || off == 8 || off == 12, "%zu: %s", pos, err);
			else
				cr_assert_eq(off, fx.rec_off[k], "flip at %zu: %s", pos, err);
			expect_prefix(n, k < 0 ? 0 : k, "flip");
		}
}

Test(hostile, huge_record_lengths)
{
	static const uint32_t lens[] = { 0xffffffffu, 0xfffffff8u, 0x80000000u, 0x10000 };
	static uint8_t f[FIX_CAP];
	char err[FPU_REC_ERRLEN], want[128];
	size_t at = fx.rec_off[9];

	snprintf(want, sizeof want, "fix.fpt: offset %zu: truncated record (type 5", at);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		uint32_t hdr[4] = { FPU_REC_SAMPLE, lens[i], 0, 0 };
		memcpy(f, fx.file, at);
		memcpy(f + at, hdr, sizeof hdr);
		memset(f + at + 16, 0, 64);
		int n = read_copy(f, at + 16 + 64, err, sizeof err);
		cr_assert(!strncmp(err, want, strlen(want)), "len %08x: %s", lens[i], err);
		expect_prefix(n, 9, "huge");
	}
}

Test(hostile, random_garbage)
{
	static uint8_t f[4096];
	char err[FPU_REC_ERRLEN];

	srand(1234);
	for (int it = 0; it < 2000; it++) {
		size_t n = (size_t)rand() % sizeof f;
		for (size_t i = 0; i < n; i++)
			f[i] = (uint8_t)rand();
		/* Half of them with a valid header, to reach the record loop. */
		if (it & 1 && n > FPU_REC_FILE_HEADER_SIZE)
			memcpy(f, fx.file, FPU_REC_FILE_HEADER_SIZE);
		cr_assert_eq(read_copy(f, n, err, sizeof err), 0);
		cr_assert(err[0], "garbage of %zu bytes accepted", n);
	}
}

/* Is [p, p+n) inside [base, base+size)? */
static int inside(const void *p, uint64_t n, const uint8_t *base, size_t size)
{
	const uint8_t *q = p;
	return n == 0 || (q >= base && q <= base + size && n <= (uint64_t)(base + size - q));
}

/* Whatever is accepted must point only into the file, with in-range counts. */
static void check_accepted(const struct fpu_record *r, const uint8_t *base, size_t size)
{
	const struct fpu_sample *s = &r->u.sample;

	switch (r->type) {
	case FPU_REC_SAMPLE:
		cr_assert_leq(s->nseg, FPU_MAX_SEGMENTS);
		cr_assert(inside(s->fp_pcs, 8ull * s->nfp, base, size));
		for (uint32_t k = 0; k < s->nseg; k++)
			cr_assert(inside(s->seg[k].data, s->seg[k].len, base, size));
		break;
	case FPU_REC_MAPPING:
		cr_assert(inside(r->u.mapping.path, r->u.mapping.path_len, base, size));
		cr_assert(inside(r->u.mapping.build_id, r->u.mapping.build_id_len, base, size));
		break;
	case FPU_REC_PROCESS:
		cr_assert(inside(r->u.process.cmdline, r->u.process.cmdline_len, base, size));
		break;
	}
}

/* Rebuild the fixture with record k's payload replaced (valid checksum). */
static size_t with_payload(uint8_t *out, int k, const void *pay, uint32_t len)
{
	size_t at = fx.rec_off[k], n;

	memcpy(out, fx.file, at);
	n = fpu_rec_encode_raw(out + at, FIX_CAP - at, fx.rec[k].type, pay, len);
	cr_assert(n > 0);
	memcpy(out + at + n, fx.file + fx.rec_off[k + 1], fx.size - fx.rec_off[k + 1]);
	return at + n + fx.size - fx.rec_off[k + 1];
}

static uint32_t payload_len(int k)
{
	uint32_t len;
	memcpy(&len, fx.file + fx.rec_off[k] + 4, 4);
	return len;
}

Test(hostile, mutated_payloads_with_valid_checksums)
{
	static uint8_t f[FIX_CAP], pay[FIX_CAP];

	srand(99);
	for (int k = 0; k < FIX_NRECS; k++)
		for (int it = 0; it < 400; it++) {
			uint32_t len = payload_len(k);
			memcpy(pay, fx.file + fx.rec_off[k] + 16, len);
			/* A few random bytes, biased to the fixed part where the counts are. */
			for (int m = 0; m < 1 + it % 4; m++)
				pay[(uint32_t)rand() % (len < 256 || m ? len : 256)] = (uint8_t)rand();
			if (it % 5 == 0)
				len = (uint32_t)rand() % (len + 64);
			size_t size = with_payload(f, k, pay, len);
			uint8_t *copy = malloc(size);
			memcpy(copy, f, size);
			int n = fixture_read_all(&rd, copy, size, got, FIX_NRECS + 2);
			for (int i = 0; i < n && i < FIX_NRECS + 2; i++)
				check_accepted(&got[i], copy, size);
			cr_assert(n >= k, "records before the mutated one must survive");
			fpu_reader_close(&rd);
			free(copy);
		}
}

/* Each rule, broken by a writer that still computes a valid checksum. */
Test(hostile, field_rules)
{
	static const struct {
		int rec;
		uint32_t off, width;
		uint64_t value;
		int64_t len;           /* new payload length, -1: unchanged */
		const char *want;
	} c[] = {
		{ 6, 220, 4, 5, -1, "SAMPLE: field nseg = 5 out of range [0, 4]" },
		{ 6, 184, 4, 100000, -1, "SAMPLE: nfp 100000 inconsistent with payload length" },
		{ 6, 184, 4, 99, -1, "SAMPLE: segment lengths" },
		{ 6, 224 + 32 + 8, 4, 9, -1, "SAMPLE: segment lengths" },
		{ 6, 8, 4, 3, -1, "SAMPLE: field kind = 3 out of range [1, 2]" },
		{ 6, 188, 4, 99, -1, "SAMPLE: field fp_end = 99" },
		{ 6, 224 + 12, 4, 9, -1, "SAMPLE segment 0: field kind = 9" },
		{ 6, 224 + 64, 8, 0xffffffffffffff00ull, -1, "SAMPLE segment 2: segment" },
		{ 6, 0, 0, 0, 200, "SAMPLE: payload length 200 < fixed part 224" },
		{ 6, 220, 4, 4, 300, "SAMPLE: 4 segment descriptors past payload length 300" },
		{ 1, 8, 8, 0x400000, -1, "MAPPING: mapping end <= start" },
		{ 1, 28, 4, 65, -1, "MAPPING: field build_id_len = 65 out of range" },
		{ 1, 32, 4, 9, -1, "MAPPING: payload length 68 inconsistent with its string" },
		{ 0, 32, 4, 0xffffffffu, -1, "PROCESS: field exe_len = 4294967295" },
		{ 3, 4, 4, 300, -1, "THREAD: field name_len = 300 out of range [0, 256]" },
		{ 4, 0, 4, 0, -1, "REGION_EVENT: field event = 0 out of range [1, 3]" },
		{ 4, 16, 8, 0x7f0000000000ull, -1, "REGION_EVENT: region hi <= lo" },
		{ 7, 24, 8, 1, -1, "REGION_EVENT: new_lo/new_hi set on an event that is not a move" },
		{ 9, 0, 4, 0, -1, "END: field how = 0" },
		{ 9, 4, 4, 200, -1, "END: signal not in 1..127" },
		{ 8, 0, 0, 0, 16, "DROPS: payload length 16 < fixed part 32" },
		{ 8, 0, 0, 0, 40, "DROPS: payload length 40 inconsistent" },
	};
	static uint8_t f[FIX_CAP], pay[FIX_CAP];
	char err[FPU_REC_ERRLEN], want[256];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		uint32_t len = payload_len(c[i].rec);
		memcpy(pay, fx.file + fx.rec_off[c[i].rec] + 16, len);
		memset(pay + len, 0, 64);
		memcpy(pay + c[i].off, &c[i].value, c[i].width);
		if (c[i].len >= 0)
			len = (uint32_t)c[i].len;
		size_t size = with_payload(f, c[i].rec, pay, len);
		int n = read_copy(f, size, err, sizeof err);
		snprintf(want, sizeof want, "fix.fpt: offset %" PRIu64 ": %s",
			 fx.rec_off[c[i].rec], c[i].want);
		cr_expect(!strncmp(err, want, strlen(want)), "case %zu: got '%s'\nwant '%s...'",
			  i, err, want);
		cr_expect_eq(n, c[i].rec, "case %zu", i);
	}
}

Test(hostile, structural_rules)
{
	static uint8_t f[FIX_CAP];
	char err[FPU_REC_ERRLEN], want[128];
	uint32_t hlen, crc;
	size_t n;

	/* A record after END. */
	memcpy(f, fx.file, fx.size);
	n = fx.size + fpu_rec_encode(f + fx.size, FIX_CAP - fx.size, &fx.rec[8]);
	cr_assert_eq(read_copy(f, n, err, sizeof err), FIX_NRECS);
	snprintf(want, sizeof want, "fix.fpt: offset %zu: record (type 6) after END", fx.size);
	cr_expect_str_eq(err, want);

	/* Type 0 with a good checksum. */
	n = fx.rec_off[1] + fpu_rec_encode_raw(f + fx.rec_off[1], 64, 0xffffffffu, "", 0);
	memset(f + fx.rec_off[1], 0, 4);   /* encode_raw refuses type 0: patch, re-sum */
	crc = fpu_crc32c(fpu_crc32c(0, f + fx.rec_off[1], 8), f + fx.rec_off[1] + 12, 4);
	memcpy(f + fx.rec_off[1] + 8, &crc, 4);
	cr_assert_eq(read_copy(f, n, err, sizeof err), 1);
	snprintf(want, sizeof want, "fix.fpt: offset %" PRIu64 ": invalid record type 0",
		 fx.rec_off[1]);
	cr_expect_str_eq(err, want);

	/* Header lengths: too short, not a multiple of 8, past the end. */
	static const struct { uint32_t hlen; const char *want; } h[] = {
		{ 16, "fix.fpt: offset 12: header length 16 < 24" },
		{ 28, "fix.fpt: offset 12: misaligned header length 28" },
		{ 1u << 30, "fix.fpt: offset 0: truncated file header (header length" },
	};
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
		memcpy(f, fx.file, fx.size);
		hlen = h[i].hlen;
		memcpy(f + 12, &hlen, 4);
		read_copy(f, fx.size, err, sizeof err);
		cr_expect(!strncmp(err, h[i].want, strlen(h[i].want)), "%s", err);
	}
	memcpy(f, "NOTFPT!!", 8);
	read_copy(f, fx.size, err, sizeof err);
	cr_expect_str_eq(err, "fix.fpt: offset 0: bad magic (not an .fpt file)");
}
