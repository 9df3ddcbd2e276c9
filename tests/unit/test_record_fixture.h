/*
 * A small .fpt file with every record type, shared by the record tests: the
 * records as structs (what a reader must give back) and their encoding.
 */
#ifndef TEST_RECORD_FIXTURE_H
#define TEST_RECORD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include "fpu_record.h"

#define FIX_NRECS 10
#define FIX_NPCS 100
#define FIX_CAP (64 * 1024)

struct fixture {
	struct fpu_record rec[FIX_NRECS];
	uint64_t rec_off[FIX_NRECS + 1];   /* offset of each record; [N] = size */
	size_t size;
	uint8_t *file;                     /* 8-aligned, FIX_CAP bytes */
};

/* Fill f (records and file); the file ends with END. */
void fixture_build(struct fixture *f);
/* Criterion-assert that got decodes to exactly want (fields and bytes). */
void fixture_expect_equal(const struct fpu_record *want, const struct fpu_record *got);
/* Read buf to its end or first error; return the records read (up to max kept
 * in out) and leave r open: fpu_reader_error(r) says whether it failed. */
int fixture_read_all(struct fpu_reader *r, const void *buf, size_t size,
		     struct fpu_record *out, int max);
/* Write the fixture to path with its SAMPLE repeated until the file holds at
 * least min_size bytes, END last; returns the file's size.  *nsamples (if not
 * NULL) gets the number of SAMPLE records. */
size_t fixture_write_big(const char *path, size_t min_size, uint64_t *nsamples);

#endif
