/*
 * test_perf_abi.c — the one PERF_RECORD_SAMPLE parser (fpt_perf_abi.h) behind
 * both readers of perf records: the live sampler's ring decoder and the
 * perf.data reader.
 *
 * The same bytes, a sample laid out exactly as the kernel writes it for the
 * live sampler's sample_type (FPT_PERF_SAMPLE_TYPE), go through the ring
 * decoder (from a ring in memory with the kernel's mmap page layout, drained
 * by fpt_ring_drain into a .fpt file) and through the perf.data reader (in a
 * pipe-mode perf.data file with the same event); both must give the same
 * .fpt sample.  A sample of perf record's richer sample_type (IDENTIFIER,
 * ADDR, ID, READ with a group) goes through the parser alone.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <asm/perf_regs.h>

#include "fpt_perf_abi.h"
#include "perfdata.h"
#include "../../perf-integration/src/perf_ring.h"   /* the live decoder */
#include "perf_bytes.h"

#define PID 4242
#define TID 4243
#define TIME 123456789ull
#define PERIOD 1001001ull
#define SP 0x7ffc00001000ull
#define BP 0x7ffc00001040ull
#define IP 0x401234ull
#define DUMP 64
#define DYN 48

/* The value of perf register reg in the samples built here. */
static uint64_t reg_value(unsigned reg)
{
	switch (reg) {
	case PERF_REG_X86_SP: return SP;
	case PERF_REG_X86_BP: return BP;
	case PERF_REG_X86_IP: return IP;
	default: return 0x1000 + reg;
	}
}

static const uint64_t user_ips[] = { IP, 0x401500, 0x401600 };

/*
 * A SAMPLE of FPT_PERF_SAMPLE_TYPE as perf_output_sample writes it: IP, TID,
 * TIME, CPU, PERIOD, CALLCHAIN (a user marker, then the user ips), REGS_USER
 * (abi, the masked registers in bit order), STACK_USER (size, bytes, dyn_size).
 */
static void put_live_sample(struct perf_bytes *b)
{
	size_t at = perf_bytes_begin(b);
	perf_bytes_put64(b, IP);
	perf_bytes_put32x2(b, PID, TID);
	perf_bytes_put64(b, TIME);
	perf_bytes_put32x2(b, 1, 0);                        /* cpu, res */
	perf_bytes_put64(b, PERIOD);
	perf_bytes_put64(b, 1 + 3);
	perf_bytes_put64(b, (uint64_t)PERF_CONTEXT_USER);
	for (int i = 0; i < 3; i++)
		perf_bytes_put64(b, user_ips[i]);
	perf_bytes_put64(b, PERF_SAMPLE_REGS_ABI_64);
	uint64_t mask = fpt_perf_regs_mask();
	for (unsigned bit = 0; bit < 64; bit++)
		if (mask & (1ull << bit))
			perf_bytes_put64(b, reg_value(bit));
	perf_bytes_put64(b, DUMP);
	for (unsigned i = 0; i < DUMP / 8; i++)
		perf_bytes_put64(b, 0xd0d0d0d000000000ull + i);
	perf_bytes_put64(b, DYN);
	perf_bytes_end(b, at, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
}

static void expect_live_fields(const struct fpt_perf_sample *s, const uint8_t *rec)
{
	cr_expect_eq(s->pid, PID);
	cr_expect_eq(s->tid, TID);
	cr_expect_eq(s->time, TIME);
	cr_expect_eq(s->cpu, 1);
	cr_expect_eq(s->period, PERIOD);
	cr_expect_eq(s->nr, 4);
	cr_expect_eq(s->abi, PERF_SAMPLE_REGS_ABI_64);
	cr_expect_eq(s->nregs, 20);
	cr_expect_eq(s->dump_size, DUMP);
	cr_expect_eq(s->dyn_size, DYN);
	uint64_t first;
	cr_assert_not_null(s->dump);
	memcpy(&first, s->dump, 8);
	cr_expect_eq(first, 0xd0d0d0d000000000ull, "the dump starts at byte %td",
		     s->dump - rec);
	uint64_t pcs[8];
	cr_assert_eq(fpt_perf_callchain_user(s->ips, s->nr, pcs, 8), 3);
	cr_expect_eq(pcs[0], user_ips[0]);
	cr_expect_eq(pcs[2], user_ips[2]);
}

Test(perf_abi, live_sample_layout)
{
	uint8_t mem[1024] __attribute__((aligned(8)));
	struct perf_bytes b = { mem, 0, sizeof mem };
	put_live_sample(&b);
	struct perf_event_attr a = perf_live_attr(DUMP);
	struct fpt_perf_sample s;
	const char *bad = fpt_perf_parse_sample(&a, mem, b.n, &s);
	cr_assert_null(bad, "the live sample does not parse: field %s", bad);
	expect_live_fields(&s, mem);
	uint64_t perf_regs[64], regs[FPU_NREGS];
	memcpy(perf_regs, s.regs, 8ull * s.nregs);
	fpt_perf_regs_to_dwarf(FPU_REC_MACHINE_X86_64, a.sample_regs_user, perf_regs, regs);
	cr_expect_eq(regs[FPU_REG_RSP], SP);
	cr_expect_eq(regs[FPU_REG_RBP], BP);
	cr_expect_eq(regs[FPU_REG_RIP], IP);
	cr_expect_eq(regs[FPU_REG_R15], 0x1000 + PERF_REG_X86_R15);

	/* Every cut names the field that no longer fits. */
	cr_expect_str_eq(fpt_perf_parse_sample(&a, mem, b.n - 8, &s), "STACK_USER");
	cr_expect_str_eq(fpt_perf_parse_sample(&a, mem, 8 + 8 + 8 + 4, &s), "TIME");
}

/* The live decoder, fed from a ring laid out as the kernel's mmap: the
 * metadata page, then the data pages with data_head past the record. */
static struct fpu_sample decode_live(const uint8_t *rec, size_t len, char *path,
				     struct fpu_reader *rd, struct fpu_record *out)
{
	struct perf_mem_ring ring;
	perf_mem_ring_new(&ring, 2);
	perf_mem_ring_push(&ring, rec, len);

	snprintf(path, 64, "/tmp/test_perf_abi_%d.fpt", (int)getpid());
	struct fpu_writer w;
	cr_assert_eq(fpu_writer_open(&w, path), 0);
	struct fpt_decoder d;
	struct perf_event_attr a = perf_live_attr(DUMP);
	cr_assert_eq(fpt_decoder_init(&d, &w, &a, PID), 0);
	cr_assert_eq(fpt_ring_drain(&ring.ring, &d), 1);
	cr_expect_eq(ring.meta->data_tail, len, "the ring is consumed");
	fpt_decoder_flush(&d);
	cr_expect_eq(d.samples, 1, "decoded: %llu samples, %llu skipped, %llu foreign",
		     (unsigned long long)d.samples, (unsigned long long)d.skipped,
		     (unsigned long long)d.foreign);
	fpt_decoder_free(&d);
	cr_assert_eq(fpu_writer_close(&w), 0);
	perf_mem_ring_free(&ring);

	cr_assert_eq(fpu_reader_open(rd, path), 0, "%s", fpu_reader_error(rd));
	cr_assert_eq(fpu_reader_next(rd, out), 1, "%s", fpu_reader_error(rd));
	cr_assert_eq(out->type, FPU_REC_SAMPLE);
	return out->u.sample;
}

/* A pipe-mode perf.data: magic, header size 16, HEADER_ATTR (the event and
 * one id), then the given records. */
static size_t pipe_file(uint8_t *mem, size_t cap, const struct perf_event_attr *a,
			const uint8_t *recs, size_t len)
{
	struct perf_bytes b = { mem, 0, cap };
	memcpy(mem, "PERFILE2", 8);
	b.n = 8;
	perf_bytes_put64(&b, 16);
	size_t at = perf_bytes_begin(&b);
	cr_assert_leq(b.n + sizeof *a, cap);
	memcpy(mem + b.n, a, sizeof *a);
	b.n += sizeof *a;
	perf_bytes_put64(&b, 77);                            /* the event's sample id */
	perf_bytes_end(&b, at, 64 /* HEADER_ATTR */, 0);
	cr_assert_leq(b.n + len, cap, "the records do not fit in the file's %zu bytes", cap);
	memcpy(mem + b.n, recs, len);
	return b.n + len;
}

Test(perf_abi, live_and_perfdata_give_the_same_sample)
{
	static uint8_t rec[1024] __attribute__((aligned(8)));
	static uint8_t file[4096] __attribute__((aligned(8)));
	static struct fpt_perfdata p;   /* large: not on the stack */
	struct perf_bytes b = { rec, 0, sizeof rec };
	put_live_sample(&b);

	char path[64], err[256];
	struct fpu_reader rd;
	struct fpu_record live_rec;
	struct fpu_sample live = decode_live(rec, b.n, path, &rd, &live_rec);

	struct perf_event_attr a = perf_live_attr(DUMP);
	size_t n = pipe_file(file, sizeof file, &a, rec, b.n);
	cr_assert_eq(fpt_perfdata_open_mem(&p, file, n, "live.data", err, sizeof err), 0,
		     "%s", err);
	struct fpu_record r;
	cr_assert_eq(fpt_perfdata_next(&p, &r), 1, "%s", p.err);
	cr_assert_eq(r.type, FPU_REC_PROCESS);
	cr_expect_eq(r.u.process.pid, PID);
	cr_assert_eq(fpt_perfdata_next(&p, &r), 1, "%s", p.err);
	cr_assert_eq(r.type, FPU_REC_SAMPLE);
	const struct fpu_sample *f = &r.u.sample;

	cr_expect_eq(live.tid, TID);
	cr_expect_eq(f->tid, live.tid);
	cr_expect_eq(live.time_ns, TIME);
	cr_expect_eq(f->time_ns, live.time_ns);
	cr_expect_eq(live.weight, PERIOD);
	cr_expect_eq(f->weight, live.weight);
	cr_expect_eq(memcmp(f->regs, live.regs, sizeof live.regs), 0, "the registers differ");
	cr_expect_eq(live.regs[FPU_REG_RIP], IP);
	cr_expect_eq(live.nfp, 3);
	cr_assert_eq(f->nfp, live.nfp);
	for (uint32_t i = 0; i < live.nfp; i++)
		cr_expect_eq(f->fp_pcs[i], live.fp_pcs[i], "frame %u", i);
	cr_expect_eq(f->fp_end, live.fp_end);
	cr_assert_eq(live.nseg, 1);
	cr_assert_eq(f->nseg, 1);
	cr_expect_eq(live.seg[0].lo, SP);
	cr_expect_eq(f->seg[0].lo, live.seg[0].lo);
	cr_expect_eq(live.seg[0].len, DYN);
	cr_expect_eq(f->seg[0].len, live.seg[0].len);
	cr_expect_eq(memcmp(f->seg[0].data, live.seg[0].data, DYN), 0, "the dumps differ");

	fpu_reader_close(&rd);
	unlink(path);
	fpt_perfdata_close(&p);
}

/* perf record's own sample_type has fields the live sampler never asks for;
 * the same parser skips them by the event's attr. */
Test(perf_abi, perf_record_sample_type)
{
	uint8_t mem[1024] __attribute__((aligned(8)));
	struct perf_bytes b = { mem, 0, sizeof mem };
	struct perf_event_attr a = perf_live_attr(DUMP);
	a.sample_type |= PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_ADDR | PERF_SAMPLE_ID |
			 PERF_SAMPLE_READ;
	a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID;
	size_t at = perf_bytes_begin(&b);
	perf_bytes_put64(&b, 77);                            /* IDENTIFIER */
	perf_bytes_put64(&b, IP);
	perf_bytes_put32x2(&b, PID, TID);
	perf_bytes_put64(&b, TIME);
	perf_bytes_put64(&b, 0xadd0);                        /* ADDR */
	perf_bytes_put64(&b, 77);                            /* ID */
	perf_bytes_put32x2(&b, 3, 0);
	perf_bytes_put64(&b, PERIOD);
	perf_bytes_put64(&b, 2);                             /* READ: nr, then {value, id} x 2 */
	perf_bytes_put64(&b, 10); perf_bytes_put64(&b, 77);
	perf_bytes_put64(&b, 20); perf_bytes_put64(&b, 78);
	perf_bytes_put64(&b, 2);
	perf_bytes_put64(&b, (uint64_t)PERF_CONTEXT_USER);
	perf_bytes_put64(&b, IP);
	perf_bytes_put64(&b, PERF_SAMPLE_REGS_ABI_64);
	uint64_t mask = fpt_perf_regs_mask();
	for (unsigned bit = 0; bit < 64; bit++)
		if (mask & (1ull << bit))
			perf_bytes_put64(&b, reg_value(bit));
	perf_bytes_put64(&b, 0);                             /* no stack dump */
	perf_bytes_end(&b, at, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);

	struct fpt_perf_sample s;
	const char *bad = fpt_perf_parse_sample(&a, mem, b.n, &s);
	cr_assert_null(bad, "field %s", bad);
	cr_expect_eq(s.pid, PID);
	cr_expect_eq(s.time, TIME);
	cr_expect_eq(s.cpu, 3);
	cr_expect_eq(s.period, PERIOD);
	cr_expect_eq(s.nr, 2);
	cr_expect_eq(s.nregs, 20);
	cr_expect_eq(s.dump_size, 0);
	cr_expect_null(s.dump);

	/* A READ group that claims more values than the record holds. */
	uint64_t huge = 1ull << 60;
	memcpy(mem + 8 + 8 * 8, &huge, 8);
	cr_expect_str_eq(fpt_perf_parse_sample(&a, mem, b.n, &s), "READ");
}

/* The trailer of a non-sample record: TID and TIME of the sample_id. */
Test(perf_abi, sample_id_trailer)
{
	uint8_t mem[256] __attribute__((aligned(8)));
	struct perf_bytes b = { mem, 0, sizeof mem };
	size_t at = perf_bytes_begin(&b);
	perf_bytes_put32x2(&b, PID, TID);                    /* COMM: pid, tid, comm[16] */
	perf_bytes_put_name(&b, "worker", 16);
	perf_bytes_put32x2(&b, PID, TID);                    /* sample_id: TID, TIME, CPU */
	perf_bytes_put64(&b, TIME);
	perf_bytes_put32x2(&b, 1, 0);
	perf_bytes_end(&b, at, PERF_RECORD_COMM, 0);
	struct perf_event_attr a = perf_live_attr(DUMP);
	struct fpt_perf_sample_id id;
	cr_assert_eq(fpt_perf_parse_sample_id(&a, mem, b.n, &id), 0);
	cr_expect_eq(id.pid, PID);
	cr_expect_eq(id.tid, TID);
	cr_expect_eq(id.time, TIME);
	a.sample_id_all = 0;
	cr_expect_eq(fpt_perf_parse_sample_id(&a, mem, b.n, &id), -1);
}

Test(perf_abi, mmap2_with_build_id)
{
	uint8_t mem[256] __attribute__((aligned(8)));
	struct perf_bytes b = { mem, 0, sizeof mem };
	size_t at = perf_bytes_begin(&b);
	perf_bytes_put32x2(&b, PID, TID);
	perf_bytes_put64(&b, 0x400000);
	perf_bytes_put64(&b, 0x2000);
	perf_bytes_put64(&b, 0x1000);
	mem[b.n] = 20;                            /* build_id_size, 3 bytes, build_id[20] */
	memset(mem + b.n + 1, 0, 3);
	memset(mem + b.n + 4, 0xab, 20);
	b.n += 24;
	perf_bytes_put32x2(&b, 5 /* PROT_READ | PROT_EXEC */, 2 /* MAP_PRIVATE */);
	perf_bytes_put_name(&b, "/usr/bin/prog", 16);
	perf_bytes_end(&b, at, PERF_RECORD_MMAP2, PERF_RECORD_MISC_MMAP_BUILD_ID);
	struct fpt_perf_mmap m;
	cr_assert_eq(fpt_perf_parse_mmap(mem, b.n, &m), 0);
	cr_expect_eq(m.pid, PID);
	cr_expect_eq(m.addr, 0x400000);
	cr_expect_eq(m.len, 0x2000);
	cr_expect_eq(m.pgoff, 0x1000);
	cr_expect(m.exec);
	cr_expect_eq(m.build_id_len, 20);
	cr_expect_eq(m.build_id[19], 0xab);
	cr_expect_str_eq(m.path, "/usr/bin/prog");
	/* A file name that is not terminated inside the record. */
	memset(mem + b.n - 16, 'x', 16);
	cr_expect_eq(fpt_perf_parse_mmap(mem, b.n, &m), -1);
}
