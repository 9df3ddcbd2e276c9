/*
 * fpt_mutate.c — small .fpt surgery for the seed corpora and the hostile-input
 * test (tests/integration/hostile_input.sh builds it against libfpunwind_core).
 *
 *   fpt_mutate trim IN OUT MAXBYTES   keep every record but SAMPLEs, and SAMPLEs
 *                                     while the file stays under MAXBYTES (one of
 *                                     each kind first); END last
 *   fpt_mutate bounds IN              print the offset of every record boundary
 *                                     (header end, each record end), one a line
 *   fpt_mutate fixcrc FILE            recompute the header CRC and the CRC of
 *                                     every record whose length fits, in place
 *                                     (so a flipped byte reaches the decoder)
 *   fpt_mutate synth OUT              a file with every record type, made by the
 *                                     encoders (an unknown type included)
 *   fpt_mutate flip IN OUT POS        IN with byte POS xor 0xff
 *   fpt_mutate hugelen IN OUT         IN with a record claiming a 4 GiB - 1 payload
 *                                     appended (CRC made to match its header)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpu_record.h"

static uint8_t *slurp(const char *path, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint8_t *p;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		exit(1);
	}
	p = aligned_alloc(8, ((size_t)st.st_size + 8) & ~(size_t)7);
	if (!p || read(fd, p, (size_t)st.st_size) != st.st_size) {
		perror(path);
		exit(1);
	}
	close(fd);
	*size = (size_t)st.st_size;
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fpu_write_full(fd, p, n) != 0 || close(fd) != 0) {
		perror(path);
		exit(1);
	}
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static int trim(const char *in, const char *out, size_t max)
{
	size_t size, used, endlen = 0;
	uint8_t *b = slurp(in, &size), *o = malloc(size), endrec[64];
	struct fpu_reader r;
	struct fpu_record rec;

	if (!o || fpu_reader_open_mem(&r, b, size, in) != 0) {
		fprintf(stderr, "%s\n", o ? fpu_reader_error(&r) : "out of memory");
		return 1;
	}
	memcpy(o, b, r.off);
	used = r.off;
	/* Pass 1: everything but samples (and END, kept for last). */
	while (fpu_reader_next(&r, &rec) > 0) {
		size_t n = r.off - rec.offset;
		if (rec.type == FPU_REC_END && n <= sizeof endrec) {
			memcpy(endrec, b + rec.offset, n);
			endlen = n;
		} else if (rec.type != FPU_REC_SAMPLE && used + n + 64 <= max) {
			memcpy(o + used, b + rec.offset, n);
			used += n;
		}
	}
	fpu_reader_close(&r);
	/* Pass 2: samples, the first of each kind first, then the others in order. */
	uint64_t first[2] = { UINT64_MAX, UINT64_MAX };
	for (int pass = 0; pass < 2; pass++) {
		fpu_reader_open_mem(&r, b, size, in);
		while (fpu_reader_next(&r, &rec) > 0) {
			size_t n = r.off - rec.offset;
			unsigned k = rec.u.sample.kind == FPU_SAMPLE_WALL;
			if (rec.type != FPU_REC_SAMPLE || used + n + endlen > max)
				continue;
			if (pass == 0 && first[k] != UINT64_MAX)
				continue;
			if (pass == 1 && (rec.offset == first[0] || rec.offset == first[1]))
				continue;
			if (pass == 0)
				first[k] = rec.offset;
			memcpy(o + used, b + rec.offset, n);
			used += n;
		}
		fpu_reader_close(&r);
	}
	memcpy(o + used, endrec, endlen);
	used += endlen;
	spit(out, o, used);
	free(o);
	free(b);
	return 0;
}

static int bounds(const char *in)
{
	size_t size;
	uint8_t *b = slurp(in, &size);
	struct fpu_reader r;
	struct fpu_record rec;

	int rc = 0;
	if (fpu_reader_open_mem(&r, b, size, in) != 0) {
		fprintf(stderr, "%s\n", fpu_reader_error(&r));
		rc = 1;
	} else {
		printf("%llu\n", (unsigned long long)r.off);
		while (fpu_reader_next(&r, &rec) > 0)
			printf("%llu\n", (unsigned long long)r.off);
	}
	fpu_reader_close(&r);
	free(b);
	return rc;
}

static int fixcrc(const char *path)
{
	size_t size, off;
	uint8_t *b = slurp(path, &size);

	if (size >= FPU_REC_MIN_HEADER_SIZE) {
		uint32_t hlen = get32(b + 12);
		if (hlen >= FPU_REC_MIN_HEADER_SIZE && hlen <= size) {
			uint32_t crc = fpu_crc32c(0, b, 20);
			put32(b + 20, fpu_crc32c(crc, b + 24, hlen - 24));
		}
		off = hlen % 8 || hlen < FPU_REC_MIN_HEADER_SIZE || hlen > size ? size : hlen;
	} else {
		off = size;
	}
	while (size - off >= FPU_REC_HEADER_SIZE) {
		uint64_t total = FPU_REC_HEADER_SIZE + ((get32(b + off + 4) + 7ull) & ~7ull);
		if (total > size - off)
			break;
		uint32_t crc = fpu_crc32c(0, b + off, 8);
		put32(b + off + 8, fpu_crc32c(crc, b + off + 12, total - 12));
		off += total;
	}
	spit(path, b, size);
	free(b);
	return 0;
}

static int hugelen(const char *in, const char *out)
{
	size_t size;
	uint8_t *b = slurp(in, &size), *o = malloc(size + 64);

	memcpy(o, b, size);
	memset(o + size, 0, 64);
	put32(o + size, FPU_REC_SAMPLE);
	put32(o + size + 4, 0xffffffffu);
	put32(o + size + 8, fpu_crc32c(0, o + size, 8));
	spit(out, o, size + 64);
	free(o);
	free(b);
	return 0;
}


/* A file with every record type (and an unknown one) built by the encoders. */
static int synth(const char *out)
{
	static uint64_t buf[8192];
	static uint64_t stack[3][32], pcs[6] = { 0x401010, 0x401020, 0x401030, 0x401040,
						 0x401050, 0x401060 };
	uint8_t *b = (uint8_t *)buf;
	size_t n = fpu_rec_encode_file_header(b, sizeof buf), cap = sizeof buf;
	struct fpu_record rec;
	static const char cmd[] = "prog\0arg1\0arg2";
	static const uint8_t bid[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t opaque[13] = "future record";

#define PUT(...) do { memset(&rec, 0, sizeof rec); __VA_ARGS__; \
		size_t k = fpu_rec_encode(b + n, cap - n, &rec); if (!k) return 1; n += k; } while (0)
	PUT(rec.type = FPU_REC_PROCESS; rec.u.process = (struct fpu_rec_process){
		.pid = 42, .sample_hz = 997, .wall_hz = 100, .snapshot_max = 256,
		.start_realtime_ns = 1, .start_monotonic_ns = 2, .exe_len = 9, .exe = "/bin/prog",
		.cmdline_len = sizeof cmd, .cmdline = cmd });
	PUT(rec.type = FPU_REC_MAPPING; rec.u.mapping = (struct fpu_rec_mapping){
		.start = 0x400000, .end = 0x402000, .offset = 0, .prot = 5,
		.build_id_len = 20, .build_id = bid, .path_len = 9, .path = "/bin/prog" });
	PUT(rec.type = FPU_REC_THREAD; rec.u.thread = (struct fpu_rec_thread){
		.tid = 43, .name_len = 4, .name = "main", .m_id = 1, .time_ns = 3 });
	PUT(rec.type = FPU_REC_REGION_EVENT; rec.u.region = (struct fpu_rec_region_event){
		.event = FPU_REGION_EV_ALLOC, .kind = FPU_REGION_GOROUTINE, .lo = 0x10000,
		.hi = 0x14000, .owner = 7, .time_ns = 4 });
	PUT(rec.type = FPU_REC_REGION_EVENT; rec.u.region = (struct fpu_rec_region_event){
		.event = FPU_REGION_EV_MOVE, .kind = FPU_REGION_GOROUTINE, .lo = 0x10000,
		.hi = 0x14000, .new_lo = 0x20000, .new_hi = 0x28000, .owner = 7, .time_ns = 5 });
	PUT(rec.type = FPU_REC_REGION_EVENT; rec.u.region = (struct fpu_rec_region_event){
		.event = FPU_REGION_EV_FREE, .kind = FPU_REGION_G0, .lo = 0x30000,
		.hi = 0x38000, .owner = 1, .time_ns = 6 });
	{
		size_t k = fpu_rec_encode_raw(b + n, cap - n, 99, opaque, sizeof opaque);
		if (!k)
			return 1;
		n += k;
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 32; j++)
			stack[i][j] = j % 2 ? pcs[j % 6] : 0x27f00 + 16 * (uint64_t)j;
	for (int kind = FPU_SAMPLE_CPU; kind <= FPU_SAMPLE_WALL; kind++)
		PUT(rec.type = FPU_REC_SAMPLE; {
			struct fpu_sample *s = &rec.u.sample;
			s->time_ns = 10 + (uint64_t)kind; s->kind = (uint32_t)kind; s->tid = 43;
			s->m_id = 1; s->g_id = 7; s->g_status = kind == 2 ? FPU_G_SYSCALL : FPU_G_RUNNING;
			s->sp_kind = FPU_REGION_GOROUTINE; s->weight = 1003009;
			s->regs[FPU_REG_RIP] = pcs[0]; s->regs[FPU_REG_RSP] = 0x27f00;
			s->regs[FPU_REG_RBP] = 0x27f10;
			s->nfp = 6; s->fp_pcs = pcs; s->fp_end = FPU_END_ILLEGAL_TRANSITION;
			s->fp_end_fp = 0x38100; s->fp_end_pc = pcs[5];
			s->fp_end_from = FPU_REGION_GOROUTINE; s->fp_end_to = FPU_REGION_G0;
			s->fp_crossings = 1; s->nseg = (uint32_t)(kind == 1 ? 3 : 1);
			for (uint32_t g = 0; g < s->nseg; g++)
				s->seg[g] = (struct fpu_segment){ .lo = 0x27f00 + 0x1000 * g,
					.len = 256 - 4 * g, .kind = FPU_REGION_GOROUTINE, .owner = 7,
					.region_hi = g == 2 ? 0 : 0x28000 + 0x1000 * g,
					.data = (const uint8_t *)stack[g] };
		});
	PUT(rec.type = FPU_REC_DROPS; rec.u.drops = (struct fpu_rec_drops){
		.tid = 43, .m_id = 1, .dropped = 5, .time_ns = 20 });
	PUT(rec.type = FPU_REC_END; rec.u.end = (struct fpu_rec_end){
		.how = FPU_END_HOW_SIGNALED, .status = 9, .time_ns = 21, .samples = 2, .drops = 5 });
#undef PUT
	spit(out, b, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "synth"))
		return synth(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "trim"))
		return trim(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "bounds"))
		return bounds(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "fixcrc"))
		return fixcrc(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "flip")) {
		size_t size, pos = strtoull(argv[4], NULL, 0);
		uint8_t *b = slurp(argv[2], &size);
		if (pos < size)
			b[pos] ^= 0xff;
		spit(argv[3], b, size);
		free(b);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "hugelen"))
		return hugelen(argv[2], argv[3]);
	fprintf(stderr, "usage: fpt_mutate trim IN OUT MAX | bounds IN | fixcrc FILE | flip IN OUT POS | hugelen IN OUT | synth OUT\n");
	return 2;
}
