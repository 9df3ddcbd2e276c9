/*
 * fpu_record.h — the .fpt file format: a versioned file header followed by
 * length-prefixed, checksummed, 8-byte aligned records (docs/FORMAT.md has the
 * byte layout).  Three layers:
 *
 *   encoders   fpu_rec_*_size / fpu_rec_encode_*: pure functions that build one
 *              record into a caller buffer.  Async-signal-safe: no allocation,
 *              no locks, errno untouched.  A SIGPROF handler encodes a sample
 *              straight into its per-M buffer with them.
 *   fd writer  struct fpu_writer: writes whole records with write(2), retrying
 *              on EINTR and short writes.  Not for signal handlers.
 *   reader     struct fpu_reader: reads a file into memory and decodes records into
 *              structs whose pointers point into those bytes (no copies, no
 *              allocation but those bytes).  Any input, however hostile, gives either
 *              valid records or one error line "<path>: offset <N>: <reason>";
 *              the reader never reads outside them.
 *
 * Strings in records (paths, names, command lines) are NOT NUL-terminated, on
 * the wire or once decoded: they are (pointer, length) pairs; print them with
 * "%.*s".  A command line is /proc/PID/cmdline: arguments separated by NULs.
 *
 * The format is little-endian; this implementation is x86-64 only.
 */
#ifndef FPU_RECORD_H
#define FPU_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "fpu_sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A reader accepts any minor of its major and rejects a newer major. */
#define FPU_REC_VERSION_MAJOR 1
#define FPU_REC_VERSION_MINOR 3   /* 1.1: SAMPLING; 1.2: the header's machine;
				     1.3: several processes, a section each */

#define FPU_REC_MAGIC "FPTRACE\0"            /* 8 bytes, the NUL included */
#define FPU_REC_FILE_HEADER_SIZE 32          /* what this version writes */
#define FPU_REC_MIN_HEADER_SIZE 24           /* what a 1.0 and 1.1 file has */

/*
 * The architecture of the recorded process, as an ELF e_machine (1.2: header
 * bytes [24, 28); a 1.0/1.1 file is x86-64's).  It says what the sample's
 * register slots hold (fpu_sample.h) and which DWARF backend unwinds them.
 */
#define FPU_REC_MACHINE_X86_64 62            /* EM_X86_64 */
#define FPU_REC_MACHINE_AARCH64 183          /* EM_AARCH64 */
#if defined(__aarch64__)
#define FPU_REC_MACHINE_HOST FPU_REC_MACHINE_AARCH64
#else
#define FPU_REC_MACHINE_HOST FPU_REC_MACHINE_X86_64
#endif
/* "x86-64", "aarch64", or NULL for a machine fptrace cannot unwind. */
const char *fpu_rec_machine_name(uint32_t machine);
#define FPU_REC_HEADER_SIZE 16               /* type, len, crc, flags */
#define FPU_REC_ALIGN 8

/* Limits a reader enforces, so a writer must respect them too (encode fails). */
#define FPU_REC_MAX_PATH 4096
#define FPU_REC_MAX_BUILD_ID 64
#define FPU_REC_MAX_NAME 256
#define FPU_REC_MAX_CMDLINE (1u << 20)

enum fpu_rec_type {
	FPU_REC_PROCESS = 1,
	FPU_REC_MAPPING = 2,
	FPU_REC_THREAD = 3,
	FPU_REC_REGION_EVENT = 4,
	FPU_REC_SAMPLE = 5,
	FPU_REC_DROPS = 6,
	FPU_REC_END = 7,
	FPU_REC_SAMPLING = 8,       /* since 1.1: a 1.0 reader skips it */
	FPU_REC_TYPE_COUNT          /* types >= this are skipped by this reader */
};

/* The process being profiled; normally the first record. */
struct fpu_rec_process {
	uint32_t pid;
	uint32_t sample_hz;          /* CPU sampling rate, 0 if none */
	uint32_t wall_hz;            /* goroutine (wall) sampling rate, 0 if none */
	uint32_t snapshot_max;       /* bytes per stack segment, at most */
	uint64_t start_realtime_ns;  /* CLOCK_REALTIME at start ... */
	uint64_t start_monotonic_ns; /* ... and CLOCK_MONOTONIC at the same moment */
	uint32_t exe_len;            /* <= FPU_REC_MAX_PATH */
	uint32_t cmdline_len;        /* <= FPU_REC_MAX_CMDLINE */
	const char *exe;
	const char *cmdline;         /* NUL-separated arguments */
};

/* One file mapping; re-emitted (a newer record wins) after dlopen/dlclose. */
struct fpu_rec_mapping {
	uint64_t start, end;         /* [start, end), end > start */
	uint64_t offset;             /* file offset of start */
	uint32_t prot;               /* PROT_READ|PROT_WRITE|PROT_EXEC bits */
	uint32_t build_id_len;       /* <= FPU_REC_MAX_BUILD_ID, 0 if unknown */
	uint32_t path_len;           /* <= FPU_REC_MAX_PATH */
	uint32_t pad_;               /* no hidden padding: structs compare bytewise */
	const uint8_t *build_id;
	const char *path;
};

struct fpu_rec_thread {
	uint32_t tid;
	uint32_t name_len;           /* <= FPU_REC_MAX_NAME */
	uint64_t m_id;               /* 0: not an fprt M */
	uint64_t time_ns;            /* CLOCK_MONOTONIC when first seen */
	const char *name;
};

enum fpu_rec_region_event_kind {
	FPU_REGION_EV_ALLOC = 1,     /* [lo, hi) became a stack */
	FPU_REGION_EV_MOVE = 2,      /* [lo, hi) moved to [new_lo, new_hi) */
	FPU_REGION_EV_FREE = 3,      /* [lo, hi) is no longer a stack */
};

struct fpu_rec_region_event {
	uint32_t event;              /* enum fpu_rec_region_event_kind */
	uint32_t kind;               /* enum fpu_region_kind */
	uint64_t lo, hi;             /* lo < hi */
	uint64_t new_lo, new_hi;     /* MOVE: new_lo < new_hi; else both 0 */
	uint64_t owner;
	uint64_t time_ns;
};

struct fpu_rec_drops {
	uint32_t tid;
	uint32_t pad_;
	uint64_t m_id;
	uint64_t dropped;            /* samples lost because a buffer was full */
	uint64_t time_ns;
};

enum fpu_rec_end_how {
	FPU_END_HOW_EXITED = 1,      /* status: exit status 0..255 */
	FPU_END_HOW_SIGNALED = 2,    /* status: signal number 1..127 */
	FPU_END_HOW_UNKNOWN = 3,     /* e.g. appended by a salvage; status 0 */
};

/* The last record of a complete file. */
struct fpu_rec_end {
	uint32_t how;                /* enum fpu_rec_end_how */
	int32_t status;
	uint64_t time_ns;
	uint64_t samples;            /* samples written */
	uint64_t drops;              /* samples dropped */
};

/* What made the CPU samples of an in-process profile come. */
enum fpu_rec_cpu_source {
	FPU_CPU_SOURCE_TIMER = 1,        /* timer_create(CLOCK_THREAD_CPUTIME_ID) per thread */
	FPU_CPU_SOURCE_PERF_EVENT = 2,   /* perf_event_open task-clock per thread */
};

/*
 * How the CPU samples were taken (in-process profiles; the last one wins).  A
 * CPU-time timer expires on the scheduler tick, so it cannot sample faster
 * than CONFIG_HZ; a reader says which one ran so a rate is not misread.
 */
struct fpu_rec_sampling {
	uint32_t cpu_source;         /* enum fpu_rec_cpu_source */
	int32_t perf_errno;          /* timer because perf_event_open failed so; 0 if not */
	uint32_t timer_threads;      /* perf-event: threads that still fell back to a timer */
	uint32_t wall_cap;           /* goroutines wall-sampled per tick at most, 0: all */
};

/* A decoded (or to-be-encoded) record: type selects the union member. */
struct fpu_record {
	uint32_t type;               /* enum fpu_rec_type */
	uint32_t len;                /* payload length (decoded records) */
	uint64_t offset;             /* file offset of the record (decoded records) */
	union {
		struct fpu_rec_process process;
		struct fpu_rec_mapping mapping;
		struct fpu_rec_thread thread;
		struct fpu_rec_region_event region;
		struct fpu_sample sample;
		struct fpu_rec_drops drops;
		struct fpu_rec_end end;
		struct fpu_rec_sampling sampling;
	} u;
};

/* ---------------------------------------------------------------------------
 * CRC-32C (Castagnoli), the checksum of the format.  crc is the value returned
 * by a previous call over the preceding bytes (0 to start), as with zlib's
 * crc32, so fpu_crc32c(fpu_crc32c(0, a, n), b, m) is the CRC of a then b.
 * Uses the SSE4.2 crc32 instruction when the CPU has it.  Signal-safe.
 * ------------------------------------------------------------------------- */
uint32_t fpu_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---------------------------------------------------------------------------
 * Encoders.  All async-signal-safe.  *_size returns the bytes the record takes
 * in the file (header + payload + padding), or 0 if it cannot be encoded (a
 * field over its limit: the reader would reject it).  *_encode writes it at buf
 * and returns that size, or 0 if it does not fit in cap (nothing useful
 * written).  Sample segment data may point at the live stack itself, so the
 * handler copies each byte once, straight into the record.  The rules an
 * object must satisfy are the reader's (docs/FORMAT.md): enum fields in range,
 * nseg <= FPU_MAX_SEGMENTS, a segment's lo + len <= region_hi unless region_hi
 * is 0 (unknown), mapping end > start, string lengths within the limits.
 * ------------------------------------------------------------------------- */
size_t fpu_rec_encode_file_header(void *buf, size_t cap);

size_t fpu_rec_process_size(const struct fpu_rec_process *p);
size_t fpu_rec_encode_process(void *buf, size_t cap, const struct fpu_rec_process *p);
size_t fpu_rec_mapping_size(const struct fpu_rec_mapping *m);
size_t fpu_rec_encode_mapping(void *buf, size_t cap, const struct fpu_rec_mapping *m);
size_t fpu_rec_thread_size(const struct fpu_rec_thread *t);
size_t fpu_rec_encode_thread(void *buf, size_t cap, const struct fpu_rec_thread *t);
size_t fpu_rec_region_event_size(const struct fpu_rec_region_event *e);
size_t fpu_rec_encode_region_event(void *buf, size_t cap,
				   const struct fpu_rec_region_event *e);
size_t fpu_rec_sample_size(const struct fpu_sample *s);
size_t fpu_rec_encode_sample(void *buf, size_t cap, const struct fpu_sample *s);
size_t fpu_rec_drops_size(const struct fpu_rec_drops *d);
size_t fpu_rec_encode_drops(void *buf, size_t cap, const struct fpu_rec_drops *d);
size_t fpu_rec_end_size(const struct fpu_rec_end *e);
size_t fpu_rec_encode_end(void *buf, size_t cap, const struct fpu_rec_end *e);
size_t fpu_rec_sampling_size(const struct fpu_rec_sampling *s);
size_t fpu_rec_encode_sampling(void *buf, size_t cap, const struct fpu_rec_sampling *s);
/* "timer", "perf-event", or "unknown" for a value out of range. */
const char *fpu_cpu_source_name(uint32_t cpu_source);

/* Any of the above, selected by rec->type (0 for an unknown type). */
size_t fpu_rec_size(const struct fpu_record *rec);
size_t fpu_rec_encode(void *buf, size_t cap, const struct fpu_record *rec);
/* A record of any type with an opaque payload (new types, tests). */
size_t fpu_rec_encode_raw(void *buf, size_t cap, uint32_t type, const void *payload,
			  uint32_t len);

/* ---------------------------------------------------------------------------
 * fd writer (not signal-safe: it may allocate a scratch buffer).
 * Functions return 0, or -1 with errno set.
 * ------------------------------------------------------------------------- */
/*
 * A put that fails (a full disk: ENOSPC, errno kept) cuts the file back to the
 * end of the last whole record, so the file stays readable up to there (for
 * an fd that is a regular file opened at offset 0 by this writer).
 */
struct fpu_writer {
	int fd;
	uint64_t offset;             /* bytes written through this writer */
	uint8_t *scratch;            /* grows to the largest record put */
	size_t scratch_cap;
};

/* write(2) all of buf, retrying on EINTR and short writes. */
int fpu_write_full(int fd, const void *buf, size_t len);
/* Create/truncate path (mode 0644) and write the file header. */
int fpu_writer_open(struct fpu_writer *w, const char *path);
/* Use an open fd; write the file header first if write_header. */
int fpu_writer_fdopen(struct fpu_writer *w, int fd, int write_header);
/* Encode rec (any known type) and write it whole. */
int fpu_writer_put(struct fpu_writer *w, const struct fpu_record *rec);
/* Write already encoded records (a drained per-M buffer). */
int fpu_writer_put_encoded(struct fpu_writer *w, const void *buf, size_t len);
/* Free the scratch buffer and close the fd. */
int fpu_writer_close(struct fpu_writer *w);

/* ---------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------- */

/*
 * Input files (the -i input, the files behind mappings).  Their paths may come
 * from a hostile file, so:
 *   fpu_open_regular  opens path read-only only if it is a regular file: with
 *                     O_NONBLOCK, so that a FIFO or a device never blocks
 *                     open(), then fstat.  The fd (close-on-exec), *size set if
 *                     size is not NULL; or, with why set, -1 ("cannot open:
 *                     No such file or directory") or -2 (it exists but is "not
 *                     a regular file (a FIFO)").
 */
int fpu_open_regular(const char *path, uint64_t *size, char *why, size_t whylen);

/*
 * A regular file read forward through a window of bytes, so that a reader's
 * memory stays flat whatever the file's size (pread, never a mapping: a file
 * truncated meanwhile gives "file shrank while being read", never SIGBUS).
 *   fpu_stream_open  opens path (fpu_open_regular) and reads the first window
 *                    bytes; 0, or -1 with why and *bad_offset.
 *   fpu_stream_get   the bytes [off, off + len) of the file, valid until the
 *                    next get.  Made for reading forward (bytes before off are
 *                    forgotten); a get further back reads them again.  The
 *                    window grows to hold len if it must.  NULL with why and
 *                    *bad_offset.
 * A file still being appended to is read up to the size it had at open.
 */
struct fpu_stream {
	int fd;
	uint64_t size;          /* at open */
	uint8_t *buf;           /* file bytes [buf_off, buf_off + have) */
	size_t cap, have;
	uint64_t buf_off;
};
int fpu_stream_open(struct fpu_stream *s, const char *path, size_t window,
		    uint64_t *bad_offset, char *why, size_t whylen);
const uint8_t *fpu_stream_get(struct fpu_stream *s, uint64_t off, uint64_t len,
			      uint64_t *bad_offset, char *why, size_t whylen);
void fpu_stream_close(struct fpu_stream *s);

#define FPU_REC_ERRLEN 512

struct fpu_reader {
	/* The caller's memory, or the file's read window (bytes from file offset
	 * stream.buf_off on; the whole file when it fits in FPU_READER_WINDOW). */
	const uint8_t *base;
	uint64_t size;               /* of the file */
	int streamed;                /* reading the file through stream */
	struct fpu_stream stream;
	uint16_t major, minor;       /* of the file */
	uint32_t machine;            /* FPU_REC_MACHINE_* (any e_machine value) */
	uint64_t off;                /* next record */
	uint64_t last_good;          /* end of the last valid record (or header) */
	uint64_t nrecords;           /* valid records read, unknown ones included */
	uint64_t nunknown;           /* valid records of unknown type, skipped */
	int has_end;                 /* an END record was read */
	int failed;                  /* err holds the reason; next() returns -1 */
	char path[256];              /* for messages (truncated if longer) */
	char err[FPU_REC_ERRLEN];
};

/*
 * Read path (a regular file only: a FIFO is refused, never waited on) into
 * memory and validate the file header.  0, or -1 with r->err set ("empty
 * file", "bad magic", "unsupported version 2.0 (this reader reads 1.x)",
 * "offset N: file shrank while being read", ...).  Call fpu_reader_close in
 * both cases.  A file still being appended to is read up to the size it had
 * at open.
 */
int fpu_reader_open(struct fpu_reader *r, const char *path);
/* The read window of fpu_reader_open: a file up to this size is read at once. */
#define FPU_READER_WINDOW (4u << 20)
/* The same over memory the caller keeps alive (fuzzers, tests); name is for
 * messages.  data must be 8-byte aligned (decoded pcs are loaded in place). */
int fpu_reader_open_mem(struct fpu_reader *r, const void *data, size_t size,
			const char *name);
/*
 * Decode the next record of a known type into rec (unknown types with a valid
 * checksum are skipped).  1: a record; 0: clean end of file; -1: error, r->err
 * set, and every later call returns -1.  rec's pointers point into the file's bytes:
 * over memory, and for a file that fits in FPU_READER_WINDOW, they stay valid
 * until fpu_reader_close; for a larger file (read through a window, so that
 * memory stays flat) only until the next fpu_reader_next.
 */
int fpu_reader_next(struct fpu_reader *r, struct fpu_record *rec);
const char *fpu_reader_error(const struct fpu_reader *r);
void fpu_reader_close(struct fpu_reader *r);

/*
 * Salvage support: the offset just past the last complete valid record of path
 * (at least the header size), so that a recorder can ftruncate a file whose
 * writer died mid-record and append an END.  *has_end (if not NULL) says whether
 * an END record was read.  Returns -1 (err filled) only if the file header
 * itself is unusable; a later bad record is not an error here (err then says
 * why reading stopped, else it is "").
 */
int64_t fpu_reader_last_good(const char *path, int *has_end, char *err, size_t errlen);

/*
 * Make a file that a killed writer left complete: truncate it to its last good
 * record and, if no END was read, append end.  0, or -1 (err filled).
 */
int fpu_rec_repair(const char *path, const struct fpu_rec_end *end, char *err,
		   size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* FPU_RECORD_H */
