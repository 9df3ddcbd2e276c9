/*
 * perf_ring.c — the live decoder: perf records (SAMPLE, MMAP2, COMM, FORK,
 * LOST), given in time order by perf_order.c, converted to .fpt records.
 */
#include "perf_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Decoder state
 * ------------------------------------------------------------------------- */

#define RECORD_MAX 65536   /* header.size is a u16 */

int fpt_decoder_init(struct fpt_decoder *d, struct fpu_writer *w,
		     const struct perf_event_attr *attr, uint32_t main_pid)
{
	memset(d, 0, sizeof *d);
	d->w = w;
	d->attr = *attr;
	d->max_stack = attr->sample_max_stack;
	d->main_pid = main_pid;
	d->copy = aligned_alloc(8, RECORD_MAX);
	d->pcs = malloc((d->max_stack + 2) * sizeof *d->pcs);
	d->pids = malloc(16 * sizeof *d->pids);
	if (!d->copy || !d->pcs || !d->pids) {
		fpt_decoder_free(d);
		errno = ENOMEM;
		return -1;
	}
	d->cap_pids = 16;
	d->pids[d->npids++] = main_pid;
	return 0;
}

void fpt_decoder_free(struct fpt_decoder *d)
{
	free(d->copy);
	free(d->pcs);
	free(d->pids);
	free(d->names);
	free(d->ranges);
	fpt_stack_reach_free(&d->stack_reach);
	for (size_t i = 0; i < d->nqueue; i++)
		free(d->queue[i].rec);
	free(d->queue);
	d->queue = NULL;
	d->nqueue = 0;
	for (size_t i = 0; i < d->nexecs; i++)
		fpt_exec_stream_free(d->execs[i]);
	d->nexecs = 0;
	d->copy = NULL;
	d->pcs = NULL;
	d->pids = NULL;
	d->names = NULL;
	d->ranges = NULL;
}

void fpt_decoder_put(struct fpt_decoder *d, const struct fpu_record *rec)
{
	if (d->write_failed)
		return;
	if (fpu_writer_put(d->w, rec) != 0)
		d->write_failed = errno ? errno : EIO;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

static int pid_in_image(const struct fpt_decoder *d, uint32_t pid)
{
	for (size_t i = 0; i < d->npids; i++)
		if (d->pids[i] == pid)
			return 1;
	return 0;
}

static void pid_add(struct fpt_decoder *d, uint32_t pid)
{
	if (pid_in_image(d, pid) ||
	    grow((void **)&d->pids, &d->cap_pids, d->npids, sizeof *d->pids) != 0)
		return;
	d->pids[d->npids++] = pid;
}

static void pid_remove(struct fpt_decoder *d, uint32_t pid)
{
	for (size_t i = 0; i < d->npids; i++)
		if (d->pids[i] == pid) {
			d->pids[i] = d->pids[--d->npids];
			return;
		}
}

/* Where pid's records go: 1 the started program's file (*es NULL), 2 an
 * exec'd program's stream (*es), 0 nowhere (foreign). */
static int route(const struct fpt_decoder *d, uint32_t pid, struct fpt_exec_stream **es)
{
	*es = NULL;
	if (pid_in_image(d, pid))
		return 1;
	for (size_t i = 0; i < d->nexecs; i++)
		if (fpt_exec_stream_has(d->execs[i], pid)) {
			*es = d->execs[i];
			return 2;
		}
	return 0;
}

void fpt_decoder_put_to(struct fpt_decoder *d, struct fpt_exec_stream *es,
			const struct fpu_record *rec)
{
	if (es)
		fpt_exec_stream_put(es, rec);
	else
		fpt_decoder_put(d, rec);
}

/* pid exec'd another program: it leaves its stream for a new one of its own. */
static void on_exec(struct fpt_decoder *d, uint32_t pid)
{
	struct fpt_exec_stream *es;
	int where = route(d, pid, &es);
	fpt_stack_forget(&d->stack_reach, pid);   /* a new program, a new stack */
	if (pid == d->main_pid || (es && es->pid == pid))
		return;   /* the stream's own process: it goes on in its stream */
	if (where == 1)
		pid_remove(d, pid);
	else if (where == 2)
		fpt_exec_stream_remove(es, pid);
	if (!d->follow_exec || d->nexecs == FPT_EXEC_STREAMS_MAX)
		return;   /* not followed: foreign from now on */
	es = fpt_exec_stream_new(pid, d->tmpdir);
	if (es)
		d->execs[d->nexecs++] = es;
}

static struct fpt_tid_name *name_find(struct fpt_decoder *d, uint32_t tid)
{
	for (size_t i = 0; i < d->nnames; i++)
		if (d->names[i].tid == tid)
			return &d->names[i];
	return NULL;
}

static void name_set(struct fpt_decoder *d, uint32_t pid, uint32_t tid, const char *name,
		     size_t len)
{
	struct fpt_tid_name *n = name_find(d, tid);
	if (!n) {
		if (grow((void **)&d->names, &d->cap_names, d->nnames, sizeof *d->names))
			return;
		n = &d->names[d->nnames++];
	}
	n->pid = pid;
	n->tid = tid;
	if (len > sizeof n->name - 1)
		len = sizeof n->name - 1;
	memcpy(n->name, name, len);
	n->name[len] = 0;
}

int fpt_decoder_has_range(const struct fpt_decoder *d, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < d->nranges; i++)
		if (d->ranges[i].start < end && start < d->ranges[i].end)
			return 1;
	return 0;
}

void fpt_decoder_add_range(struct fpt_decoder *d, uint64_t start, uint64_t end)
{
	if (grow((void **)&d->ranges, &d->cap_ranges, d->nranges, sizeof *d->ranges) == 0)
		d->ranges[d->nranges++] = (struct fpt_range){ start, end };
}

/* ---------------------------------------------------------------------------
 * Record conversion
 * ------------------------------------------------------------------------- */

static struct fpt_perf_sample_id trailer(const struct fpt_decoder *d, const uint8_t *rec,
					 size_t size)
{
	struct fpt_perf_sample_id s;
	fpt_perf_parse_sample_id(&d->attr, rec, size, &s);
	return s;
}

static void on_sample(struct fpt_decoder *d, const uint8_t *rec, size_t size)
{
	struct fpt_perf_sample ps;
	if (fpt_perf_parse_sample(&d->attr, rec, size, &ps) != NULL || !ps.abi) {
		d->skipped++;   /* cut short, or no user registers (a kernel thread) */
		return;
	}
	struct fpt_exec_stream *es;
	if (!route(d, ps.pid, &es)) {
		d->foreign++;
		return;
	}
	struct fpu_record out;
	memset(&out, 0, sizeof out);
	out.type = FPU_REC_SAMPLE;
	struct fpu_sample *s = &out.u.sample;
	uint64_t perf_regs[64];
	memcpy(perf_regs, ps.regs, 8ull * ps.nregs);
	fpt_perf_regs_to_dwarf(FPU_REC_MACHINE_HOST, d->attr.sample_regs_user, perf_regs, s->regs);

	uint32_t n = fpt_perf_callchain_user(ps.ips, ps.nr, d->pcs, d->max_stack + 1);
	if (n == 0)                              /* keep pcs[0] = rip */
		d->pcs[n++] = s->regs[FPU_REG_RIP];

	s->kind = FPU_SAMPLE_CPU;
	s->tid = ps.tid;
	s->time_ns = ps.time;
	s->weight = ps.period;                  /* cpu-clock: ns */
	s->g_status = FPU_G_NONE;
	s->sp_kind = FPU_REGION_THREAD;
	s->nfp = n;
	s->fp_pcs = d->pcs;
	s->fp_end = n >= d->max_stack ? FPU_END_DEPTH : FPU_END_CLEAN;
	s->fp_end_pc = d->pcs[n - 1];
	if (ps.dyn_size && s->regs[FPU_REG_RSP] + ps.dyn_size > s->regs[FPU_REG_RSP]) {
		s->nseg = 1;
		s->seg[0] = (struct fpu_segment){
			.lo = s->regs[FPU_REG_RSP],
			.len = fpt_stack_keep(&d->stack_reach, ps.pid, s->regs[FPU_REG_RSP],
					      ps.dump, (uint32_t)ps.dyn_size),
			.kind = FPU_REGION_THREAD, .owner = ps.tid, .region_hi = 0,
			.data = ps.dump };
	}
	if (es) {
		fpt_exec_stream_put(es, &out);
		return;
	}
	fpt_decoder_put(d, &out);
	if (!d->write_failed) {
		if (!d->samples)
			d->first_time = s->time_ns;
		d->last_time = s->time_ns;
		d->samples++;
	}
}

static void on_mmap2(struct fpt_decoder *d, const uint8_t *rec, size_t size)
{
	struct fpt_perf_mmap m;
	struct fpt_exec_stream *es;
	if (fpt_perf_parse_mmap(rec, size, &m) != 0 || !route(d, m.pid, &es) ||
	    m.path[0] != '/' || !m.exec || m.len == 0 || m.path_len > FPU_REC_MAX_PATH)
		return;   /* [vdso], anonymous code: no file to read CFI from */

	struct fpu_record out;
	memset(&out, 0, sizeof out);
	out.type = FPU_REC_MAPPING;
	out.u.mapping = (struct fpu_rec_mapping){
		.start = m.addr, .end = m.addr + m.len, .offset = m.pgoff, .prot = m.prot,
		.build_id_len = m.build_id_len, .build_id = m.build_id,
		.path_len = (uint32_t)m.path_len, .path = m.path };
	if (es) {
		fpt_exec_stream_put(es, &out);
		return;
	}
	fpt_decoder_put(d, &out);
	fpt_decoder_add_range(d, m.addr, m.addr + m.len);
	d->mappings++;
}

static void put_thread(struct fpt_decoder *d, struct fpt_exec_stream *es, uint32_t tid,
		       const char *name, uint64_t t)
{
	struct fpu_record out;
	memset(&out, 0, sizeof out);
	out.type = FPU_REC_THREAD;
	out.u.thread.tid = tid;
	out.u.thread.name = name;
	out.u.thread.name_len = (uint32_t)strnlen(name, 16);
	out.u.thread.time_ns = t;
	fpt_decoder_put_to(d, es, &out);
}

/* Two u32s of a record (pid, tid; pid, ppid; ...). */
static void get32x2(struct fpt_pcur *c, uint32_t *a, uint32_t *b)
{
	uint64_t v = fpt_pcur_u64(c);
	*a = (uint32_t)v;
	*b = (uint32_t)(v >> 32);
}

static void on_comm(struct fpt_decoder *d, const uint8_t *rec, size_t size, uint16_t misc)
{
	struct fpt_pcur c = { rec + sizeof(struct perf_event_header), rec + size, 0 };
	uint32_t pid, tid;
	get32x2(&c, &pid, &tid);
	if (c.bad || c.p >= c.end)
		return;
	const char *name = (const char *)c.p;
	size_t len = strnlen(name, (size_t)(c.end - c.p));
	if (misc & PERF_RECORD_MISC_COMM_EXEC)
		on_exec(d, pid);         /* it now runs another program */
	struct fpt_exec_stream *es;
	if (!route(d, pid, &es))
		return;
	name_set(d, pid, tid, name, len);
	put_thread(d, es, tid, name_find(d, tid)->name, trailer(d, rec, size).time);
}

static void on_fork(struct fpt_decoder *d, const uint8_t *rec, size_t size)
{
	struct fpt_pcur c = { rec + sizeof(struct perf_event_header), rec + size, 0 };
	uint32_t pid, ppid, tid, ptid;
	get32x2(&c, &pid, &ppid);
	get32x2(&c, &tid, &ptid);
	uint64_t t = fpt_pcur_u64(&c);
	struct fpt_exec_stream *es;
	if (c.bad || !route(d, ppid, &es))
		return;
	/* a new thread (pid == ppid) or a fork: it runs the same program */
	if (es)
		fpt_exec_stream_add(es, pid);
	else
		pid_add(d, pid);
	struct fpt_tid_name *parent = name_find(d, ptid);
	char name[16] = "";
	if (parent)
		memcpy(name, parent->name, sizeof name);
	name_set(d, pid, tid, name, strlen(name));
	put_thread(d, es, tid, name, t);
}

static void on_lost(struct fpt_decoder *d, const uint8_t *rec, size_t size, uint64_t lost)
{
	struct fpt_perf_sample_id s = trailer(d, rec, size);
	struct fpu_record out;
	memset(&out, 0, sizeof out);
	out.type = FPU_REC_DROPS;
	out.u.drops.tid = s.tid;
	out.u.drops.dropped = lost;
	out.u.drops.time_ns = s.time;
	fpt_decoder_put(d, &out);
	d->lost += lost;
}

void fpt_decoder_record(struct fpt_decoder *d, const uint8_t *rec, size_t size)
{
	struct perf_event_header h;
	memcpy(&h, rec, sizeof h);
	struct fpt_pcur c = { rec + sizeof h, rec + size, 0 };
	switch (h.type) {
	case PERF_RECORD_SAMPLE:
		on_sample(d, rec, size);
		break;
	case PERF_RECORD_MMAP2:
		on_mmap2(d, rec, size);
		break;
	case PERF_RECORD_COMM:
		on_comm(d, rec, size, h.misc);
		break;
	case PERF_RECORD_FORK:
		on_fork(d, rec, size);
		break;
	case PERF_RECORD_LOST: {
		(void)fpt_pcur_u64(&c);          /* id */
		uint64_t lost = fpt_pcur_u64(&c);
		if (!c.bad)
			on_lost(d, rec, size, lost);
		break;
	}
	case PERF_RECORD_LOST_SAMPLES: {
		uint64_t lost = fpt_pcur_u64(&c);
		if (!c.bad)
			on_lost(d, rec, size, lost);
		break;
	}
	default:
		break;   /* EXIT, THROTTLE, ... */
	}
}
