/*
 * perfdata_int.h — internal to the perf.data reader.  perfdata.c reads the
 * file (header, events, framing, the choice of the process);
 * perfdata_records.c turns its records into .fpt records and uses these.
 */
#ifndef FPT_PERFDATA_INT_H
#define FPT_PERFDATA_INT_H

#include "perfdata.h"
#include "fpt_perf_abi.h"

/* perf's own record types (tools/lib/perf/include/perf/event.h). */
enum {
	FPT_REC_HEADER_ATTR = 64, FPT_REC_HEADER_TRACING_DATA = 66, FPT_REC_AUXTRACE = 71,
	FPT_REC_HEADER_FEATURE = 80, FPT_REC_COMPRESSED = 81, FPT_REC_COMPRESSED2 = 83,
};

/* Are pid's records read (one of p->want, or p->pid when none)? */
int fpt_perfdata_wants(const struct fpt_perfdata *p, uint32_t pid);

/* Which event a record belongs to: an index into p->attrs, or -1. */
int fpt_perfdata_attr_of(struct fpt_perfdata *p, const uint8_t *rec, size_t size,
			 int is_sample);
/*
 * The record at off: its size, and how far the next one is (AUXTRACE and
 * pipe-mode TRACING_DATA carry payloads outside their header's size).
 * 0, or -1 with p->err set.
 */
int fpt_perfdata_frame(struct fpt_perfdata *p, uint64_t off, size_t *size, uint64_t *skip);
/*
 * The bytes [off, off + len) of the file (the caller checked they lie in it):
 * in place over memory; for a file, through its read window, valid until the
 * next call.  NULL, with the failure reported, when they cannot be read.
 */
const uint8_t *fpt_perfdata_bytes(struct fpt_perfdata *p, uint64_t off, uint64_t len);
/* Set p->err to "<path>: offset <off>: <fmt...>", mark failed; returns -1. */
int fpt_perfdata_fail(struct fpt_perfdata *p, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
