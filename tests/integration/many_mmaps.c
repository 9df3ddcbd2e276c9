/*
 * many_mmaps.c — test helper for tests/integration/many_mappings.sh: copies a
 * pipe-mode perf.data and appends N executable MMAP2 records of one ELF file
 * for the recorded process, the way a program that maps one library over and
 * over looks to perf (each address used twice, so both deduplication and the
 * open-file bound are exercised).  The new records are clones of the file's
 * first executable MMAP2 record (same pid and sample_id trailer) with another
 * path and address.
 *
 *   many_mmaps IN.data OUT.data N ELF_PATH
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MMAP2 10
#define MMAP2_FIXED 72     /* header, pid/tid, addr, len, pgoff, ids, prot/flags */

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*size);
	if (!b || fread(b, 1, *size, f) != *size) {
		fprintf(stderr, "%s: cannot read %zu bytes\n", path, *size);
		exit(1);
	}
	fclose(f);
	return b;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: many_mmaps IN.data OUT.data N ELF_PATH\n");
		return 2;
	}
	size_t size, n = strtoul(argv[3], NULL, 10);
	uint8_t *in = slurp(argv[1], &size);
	if (size < 16 || memcmp(in, "PERFILE2", 8) || in[8] != 16) {
		fprintf(stderr, "%s: not a pipe-mode perf.data\n", argv[1]);
		return 1;
	}
	const uint8_t *proto = NULL;
	for (size_t off = 16; off + 8 <= size;) {
		uint16_t rsize;
		memcpy(&rsize, in + off + 6, 2);
		if (rsize < 8 || off + rsize > size)
			break;
		uint32_t type, prot;
		memcpy(&type, in + off, 4);
		memcpy(&prot, in + off + 64, 4);
		if (type == MMAP2 && rsize > MMAP2_FIXED && (prot & 4)) {
			proto = in + off;
			break;
		}
		off += rsize;
	}
	if (!proto) {
		fprintf(stderr, "%s: no executable MMAP2 record to clone\n", argv[1]);
		return 1;
	}
	uint16_t psize;
	memcpy(&psize, proto + 6, 2);
	size_t old_path = (strnlen((const char *)proto + MMAP2_FIXED, psize - MMAP2_FIXED) + 8) & ~(size_t)7;
	size_t trailer = psize - MMAP2_FIXED - old_path;
	size_t new_path = (strlen(argv[4]) + 8) & ~(size_t)7;
	size_t rsize = MMAP2_FIXED + new_path + trailer;
	uint8_t *rec = calloc(1, rsize);
	memcpy(rec, proto, MMAP2_FIXED);
	rec[5] &= (uint8_t)~0x40;     /* misc: no build id, the inode fields are used */
	uint16_t rs = (uint16_t)rsize;
	memcpy(rec + 6, &rs, 2);
	strcpy((char *)rec + MMAP2_FIXED, argv[4]);
	memcpy(rec + MMAP2_FIXED + new_path, proto + MMAP2_FIXED + old_path, trailer);

	FILE *out = fopen(argv[2], "wb");
	if (!out || fwrite(in, 1, size, out) != size) {
		perror(argv[2]);
		return 1;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t addr = 0x7f0000000000ull + (uint64_t)(k / 2) * 0x10000, len = 0x1000, pgoff = 0;
		memcpy(rec + 16, &addr, 8);
		memcpy(rec + 24, &len, 8);
		memcpy(rec + 32, &pgoff, 8);
		if (fwrite(rec, 1, rsize, out) != rsize) {
			perror(argv[2]);
			return 1;
		}
	}
	if (fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
