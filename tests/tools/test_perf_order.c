/*
 * test_perf_order.c — the live decoder decodes the records of all per-CPU
 * rings in time order (perf-integration/src/perf_order.c), whatever ring
 * they were drained from.
 *
 * The case of `fptrace record -- sh -c './prog; true'` on two CPUs: the shell
 * (pid SH) forks on CPU 1, so the FORK of its child (pid CHILD) is in ring 1;
 * the child execs prog and runs on CPU 0, so its COMM (exec), MMAP2 and
 * SAMPLEs are in ring 0, which is drained first.  Decoded ring after ring, the
 * child's exec came before its FORK: its first samples went to a stream of
 * their own, then the FORK made it one of the shell's processes, and its
 * later samples went to the shell's image, whose mappings cannot name them
 * (the flaky "0 samples in prog's wrapped_work" of record_follow).  In time
 * order, all its samples go to prog's stream.
 *
 * The rings are laid out in memory as the kernel's mmap (metadata page, data
 * pages), the records as the kernel writes them for the live sampler's event.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "fpt_perf_abi.h"
#include "../../perf-integration/src/perf_ring.h"   /* the live decoder */
#include "perf_bytes.h"

#define SH 100
#define CHILD 200
#define PROG_START 0x400000ull
#define PROG_END 0x500000ull

/* One record, built field by field, then published at a ring's head. */
struct rec {
	uint8_t mem[512] __attribute__((aligned(8)));
	struct perf_bytes p;
	size_t at;
};

static struct perf_bytes *begin(struct rec *r)
{
	r->p = (struct perf_bytes){ r->mem, 0, sizeof r->mem };
	r->at = perf_bytes_begin(&r->p);
	return &r->p;
}

/* The sample_id trailer of FPT_PERF_SAMPLE_TYPE: TID, TIME, CPU. */
static void put_trailer(struct perf_bytes *p, uint32_t pid, uint64_t time, uint32_t cpu)
{
	perf_bytes_put32x2(p, pid, pid);
	perf_bytes_put64(p, time);
	perf_bytes_put32x2(p, cpu, 0);
}

static void publish(struct perf_mem_ring *t, struct rec *r, uint32_t type, uint16_t misc)
{
	perf_bytes_end(&r->p, r->at, type, misc);
	perf_mem_ring_push(t, r->mem, r->p.n);
}

static void put_fork(struct perf_mem_ring *t, uint32_t pid, uint32_t ppid, uint64_t time,
		     uint32_t cpu)
{
	struct rec r;
	struct perf_bytes *p = begin(&r);
	perf_bytes_put32x2(p, pid, ppid);
	perf_bytes_put32x2(p, pid, ppid);   /* tid, ptid */
	perf_bytes_put64(p, time);
	put_trailer(p, pid, time, cpu);
	publish(t, &r, PERF_RECORD_FORK, 0);
}

static void put_exec_comm(struct perf_mem_ring *t, uint32_t pid, const char *name,
			  uint64_t time, uint32_t cpu)
{
	struct rec r;
	struct perf_bytes *p = begin(&r);
	perf_bytes_put32x2(p, pid, pid);
	perf_bytes_put_name(p, name, 16);
	put_trailer(p, pid, time, cpu);
	publish(t, &r, PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
}

static void put_exec_mmap2(struct perf_mem_ring *t, uint32_t pid, uint64_t time, uint32_t cpu)
{
	struct rec r;
	struct perf_bytes *p = begin(&r);
	perf_bytes_put32x2(p, pid, pid);
	perf_bytes_put64(p, PROG_START);
	perf_bytes_put64(p, PROG_END - PROG_START);
	perf_bytes_put64(p, 0);                               /* pgoff */
	perf_bytes_put32x2(p, 8, 1);                          /* maj, min */
	perf_bytes_put64(p, 1234);                            /* ino */
	perf_bytes_put64(p, 0);                               /* ino_generation */
	perf_bytes_put32x2(p, PROT_READ | PROT_EXEC, MAP_PRIVATE);
	perf_bytes_put_name(p, "/tmp/prog", 16);
	put_trailer(p, pid, time, cpu);
	publish(t, &r, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER);
}

/* A SAMPLE of FPT_PERF_SAMPLE_TYPE in prog's code, with an 8-byte stack dump. */
static void put_sample(struct perf_mem_ring *t, uint32_t pid, uint64_t time, uint32_t cpu)
{
	struct rec r;
	struct perf_bytes *p = begin(&r);
	perf_bytes_put64(p, PROG_START + 0x100);             /* IP */
	perf_bytes_put32x2(p, pid, pid);
	perf_bytes_put64(p, time);
	perf_bytes_put32x2(p, cpu, 0);
	perf_bytes_put64(p, 1000000);                        /* PERIOD */
	perf_bytes_put64(p, 2);                              /* CALLCHAIN */
	perf_bytes_put64(p, (uint64_t)PERF_CONTEXT_USER);
	perf_bytes_put64(p, PROG_START + 0x100);
	perf_bytes_put64(p, PERF_SAMPLE_REGS_ABI_64);
	uint64_t mask = fpt_perf_regs_mask();
	for (unsigned bit = 0; bit < 64; bit++)
		if (mask & (1ull << bit))
			perf_bytes_put64(p, 0x7ffc0000ull + bit);
	perf_bytes_put64(p, 8);                              /* STACK_USER: size, bytes, dyn_size */
	perf_bytes_put64(p, 0);
	perf_bytes_put64(p, 8);
	publish(t, &r, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
}

/* One round, as fpt_rec_drain_once does it: every ring in CPU order. */
static void round_of(struct perf_mem_ring *rings, size_t n, struct fpt_decoder *d)
{
	for (size_t i = 0; i < n; i++)
		fpt_ring_drain(&rings[i].ring, d);
	fpt_decoder_end_round(d);
}

Test(perf_order, a_childs_fork_in_a_later_ring_comes_before_its_exec_and_samples)
{
	struct perf_mem_ring rings[2];
	perf_mem_ring_new(&rings[0], 4);
	perf_mem_ring_new(&rings[1], 4);
	char path[64];
	snprintf(path, sizeof path, "/tmp/test_perf_order_%d.fpt", (int)getpid());
	struct fpu_writer w;
	cr_assert_eq(fpu_writer_open(&w, path), 0);
	struct perf_event_attr a = perf_live_attr(8);
	struct fpt_decoder d;
	cr_assert_eq(fpt_decoder_init(&d, &w, &a, SH), 0);
	d.follow_exec = 1;
	d.tmpdir = "/tmp";

	/* round 1: the child's exec and first samples on CPU 0, its FORK on CPU 1 */
	put_exec_comm(&rings[0], CHILD, "prog", 300, 0);
	put_exec_mmap2(&rings[0], CHILD, 310, 0);
	for (uint64_t i = 0; i < 3; i++)
		put_sample(&rings[0], CHILD, 400 + i, 0);
	put_fork(&rings[1], CHILD, SH, 200, 1);
	round_of(rings, 2, &d);
	/* round 2: more of the child's samples */
	for (uint64_t i = 0; i < 5; i++)
		put_sample(&rings[0], CHILD, 500 + i, 0);
	round_of(rings, 2, &d);
	fpt_decoder_flush(&d);

	struct fpt_exec_stream *prog = NULL;
	for (size_t i = 0; i < d.nexecs; i++)
		if (d.execs[i]->pid == CHILD)
			prog = d.execs[i];
	cr_assert_not_null(prog, "no stream for prog: %llu samples in the shell's image, "
			   "%llu foreign", (unsigned long long)d.samples,
			   (unsigned long long)d.foreign);
	cr_expect_eq(d.nexecs, 1, "%zu streams, want prog's alone", d.nexecs);
	cr_expect_eq(prog->samples, 8, "prog's stream has %llu of its 8 samples",
		     (unsigned long long)prog->samples);
	cr_expect_eq(d.samples, 0, "the shell's image got %llu of prog's samples",
		     (unsigned long long)d.samples);
	cr_expect_eq(d.foreign, 0);
	cr_expect_eq(d.nqueue, 0, "the flush leaves nothing queued");

	fpt_decoder_free(&d);
	fpu_writer_close(&w);
	unlink(path);
	perf_mem_ring_free(&rings[0]);
	perf_mem_ring_free(&rings[1]);
}

/* A round decodes only what no ring can still precede: a record newer than
 * what the previous round saw waits. */
Test(perf_order, a_round_keeps_what_a_later_round_may_precede)
{
	struct perf_mem_ring ring;
	perf_mem_ring_new(&ring, 4);
	char path[64];
	snprintf(path, sizeof path, "/tmp/test_perf_order_r_%d.fpt", (int)getpid());
	struct fpu_writer w;
	cr_assert_eq(fpu_writer_open(&w, path), 0);
	struct perf_event_attr a = perf_live_attr(8);
	struct fpt_decoder d;
	cr_assert_eq(fpt_decoder_init(&d, &w, &a, SH), 0);

	put_sample(&ring, SH, 100, 0);
	round_of(&ring, 1, &d);
	cr_expect_eq(d.samples, 0, "round 1 decoded a sample that another ring may precede");
	put_sample(&ring, SH, 200, 0);
	round_of(&ring, 1, &d);
	cr_expect_eq(d.samples, 1, "round 2 decodes what round 1 saw, and only that: %llu",
		     (unsigned long long)d.samples);
	fpt_decoder_flush(&d);
	cr_expect_eq(d.samples, 2);

	fpt_decoder_free(&d);
	fpu_writer_close(&w);
	unlink(path);
	perf_mem_ring_free(&ring);
}
