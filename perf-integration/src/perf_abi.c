/*
 * perf_abi.c — see fpt_perf_abi.h.  The layouts are those of
 * include/uapi/linux/perf_event.h (PERF_RECORD_SAMPLE, PERF_RECORD_MMAP2 and
 * the sample_id trailer) and tools/lib/perf/include/perf/event.h (perf's own
 * record types).
 */
#include "fpt_perf_abi.h"

#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <asm/perf_regs.h>
#else
/* fptrace built for another machine reads x86-64 perf.data too, and only the
 * x86 kernel headers have perf_event_x86_regs: these are its numbers, from
 * arch/x86/include/uapi/asm/perf_regs.h (a stable ABI: perf.data stores them). */
enum perf_event_x86_regs {
	PERF_REG_X86_AX, PERF_REG_X86_BX, PERF_REG_X86_CX, PERF_REG_X86_DX,
	PERF_REG_X86_SI, PERF_REG_X86_DI, PERF_REG_X86_BP, PERF_REG_X86_SP,
	PERF_REG_X86_IP, PERF_REG_X86_FLAGS, PERF_REG_X86_CS, PERF_REG_X86_SS,
	PERF_REG_X86_DS, PERF_REG_X86_ES, PERF_REG_X86_FS, PERF_REG_X86_GS,
	PERF_REG_X86_R8, PERF_REG_X86_R9, PERF_REG_X86_R10, PERF_REG_X86_R11,
	PERF_REG_X86_R12, PERF_REG_X86_R13, PERF_REG_X86_R14, PERF_REG_X86_R15,
	PERF_REG_X86_64_MAX
};
#endif

#ifndef PERF_FORMAT_LOST
#define PERF_FORMAT_LOST (1u << 4)
#endif

/* ---------------------------------------------------------------------------
 * The cursor
 * ------------------------------------------------------------------------- */

const uint8_t *fpt_pcur_take(struct fpt_pcur *c, uint64_t n)
{
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *q = c->p;
	c->p += n;
	return q;
}

uint64_t fpt_pcur_u64(struct fpt_pcur *c)
{
	uint64_t v = 0;
	const uint8_t *q = fpt_pcur_take(c, 8);
	if (q)
		memcpy(&v, q, 8);
	return v;
}

/* n records of size each, n read from the record itself: bounded before the
 * multiplication can overflow. */
static const uint8_t *take_array(struct fpt_pcur *c, uint64_t n, uint64_t size)
{
	if (c->bad || n > (uint64_t)(c->end - c->p) / size) {
		c->bad = 1;
		return NULL;
	}
	return fpt_pcur_take(c, n * size);
}

/* ---------------------------------------------------------------------------
 * PERF_RECORD_SAMPLE
 * ------------------------------------------------------------------------- */

/* Skip PERF_SAMPLE_READ's values. */
static void skip_read(struct fpt_pcur *c, uint64_t rf)
{
	uint64_t per = 8 * (1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST));
	uint64_t times = 8 * (!!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
			      !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING));
	if (rf & PERF_FORMAT_GROUP) {
		uint64_t nr = fpt_pcur_u64(c);
		fpt_pcur_take(c, times);
		take_array(c, nr, per);
	} else {
		fpt_pcur_take(c, per + times);
	}
}

static void skip_raw(struct fpt_pcur *c)
{
	const uint8_t *l = fpt_pcur_take(c, 4);
	uint32_t len = 0;
	if (l)
		memcpy(&len, l, 4);
	fpt_pcur_take(c, len);
}

static void skip_branch_stack(struct fpt_pcur *c, const struct perf_event_attr *a)
{
	uint64_t nr = fpt_pcur_u64(c);
	if (a->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX)
		fpt_pcur_u64(c);
	take_array(c, nr, 24);   /* struct perf_branch_entry: from, to, flags */
}

static void read_stack_user(struct fpt_pcur *c, struct fpt_perf_sample *s)
{
	s->dump_size = fpt_pcur_u64(c);
	if (s->dump_size) {
		s->dump = fpt_pcur_take(c, s->dump_size);
		s->dyn_size = fpt_pcur_u64(c);
	}
	if (s->dyn_size > s->dump_size)
		s->dyn_size = s->dump_size;
}

/*
 * The fields in the order the kernel writes them (perf_output_sample).  Each
 * step reads one field if sample_type has its bit; the parse stops at the
 * first field that does not fit.
 */
const char *fpt_perf_parse_sample(const struct perf_event_attr *a, const uint8_t *rec,
				  size_t size, struct fpt_perf_sample *s)
{
	struct fpt_pcur c = { rec + sizeof(struct perf_event_header), rec + size, 0 };
	uint64_t st = a->sample_type, v;
	memset(s, 0, sizeof *s);
	if (size < sizeof(struct perf_event_header))
		return "header";

	if (st & PERF_SAMPLE_IDENTIFIER && (fpt_pcur_u64(&c), c.bad))
		return "IDENTIFIER";
	if (st & PERF_SAMPLE_IP && (fpt_pcur_u64(&c), c.bad))
		return "IP";
	if (st & PERF_SAMPLE_TID) {
		v = fpt_pcur_u64(&c);
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
		if (c.bad)
			return "TID";
	}
	if (st & PERF_SAMPLE_TIME && (s->time = fpt_pcur_u64(&c), c.bad))
		return "TIME";
	if (st & PERF_SAMPLE_ADDR && (fpt_pcur_u64(&c), c.bad))
		return "ADDR";
	if (st & PERF_SAMPLE_ID && (fpt_pcur_u64(&c), c.bad))
		return "ID";
	if (st & PERF_SAMPLE_STREAM_ID && (fpt_pcur_u64(&c), c.bad))
		return "STREAM_ID";
	if (st & PERF_SAMPLE_CPU && (s->cpu = (uint32_t)fpt_pcur_u64(&c), c.bad))
		return "CPU";
	if (st & PERF_SAMPLE_PERIOD && (s->period = fpt_pcur_u64(&c), c.bad))
		return "PERIOD";
	if (st & PERF_SAMPLE_READ && (skip_read(&c, a->read_format), c.bad))
		return "READ";
	if (st & PERF_SAMPLE_CALLCHAIN) {
		s->nr = fpt_pcur_u64(&c);
		s->ips = take_array(&c, s->nr, 8);
		if (c.bad)
			return "CALLCHAIN";
	}
	if (st & PERF_SAMPLE_RAW && (skip_raw(&c), c.bad))
		return "RAW";
	if (st & PERF_SAMPLE_BRANCH_STACK && (skip_branch_stack(&c, a), c.bad))
		return "BRANCH_STACK";
	if (st & PERF_SAMPLE_REGS_USER) {
		s->abi = fpt_pcur_u64(&c);
		s->nregs = s->abi ? (unsigned)__builtin_popcountll(a->sample_regs_user) : 0;
		s->regs = fpt_pcur_take(&c, 8ull * s->nregs);
		if (c.bad)
			return "REGS_USER";
	}
	if (st & PERF_SAMPLE_STACK_USER && (read_stack_user(&c, s), c.bad))
		return "STACK_USER";
	return NULL;
}

int fpt_perf_parse_sample_id(const struct perf_event_attr *a, const uint8_t *rec,
			     size_t size, struct fpt_perf_sample_id *s)
{
	uint64_t st = a->sample_type;
	memset(s, 0, sizeof *s);
	if (!a->sample_id_all)
		return -1;
	/* TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER: at the end of the record */
	uint64_t len = 8 * (!!(st & PERF_SAMPLE_TID) + !!(st & PERF_SAMPLE_TIME) +
			    !!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID) +
			    !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_IDENTIFIER));
	if (size < sizeof(struct perf_event_header) + len)
		return -1;
	struct fpt_pcur c = { rec + size - len, rec + size, 0 };
	if (st & PERF_SAMPLE_TID) {
		uint64_t v = fpt_pcur_u64(&c);
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
	}
	if (st & PERF_SAMPLE_TIME)
		s->time = fpt_pcur_u64(&c);
	return 0;
}

int fpt_perf_record_time(const struct perf_event_attr *a, const uint8_t *rec, size_t size,
			 uint64_t *time)
{
	uint64_t st = a->sample_type;
	struct perf_event_header h;
	*time = 0;
	if (!(st & PERF_SAMPLE_TIME) || size < sizeof h)
		return -1;
	memcpy(&h, rec, sizeof h);
	if (h.type != PERF_RECORD_SAMPLE) {
		struct fpt_perf_sample_id id;
		if (fpt_perf_parse_sample_id(a, rec, size, &id) != 0)
			return -1;
		*time = id.time;
		return 0;
	}
	struct fpt_pcur c = { rec + sizeof h, rec + size, 0 };
	fpt_pcur_take(&c, 8 * (uint64_t)(!!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP) +
					 !!(st & PERF_SAMPLE_TID)));
	uint64_t t = fpt_pcur_u64(&c);
	if (c.bad)
		return -1;
	*time = t;
	return 0;
}

/* ---------------------------------------------------------------------------
 * MMAP, MMAP2
 * ------------------------------------------------------------------------- */

int fpt_perf_parse_mmap(const uint8_t *rec, size_t size, struct fpt_perf_mmap *m)
{
	struct perf_event_header h;
	memset(m, 0, sizeof *m);
	if (size < sizeof h)
		return -1;
	memcpy(&h, rec, sizeof h);
	struct fpt_pcur c = { rec + sizeof h, rec + size, 0 };
	uint64_t pt = fpt_pcur_u64(&c);
	m->pid = (uint32_t)pt;
	m->tid = (uint32_t)(pt >> 32);
	m->addr = fpt_pcur_u64(&c);
	m->len = fpt_pcur_u64(&c);
	m->pgoff = fpt_pcur_u64(&c);
	if (h.type == PERF_RECORD_MMAP2) {
		/* maj, min, ino, ino_generation; or build_id_size, 3 bytes, build_id[20] */
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
 * Callchains
 * ------------------------------------------------------------------------- */

uint32_t fpt_perf_callchain_user(const uint8_t *ips, uint64_t nr, uint64_t *out,
				 uint32_t max)
{
	uint32_t n = 0;
	uint64_t ctx = PERF_CONTEXT_USER;
	for (uint64_t i = 0; i < nr && (!out || n < max); i++) {
		uint64_t ip;
		memcpy(&ip, ips + 8 * i, 8);
		if (ip >= (uint64_t)PERF_CONTEXT_MAX)
			ctx = ip;
		else if (ctx == PERF_CONTEXT_USER) {
			if (out)
				out[n] = ip;
			n++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------------------
 * Registers
 * ------------------------------------------------------------------------- */

uint64_t fpt_perf_regs_mask(void)
{
	uint64_t all = (1ull << PERF_REG_X86_64_MAX) - 1;
	uint64_t segs = (1ull << PERF_REG_X86_DS) | (1ull << PERF_REG_X86_ES) |
			(1ull << PERF_REG_X86_FS) | (1ull << PERF_REG_X86_GS);
	return all & ~segs;
}

/* perf_event_x86_regs index -> enum fpu_reg, -1 when DWARF has no slot for it. */
static int perf_to_dwarf(unsigned perf_reg)
{
	switch (perf_reg) {
	case PERF_REG_X86_AX: return FPU_REG_RAX;
	case PERF_REG_X86_BX: return FPU_REG_RBX;
	case PERF_REG_X86_CX: return FPU_REG_RCX;
	case PERF_REG_X86_DX: return FPU_REG_RDX;
	case PERF_REG_X86_SI: return FPU_REG_RSI;
	case PERF_REG_X86_DI: return FPU_REG_RDI;
	case PERF_REG_X86_BP: return FPU_REG_RBP;
	case PERF_REG_X86_SP: return FPU_REG_RSP;
	case PERF_REG_X86_IP: return FPU_REG_RIP;
	case PERF_REG_X86_R8: return FPU_REG_R8;
	case PERF_REG_X86_R9: return FPU_REG_R9;
	case PERF_REG_X86_R10: return FPU_REG_R10;
	case PERF_REG_X86_R11: return FPU_REG_R11;
	case PERF_REG_X86_R12: return FPU_REG_R12;
	case PERF_REG_X86_R13: return FPU_REG_R13;
	case PERF_REG_X86_R14: return FPU_REG_R14;
	case PERF_REG_X86_R15: return FPU_REG_R15;
	default: return -1;  /* FLAGS, CS, SS, DS, ES, FS, GS */
	}
}

void fpt_perf_regs_to_dwarf(uint32_t machine, uint64_t mask, const uint64_t *perf_regs,
			    uint64_t regs[FPU_NREGS])
{
	memset(regs, 0, FPU_NREGS * sizeof regs[0]);
	unsigned k = 0;   /* the sample holds the masked registers in bit order */
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(mask & (1ull << bit)))
			continue;
		/* perf_event_arm64_regs: x0..x30, sp, pc = 0..32, the numbers
		 * fpu_a64_slot takes (AArch64 DWARF's, pc as FPU_A64_DWARF_PC). */
		int d = machine == FPU_REC_MACHINE_AARCH64 ? fpu_a64_slot(bit) : perf_to_dwarf(bit);
		if (d >= 0)
			regs[d] = perf_regs[k];
		k++;
	}
}

/* ---------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

const char *fpt_perf_record_name(uint32_t type)
{
	static const char *const kernel[] = {
		[PERF_RECORD_MMAP] = "MMAP", [PERF_RECORD_LOST] = "LOST",
		[PERF_RECORD_COMM] = "COMM", [PERF_RECORD_EXIT] = "EXIT",
		[PERF_RECORD_THROTTLE] = "THROTTLE", [PERF_RECORD_UNTHROTTLE] = "UNTHROTTLE",
		[PERF_RECORD_FORK] = "FORK", [PERF_RECORD_READ] = "READ",
		[PERF_RECORD_SAMPLE] = "SAMPLE", [PERF_RECORD_MMAP2] = "MMAP2",
		[PERF_RECORD_AUX] = "AUX", [PERF_RECORD_ITRACE_START] = "ITRACE_START",
		[PERF_RECORD_LOST_SAMPLES] = "LOST_SAMPLES", [PERF_RECORD_SWITCH] = "SWITCH",
		[PERF_RECORD_SWITCH_CPU_WIDE] = "SWITCH_CPU_WIDE",
		[PERF_RECORD_NAMESPACES] = "NAMESPACES", [PERF_RECORD_KSYMBOL] = "KSYMBOL",
		[PERF_RECORD_BPF_EVENT] = "BPF_EVENT", [PERF_RECORD_CGROUP] = "CGROUP",
		[PERF_RECORD_TEXT_POKE] = "TEXT_POKE",
	};
	static const char *const user[] = {
		"HEADER_ATTR", "HEADER_EVENT_TYPE", "HEADER_TRACING_DATA", "HEADER_BUILD_ID",
		"FINISHED_ROUND", "ID_INDEX", "AUXTRACE_INFO", "AUXTRACE", "AUXTRACE_ERROR",
		"THREAD_MAP", "CPU_MAP", "STAT_CONFIG", "STAT", "STAT_ROUND", "EVENT_UPDATE",
		"TIME_CONV", "HEADER_FEATURE", "COMPRESSED", "FINISHED_INIT", "COMPRESSED2",
	};
	if (type < sizeof kernel / sizeof kernel[0] && kernel[type])
		return kernel[type];
	if (type >= 64 && type - 64 < sizeof user / sizeof user[0])
		return user[type - 64];
	return "unknown";
}
