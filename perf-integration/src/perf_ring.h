/*
 * perf_ring.h — internal to perf_record.c: the perf mmap ring buffers and the
 * conversion of perf records (SAMPLE, MMAP2, COMM, FORK, LOST) to .fpt records.
 */
#ifndef FPT_PERF_RING_H
#define FPT_PERF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>
#include "fpu_record.h"

/* The attr settings the decoder must know to parse samples. */
#define FPT_PERF_SAMPLE_TYPE                                                       \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |    \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER |       \
	 PERF_SAMPLE_STACK_USER)

/* perf's x86-64 user registers: all but DS, ES, FS, GS (the kernel refuses
 * those on 64-bit): AX BX CX DX SI DI BP SP IP FLAGS CS SS R8..R15, 20 regs. */
uint64_t fpt_perf_regs_mask(void);
/* Fill DWARF-numbered regs from the perf regs of a sample taken with mask. */
void fpt_perf_regs_to_dwarf(uint64_t mask, const uint64_t *perf_regs,
			    uint64_t regs[FPU_NREGS]);

struct fpt_ring {
	int fd;
	int cpu;
	void *base;              /* metadata page + data pages */
	size_t mmap_len;
	size_t data_size;        /* power of two */
};

/* mmap 1 + data_pages pages of fd (data_pages a power of two). 0 or -1/errno. */
int fpt_ring_map(struct fpt_ring *r, int fd, size_t data_pages);
void fpt_ring_unmap(struct fpt_ring *r);

struct fpt_tid_name {
	uint32_t pid, tid;
	char name[16];
};

struct fpt_range {
	uint64_t start, end;
};

/* Conversion state, shared by all rings of one recording. */
struct fpt_decoder {
	struct fpu_writer *w;
	uint64_t regs_mask;
	uint32_t max_stack;      /* attr.sample_max_stack */
	uint32_t main_pid;

	/* processes running the profiled image: the main pid and its forks */
	uint32_t *pids;
	size_t npids, cap_pids;
	struct fpt_tid_name *names;
	size_t nnames, cap_names;
	struct fpt_range *ranges;        /* executable MMAP2 ranges written */
	size_t nranges, cap_ranges;

	uint64_t samples, lost, foreign, skipped, mappings;
	uint64_t first_time, last_time;  /* of samples (monotonic ns) */
	int write_failed;                /* errno of the first write failure */

	uint8_t *copy;                   /* a record that wraps the ring */
	uint64_t *pcs;                   /* max_stack + 1 entries */
};

int fpt_decoder_init(struct fpt_decoder *d, struct fpu_writer *w, uint64_t regs_mask,
		     uint32_t max_stack, uint32_t main_pid);
void fpt_decoder_free(struct fpt_decoder *d);

/*
 * Consume every record in the ring and write what it becomes.  Returns the
 * number of records consumed.  A write failure is remembered in
 * d->write_failed (the ring is still consumed).
 */
size_t fpt_ring_drain(struct fpt_ring *r, struct fpt_decoder *d);

/* Does an executable mapping written so far overlap [start, end)? */
int fpt_decoder_has_range(const struct fpt_decoder *d, uint64_t start, uint64_t end);
/* Remember a range written as a MAPPING. */
void fpt_decoder_add_range(struct fpt_decoder *d, uint64_t start, uint64_t end);
/* Write a record, remembering a failure in d->write_failed. */
void fpt_decoder_put(struct fpt_decoder *d, const struct fpu_record *rec);

#endif
