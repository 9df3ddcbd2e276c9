/*
 * record_read.c — the .fpt reader.
 *
 * Hostile input is the normal case here (a writer killed mid-record, a disk
 * that lies, a fuzzer), so every length the file states is compared with what
 * is left of the buffer before it is used, in 64-bit arithmetic that cannot
 * wrap (every u32 length times at most 32 stays far below 2^64), and the first
 * problem ends reading with one line "<path>: offset <N>: <reason>", N being
 * the offset of the record (or header) at fault.  The file is read forward
 * through a window (fpu_stream: pread, not mapped, so a file that shrinks
 * meanwhile gives a message, never SIGBUS; and memory stays flat however big
 * the file is); nothing else is allocated: decoded records point into the
 * window, 8-aligned at every record (the window starts at a record), so the
 * pcs and stack words of a sample can be loaded in place.
 */
#include "record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static int fail(struct fpu_reader *r, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, sizeof r->err, "%s: offset %" PRIu64 ": ", r->path, off);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof r->err)
		vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
	va_end(ap);
	r->failed = 1;
	return -1;
}

static void reader_init(struct fpu_reader *r, const char *name)
{
	*r = (struct fpu_reader){ 0 };
	snprintf(r->path, sizeof r->path, "%s", name ? name : "(memory)");
}

/*
 * The bytes [off, off + len) (within the file's size: the caller checked),
 * or NULL after fail(): from the caller's memory, or through the read window.
 */
static const uint8_t *bytes_at(struct fpu_reader *r, uint64_t off, uint64_t len)
{
	char why[200];
	uint64_t bad;

	if (!r->streamed)
		return r->base + off;
	const uint8_t *p = fpu_stream_get(&r->stream, off, len, &bad, why, sizeof why);
	if (!p) {
		fail(r, bad, "%s", why);
		return NULL;
	}
	r->base = r->stream.buf;
	return p;
}

static int check_header(struct fpu_reader *r)
{
	const uint8_t *h;
	uint64_t hlen;
	uint32_t stored, crc;

	if (r->size == 0)
		return fail(r, 0, "empty file");
	if (!(h = bytes_at(r, 0, r->size < 8 ? r->size : 8)))
		return -1;
	if (memcmp(h, FPU_REC_MAGIC, r->size < 8 ? r->size : 8))
		return fail(r, 0, "bad magic (not an .fpt file)");
	if (r->size < FPU_REC_FILE_HEADER_SIZE)
		return fail(r, 0, "truncated file header (%" PRIu64 " bytes, need %d)", r->size,
			    FPU_REC_FILE_HEADER_SIZE);
	if (!(h = bytes_at(r, 0, FPU_REC_FILE_HEADER_SIZE)))
		return -1;
	r->major = (uint16_t)fpu_get32(h + FPU_WIRE_HDR_MAJOR);
	r->minor = (uint16_t)(fpu_get32(h + FPU_WIRE_HDR_MAJOR) >> 16);
	/* Before the CRC: a newer major may lay out (and checksum) its header
	 * differently, and "too new" is the useful message then. */
	if (r->major != FPU_REC_VERSION_MAJOR)
		return fail(r, FPU_WIRE_HDR_MAJOR,
			    "unsupported version %u.%u (this reader reads %d.x%s)", r->major,
			    r->minor, FPU_REC_VERSION_MAJOR,
			    r->major > FPU_REC_VERSION_MAJOR ? "; written by a newer fptrace" : "");
	hlen = fpu_get32(h + FPU_WIRE_HDR_LEN);
	if (hlen < FPU_REC_FILE_HEADER_SIZE)
		return fail(r, FPU_WIRE_HDR_LEN, "header length %" PRIu64 " < %d", hlen,
			    FPU_REC_FILE_HEADER_SIZE);
	if (hlen % FPU_REC_ALIGN)
		return fail(r, FPU_WIRE_HDR_LEN, "misaligned header length %" PRIu64, hlen);
	if (hlen > r->size)
		return fail(r, 0, "truncated file header (header length %" PRIu64
			    ", file size %" PRIu64 ")", hlen, r->size);
	if (!(h = bytes_at(r, 0, hlen)))
		return -1;
	stored = fpu_get32(h + FPU_WIRE_HDR_CRC);
	crc = fpu_wire_hdr_crc(h, hlen);
	if (stored != crc)
		return fail(r, 0, "header checksum mismatch (stored %08x, computed %08x)",
			    stored, crc);
	r->off = r->last_good = hlen;
	return 0;
}

int fpu_reader_open_mem(struct fpu_reader *r, const void *data, size_t size,
			const char *name)
{
	reader_init(r, name);
	r->base = data;
	r->size = size;
	if ((uintptr_t)data % FPU_REC_ALIGN)
		return fail(r, 0, "buffer not 8-byte aligned");
	return check_header(r);
}

int fpu_reader_open(struct fpu_reader *r, const char *path)
{
	char why[200];
	uint64_t bad_off;

	reader_init(r, path);
	r->streamed = 1;
	if (fpu_stream_open(&r->stream, path, FPU_READER_WINDOW, &bad_off, why, sizeof why) != 0)
		return fail(r, bad_off, "%s", why);
	r->base = r->stream.buf;
	r->size = r->stream.size;
	return check_header(r);
}

void fpu_reader_close(struct fpu_reader *r)
{
	if (r->streamed)
		fpu_stream_close(&r->stream);
	r->base = NULL;
	r->streamed = 0;
}

const char *fpu_reader_error(const struct fpu_reader *r)
{
	return r->failed ? r->err : NULL;
}

/* ---- decoding ----------------------------------------------------------- */

static void get_fields(const struct fpu_wire_layout *L, const uint8_t *wire, void *obj)
{
	for (unsigned i = 0; i < L->nf; i++)
		memcpy((char *)obj + L->f[i].mem, wire + L->f[i].wire, L->f[i].width);
}

/* Report a failed check (why from fpu_wire_check). */
static int bad_value(struct fpu_reader *r, uint64_t off, const char *rec,
		     const char *why, const struct fpu_wire_field *f, const void *obj)
{
	if (f && !strcmp(why, "out of range"))
		return fail(r, off, "%s: field %s = %" PRIu64 " out of range [%" PRIu64
			    ", %" PRIu64 "]", rec, f->name,
			    fpu_get_w((const char *)obj + f->mem, f->width), f->min, f->max);
	return fail(r, off, "%s: %s", rec, why);
}

static int decode_table(struct fpu_reader *r, const struct fpu_wire_layout *L,
			const uint8_t *pay, uint32_t len, void *obj)
{
	const struct fpu_wire_field *f = NULL;
	const char *why;
	uint64_t want = L->fixed;

	if (len < L->fixed)
		return fail(r, r->off, "%s: payload length %u < fixed part %u", L->name, len,
			    L->fixed);
	get_fields(L, pay, obj);
	if ((why = fpu_wire_check(L, obj, &f)))
		return bad_value(r, r->off, L->name, why, f, obj);
	for (unsigned i = 0; i < L->nb; i++)
		want += fpu_get32((const char *)obj + L->b[i].len_mem);
	if (want != len)
		return fail(r, r->off, "%s: payload length %u inconsistent with its string "
			    "lengths (expected %" PRIu64 ")", L->name, len, want);
	want = L->fixed;
	for (unsigned i = 0; i < L->nb; i++) {
		const uint8_t *p = pay + want;
		memcpy((char *)obj + L->b[i].ptr_mem, &p, sizeof p);
		want += fpu_get32((const char *)obj + L->b[i].len_mem);
	}
	return 0;
}

static int decode_sample(struct fpu_reader *r, const uint8_t *pay, uint32_t len,
			 struct fpu_sample *s)
{
	const struct fpu_wire_field *f = NULL;
	const char *why;
	uint64_t at, data;
	int seg;

	if (len < FPU_WIRE_SAMPLE_FIXED)
		return fail(r, r->off, "SAMPLE: payload length %u < fixed part %d", len,
			    FPU_WIRE_SAMPLE_FIXED);
	get_fields(&fpu_wire_sample, pay, s);
	/* nseg first: it bounds the descriptor loop below. */
	if ((why = fpu_wire_check(&fpu_wire_sample, s, &f)))
		return bad_value(r, r->off, "SAMPLE", why, f, s);
	at = FPU_WIRE_SAMPLE_FIXED + (uint64_t)s->nseg * FPU_WIRE_SEG_DESC;
	if (at > len)
		return fail(r, r->off, "SAMPLE: %u segment descriptors past payload length %u",
			    s->nseg, len);
	for (uint32_t k = 0; k < s->nseg; k++)
		get_fields(&fpu_wire_segment,
			   pay + FPU_WIRE_SAMPLE_FIXED + k * FPU_WIRE_SEG_DESC, &s->seg[k]);
	if ((why = fpu_wire_check_sample(s, &f, &seg))) {
		char name[32];
		snprintf(name, sizeof name, "SAMPLE segment %d", seg);
		return bad_value(r, r->off, name, why, f, &s->seg[seg]);
	}
	s->fp_pcs = (const uint64_t *)(pay + at);
	at += (uint64_t)s->nfp * 8;
	if (at > len)
		return fail(r, r->off, "SAMPLE: nfp %u inconsistent with payload length %u",
			    s->nfp, len);
	data = 0;
	for (uint32_t k = 0; k < s->nseg; k++)
		data += fpu_align8(s->seg[k].len);
	if (at + data != len)
		return fail(r, r->off, "SAMPLE: segment lengths (%" PRIu64 " bytes padded) "
			    "inconsistent with payload length %u (room for %" PRIu64 ")",
			    data, len, len - at);
	for (uint32_t k = 0; k < s->nseg; k++) {
		s->seg[k].data = pay + at;
		at += fpu_align8(s->seg[k].len);
	}
	return 0;
}

int fpu_reader_next(struct fpu_reader *r, struct fpu_record *rec)
{
	for (;;) {
		const uint8_t *h;
		uint64_t left, total;
		uint32_t type, len, stored, crc;
		int rc;

		if (r->failed || !r->base)
			return -1;
		left = r->size - r->off;
		if (left == 0)
			return 0;
		if (left < FPU_REC_HEADER_SIZE)
			return fail(r, r->off, "truncated record header (%" PRIu64
				    " bytes left)", left);
		if (!(h = bytes_at(r, r->off, FPU_REC_HEADER_SIZE)))
			return -1;
		type = fpu_get32(h + FPU_WIRE_REC_TYPE);
		len = fpu_get32(h + FPU_WIRE_REC_LEN);
		total = FPU_REC_HEADER_SIZE + fpu_align8(len);
		if (total > left)
			return fail(r, r->off, "truncated record (type %u, payload length %u, "
				    "%" PRIu64 " bytes left in file)", type, len, left);
		if (!(h = bytes_at(r, r->off, total)))
			return -1;
		stored = fpu_get32(h + FPU_WIRE_REC_CRC);
		crc = fpu_wire_rec_crc(h, total);
		if (stored != crc)
			return fail(r, r->off, "checksum mismatch (type %u, stored %08x, "
				    "computed %08x)", type, stored, crc);
		if (type == 0)
			return fail(r, r->off, "invalid record type 0");
		if (r->has_end)
			return fail(r, r->off, "record (type %u) after END", type);
		if (type >= FPU_REC_TYPE_COUNT) {
			/* Forward compatibility: a newer minor's record; skip it. */
			r->nunknown++;
		} else {
			memset(rec, 0, sizeof *rec);
			if (type == FPU_REC_SAMPLE)
				rc = decode_sample(r, h + FPU_REC_HEADER_SIZE, len, &rec->u.sample);
			else
				rc = decode_table(r, fpu_wire_layouts[type],
						  h + FPU_REC_HEADER_SIZE, len, &rec->u);
			if (rc < 0)
				return -1;
			rec->type = type;
			rec->len = len;
			rec->offset = r->off;
			r->has_end = type == FPU_REC_END;
		}
		r->off += total;
		r->last_good = r->off;
		r->nrecords++;
		if (type < FPU_REC_TYPE_COUNT)
			return 1;
	}
}

/* ---- salvage -------------------------------------------------------------- */

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg ? msg : "");
}

int64_t fpu_reader_last_good(const char *path, int *has_end, char *err, size_t errlen)
{
	struct fpu_reader r;
	struct fpu_record rec;
	int64_t good = -1;

	if (fpu_reader_open(&r, path) == 0) {
		while (fpu_reader_next(&r, &rec) > 0)
			;
		good = (int64_t)r.last_good;
	}
	copy_err(err, errlen, fpu_reader_error(&r));
	if (has_end)
		*has_end = r.has_end;
	fpu_reader_close(&r);
	return good;
}

int fpu_rec_repair(const char *path, const struct fpu_rec_end *end, char *err,
		   size_t errlen)
{
	uint8_t buf[FPU_REC_HEADER_SIZE + 32];
	int has_end = 0, fd, rc = 0;
	int64_t good = fpu_reader_last_good(path, &has_end, err, errlen);
	char msg[FPU_REC_ERRLEN];

	if (good < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, good) < 0 || lseek(fd, good, SEEK_SET) < 0)
		rc = -1;
	if (!rc && !has_end) {
		size_t n = fpu_rec_encode_end(buf, sizeof buf, end);
		if (!n)
			errno = EINVAL;
		rc = n && fpu_write_full(fd, buf, n) == 0 ? 0 : -1;
		if (rc < 0 && n) {
			/* A full disk took part of the END record: cut it away again,
			 * so that what the program wrote stays readable. */
			int e = errno;
			(void)!ftruncate(fd, good);
			errno = e;
		}
	}
	if (rc < 0) {
		snprintf(msg, sizeof msg, "%s: offset %" PRId64 ": cannot repair: %s", path,
			 good, strerror(errno));
		copy_err(err, errlen, msg);
	}
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = -1;
	return rc;
}
