/*
 * perfdata.c — the perf.data file: header, event attributes, the command-line
 * feature, the framing of the data section's records, the choice of the
 * process to present, and the record loop.  The conversion of the records
 * themselves is in perfdata_sample.c; fpt_source (either file kind) in
 * perfdata_source.c.
 *
 * Layout (tools/perf/Documentation/perf.data-file-format.txt):
 *   perf_file_header  magic "PERFILE2", size (104), attr_size, sections
 *                     attrs / data / event_types ({u64 offset, u64 size}),
 *                     a 256-bit feature bitmap; the feature sections follow
 *                     the data section, one {offset, size} per set bit.
 *   attrs             attr_size-byte entries: perf_event_attr, then a
 *                     section holding the event's u64 sample ids.
 *   data              perf_event_header {u32 type, u16 misc, u16 size} records.
 * Pipe mode (perf record -o -): magic, size 16, then records only; the events
 * come as HEADER_ATTR records.
 */
#include "perfdata_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HEADER_SIZE 104     /* struct perf_file_header */
#define PIPE_HEADER_SIZE 16      /* struct perf_pipe_file_header */
#define FEAT_ARCH 6              /* HEADER_ARCH: the recording machine's uname -m */
#define FEAT_CMDLINE 11          /* HEADER_CMDLINE in perf's feature bits */
#define SCRATCH_SIZE 65536       /* a record is at most 64 KiB (u16 size) */

int fpt_perfdata_fail(struct fpt_perfdata *p, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, sizeof p->err, "%s: offset %" PRIu64 ": ", p->path, off);
	if (n < 0 || (size_t)n >= sizeof p->err)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof p->err - (size_t)n, fmt, ap);
	va_end(ap);
	p->failed = 1;
	return -1;
}

/* ---------------------------------------------------------------------------
 * Bounded reads
 * ------------------------------------------------------------------------- */

static uint32_t rec_type(const uint8_t *r)
{
	struct perf_event_header h;
	memcpy(&h, r, sizeof h);
	return h.type;
}

static size_t rec_size(const uint8_t *r)
{
	struct perf_event_header h;
	memcpy(&h, r, sizeof h);
	return h.size;
}

static uint64_t rd64(const uint8_t *q)
{
	uint64_t v;
	memcpy(&v, q, 8);
	return v;
}

static uint32_t rd32(const uint8_t *q)
{
	uint32_t v;
	memcpy(&v, q, 4);
	return v;
}

/* Is [off, off + len) inside the file? */
static int in_file(const struct fpt_perfdata *p, uint64_t off, uint64_t len)
{
	return off <= p->size && len <= p->size - off;
}

const uint8_t *fpt_perfdata_bytes(struct fpt_perfdata *p, uint64_t off, uint64_t len)
{
	char why[200];
	uint64_t bad;

	if (!p->streamed)
		return p->base + off;
	const uint8_t *q = fpu_stream_get(&p->stream, off, len, &bad, why, sizeof why);
	if (!q)
		fpt_perfdata_fail(p, bad, "%s", why);
	return q;
}

/* ---------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

/* Add an event from attr_len bytes of perf_event_attr and its ids. */
static int add_attr(struct fpt_perfdata *p, uint64_t off, const uint8_t *attr,
		    uint64_t attr_len, const uint8_t *ids, uint64_t nids)
{
	if (p->nattrs >= FPT_PERFDATA_MAX_ATTRS)
		return fpt_perfdata_fail(p, off, "more than %d events: not supported",
					 FPT_PERFDATA_MAX_ATTRS);
	struct fpt_perf_attr *a = &p->attrs[p->nattrs++];
	memset(a, 0, sizeof *a);
	memcpy(&a->attr, attr, attr_len < sizeof a->attr ? attr_len : sizeof a->attr);
	a->ids = nids ? ids : NULL;   /* close frees a streamed file's: never the window */
	a->nids = nids;
	if (p->streamed && nids) {   /* the window moves on: keep a copy */
		uint8_t *copy = malloc(8 * nids);
		if (!copy) {
			a->ids = NULL;   /* never the window's: close frees what it finds */
			a->nids = 0;
			return fpt_perfdata_fail(p, off, "out of memory for %" PRIu64 " event ids",
						 nids);
		}
		memcpy(copy, ids, 8 * nids);
		a->ids = copy;
	}
	uint64_t need = PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	if ((a->attr.sample_type & need) == need && a->attr.sample_stack_user)
		p->has_stacks = 1;
	return 0;
}

/* The attrs section of a perf.data file. */
static int read_attrs(struct fpt_perfdata *p, uint64_t attr_size, uint64_t off, uint64_t size)
{
	if (attr_size < 16 + PERF_ATTR_SIZE_VER0 || attr_size > 16 + 4096)
		return fpt_perfdata_fail(p, 16, "file header: attr size %" PRIu64
					 " unknown (want %u to %u)", attr_size,
					 16 + PERF_ATTR_SIZE_VER0, 16 + 4096);
	if (!in_file(p, off, size))
		return fpt_perfdata_fail(p, 24, "file header: attrs section [%" PRIu64 ", +%"
					 PRIu64 ") lies outside the file (%" PRIu64 " bytes)",
					 off, size, p->size);
	if (size % attr_size)
		return fpt_perfdata_fail(p, off, "attrs section: size %" PRIu64
					 " is not a multiple of the attr size %" PRIu64,
					 size, attr_size);
	if (size == 0)
		return fpt_perfdata_fail(p, off, "attrs section: no events");
	for (uint64_t at = off; at < off + size; at += attr_size) {
		uint8_t e[16 + 4096];   /* attr_size at most: a copy, the ids are read next */
		const uint8_t *q = fpt_perfdata_bytes(p, at, attr_size), *ids;
		if (!q)
			return -1;
		memcpy(e, q, attr_size);
		uint64_t ids_off = rd64(e + attr_size - 16), ids_size = rd64(e + attr_size - 8);
		if (!in_file(p, ids_off, ids_size) || ids_size % 8)
			return fpt_perfdata_fail(p, at, "event %u: ids section [%" PRIu64 ", +%"
						 PRIu64 ") is not inside the file",
						 p->nattrs, ids_off, ids_size);
		if (!(ids = fpt_perfdata_bytes(p, ids_off, ids_size)) ||
		    add_attr(p, at, e, attr_size - 16, ids, ids_size / 8) != 0)
			return -1;
	}
	return 0;
}

/* A pipe-mode HEADER_ATTR record: perf_event_attr (its own size) then ids. */
static int header_attr(struct fpt_perfdata *p, uint64_t off, size_t size)
{
	const uint8_t *r = fpt_perfdata_bytes(p, off, size);
	if (!r)
		return -1;
	if (size < 8 + PERF_ATTR_SIZE_VER0)
		return fpt_perfdata_fail(p, off, "HEADER_ATTR record: size %zu is too small "
					 "for an event attribute", size);
	uint32_t asz = rd32(r + 8 + 4);
	if (asz == 0)
		asz = PERF_ATTR_SIZE_VER0;
	if (asz < PERF_ATTR_SIZE_VER0 || asz > size - 8)
		return fpt_perfdata_fail(p, off, "HEADER_ATTR record: attr size %u unknown "
					 "or past the record (size %zu)", asz, size);
	return add_attr(p, off, r + 8, asz, r + 8 + asz, (size - 8 - asz) / 8);
}

/* Are all events' samples laid out alike (then any of them can parse any)? */
static int same_layout(const struct fpt_perfdata *p)
{
	const struct perf_event_attr *a = &p->attrs[0].attr;
	for (unsigned i = 1; i < p->nattrs; i++) {
		const struct perf_event_attr *b = &p->attrs[i].attr;
		if (a->sample_type != b->sample_type || a->read_format != b->read_format ||
		    a->sample_regs_user != b->sample_regs_user ||
		    a->sample_regs_intr != b->sample_regs_intr ||
		    a->branch_sample_type != b->branch_sample_type ||
		    a->sample_id_all != b->sample_id_all)
			return 0;
	}
	return 1;
}

static int attr_of_id(struct fpt_perfdata *p, uint64_t id)
{
	for (unsigned k = 0; k < p->nattrs; k++) {
		unsigned i = ((unsigned)p->last_attr + k) % p->nattrs;
		const struct fpt_perf_attr *a = &p->attrs[i];
		for (uint64_t j = 0; j < a->nids; j++)
			if (rd64(a->ids + 8 * j) == id) {
				p->last_attr = (int)i;
				return (int)i;
			}
	}
	return -1;
}

int fpt_perfdata_attr_of(struct fpt_perfdata *p, const uint8_t *rec, size_t size,
			 int is_sample)
{
	if (p->nattrs == 0)
		return -1;
	if (p->nattrs == 1)
		return 0;
	uint64_t st = p->attrs[0].attr.sample_type;
	int64_t at = -1;   /* offset of the id in the record */
	if (is_sample) {
		if (st & PERF_SAMPLE_IDENTIFIER)
			at = 8;
		else if (st & PERF_SAMPLE_ID)
			at = 8 + 8 * (!!(st & PERF_SAMPLE_IP) + !!(st & PERF_SAMPLE_TID) +
				      !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ADDR));
	} else if (p->attrs[0].attr.sample_id_all) {
		if (st & PERF_SAMPLE_IDENTIFIER)
			at = (int64_t)size - 8;
		else if (st & PERF_SAMPLE_ID)
			at = (int64_t)size - 8 * (1 + !!(st & PERF_SAMPLE_STREAM_ID) +
						  !!(st & PERF_SAMPLE_CPU));
	}
	if (at >= 8 && (uint64_t)at + 8 <= size) {
		int i = attr_of_id(p, rd64(rec + at));
		if (i >= 0)
			return i;
	}
	return same_layout(p) ? 0 : -1;
}

/* ---------------------------------------------------------------------------
 * Features: the command line
 * ------------------------------------------------------------------------- */

/* perf's argv as perf_header_strings; keep the arguments after "--". */
static void parse_cmdline(struct fpt_perfdata *p, const uint8_t *q, uint64_t len)
{
	struct fpt_pcur c = { q, q + len, 0 };
	const uint8_t *n4 = fpt_pcur_take(&c, 4);
	if (!n4)
		return;
	uint32_t nr = rd32(n4);
	int after = 0;
	p->cmdline_len = 0;
	for (uint32_t i = 0; i < nr && !c.bad; i++) {
		const uint8_t *l4 = fpt_pcur_take(&c, 4);
		uint32_t l = l4 ? rd32(l4) : 0;
		const char *s = (const char *)fpt_pcur_take(&c, l);
		if (!s)
			break;
		size_t sl = strnlen(s, l);
		if (!after) {
			after = sl == 2 && !memcmp(s, "--", 2);
			continue;
		}
		if (p->cmdline_len + sl + 1 > sizeof p->cmdline)
			break;
		memcpy(p->cmdline + p->cmdline_len, s, sl);
		p->cmdline_len += (uint32_t)sl;
		p->cmdline[p->cmdline_len++] = 0;
	}
}

/*
 * HEADER_ARCH, a perf_header_string {u32 len; char str[len]} holding uname -m
 * of the machine perf recorded on: which registers a sample's REGS_USER holds
 * (a perf.data copied from an arm64 machine holds aarch64 registers).
 */
static void parse_arch(struct fpt_perfdata *p, const uint8_t *q, uint64_t len)
{
	static const struct { const char *uname; uint32_t machine; } known[] = {
		{ "x86_64", FPU_REC_MACHINE_X86_64 }, { "aarch64", FPU_REC_MACHINE_AARCH64 },
		{ "arm64", FPU_REC_MACHINE_AARCH64 }, { "i686", 3 }, { "i386", 3 },
		{ "armv7l", 40 }, { "arm", 40 }, { "ppc64le", 21 }, { "ppc64", 21 },
		{ "s390x", 22 }, { "riscv64", 243 }, { "loongarch64", 258 },
	};
	if (len < 4)
		return;
	uint64_t n = rd32(q);
	n = n < len - 4 ? n : len - 4;
	n = strnlen((const char *)q + 4, n < sizeof p->arch - 1 ? n : sizeof p->arch - 1);
	memcpy(p->arch, q + 4, n);
	p->arch[n] = 0;
	p->machine = 0;   /* named, but no ELF machine fptrace knows */
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(p->arch, known[i].uname))
			p->machine = known[i].machine;
}

/* The section of feature bit feat: 1 with *q and *len set, else 0. */
static int feature_section(struct fpt_perfdata *p, uint64_t feat_off, unsigned feat,
			   const uint8_t **q, uint64_t *len)
{
	const uint8_t *bits = fpt_perfdata_bytes(p, 72, 32);   /* 256 feature bits */
	unsigned idx = 0;
	if (!bits)
		return 0;
	for (unsigned b = 0; b < feat; b++)
		idx += (bits[b / 8] >> (b % 8)) & 1;
	if (!((bits[feat / 8] >> (feat % 8)) & 1) || feat_off > p->size ||
	    !in_file(p, feat_off + 16ull * idx, 16))
		return 0;
	const uint8_t *sec = fpt_perfdata_bytes(p, feat_off + 16ull * idx, 16);
	if (!sec)
		return 0;
	uint64_t off = rd64(sec);
	*len = rd64(sec + 8);
	return in_file(p, off, *len) && (*q = fpt_perfdata_bytes(p, off, *len));
}

static void read_features(struct fpt_perfdata *p, uint64_t feat_off)
{
	const uint8_t *q;
	uint64_t len;
	if (feature_section(p, feat_off, FEAT_ARCH, &q, &len))
		parse_arch(p, q, len);
	if (feature_section(p, feat_off, FEAT_CMDLINE, &q, &len))
		parse_cmdline(p, q, len);
}

/* ---------------------------------------------------------------------------
 * Framing
 * ------------------------------------------------------------------------- */

int fpt_perfdata_frame(struct fpt_perfdata *p, uint64_t off, size_t *size, uint64_t *skip)
{
	struct perf_event_header h;
	const uint8_t *r;
	if (p->data_end - off < sizeof h)
		return fpt_perfdata_fail(p, off, "truncated record header (%" PRIu64
					 " bytes left in the data section)", p->data_end - off);
	if (!(r = fpt_perfdata_bytes(p, off, sizeof h)))
		return -1;
	memcpy(&h, r, sizeof h);
	const char *name = fpt_perf_record_name(h.type);
	if (h.size < sizeof h)
		return fpt_perfdata_fail(p, off, "%s record (type %u): size %u is smaller "
					 "than its header", name, h.type, h.size);
	if (h.size > p->data_end - off)
		return fpt_perfdata_fail(p, off, "%s record (type %u): size %u runs past the "
					 "end of the data (%" PRIu64 " bytes left)", name,
					 h.type, h.size, p->data_end - off);
	uint64_t extra = 0;
	if (h.type == FPT_REC_AUXTRACE) {
		if (h.size < 16)
			return fpt_perfdata_fail(p, off, "AUXTRACE record: size %u too small",
						 h.size);
		if (!(r = fpt_perfdata_bytes(p, off, 16)))
			return -1;
		extra = rd64(r + 8);
	} else if (h.type == FPT_REC_HEADER_TRACING_DATA && p->pipe) {
		if (h.size < 12)
			return fpt_perfdata_fail(p, off, "HEADER_TRACING_DATA record: size %u "
						 "too small", h.size);
		if (!(r = fpt_perfdata_bytes(p, off, 12)))
			return -1;
		extra = (rd32(r + 8) + 7ull) & ~7ull;
	} else if (h.type == FPT_REC_COMPRESSED || h.type == FPT_REC_COMPRESSED2) {
		return fpt_perfdata_fail(p, off, "%s record: compressed perf.data (perf "
					 "record -z) is not supported; record without -z",
					 name);
	}
	if (extra > p->data_end - off - h.size)
		return fpt_perfdata_fail(p, off, "%s record: its %" PRIu64 "-byte payload "
					 "runs past the end of the data", name, extra);
	*size = h.size;
	*skip = h.size + extra;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Which process: one pass over the data section
 * ------------------------------------------------------------------------- */

static struct fpt_perf_pid *pid_slot(struct fpt_perfdata *p, uint32_t pid)
{
	uint32_t h = (pid * 2654435761u) % FPT_PERFDATA_PIDS;
	for (unsigned k = 0; k < FPT_PERFDATA_PIDS; k++) {
		struct fpt_perf_pid *e = &p->pids[(h + k) % FPT_PERFDATA_PIDS];
		if (e->pid == pid + 1)
			return e;
		if (e->pid == 0) {
			e->pid = pid + 1;
			return e;
		}
	}
	return NULL;   /* full: later pids are not candidates */
}

static void scan_record(struct fpt_perfdata *p, uint64_t off, size_t size)
{
	const uint8_t *r = fpt_perfdata_bytes(p, off, size);
	struct perf_event_header h;
	if (!r)
		return;
	memcpy(&h, r, sizeof h);
	struct fpt_perf_pid *e;
	uint32_t pid;

	if (h.type == PERF_RECORD_SAMPLE) {
		int ai = fpt_perfdata_attr_of(p, r, size, 1);
		struct fpt_perf_sample s;
		if (ai >= 0 && !fpt_perf_parse_sample(&p->attrs[ai].attr, r, size, &s) && s.abi &&
		    s.pid && s.pid != (uint32_t)-1 && (e = pid_slot(p, s.pid)))
			e->samples++;
	} else if (h.type == PERF_RECORD_COMM && size >= 16) {
		pid = rd32(r + 8);
		if (pid == rd32(r + 12) && (e = pid_slot(p, pid))) {
			e->comm_off = off;
			if (h.misc & PERF_RECORD_MISC_COMM_EXEC)
				e->exe_off = 0;   /* mappings before exec were another image */
		}
	} else if (h.type == PERF_RECORD_MMAP || h.type == PERF_RECORD_MMAP2) {
		struct fpt_perf_mmap m;
		if (fpt_perf_parse_mmap(r, size, &m) == 0 && m.exec && m.path[0] == '/' &&
		    (e = pid_slot(p, m.pid)) && !e->exe_off)
			e->exe_off = off;
	} else if (h.type == FPT_REC_HEADER_FEATURE && size >= 16 &&
		   rd64(r + 8) == FEAT_CMDLINE) {
		parse_cmdline(p, r + 16, size - 16);
	} else if (h.type == FPT_REC_HEADER_FEATURE && size >= 16 && rd64(r + 8) == FEAT_ARCH) {
		parse_arch(p, r + 16, size - 16);
	}
}

int fpt_perfdata_wants(const struct fpt_perfdata *p, uint32_t pid)
{
	if (!p->nwant)
		return pid == p->pid;
	for (size_t i = 0; i < p->nwant; i++)
		if (p->want[i] == pid)
			return 1;
	return 0;
}

/* A wanted pid without samples: fail, naming the most sampled pids. */
static int no_such_pid(struct fpt_perfdata *p, uint32_t pid)
{
	char list[256] = "";
	size_t len = 0;
	uint64_t below = UINT64_MAX;
	for (int k = 0; k < 4; k++) {   /* the 4 most sampled, in order */
		const struct fpt_perf_pid *top = NULL;
		for (unsigned i = 0; i < FPT_PERFDATA_PIDS; i++) {
			const struct fpt_perf_pid *e = &p->pids[i];
			if (e->pid && e->samples && e->samples < below &&
			    (!top || e->samples > top->samples))
				top = e;
		}
		if (!top)
			break;
		below = top->samples;
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%u (%" PRIu64 " samples)",
					k ? ", " : "", top->pid - 1, top->samples);
		if (len >= sizeof list)
			break;
	}
	return fpt_perfdata_fail(p, p->data_off, "--pid %u: no samples of that process (%s%s)",
				 pid, list[0] ? "the file's most sampled: " : "the file has no samples",
				 list);
}

static int choose_process(struct fpt_perfdata *p)
{
	const struct fpt_perf_pid *best = NULL;
	for (size_t i = 0; i < p->nwant; i++) {
		const struct fpt_perf_pid *e = pid_slot(p, p->want[i]);
		if (!e || !e->samples)
			return no_such_pid(p, p->want[i]);
		if (!best || e->samples > best->samples)
			best = e;
	}
	for (unsigned i = 0; !p->nwant && i < FPT_PERFDATA_PIDS; i++) {
		const struct fpt_perf_pid *e = &p->pids[i];
		if (e->pid && e->samples && (!best || e->samples > best->samples))
			best = e;
	}
	if (!best)   /* no samples: the program perf started, if any */
		for (unsigned i = 0; i < FPT_PERFDATA_PIDS; i++)
			if (p->pids[i].pid && p->pids[i].exe_off)
				best = &p->pids[i];
	if (!best)
		return 0;
	p->pid = best->pid - 1;
	const uint8_t *r;
	if (best->comm_off && (r = fpt_perfdata_bytes(p, best->comm_off, 8)) &&
	    (r = fpt_perfdata_bytes(p, best->comm_off, rec_size(r)))) {
		size_t size = rec_size(r);
		size_t n = strnlen((const char *)r + 16, size - 16);
		if (n > 16)
			n = 16;
		memcpy(p->comm, r + 16, n);
		p->comm[n] = 0;
	}
	if (best->exe_off && (r = fpt_perfdata_bytes(p, best->exe_off, 8)) &&
	    (r = fpt_perfdata_bytes(p, best->exe_off, rec_size(r)))) {
		struct fpt_perf_mmap m;
		if (fpt_perf_parse_mmap(r, rec_size(r), &m) == 0) {
			size_t n = strnlen(m.path, sizeof p->exe_path - 1);
			memcpy(p->exe_path, m.path, n);
			p->exe_path[n] = 0;
			p->exe = p->exe_path;
		}
	}
	if (!p->cmdline_len && p->comm[0]) {
		p->cmdline_len = (uint32_t)strlen(p->comm) + 1;
		memcpy(p->cmdline, p->comm, p->cmdline_len);
	}
	return 0;
}

/* Pipe mode: events are HEADER_ATTR records, read here before any sample. */
static int scan(struct fpt_perfdata *p)
{
	size_t size;
	uint64_t skip;
	for (uint64_t off = p->data_off; off < p->data_end; off += skip) {
		if (fpt_perfdata_frame(p, off, &size, &skip) != 0)
			break;   /* reported when the record loop gets there */
		const uint8_t *r = fpt_perfdata_bytes(p, off, size);
		if (!r)
			break;
		if (rec_type(r) == FPT_REC_HEADER_ATTR && p->pipe) {
			if (header_attr(p, off, size) != 0)
				return -1;
			continue;
		}
		scan_record(p, off, size);
	}
	p->failed = 0;
	p->err[0] = 0;
	if (p->nattrs == 0)
		return fpt_perfdata_fail(p, p->data_off, "no event attributes (no "
					 "HEADER_ATTR record in this pipe-mode file)");
	if (choose_process(p) != 0)
		return -1;
	if (!p->has_stacks)
		snprintf(p->note, sizeof p->note, "%.250s: the samples have no user stack dump "
			 "(recorded without --call-graph dwarf, e.g. --call-graph fp): DWARF "
			 "cannot unwind them, every sample will be dwarf-fail; record with "
			 "perf record --call-graph dwarf", p->path);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Open, next, close
 * ------------------------------------------------------------------------- */

static int read_header(struct fpt_perfdata *p)
{
	if (p->size < PIPE_HEADER_SIZE)
		return fpt_perfdata_fail(p, 0, "truncated header: %" PRIu64 " bytes (a "
					 "perf.data header has at least %d)", p->size,
					 PIPE_HEADER_SIZE);
	const uint8_t *h = fpt_perfdata_bytes(p, 0, PIPE_HEADER_SIZE);
	if (!h)
		return -1;
	if (!memcmp(h, "2ELIFREP", 8))
		return fpt_perfdata_fail(p, 0, "big-endian perf.data (from another "
					 "architecture) is not supported");
	if (!memcmp(h, "PERFFILE", 8))
		return fpt_perfdata_fail(p, 0, "perf.data version 1 (magic PERFFILE) is not "
					 "supported");
	if (memcmp(h, "PERFILE2", 8))
		return fpt_perfdata_fail(p, 0, "bad magic: not a perf.data file");
	uint64_t hsize = rd64(h + 8);
	if (hsize == PIPE_HEADER_SIZE) {
		p->pipe = 1;
		p->data_off = PIPE_HEADER_SIZE;
		p->data_end = p->size;
		return 0;
	}
	if (hsize < FILE_HEADER_SIZE)
		return fpt_perfdata_fail(p, 8, "file header: size %" PRIu64 " unknown (want %d, "
					 "or %d for pipe mode)", hsize, FILE_HEADER_SIZE,
					 PIPE_HEADER_SIZE);
	if (p->size < FILE_HEADER_SIZE || hsize > p->size)
		return fpt_perfdata_fail(p, 0, "truncated header: %" PRIu64 " bytes, the "
					 "header says %" PRIu64, p->size, hsize);
	if (!(h = fpt_perfdata_bytes(p, 0, FILE_HEADER_SIZE)))
		return -1;
	uint64_t data_off = rd64(h + 40), data_size = rd64(h + 48);
	if (!in_file(p, data_off, data_size))
		return fpt_perfdata_fail(p, 40, "file header: data section [%" PRIu64 ", +%"
					 PRIu64 ") lies outside the file (%" PRIu64 " bytes): "
					 "truncated file?", data_off, data_size, p->size);
	if (data_size == 0)
		return fpt_perfdata_fail(p, 48, "file header: the data section is empty (size "
					 "0): was perf record properly terminated?");
	if (data_off < hsize)
		return fpt_perfdata_fail(p, 40, "file header: data section at %" PRIu64
					 " overlaps the header", data_off);
	p->data_off = data_off;
	p->data_end = data_off + data_size;
	if (read_attrs(p, rd64(h + 16), rd64(h + 24), rd64(h + 32)) != 0)
		return -1;
	read_features(p, p->data_end);
	return 0;
}

static int finish_open(struct fpt_perfdata *p, char *err, size_t errlen)
{
	p->scratch = aligned_alloc(8, SCRATCH_SIZE);
	if (!p->scratch)
		fpt_perfdata_fail(p, 0, "out of memory");
	else if (read_header(p) == 0 && scan(p) == 0) {
		p->off = p->data_off;
		return 0;
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", p->err);
	return -1;
}

static void init(struct fpt_perfdata *p, const char *name)
{
	memset(p, 0, sizeof *p);
	snprintf(p->path, sizeof p->path, "%s", name ? name : "(memory)");
	p->machine = FPU_REC_MACHINE_HOST;   /* without HEADER_ARCH: this machine */
}

int fpt_perfdata_open_mem(struct fpt_perfdata *p, const void *data, size_t size,
			  const char *name, char *err, size_t errlen)
{
	init(p, name);
	p->base = data;
	p->size = size;
	return finish_open(p, err, errlen);
}

int fpt_perfdata_open(struct fpt_perfdata *p, const char *path, char *err, size_t errlen)
{
	return fpt_perfdata_open_pids(p, path, NULL, 0, err, errlen);
}

int fpt_perfdata_open_pids(struct fpt_perfdata *p, const char *path, const uint32_t *pids,
			   size_t npids, char *err, size_t errlen)
{
	char why[200];
	uint64_t bad_off;
	init(p, path);
	if (npids > FPT_PIDS_MAX)
		npids = FPT_PIDS_MAX;
	if (npids)
		memcpy(p->want, pids, npids * sizeof *pids);
	p->nwant = npids;
	/* read, not mapped: a file truncated meanwhile must not raise SIGBUS;
	 * through a window: a perf.data of gigabytes must not take as much memory */
	p->streamed = 1;
	if (fpu_stream_open(&p->stream, path, FPU_READER_WINDOW, &bad_off, why,
			    sizeof why) != 0) {
		fpt_perfdata_fail(p, bad_off, "%s", why);
		if (err && errlen)
			snprintf(err, errlen, "%s", p->err);
		return -1;
	}
	p->size = p->stream.size;
	return finish_open(p, err, errlen);
}

int fpt_perfdata_rewind(struct fpt_perfdata *p)
{
	if (p->failed)
		return -1;
	/* what fpt_perfdata_next changes; the open's findings stay */
	p->state = 0;
	p->off = p->data_off;
	p->records = p->samples = p->foreign = p->no_regs = p->no_stack = 0;
	p->lost = p->mappings = 0;
	return 0;
}

const char *fpt_perfdata_error(const struct fpt_perfdata *p)
{
	return p->err;
}

void fpt_perfdata_close(struct fpt_perfdata *p)
{
	if (p->streamed) {
		for (unsigned i = 0; i < p->nattrs; i++)
			free((void *)p->attrs[i].ids);
		fpu_stream_close(&p->stream);
	}
	free(p->scratch);
	p->scratch = NULL;
	p->base = NULL;
	p->streamed = 0;
	p->nattrs = 0;
}
