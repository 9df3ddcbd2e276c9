/*
 * fpt_perf_abi.h — the kernel's perf record layouts, read in one place for
 * both the live sampler (perf_ring.c) and the perf.data reader (perfdata*.c):
 * a bounded cursor over one record, the PERF_RECORD_SAMPLE parser driven by
 * the event's sample_type (the live sampler's fixed type is one case of it),
 * the MMAP/MMAP2 parser, the sample_id trailer of the other records, the user
 * part of a callchain, and perf's x86-64 user registers.
 *
 * Every read is bounded by the record it belongs to; nothing here allocates.
 */
#ifndef FPT_PERF_ABI_H
#define FPT_PERF_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>

#include "fpu_record.h"

/* What the live sampler asks the kernel for in every sample. */
#define FPT_PERF_SAMPLE_TYPE                                                       \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |    \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER |       \
	 PERF_SAMPLE_STACK_USER)

/* Bounded reading of one record: a read past end sets bad and yields 0/NULL. */
struct fpt_pcur {
	const uint8_t *p, *end;
	int bad;
};
uint64_t fpt_pcur_u64(struct fpt_pcur *c);
const uint8_t *fpt_pcur_take(struct fpt_pcur *c, uint64_t n);

/* A PERF_RECORD_SAMPLE, as far as the user stack dump (what follows is not
 * needed).  Pointers point into the record. */
struct fpt_perf_sample {
	uint32_t pid, tid;
	uint64_t time, period;
	uint32_t cpu;
	uint64_t nr;                 /* callchain entries, PERF_CONTEXT_* included */
	const uint8_t *ips;          /* nr u64s, unaligned */
	uint64_t abi;                /* PERF_SAMPLE_REGS_ABI_*; 0: no user registers */
	const uint8_t *regs;         /* nregs u64s in the bit order of sample_regs_user */
	unsigned nregs;
	uint64_t dump_size;          /* bytes asked for (the stack goes on above ... */
	uint64_t dyn_size;           /* ... when all were copied); 0: no stack dump */
	const uint8_t *dump;
};

/*
 * Parse the sample rec[0, size) of the event a (its sample_type, read_format,
 * branch_sample_type, sample_regs_user).  NULL, or the name of the first
 * field that does not fit in the record.
 */
const char *fpt_perf_parse_sample(const struct perf_event_attr *a, const uint8_t *rec,
				  size_t size, struct fpt_perf_sample *s);

/* The sample_id trailer of a non-sample record (attr.sample_id_all). */
struct fpt_perf_sample_id {
	uint32_t pid, tid;
	uint64_t time;
};
/* 0, or -1 (s zeroed) when the event has no trailer or the record is too short. */
int fpt_perf_parse_sample_id(const struct perf_event_attr *a, const uint8_t *rec,
			     size_t size, struct fpt_perf_sample_id *s);

/*
 * The time of any record of the event a: a SAMPLE's TIME field (it comes
 * after IDENTIFIER, IP and TID), another record's sample_id trailer.  0, or
 * -1 (*time 0) when a has no PERF_SAMPLE_TIME (or no trailer) or the record
 * is too short.
 */
int fpt_perf_record_time(const struct perf_event_attr *a, const uint8_t *rec, size_t size,
			 uint64_t *time);

/* An MMAP or MMAP2 record. */
struct fpt_perf_mmap {
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t prot;                /* PROT_* (MMAP: PROT_READ|PROT_EXEC unless data) */
	int exec;
	uint32_t build_id_len;
	const uint8_t *build_id;
	const char *path;             /* NUL-terminated inside the record */
	size_t path_len;
};
/* 0, or -1 when the record is too short or its file name is not terminated. */
int fpt_perf_parse_mmap(const uint8_t *rec, size_t size, struct fpt_perf_mmap *m);

/*
 * The user part of a callchain of nr entries at ips (PERF_CONTEXT_* markers
 * skipped; entries before any marker count as user, as the kernel gives a
 * chain without its kernel part when exclude_callchain_kernel is set).
 * Stores at most max of them in out (out may be NULL: only count) and
 * returns how many it stored (or counted, with out NULL).
 */
uint32_t fpt_perf_callchain_user(const uint8_t *ips, uint64_t nr, uint64_t *out,
				 uint32_t max);

/* perf's x86-64 user registers: all but DS, ES, FS, GS (the kernel refuses
 * those on 64-bit): AX BX CX DX SI DI BP SP IP FLAGS CS SS R8..R15, 20 regs. */
uint64_t fpt_perf_regs_mask(void);
/* Fill regs (fpu_sample.h's slots) from the perf regs of a sample taken with
 * mask on machine (FPU_REC_MACHINE_X86_64: perf_event_x86_regs; _AARCH64:
 * perf_event_arm64_regs, x0..x30, sp, pc). */
void fpt_perf_regs_to_dwarf(uint32_t machine, uint64_t mask, const uint64_t *perf_regs,
			    uint64_t regs[FPU_NREGS]);

/* "SAMPLE", "MMAP2", "HEADER_ATTR", ... for messages; "unknown" otherwise. */
const char *fpt_perf_record_name(uint32_t type);

#endif
