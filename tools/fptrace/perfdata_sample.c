/*
 * perfdata_sample.c — perf.data records to .fpt records: SAMPLE (parsed by its
 * event's sample_type, the FP chain walked inside the user-stack dump), MMAP and
 * MMAP2, COMM, LOST and LOST_SAMPLES.  The register mapping is the recorder's
 * (perf_ring.c: fpt_perf_regs_to_dwarf); the sample parser is general here
 * because perf record's sample_type is not the recorder's fixed one (it has
 * ADDR, DATA_SRC, IDENTIFIER, READ, ... depending on the options).
 */
#include "perfdata.h"
#include "perf_ring.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* How far above sp a frame pointer may plausibly lie on the same stack. */
#define SNAPSHOT_STACK_MAX (64ull << 20)

#ifndef PERF_FORMAT_LOST
#define PERF_FORMAT_LOST (1u << 4)
#endif

/* ---------------------------------------------------------------------------
 * MMAP, MMAP2
 * ------------------------------------------------------------------------- */

int fpt_perfdata_parse_mmap(const uint8_t *rec, size_t size, struct fpt_perf_mmap *m)
{
	struct perf_event_header h;
	memcpy(&h, rec, sizeof h);
	struct fpt_pcur c = { rec + sizeof h, rec + size, 0 };
	memset(m, 0, sizeof *m);
	uint64_t pt = fpt_pcur_u64(&c);
	m->pid = (uint32_t)pt;
	m->tid = (uint32_t)(pt >> 32);
	m->addr = fpt_pcur_u64(&c);
	m->len = fpt_pcur_u64(&c);
	m->pgoff = fpt_pcur_u64(&c);
	if (h.type == PERF_RECORD_MMAP2) {
		const uint8_t *ids = fpt_pcur_take(&c, 24);
		uint64_t pf = fpt_pcur_u64(&c);
		m->prot = (uint32_t)pf & (PROT_READ | PROT_WRITE | PROT_EXEC);
		m->exec = (pf & PROT_EXEC) != 0;
		if (ids && (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID)) {
			m->build_id_len = ids[0] <= 20 ? ids[0] : 20;
			m->build_id = ids + 4;
		}
	} else {
		m->exec = !(h.misc & PERF_RECORD_MISC_MMAP_DATA);
		m->prot = PROT_READ | (m->exec ? PROT_EXEC : 0);
	}
	if (c.bad || c.p >= c.end)
		return -1;
	m->path = (const char *)c.p;
	m->path_len = strnlen(m->path, (size_t)(c.end - c.p));
	return m->path_len < (size_t)(c.end - c.p) ? 0 : -1;
}

/* ---------------------------------------------------------------------------
 * Samples
 * ------------------------------------------------------------------------- */

struct psample {
	uint32_t pid, tid;
	uint64_t time, period;
	uint64_t nr;                 /* callchain */
	const uint8_t *ips;
	uint64_t abi;                /* 0: no user registers */
	const uint8_t *regs;
	unsigned nregs;
	uint64_t dump_size;          /* bytes asked for (the stack goes on above ... */
	uint64_t dyn_size;           /* ... when all were copied); 0: no stack dump */
	const uint8_t *dump;
};

/* Skip PERF_SAMPLE_READ's values. */
static void skip_read(struct fpt_pcur *c, uint64_t rf)
{
	uint64_t per = 8 * (1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST));
	uint64_t times = 8 * (!!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
			      !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING));
	if (rf & PERF_FORMAT_GROUP) {
		uint64_t nr = fpt_pcur_u64(c);
		fpt_pcur_take(c, times);
		if (nr > (uint64_t)(c->end - c->p) / per)
			c->bad = 1;
		else
			fpt_pcur_take(c, nr * per);
	} else {
		fpt_pcur_take(c, per + times);
	}
}

/*
 * Parse a sample of event a up to its user stack (what follows is not
 * needed).  NULL, or the field that does not fit.
 */
static const char *parse_sample(const struct perf_event_attr *a, const uint8_t *rec,
				size_t size, struct psample *s)
{
	struct fpt_pcur c = { rec + sizeof(struct perf_event_header), rec + size, 0 };
	uint64_t st = a->sample_type, v;
	memset(s, 0, sizeof *s);

#define FIELD(bit, name, stmt)                 \
	if (st & (bit)) {                      \
		stmt;                          \
		if (c.bad)                     \
			return name;           \
	}
	FIELD(PERF_SAMPLE_IDENTIFIER, "IDENTIFIER", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_IP, "IP", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_TID, "TID", v = fpt_pcur_u64(&c); s->pid = (uint32_t)v;
	      s->tid = (uint32_t)(v >> 32));
	FIELD(PERF_SAMPLE_TIME, "TIME", s->time = fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_ADDR, "ADDR", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_ID, "ID", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_STREAM_ID, "STREAM_ID", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_CPU, "CPU", fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_PERIOD, "PERIOD", s->period = fpt_pcur_u64(&c));
	FIELD(PERF_SAMPLE_READ, "READ", skip_read(&c, a->read_format));
	FIELD(PERF_SAMPLE_CALLCHAIN, "CALLCHAIN", s->nr = fpt_pcur_u64(&c);
	      if (s->nr > (uint64_t)(c.end - c.p) / 8) c.bad = 1;
	      else s->ips = fpt_pcur_take(&c, s->nr * 8));
	if (st & PERF_SAMPLE_RAW) {
		const uint8_t *l = fpt_pcur_take(&c, 4);
		uint32_t len = 0;
		if (l)
			memcpy(&len, l, 4);
		fpt_pcur_take(&c, len);
		if (c.bad)
			return "RAW";
	}
	FIELD(PERF_SAMPLE_BRANCH_STACK, "BRANCH_STACK", v = fpt_pcur_u64(&c);
	      if (a->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) fpt_pcur_u64(&c);
	      if (v > (uint64_t)(c.end - c.p) / 24) c.bad = 1;
	      else fpt_pcur_take(&c, v * 24));
	FIELD(PERF_SAMPLE_REGS_USER, "REGS_USER", s->abi = fpt_pcur_u64(&c);
	      s->nregs = s->abi ? (unsigned)__builtin_popcountll(a->sample_regs_user) : 0;
	      s->regs = fpt_pcur_take(&c, 8ull * s->nregs));
	FIELD(PERF_SAMPLE_STACK_USER, "STACK_USER", v = fpt_pcur_u64(&c);
	      s->dump_size = v;
	      if (v) { s->dump = fpt_pcur_take(&c, v); s->dyn_size = fpt_pcur_u64(&c); }
	      if (s->dyn_size > v) s->dyn_size = v);
#undef FIELD
	return NULL;
}

int fpt_perfdata_sample_pid(struct fpt_perfdata *p, const uint8_t *rec, size_t size,
			    uint32_t *pid)
{
	int ai = fpt_perfdata_attr_of(p, rec, size, 1);
	struct psample s;
	if (ai < 0 || parse_sample(&p->attrs[ai].attr, rec, size, &s) || !s.abi)
		return -1;
	*pid = s.pid;
	return 0;
}

/* The FP chain: the kernel's user callchain if it has more than the ip, else
 * a checked walk inside the dump from rip/rsp/rbp. */
static void fp_chain(struct fpt_perfdata *p, const struct perf_event_attr *a,
		     const struct psample *ps, const uint8_t *dump, struct fpu_sample *s)
{
	uint32_t n = 0;
	uint64_t ctx = PERF_CONTEXT_USER;
	int from_kernel = !(a->sample_type & PERF_SAMPLE_CALLCHAIN) ? 0 : 1;
	for (uint64_t i = 0; from_kernel && i < ps->nr && n < FPT_PERFDATA_MAX_PCS; i++) {
		uint64_t ip;
		memcpy(&ip, ps->ips + 8 * i, 8);
		if (ip >= (uint64_t)PERF_CONTEXT_MAX)
			ctx = ip;
		else if (ctx == PERF_CONTEXT_USER)
			p->pcs[n++] = ip;
	}
	if (n > 1 || !dump) {
		if (n == 0)
			p->pcs[n++] = s->regs[FPU_REG_RIP];
		unsigned max = a->sample_max_stack ? a->sample_max_stack : 127;
		s->nfp = n;
		s->fp_end = n >= max || n >= FPT_PERFDATA_MAX_PCS ? FPU_END_DEPTH : FPU_END_CLEAN;
		s->fp_end_pc = p->pcs[n - 1];
		s->fp_pcs = p->pcs;
		return;
	}
	struct fpu_region r = { .lo = s->seg[0].lo, .hi = s->seg[0].lo + s->seg[0].len,
				.owner = s->tid, .kind = FPU_REGION_THREAD, .data = dump };
	struct fpu_ctx c = { .fixed = &r, .nfixed = 1 };
	struct fpu_walk_result res;
	size_t got = fpu_walk_from(&c, s->regs[FPU_REG_RIP], s->regs[FPU_REG_RSP],
				   s->regs[FPU_REG_RBP], p->pcs, FPT_PERFDATA_MAX_PCS, &res);
	s->nfp = (uint32_t)got;
	s->fp_end = res.end;
	/*
	 * The chain ran off the top of a dump that was cut at the size perf asked
	 * for (the stack goes on above it): the snapshot ended, not the chain.
	 * Like a full pcs buffer, that says nothing about the chain: DEPTH.
	 */
	if ((res.end == FPU_END_OUT_OF_BOUNDS || res.end == FPU_END_REGION_TOP) &&
	    ps->dyn_size == ps->dump_size && !(res.fp & 7) &&
	    res.fp + FPU_FRAME_RECORD > r.hi && res.fp - r.lo < SNAPSHOT_STACK_MAX)
		s->fp_end = FPU_END_DEPTH;
	s->fp_end_fp = res.fp;
	s->fp_end_pc = res.pc;
	s->fp_end_from = res.from.kind;
	s->fp_end_to = res.to.kind;
	s->fp_crossings = res.crossings;
	s->fp_pcs = p->pcs;
}

/* How many user frames the kernel's callchain holds. */
static uint64_t user_ips(const struct psample *ps)
{
	uint64_t n = 0, ctx = PERF_CONTEXT_USER;
	for (uint64_t i = 0; i < ps->nr; i++) {
		uint64_t ip;
		memcpy(&ip, ps->ips + 8 * i, 8);
		if (ip >= (uint64_t)PERF_CONTEXT_MAX)
			ctx = ip;
		else
			n += ctx == PERF_CONTEXT_USER;
	}
	return n;
}

static int on_sample(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		     struct fpu_record *rec)
{
	int ai = fpt_perfdata_attr_of(p, r, size, 1);
	if (ai < 0)
		return fpt_perfdata_fail(p, off, "SAMPLE record: its sample id names no event "
					 "of the file");
	const struct perf_event_attr *a = &p->attrs[ai].attr;
	struct psample ps;
	const char *field = parse_sample(a, r, size, &ps);
	if (field)
		return fpt_perfdata_fail(p, off, "SAMPLE record: size %zu is too short for its "
					 "sample_type %#" PRIx64 " (field %s)", size,
					 (uint64_t)a->sample_type, field);
	if (ps.pid != p->pid) {
		p->foreign++;
		return 0;
	}
	if (!ps.abi && !user_ips(&ps)) {
		p->no_regs++;   /* a kernel thread, or an event without REGS_USER */
		return 0;
	}
	memset(rec, 0, sizeof *rec);
	rec->type = FPU_REC_SAMPLE;
	rec->offset = off;
	rec->len = (uint32_t)size;
	struct fpu_sample *s = &rec->u.sample;
	s->kind = FPU_SAMPLE_CPU;
	s->tid = ps.tid;
	s->time_ns = ps.time;
	s->weight = ps.period;
	s->g_status = FPU_G_NONE;
	s->sp_kind = FPU_REGION_THREAD;
	if (ps.abi) {
		uint64_t regs[64];
		memcpy(regs, ps.regs, 8ull * ps.nregs);
		fpt_perf_regs_to_dwarf(a->sample_regs_user, regs, s->regs);
	}
	const uint8_t *dump = NULL;
	uint64_t sp = s->regs[FPU_REG_RSP];
	if (ps.abi && ps.dyn_size && sp + ps.dyn_size > sp) {
		dump = ps.dump;
		if ((uintptr_t)dump & 7) {   /* the walker loads words in place */
			memcpy(p->scratch, dump, ps.dyn_size);
			dump = p->scratch;
		}
		s->nseg = 1;
		s->seg[0] = (struct fpu_segment){ .lo = sp, .len = (uint32_t)ps.dyn_size,
						  .kind = FPU_REGION_THREAD, .owner = ps.tid,
						  .region_hi = 0, .data = dump };
	} else {
		p->no_stack++;
	}
	fp_chain(p, a, &ps, dump, s);
	if (!ps.abi)
		s->regs[FPU_REG_RIP] = s->fp_pcs[0];
	p->samples++;
	return 1;
}

/* ---------------------------------------------------------------------------
 * The other records
 * ------------------------------------------------------------------------- */

/* TIME of a non-sample record's sample_id trailer, or 0. */
static uint64_t trailer_time(struct fpt_perfdata *p, const uint8_t *r, size_t size)
{
	int ai = fpt_perfdata_attr_of(p, r, size, 0);
	if (ai < 0)
		return 0;
	const struct perf_event_attr *a = &p->attrs[ai].attr;
	uint64_t st = a->sample_type;
	if (!a->sample_id_all || !(st & PERF_SAMPLE_TIME))
		return 0;
	uint64_t after = 8 * (!!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID) +
			      !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_IDENTIFIER));
	if (size < sizeof(struct perf_event_header) + after + 8)
		return 0;
	uint64_t t;
	memcpy(&t, r + size - after - 8, 8);
	return t;
}

static int on_mmap(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		   struct fpu_record *rec)
{
	struct fpt_perf_mmap m;
	if (fpt_perfdata_parse_mmap(r, size, &m) != 0)
		return fpt_perfdata_fail(p, off, "%s record: size %zu is too short, or its file "
					 "name is not terminated",
					 r[0] == PERF_RECORD_MMAP ? "MMAP" : "MMAP2", size);
	if (m.pid != p->pid || !m.exec || m.path[0] != '/' || m.len == 0 ||
	    m.addr + m.len < m.addr || m.path_len > FPU_REC_MAX_PATH)
		return 0;   /* [vdso], anonymous code: no file to read CFI from */
	memset(rec, 0, sizeof *rec);
	rec->type = FPU_REC_MAPPING;
	rec->offset = off;
	rec->len = (uint32_t)size;
	rec->u.mapping = (struct fpu_rec_mapping){
		.start = m.addr, .end = m.addr + m.len, .offset = m.pgoff, .prot = m.prot,
		.build_id_len = m.build_id_len, .build_id = m.build_id,
		.path_len = (uint32_t)m.path_len, .path = m.path };
	p->mappings++;
	return 1;
}

static int on_comm(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		   struct fpu_record *rec)
{
	if (size < 16 + 1)
		return fpt_perfdata_fail(p, off, "COMM record: size %zu is too short", size);
	uint32_t pid, tid;
	memcpy(&pid, r + 8, 4);
	memcpy(&tid, r + 12, 4);
	if (pid != p->pid)
		return 0;
	const char *name = (const char *)r + 16;
	size_t len = strnlen(name, size - 16);
	memset(rec, 0, sizeof *rec);
	rec->type = FPU_REC_THREAD;
	rec->offset = off;
	rec->len = (uint32_t)size;
	rec->u.thread = (struct fpu_rec_thread){
		.tid = tid, .name_len = (uint32_t)(len < 16 ? len : 16), .name = name,
		.time_ns = trailer_time(p, r, size) };
	return 1;
}

static int on_lost(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		   uint32_t type, struct fpu_record *rec)
{
	size_t at = type == PERF_RECORD_LOST ? 16 : 8;   /* LOST: {id, lost} */
	if (size < at + 8)
		return fpt_perfdata_fail(p, off, "%s record: size %zu is too short",
					 fpt_perf_record_name(type), size);
	uint64_t lost;
	memcpy(&lost, r + at, 8);
	p->lost += lost;
	memset(rec, 0, sizeof *rec);
	rec->type = FPU_REC_DROPS;
	rec->offset = off;
	rec->len = (uint32_t)size;
	rec->u.drops = (struct fpu_rec_drops){ .dropped = lost,
					       .time_ns = trailer_time(p, r, size) };
	return 1;
}

int fpt_perfdata_convert(struct fpt_perfdata *p, uint64_t off, size_t size,
			 struct fpu_record *rec)
{
	const uint8_t *r = fpt_perfdata_bytes(p, off, size);
	struct perf_event_header h;
	if (!r)
		return -1;
	memcpy(&h, r, sizeof h);
	switch (h.type) {
	case PERF_RECORD_SAMPLE:
		return on_sample(p, off, r, size, rec);
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2:
		return on_mmap(p, off, r, size, rec);
	case PERF_RECORD_COMM:
		return on_comm(p, off, r, size, rec);
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		return on_lost(p, off, r, size, h.type, rec);
	default:
		return 0;   /* EXIT, FORK, THROTTLE, FINISHED_ROUND, ID_INDEX, ... */
	}
}
