/*
 * perfdata_records.c — the record loop of the perf.data reader, and its
 * records turned into .fpt records: PROCESS first, then SAMPLE (parsed by its
 * event's sample_type with the parser the live sampler uses too, the FP chain
 * walked inside the user-stack dump when the kernel gave none), MMAP and
 * MMAP2, COMM, LOST and LOST_SAMPLES, and END.
 */
#include "perfdata_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* How far above sp a frame pointer may plausibly lie on the same stack. */
#define SNAPSHOT_STACK_MAX (64ull << 20)

/* ---------------------------------------------------------------------------
 * Samples
 * ------------------------------------------------------------------------- */

/* The FP chain: the kernel's user callchain if it has more than the ip, else
 * a checked walk inside the dump from rip/rsp/rbp. */
static void fp_chain(struct fpt_perfdata *p, const struct perf_event_attr *a,
		     const struct fpt_perf_sample *ps, const uint8_t *dump, struct fpu_sample *s)
{
	uint32_t n = fpt_perf_callchain_user(ps->ips, ps->nr, p->pcs, FPT_PERFDATA_MAX_PCS);
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

static int on_sample(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		     struct fpu_record *rec)
{
	int ai = fpt_perfdata_attr_of(p, r, size, 1);
	if (ai < 0)
		return fpt_perfdata_fail(p, off, "SAMPLE record: its sample id names no event "
					 "of the file");
	const struct perf_event_attr *a = &p->attrs[ai].attr;
	struct fpt_perf_sample ps;
	const char *field = fpt_perf_parse_sample(a, r, size, &ps);
	if (field)
		return fpt_perfdata_fail(p, off, "SAMPLE record: size %zu is too short for its "
					 "sample_type %#" PRIx64 " (field %s)", size,
					 (uint64_t)a->sample_type, field);
	if (!fpt_perfdata_wants(p, ps.pid)) {
		p->foreign++;
		return 0;
	}
	if (!ps.abi && !fpt_perf_callchain_user(ps.ips, ps.nr, NULL, 0)) {
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
		fpt_perf_regs_to_dwarf(p->machine, a->sample_regs_user, regs, s->regs);
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
	struct fpt_perf_sample_id id;
	if (ai < 0 || fpt_perf_parse_sample_id(&p->attrs[ai].attr, r, size, &id) != 0)
		return 0;
	return id.time;
}

static int on_mmap(struct fpt_perfdata *p, uint64_t off, const uint8_t *r, size_t size,
		   struct fpu_record *rec)
{
	struct fpt_perf_mmap m;
	if (fpt_perf_parse_mmap(r, size, &m) != 0)
		return fpt_perfdata_fail(p, off, "%s record: size %zu is too short, or its file "
					 "name is not terminated",
					 r[0] == PERF_RECORD_MMAP ? "MMAP" : "MMAP2", size);
	if (!fpt_perfdata_wants(p, m.pid) || !m.exec || m.path[0] != '/' || m.len == 0 ||
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
	if (!fpt_perfdata_wants(p, pid))
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

static int convert(struct fpt_perfdata *p, uint64_t off, size_t size,
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

/* ---------------------------------------------------------------------------
 * The record loop
 * ------------------------------------------------------------------------- */

static void process_record(struct fpt_perfdata *p, struct fpu_record *rec)
{
	const struct perf_event_attr *a = &p->attrs[0].attr;
	for (unsigned i = 0; i < p->nattrs; i++)
		if (p->attrs[i].attr.sample_type & PERF_SAMPLE_STACK_USER) {
			a = &p->attrs[i].attr;
			break;
		}
	memset(rec, 0, sizeof *rec);
	rec->type = FPU_REC_PROCESS;
	rec->offset = 0;
	struct fpu_rec_process *pr = &rec->u.process;
	pr->pid = p->pid;
	pr->sample_hz = a->freq ? (uint32_t)a->sample_freq : 0;
	pr->snapshot_max = a->sample_stack_user;
	pr->exe = p->exe ? p->exe : p->comm;
	pr->exe_len = (uint32_t)strnlen(pr->exe, FPU_REC_MAX_PATH);
	pr->cmdline = p->cmdline;
	pr->cmdline_len = p->cmdline_len;
}

int fpt_perfdata_next(struct fpt_perfdata *p, struct fpu_record *rec)
{
	if (p->failed)
		return -1;
	if (p->state == 0) {
		p->state = 1;
		process_record(p, rec);
		return 1;
	}
	while (p->state == 1) {
		if (p->off >= p->data_end) {
			p->state = 2;
			memset(rec, 0, sizeof *rec);
			rec->type = FPU_REC_END;
			rec->offset = p->data_end;
			rec->u.end = (struct fpu_rec_end){ .how = FPU_END_HOW_UNKNOWN,
							   .samples = p->samples,
							   .drops = p->lost };
			return 1;
		}
		size_t size;
		uint64_t skip, off = p->off;
		if (fpt_perfdata_frame(p, off, &size, &skip) != 0)
			return -1;
		p->off += skip;
		p->records++;
		const uint8_t *r = fpt_perfdata_bytes(p, off, sizeof(struct perf_event_header));
		if (!r)
			return -1;
		struct perf_event_header h;
		memcpy(&h, r, sizeof h);
		if (h.type == FPT_REC_HEADER_ATTR)
			continue;   /* pipe mode: read by the scan at open */
		int rc = convert(p, off, size, rec);
		if (rc != 0)
			return rc;
	}
	return p->failed ? -1 : 0;
}
