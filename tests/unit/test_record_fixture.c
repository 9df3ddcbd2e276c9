/* test_record_fixture.c — see test_record_fixture.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdalign.h>
#include <string.h>
#include "test_record_fixture.h"

static alignas(8) uint8_t file_buf[FIX_CAP];
static uint64_t pcs[FIX_NPCS];
static uint8_t stack_bytes[3][300];
static const uint8_t build_id[2][20] = { { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 },
					 { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab } };
static const char cmdline[] = "prog\0--flag\0arg";

static void make_sample(struct fpu_sample *s)
{
	static const uint32_t seglen[3] = { 300, 1, 0x7d };  /* odd: padding is hit */
	static const uint32_t segkind[3] = { FPU_REGION_GOROUTINE, FPU_REGION_G0,
					     FPU_REGION_GOROUTINE };

	for (int i = 0; i < FIX_NPCS; i++)
		pcs[i] = 0x400000 + 0x10 * (uint64_t)i + (uint64_t)i * i;
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 300; i++)
			stack_bytes[k][i] = (uint8_t)(k * 71 + i * 13 + 5);
	*s = (struct fpu_sample){
		.time_ns = 123456789012345ull, .kind = FPU_SAMPLE_CPU, .tid = 4242,
		.m_id = 3, .g_id = 17, .g_status = FPU_G_CGO, .sp_kind = FPU_REGION_GOROUTINE,
		.weight = 1003009, .nfp = FIX_NPCS, .fp_end = FPU_END_ILLEGAL_TRANSITION,
		.fp_end_fp = 0x7ffd0000ull, .fp_end_pc = 0x401234, .fp_end_from = FPU_REGION_G0,
		.fp_end_to = FPU_REGION_GOROUTINE, .fp_crossings = 2, .fp_pcs = pcs, .nseg = 3,
	};
	for (int r = 0; r < FPU_NREGS; r++)
		s->regs[r] = 0x1111111111111111ull * (uint64_t)(r + 1) + (uint64_t)r;
	for (int k = 0; k < 3; k++)
		s->seg[k] = (struct fpu_segment){ .lo = 0x7f0000001000ull + 0x10000ull * k,
						  .len = seglen[k], .kind = segkind[k],
						  .owner = 17 - (uint64_t)k,
						  .region_hi = 0x7f0000001000ull + 0x10000ull * k + 0x8000,
						  .data = stack_bytes[k] };
}

void fixture_build(struct fixture *f)
{
	struct fpu_record *r = f->rec;
	size_t off;

	memset(f, 0, sizeof *f);
	r[0].type = FPU_REC_PROCESS;
	r[0].u.process = (struct fpu_rec_process){ 4242, 997, 97, 65536, 1700000000000000000ull,
		 5000000000ull, 8, sizeof cmdline, "/bin/app", cmdline };
	r[1].type = FPU_REC_MAPPING;
	r[1].u.mapping = (struct fpu_rec_mapping){ .start = 0x400000, .end = 0x401000,
		 .prot = 5, .build_id_len = 20, .path_len = 8, .build_id = build_id[0],
		 .path = "/bin/app" };
	r[2].type = FPU_REC_MAPPING;
	r[2].u.mapping = (struct fpu_rec_mapping){ .start = 0x7f1234560000ull,
		 .end = 0x7f1234570000ull, .offset = 0x3000, .prot = 5, .build_id_len = 6,
		 .path_len = 14, .build_id = build_id[1], .path = "/lib/libc.so.6" };
	r[3].type = FPU_REC_THREAD;
	r[3].u.thread = (struct fpu_rec_thread){ 4243, 7, 3, 5000001000ull, "worker1" };
	r[4].type = FPU_REC_REGION_EVENT;
	r[4].u.region = (struct fpu_rec_region_event){ FPU_REGION_EV_ALLOC, FPU_REGION_GOROUTINE,
		 0x7f0000000000ull, 0x7f0000004000ull, 0, 0, 17, 5000002000ull };
	r[5].type = FPU_REC_REGION_EVENT;
	r[5].u.region = (struct fpu_rec_region_event){ FPU_REGION_EV_MOVE, FPU_REGION_GOROUTINE,
		 0x7f0000000000ull, 0x7f0000004000ull, 0x7f0000010000ull, 0x7f0000018000ull,
		 17, 5000003000ull };
	r[6].type = FPU_REC_SAMPLE;
	make_sample(&r[6].u.sample);
	r[7].type = FPU_REC_REGION_EVENT;
	r[7].u.region = (struct fpu_rec_region_event){ FPU_REGION_EV_FREE, FPU_REGION_G0,
		 0x7f0000020000ull, 0x7f0000028000ull, 0, 0, 3, 5000004000ull };
	r[8].type = FPU_REC_DROPS;
	r[8].u.drops = (struct fpu_rec_drops){ .tid = 4243, .m_id = 3, .dropped = 12,
		 .time_ns = 5000005000ull };
	r[9].type = FPU_REC_END;
	r[9].u.end = (struct fpu_rec_end){ FPU_END_HOW_SIGNALED, 9, 5000006000ull, 1, 12 };

	f->file = file_buf;
	memset(file_buf, 0xa5, sizeof file_buf);   /* stale bytes must not leak in */
	off = fpu_rec_encode_file_header(file_buf, sizeof file_buf);
	cr_assert_eq(off, FPU_REC_FILE_HEADER_SIZE);
	for (int i = 0; i < FIX_NRECS; i++) {
		size_t want = fpu_rec_size(&r[i]);
		size_t n = fpu_rec_encode(file_buf + off, sizeof file_buf - off, &r[i]);
		cr_assert(n > 0 && n == want, "record %d: encoded %zu, size said %zu", i, n, want);
		cr_assert_eq(n % 8, 0);
		f->rec_off[i] = off;
		off += n;
	}
	f->rec_off[FIX_NRECS] = off;
	f->size = off;
}

/* Where the byte strings of each type live, to compare them by content. */
struct blob_ref { uint32_t type; size_t len, ptr; };
#define BLOB(t, T, l, p) { t, offsetof(T, l), offsetof(T, p) }
static const struct blob_ref blobs[] = {
	BLOB(FPU_REC_PROCESS, struct fpu_rec_process, exe_len, exe),
	BLOB(FPU_REC_PROCESS, struct fpu_rec_process, cmdline_len, cmdline),
	BLOB(FPU_REC_MAPPING, struct fpu_rec_mapping, build_id_len, build_id),
	BLOB(FPU_REC_MAPPING, struct fpu_rec_mapping, path_len, path),
	BLOB(FPU_REC_THREAD, struct fpu_rec_thread, name_len, name),
};

void fixture_expect_equal(const struct fpu_record *want, const struct fpu_record *got)
{
	struct fpu_record a = *want, b = *got;
	const void *null = NULL;

	cr_assert_eq(got->type, want->type);
	/* Byte strings by content, then the scalars with the pointers blanked. */
	for (size_t i = 0; i < sizeof blobs / sizeof blobs[0]; i++) {
		uint32_t la, lb;
		const void *pa, *pb;
		if (blobs[i].type != want->type)
			continue;
		memcpy(&la, (char *)&a.u + blobs[i].len, 4);
		memcpy(&lb, (char *)&b.u + blobs[i].len, 4);
		memcpy(&pa, (char *)&a.u + blobs[i].ptr, sizeof pa);
		memcpy(&pb, (char *)&b.u + blobs[i].ptr, sizeof pb);
		cr_assert_eq(la, lb, "type %u blob %zu length", want->type, i);
		cr_assert(la == 0 || memcmp(pa, pb, la) == 0, "type %u blob %zu bytes",
			  want->type, i);
		memcpy((char *)&a.u + blobs[i].ptr, &null, sizeof null);
		memcpy((char *)&b.u + blobs[i].ptr, &null, sizeof null);
	}
	if (want->type == FPU_REC_SAMPLE) {
		cr_assert_eq(b.u.sample.nfp, a.u.sample.nfp);
		cr_assert_eq(b.u.sample.nseg, a.u.sample.nseg);
		cr_assert_eq(memcmp(a.u.sample.fp_pcs, b.u.sample.fp_pcs, 8 * a.u.sample.nfp), 0);
		cr_assert_eq((uintptr_t)b.u.sample.fp_pcs % 8, 0, "pcs must be loadable in place");
		a.u.sample.fp_pcs = b.u.sample.fp_pcs = NULL;
		for (uint32_t k = 0; k < a.u.sample.nseg; k++) {
			cr_assert_eq(b.u.sample.seg[k].len, a.u.sample.seg[k].len);
			cr_assert_eq(memcmp(a.u.sample.seg[k].data, b.u.sample.seg[k].data,
					    a.u.sample.seg[k].len), 0, "segment %u bytes", k);
			cr_assert_eq((uintptr_t)b.u.sample.seg[k].data % 8, 0);
			a.u.sample.seg[k].data = b.u.sample.seg[k].data = NULL;
		}
	}
	cr_assert_eq(memcmp(&a.u, &b.u, sizeof a.u), 0, "type %u: a field differs", want->type);
}

int fixture_read_all(struct fpu_reader *r, const void *buf, size_t size,
		     struct fpu_record *out, int max)
{
	struct fpu_record scratch;
	int n = 0;

	if (fpu_reader_open_mem(r, buf, size, "fix.fpt") < 0)
		return 0;
	while (fpu_reader_next(r, n < max ? &out[n] : &scratch) > 0)
		n++;
	return n;
}

size_t fixture_write_big(const char *path, size_t min_size, uint64_t *nsamples)
{
	static struct fixture fx;
	fixture_build(&fx);
	int s = 0;
	while (fx.rec[s].type != FPU_REC_SAMPLE)
		s++;
	cr_assert_eq(fx.rec[FIX_NRECS - 1].type, FPU_REC_END);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %m", path);
	size_t body = fx.rec_off[FIX_NRECS - 1], total = body;
	uint64_t n = 0;
	for (int i = 0; i < FIX_NRECS - 1; i++)
		n += fx.rec[i].type == FPU_REC_SAMPLE;
	cr_assert_eq(fwrite(fx.file, 1, body, f), body);
	size_t slen = fx.rec_off[s + 1] - fx.rec_off[s];
	while (total < min_size) {
		cr_assert_eq(fwrite(fx.file + fx.rec_off[s], 1, slen, f), slen);
		total += slen;
		n++;
	}
	size_t elen = fx.size - body;
	cr_assert_eq(fwrite(fx.file + body, 1, elen, f), elen);
	cr_assert_eq(fclose(f), 0);
	if (nsamples)
		*nsamples = n;
	return total + elen;
}
