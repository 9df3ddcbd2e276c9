/*
 * record_int.h — the wire layouts of .fpt records, shared by the encoders
 * (record_write.c) and the reader (record_read.c).  Not installed.
 *
 * Each fixed-layout record is described once, by a table that maps a payload
 * offset to a struct member (the wire width is the member's size, so the two
 * cannot disagree) with the range the reader accepts.  Encoder and decoder loop
 * over the same table, and the same check runs on both sides, so a writer can
 * never produce a record its reader rejects.
 */
#ifndef FPU_RECORD_INT_H
#define FPU_RECORD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "fpu_record.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the .fpt format is little-endian and stored with plain copies");

struct fpu_wire_field {
	uint16_t wire;           /* offset in the payload */
	uint16_t mem;            /* offset in the struct */
	uint8_t width;           /* 4 or 8, == the member's size */
	uint64_t min, max;       /* accepted values (as unsigned) */
	const char *name;
};

/* A variable-length byte string following the fixed part, in table order. */
struct fpu_wire_blob {
	uint16_t len_mem;        /* the uint32_t length member */
	uint16_t ptr_mem;        /* the pointer member */
	uint32_t max;
	const char *name;
};

struct fpu_wire_layout {
	uint32_t type;
	const char *name;                    /* "SAMPLE" ... */
	uint32_t fixed;                      /* bytes before the blobs */
	const struct fpu_wire_field *f;
	unsigned nf;
	const struct fpu_wire_blob *b;
	unsigned nb;
	/* Cross-field rules: NULL, or a static string saying what is wrong
	 * (no formatting: the encoders run in signal handlers). */
	const char *(*check)(const void *obj);
};

#define FPU_WIRE_ANY UINT64_MAX
#define FPU_WIRE_FIELD(T, off, m, lo, hi) \
	{ (off), offsetof(T, m), sizeof(((T *)0)->m), (lo), (hi), #m }
#define FPU_WIRE_BLOB(T, len, ptr, max) \
	{ offsetof(T, len), offsetof(T, ptr), (max), #ptr }

/* Layouts of the table-driven types, indexed by type (NULL for SAMPLE). */
extern const struct fpu_wire_layout *const fpu_wire_layouts[FPU_REC_TYPE_COUNT];

/* SAMPLE: fixed header, then nseg descriptors, nfp pcs, segment bytes. */
#define FPU_WIRE_SAMPLE_FIXED 224
#define FPU_WIRE_SEG_DESC 32
extern const struct fpu_wire_layout fpu_wire_sample, fpu_wire_segment;

/*
 * Range and cross-field checks of one object about to be encoded or just
 * decoded: NULL if acceptable, else a static reason; for a value out of its
 * range the reason is "out of range" and *bad names the field.
 */
const char *fpu_wire_check(const struct fpu_wire_layout *L, const void *obj,
			   const struct fpu_wire_field **bad);
/* The same for a sample's fixed fields and segments (*seg: which one, or -1). */
const char *fpu_wire_check_sample(const struct fpu_sample *s,
				  const struct fpu_wire_field **bad, int *seg);

/* The file header. */
#define FPU_WIRE_HDR_MAJOR 8
#define FPU_WIRE_HDR_MINOR 10
#define FPU_WIRE_HDR_LEN 12
#define FPU_WIRE_HDR_FLAGS 16
#define FPU_WIRE_HDR_CRC 20
/* The record header. */
#define FPU_WIRE_REC_TYPE 0
#define FPU_WIRE_REC_LEN 4
#define FPU_WIRE_REC_CRC 8
#define FPU_WIRE_REC_FLAGS 12

static inline uint64_t fpu_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

static inline uint32_t fpu_get32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t fpu_get64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Read/write a member of width 4 or 8 as a uint64_t. */
static inline uint64_t fpu_get_w(const void *p, unsigned width)
{
	return width == 8 ? fpu_get64(p) : fpu_get32(p);
}

static inline void fpu_put_w(void *p, uint64_t v, unsigned width)
{
	uint32_t v32 = (uint32_t)v;
	if (width == 8)
		memcpy(p, &v, 8);
	else
		memcpy(p, &v32, 4);
}

/* CRC of a record: type and len, then everything from the flags word to the
 * padded end, i.e. all of it but the CRC word itself. */
static inline uint32_t fpu_wire_rec_crc(const uint8_t *rec, uint64_t total)
{
	uint32_t crc = fpu_crc32c(0, rec, FPU_WIRE_REC_CRC);
	return fpu_crc32c(crc, rec + FPU_WIRE_REC_FLAGS, total - FPU_WIRE_REC_FLAGS);
}

/* CRC of a file header of hdr_len bytes, all but its CRC word. */
static inline uint32_t fpu_wire_hdr_crc(const uint8_t *h, uint64_t hdr_len)
{
	uint32_t crc = fpu_crc32c(0, h, FPU_WIRE_HDR_CRC);
	return fpu_crc32c(crc, h + FPU_WIRE_HDR_CRC + 4, hdr_len - FPU_WIRE_HDR_CRC - 4);
}

#endif
