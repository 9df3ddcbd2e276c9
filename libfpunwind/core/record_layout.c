/*
 * record_layout.c — the byte layout of every .fpt record, as tables (see
 * record_int.h), and the checks both the encoders and the reader apply.
 * docs/FORMAT.md documents the same offsets; the round-trip tests pin them.
 */
#include "record_int.h"

#define ANY FPU_WIRE_ANY
#define KINDS (FPU_REGION_KIND_COUNT - 1)

/* ---- PROCESS ------------------------------------------------------------ */
#define P struct fpu_rec_process
static const struct fpu_wire_field process_f[] = {
	FPU_WIRE_FIELD(P, 0, pid, 0, ANY),
	FPU_WIRE_FIELD(P, 4, sample_hz, 0, ANY),
	FPU_WIRE_FIELD(P, 8, wall_hz, 0, ANY),
	FPU_WIRE_FIELD(P, 12, snapshot_max, 0, ANY),
	FPU_WIRE_FIELD(P, 16, start_realtime_ns, 0, ANY),
	FPU_WIRE_FIELD(P, 24, start_monotonic_ns, 0, ANY),
	FPU_WIRE_FIELD(P, 32, exe_len, 0, FPU_REC_MAX_PATH),
	FPU_WIRE_FIELD(P, 36, cmdline_len, 0, FPU_REC_MAX_CMDLINE),
};
static const struct fpu_wire_blob process_b[] = {
	FPU_WIRE_BLOB(P, exe_len, exe, FPU_REC_MAX_PATH),
	FPU_WIRE_BLOB(P, cmdline_len, cmdline, FPU_REC_MAX_CMDLINE),
};
#undef P

/* ---- MAPPING (bytes 36..39 reserved, zero) ------------------------------ */
#define M struct fpu_rec_mapping
static const struct fpu_wire_field mapping_f[] = {
	FPU_WIRE_FIELD(M, 0, start, 0, ANY),
	FPU_WIRE_FIELD(M, 8, end, 0, ANY),
	FPU_WIRE_FIELD(M, 16, offset, 0, ANY),
	FPU_WIRE_FIELD(M, 24, prot, 0, 7),
	FPU_WIRE_FIELD(M, 28, build_id_len, 0, FPU_REC_MAX_BUILD_ID),
	FPU_WIRE_FIELD(M, 32, path_len, 0, FPU_REC_MAX_PATH),
};
static const struct fpu_wire_blob mapping_b[] = {
	FPU_WIRE_BLOB(M, build_id_len, build_id, FPU_REC_MAX_BUILD_ID),
	FPU_WIRE_BLOB(M, path_len, path, FPU_REC_MAX_PATH),
};
#undef M

static const char *mapping_check(const void *obj)
{
	const struct fpu_rec_mapping *m = obj;
	return m->end > m->start ? NULL : "mapping end <= start";
}

/* ---- THREAD ------------------------------------------------------------- */
#define T struct fpu_rec_thread
static const struct fpu_wire_field thread_f[] = {
	FPU_WIRE_FIELD(T, 0, tid, 0, ANY),
	FPU_WIRE_FIELD(T, 4, name_len, 0, FPU_REC_MAX_NAME),
	FPU_WIRE_FIELD(T, 8, m_id, 0, ANY),
	FPU_WIRE_FIELD(T, 16, time_ns, 0, ANY),
};
static const struct fpu_wire_blob thread_b[] = {
	FPU_WIRE_BLOB(T, name_len, name, FPU_REC_MAX_NAME),
};
#undef T

/* ---- REGION_EVENT ------------------------------------------------------- */
#define R struct fpu_rec_region_event
static const struct fpu_wire_field region_f[] = {
	FPU_WIRE_FIELD(R, 0, event, FPU_REGION_EV_ALLOC, FPU_REGION_EV_FREE),
	FPU_WIRE_FIELD(R, 4, kind, 0, KINDS),
	FPU_WIRE_FIELD(R, 8, lo, 0, ANY),
	FPU_WIRE_FIELD(R, 16, hi, 0, ANY),
	FPU_WIRE_FIELD(R, 24, new_lo, 0, ANY),
	FPU_WIRE_FIELD(R, 32, new_hi, 0, ANY),
	FPU_WIRE_FIELD(R, 40, owner, 0, ANY),
	FPU_WIRE_FIELD(R, 48, time_ns, 0, ANY),
};
#undef R

static const char *region_check(const void *obj)
{
	const struct fpu_rec_region_event *e = obj;

	if (e->hi <= e->lo)
		return "region hi <= lo";
	if (e->event == FPU_REGION_EV_MOVE)
		return e->new_hi > e->new_lo ? NULL : "moved region new_hi <= new_lo";
	return e->new_lo || e->new_hi ? "new_lo/new_hi set on an event that is not a move"
				      : NULL;
}

/* ---- DROPS (bytes 4..7 reserved, zero) ---------------------------------- */
#define D struct fpu_rec_drops
static const struct fpu_wire_field drops_f[] = {
	FPU_WIRE_FIELD(D, 0, tid, 0, ANY),
	FPU_WIRE_FIELD(D, 8, m_id, 0, ANY),
	FPU_WIRE_FIELD(D, 16, dropped, 0, ANY),
	FPU_WIRE_FIELD(D, 24, time_ns, 0, ANY),
};
#undef D

/* ---- END ---------------------------------------------------------------- */
#define E struct fpu_rec_end
static const struct fpu_wire_field end_f[] = {
	FPU_WIRE_FIELD(E, 0, how, FPU_END_HOW_EXITED, FPU_END_HOW_UNKNOWN),
	FPU_WIRE_FIELD(E, 4, status, 0, ANY),
	FPU_WIRE_FIELD(E, 8, time_ns, 0, ANY),
	FPU_WIRE_FIELD(E, 16, samples, 0, ANY),
	FPU_WIRE_FIELD(E, 24, drops, 0, ANY),
};
#undef E

static const char *end_check(const void *obj)
{
	const struct fpu_rec_end *e = obj;

	switch (e->how) {
	case FPU_END_HOW_EXITED:
		return e->status >= 0 && e->status <= 255 ? NULL : "exit status not in 0..255";
	case FPU_END_HOW_SIGNALED:
		return e->status >= 1 && e->status <= 127 ? NULL : "signal not in 1..127";
	default:
		return e->status == 0 ? NULL : "status set when how is unknown";
	}
}

/* ---- SAMPLING ----------------------------------------------------------- */
#define Z struct fpu_rec_sampling
static const struct fpu_wire_field sampling_f[] = {
	FPU_WIRE_FIELD(Z, 0, cpu_source, FPU_CPU_SOURCE_TIMER, FPU_CPU_SOURCE_PERF_EVENT),
	FPU_WIRE_FIELD(Z, 4, perf_errno, 0, ANY),
	FPU_WIRE_FIELD(Z, 8, timer_threads, 0, ANY),
	FPU_WIRE_FIELD(Z, 12, wall_cap, 0, ANY),
};
#undef Z

const char *fpu_cpu_source_name(uint32_t cpu_source)
{
	switch (cpu_source) {
	case FPU_CPU_SOURCE_TIMER:
		return "timer";
	case FPU_CPU_SOURCE_PERF_EVENT:
		return "perf-event";
	default:
		return "unknown";
	}
}

/* ---- SAMPLE ------------------------------------------------------------- */
#define S struct fpu_sample
#define REG(i) FPU_WIRE_FIELD(S, 48 + 8 * (i), regs[i], 0, ANY)
static const struct fpu_wire_field sample_f[] = {
	FPU_WIRE_FIELD(S, 0, time_ns, 0, ANY),
	FPU_WIRE_FIELD(S, 8, kind, FPU_SAMPLE_CPU, FPU_SAMPLE_WALL),
	FPU_WIRE_FIELD(S, 12, tid, 0, ANY),
	FPU_WIRE_FIELD(S, 16, m_id, 0, ANY),
	FPU_WIRE_FIELD(S, 24, g_id, 0, ANY),
	FPU_WIRE_FIELD(S, 32, g_status, FPU_G_NONE, FPU_G_CGO),
	FPU_WIRE_FIELD(S, 36, sp_kind, 0, KINDS),
	FPU_WIRE_FIELD(S, 40, weight, 0, ANY),
	REG(0), REG(1), REG(2), REG(3), REG(4), REG(5), REG(6), REG(7), REG(8),
	REG(9), REG(10), REG(11), REG(12), REG(13), REG(14), REG(15), REG(16),
	FPU_WIRE_FIELD(S, 184, nfp, 0, ANY),
	FPU_WIRE_FIELD(S, 188, fp_end, 0, FPU_END_COUNT - 1),
	FPU_WIRE_FIELD(S, 192, fp_end_fp, 0, ANY),
	FPU_WIRE_FIELD(S, 200, fp_end_pc, 0, ANY),
	FPU_WIRE_FIELD(S, 208, fp_end_from, 0, KINDS),
	FPU_WIRE_FIELD(S, 212, fp_end_to, 0, KINDS),
	FPU_WIRE_FIELD(S, 216, fp_crossings, 0, ANY),
	FPU_WIRE_FIELD(S, 220, nseg, 0, FPU_MAX_SEGMENTS),
};
#undef REG
#undef S
_Static_assert(FPU_NREGS == 17, "SAMPLE layout lists 17 registers");

#define G struct fpu_segment
static const struct fpu_wire_field segment_f[] = {
	FPU_WIRE_FIELD(G, 0, lo, 0, ANY),
	FPU_WIRE_FIELD(G, 8, len, 0, ANY),
	FPU_WIRE_FIELD(G, 12, kind, 0, KINDS),
	FPU_WIRE_FIELD(G, 16, owner, 0, ANY),
	FPU_WIRE_FIELD(G, 24, region_hi, 0, ANY),
};
#undef G

static const char *segment_check(const void *obj)
{
	const struct fpu_segment *g = obj;

	if (g->lo + g->len < g->lo)
		return "segment wraps around the address space";
	/* region_hi 0: the producer does not know the region (a perf dump). */
	if (g->region_hi && g->lo + g->len > g->region_hi)
		return "segment len goes past its region_hi";
	return NULL;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fpu_wire_layout process_l =
	{ FPU_REC_PROCESS, "PROCESS", 40, process_f, N(process_f), process_b, N(process_b), NULL };
static const struct fpu_wire_layout mapping_l =
	{ FPU_REC_MAPPING, "MAPPING", 40, mapping_f, N(mapping_f), mapping_b, N(mapping_b),
	  mapping_check };
static const struct fpu_wire_layout thread_l =
	{ FPU_REC_THREAD, "THREAD", 24, thread_f, N(thread_f), thread_b, N(thread_b), NULL };
static const struct fpu_wire_layout region_l =
	{ FPU_REC_REGION_EVENT, "REGION_EVENT", 56, region_f, N(region_f), NULL, 0,
	  region_check };
static const struct fpu_wire_layout drops_l =
	{ FPU_REC_DROPS, "DROPS", 32, drops_f, N(drops_f), NULL, 0, NULL };
static const struct fpu_wire_layout end_l =
	{ FPU_REC_END, "END", 32, end_f, N(end_f), NULL, 0, end_check };
static const struct fpu_wire_layout sampling_l =
	{ FPU_REC_SAMPLING, "SAMPLING", 16, sampling_f, N(sampling_f), NULL, 0, NULL };
const struct fpu_wire_layout fpu_wire_sample =
	{ FPU_REC_SAMPLE, "SAMPLE", FPU_WIRE_SAMPLE_FIXED, sample_f, N(sample_f), NULL, 0,
	  NULL };
const struct fpu_wire_layout fpu_wire_segment =
	{ 0, "segment", FPU_WIRE_SEG_DESC, segment_f, N(segment_f), NULL, 0, segment_check };

const struct fpu_wire_layout *const fpu_wire_layouts[FPU_REC_TYPE_COUNT] = {
	[FPU_REC_PROCESS] = &process_l,
	[FPU_REC_MAPPING] = &mapping_l,
	[FPU_REC_THREAD] = &thread_l,
	[FPU_REC_REGION_EVENT] = &region_l,
	[FPU_REC_DROPS] = &drops_l,
	[FPU_REC_END] = &end_l,
	[FPU_REC_SAMPLING] = &sampling_l,
};

const char *fpu_wire_check(const struct fpu_wire_layout *L, const void *obj,
			   const struct fpu_wire_field **bad)
{
	const char *o = obj;

	for (unsigned i = 0; i < L->nf; i++) {
		const struct fpu_wire_field *f = &L->f[i];
		uint64_t v = fpu_get_w(o + f->mem, f->width);
		if (v < f->min || v > f->max) {
			if (bad)
				*bad = f;
			return "out of range";
		}
	}
	return L->check ? L->check(obj) : NULL;
}

const char *fpu_wire_check_sample(const struct fpu_sample *s,
				  const struct fpu_wire_field **bad, int *seg)
{
	const char *why = fpu_wire_check(&fpu_wire_sample, s, bad);

	*seg = -1;
	for (uint32_t i = 0; !why && i < s->nseg; i++) {
		why = fpu_wire_check(&fpu_wire_segment, &s->seg[i], bad);
		*seg = (int)i;
	}
	return why;
}
