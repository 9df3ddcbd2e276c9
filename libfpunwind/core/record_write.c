/*
 * record_write.c — the encoders (async-signal-safe) and the fd writer.
 *
 * An encoder first computes the record's size and checks the object with the
 * same rules the reader applies (record_int.h), then writes fields, blobs and
 * zero padding, and finally the header with the CRC.  It touches nothing but
 * buf and never calls anything that could set errno, lock or allocate: memcpy,
 * memset and the CRC are all it uses.
 */
#include "record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Start a record: zero its first nzero bytes (at least the header; for small
 * records all of it, so reserved words and padding are 0) and return the
 * payload.  A sample zeroes only its padding: its snapshot can be 256 KiB. */
static uint8_t *rec_begin(void *buf, uint64_t nzero)
{
	memset(buf, 0, nzero);
	return (uint8_t *)buf + FPU_REC_HEADER_SIZE;
}

static size_t rec_finish(void *buf, uint32_t type, uint64_t len)
{
	uint8_t *rec = buf;
	uint64_t total = FPU_REC_HEADER_SIZE + fpu_align8(len);
	uint32_t crc;

	fpu_put_w(rec + FPU_WIRE_REC_TYPE, type, 4);
	fpu_put_w(rec + FPU_WIRE_REC_LEN, len, 4);
	crc = fpu_wire_rec_crc(rec, total);
	fpu_put_w(rec + FPU_WIRE_REC_CRC, crc, 4);
	return (size_t)total;
}

/* Bytes of a record with a payload of len bytes, or 0 if len cannot be one. */
static size_t rec_total(uint64_t len)
{
	return len > UINT32_MAX - 8 ? 0 : (size_t)(FPU_REC_HEADER_SIZE + fpu_align8(len));
}

/*
 * One fixed field: 4 or 8 bytes (the layout tables allow nothing else).  A
 * memcpy of a variable width compiles to rep movsb/movsq, which dominated the
 * SIGPROF handler's encode (bench/prof); fixed widths compile to two moves.
 */
static inline void put_field(void *dst, const void *src, uint8_t width)
{
	if (width == 8) {
		uint64_t v;
		memcpy(&v, src, 8);
		memcpy(dst, &v, 8);
	} else {
		uint32_t v;
		memcpy(&v, src, 4);
		memcpy(dst, &v, 4);
	}
}

size_t fpu_rec_encode_file_header(void *buf, size_t cap)
{
	uint8_t *h = buf;

	if (cap < FPU_REC_FILE_HEADER_SIZE)
		return 0;
	memset(h, 0, FPU_REC_FILE_HEADER_SIZE);
	memcpy(h, FPU_REC_MAGIC, 8);
	fpu_put_w(h + FPU_WIRE_HDR_MAJOR, FPU_REC_VERSION_MAJOR | FPU_REC_VERSION_MINOR << 16, 4);
	fpu_put_w(h + FPU_WIRE_HDR_LEN, FPU_REC_FILE_HEADER_SIZE, 4);
	fpu_put_w(h + FPU_WIRE_HDR_MACHINE, FPU_REC_MACHINE_HOST, 4);
	fpu_put_w(h + FPU_WIRE_HDR_CRC, fpu_wire_hdr_crc(h, FPU_REC_FILE_HEADER_SIZE), 4);
	return FPU_REC_FILE_HEADER_SIZE;
}

/* ---- table-driven records --------------------------------------------------- */

static size_t layout_size(const struct fpu_wire_layout *L, const void *obj)
{
	const char *o = obj;
	uint64_t len = L->fixed;

	if (fpu_wire_check(L, obj, NULL))
		return 0;
	for (unsigned i = 0; i < L->nb; i++) {
		uint32_t n = fpu_get32(o + L->b[i].len_mem);
		const void *p;
		memcpy(&p, o + L->b[i].ptr_mem, sizeof p);
		if (n && !p)
			return 0;
		len += n;
	}
	return rec_total(len);
}

static size_t layout_encode(const struct fpu_wire_layout *L, void *buf, size_t cap,
			    const void *obj)
{
	const char *o = obj;
	size_t total = layout_size(L, obj);
	uint8_t *pay, *q;

	if (!total || total > cap)
		return 0;
	pay = rec_begin(buf, total);
	for (unsigned i = 0; i < L->nf; i++)
		put_field(pay + L->f[i].wire, o + L->f[i].mem, L->f[i].width);
	q = pay + L->fixed;
	for (unsigned i = 0; i < L->nb; i++) {
		uint32_t n = fpu_get32(o + L->b[i].len_mem);
		const void *p;
		memcpy(&p, o + L->b[i].ptr_mem, sizeof p);
		if (n)
			memcpy(q, p, n);
		q += n;
	}
	return rec_finish(buf, L->type, (uint64_t)(q - pay));
}

#define TABLE_RECORD(name, T, type)                                                    \
	size_t fpu_rec_##name##_size(const T *x)                                       \
	{                                                                              \
		return layout_size(fpu_wire_layouts[type], x);                         \
	}                                                                              \
	size_t fpu_rec_encode_##name(void *buf, size_t cap, const T *x)                \
	{                                                                              \
		return layout_encode(fpu_wire_layouts[type], buf, cap, x);             \
	}
TABLE_RECORD(process, struct fpu_rec_process, FPU_REC_PROCESS)
TABLE_RECORD(mapping, struct fpu_rec_mapping, FPU_REC_MAPPING)
TABLE_RECORD(thread, struct fpu_rec_thread, FPU_REC_THREAD)
TABLE_RECORD(region_event, struct fpu_rec_region_event, FPU_REC_REGION_EVENT)
TABLE_RECORD(drops, struct fpu_rec_drops, FPU_REC_DROPS)
TABLE_RECORD(end, struct fpu_rec_end, FPU_REC_END)
TABLE_RECORD(sampling, struct fpu_rec_sampling, FPU_REC_SAMPLING)

/* ---- SAMPLE ---------------------------------------------------------------- */

size_t fpu_rec_sample_size(const struct fpu_sample *s)
{
	int seg;
	uint64_t len;

	if (fpu_wire_check_sample(s, NULL, &seg) || (s->nfp && !s->fp_pcs))
		return 0;
	len = FPU_WIRE_SAMPLE_FIXED + (uint64_t)s->nseg * FPU_WIRE_SEG_DESC +
	      (uint64_t)s->nfp * 8;
	for (uint32_t i = 0; i < s->nseg; i++) {
		if (s->seg[i].len && !s->seg[i].data)
			return 0;
		len += fpu_align8(s->seg[i].len);
	}
	return rec_total(len);
}

size_t fpu_rec_encode_sample(void *buf, size_t cap, const struct fpu_sample *s)
{
	const struct fpu_wire_layout *L = &fpu_wire_sample, *G = &fpu_wire_segment;
	size_t total = fpu_rec_sample_size(s);
	uint8_t *pay, *q;

	if (!total || total > cap)
		return 0;
	/* The tables cover the fixed part and descriptors byte for byte. */
	pay = rec_begin(buf, FPU_REC_HEADER_SIZE);
	for (unsigned i = 0; i < L->nf; i++)
		put_field(pay + L->f[i].wire, (const char *)s + L->f[i].mem, L->f[i].width);
	q = pay + FPU_WIRE_SAMPLE_FIXED;
	for (uint32_t k = 0; k < s->nseg; k++, q += FPU_WIRE_SEG_DESC)
		for (unsigned i = 0; i < G->nf; i++)
			put_field(q + G->f[i].wire, (const char *)&s->seg[k] + G->f[i].mem,
				  G->f[i].width);
	if (s->nfp)
		memcpy(q, s->fp_pcs, (size_t)s->nfp * 8);
	q += (size_t)s->nfp * 8;
	/* Each segment's bytes start 8-aligned so a reader can load stack words
	 * from the mapping directly; the gaps are zero so the CRC is defined. */
	for (uint32_t k = 0; k < s->nseg; k++) {
		uint32_t n = s->seg[k].len;
		if (n)
			/* often a live stack: the handler's interrupted one, or a
			 * parked goroutine's (fpu_copy_live_stack says why it matters) */
			fpu_copy_live_stack(q, s->seg[k].data, n);
		memset(q + n, 0, fpu_align8(n) - n);
		q += fpu_align8(n);
	}
	return rec_finish(buf, FPU_REC_SAMPLE, (uint64_t)(q - pay));
}

/* ---- dispatch and raw ------------------------------------------------------ */

size_t fpu_rec_size(const struct fpu_record *rec)
{
	if (rec->type == FPU_REC_SAMPLE)
		return fpu_rec_sample_size(&rec->u.sample);
	if (rec->type && rec->type < FPU_REC_TYPE_COUNT)
		return layout_size(fpu_wire_layouts[rec->type], &rec->u);
	return 0;
}

size_t fpu_rec_encode(void *buf, size_t cap, const struct fpu_record *rec)
{
	if (rec->type == FPU_REC_SAMPLE)
		return fpu_rec_encode_sample(buf, cap, &rec->u.sample);
	if (rec->type && rec->type < FPU_REC_TYPE_COUNT)
		return layout_encode(fpu_wire_layouts[rec->type], buf, cap, &rec->u);
	return 0;
}

size_t fpu_rec_encode_raw(void *buf, size_t cap, uint32_t type, const void *payload,
			  uint32_t len)
{
	size_t total = rec_total(len);

	if (!total || total > cap || !type || (len && !payload))
		return 0;
	if (len)
		memcpy(rec_begin(buf, total), payload, len);
	else
		rec_begin(buf, total);
	return rec_finish(buf, type, len);
}

/* ---- fd writer (not signal-safe) ------------------------------------------- */

int fpu_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {           /* should not happen for regular files */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fpu_writer_put_encoded(struct fpu_writer *w, const void *buf, size_t len)
{
	if (fpu_write_full(w->fd, buf, len) < 0) {
		/* A full disk takes part of a record: cut the file back to the last
		 * whole one, so that what was written stays readable. */
		int e = errno;
		(void)!ftruncate(w->fd, (off_t)w->offset);
		errno = e;
		return -1;
	}
	w->offset += len;
	return 0;
}

int fpu_writer_fdopen(struct fpu_writer *w, int fd, int write_header)
{
	uint8_t h[FPU_REC_FILE_HEADER_SIZE];

	*w = (struct fpu_writer){ .fd = fd };
	if (!write_header)
		return 0;
	fpu_rec_encode_file_header(h, sizeof h);
	return fpu_writer_put_encoded(w, h, sizeof h);
}

int fpu_writer_open(struct fpu_writer *w, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		*w = (struct fpu_writer){ .fd = -1 };
		return -1;
	}
	if (fpu_writer_fdopen(w, fd, 1) < 0) {
		int e = errno;
		close(fd);
		w->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int fpu_writer_put(struct fpu_writer *w, const struct fpu_record *rec)
{
	size_t n = fpu_rec_size(rec);

	if (!n) {
		errno = EINVAL;
		return -1;
	}
	if (n > w->scratch_cap) {
		uint8_t *p = realloc(w->scratch, n);
		if (!p)
			return -1;
		w->scratch = p;
		w->scratch_cap = n;
	}
	fpu_rec_encode(w->scratch, w->scratch_cap, rec);
	return fpu_writer_put_encoded(w, w->scratch, n);
}

int fpu_writer_close(struct fpu_writer *w)
{
	int rc = 0;

	free(w->scratch);
	w->scratch = NULL;
	w->scratch_cap = 0;
	if (w->fd >= 0)
		rc = close(w->fd);
	w->fd = -1;
	return rc;
}
