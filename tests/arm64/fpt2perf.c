/*
 * fpt2perf.c — test helper for tests/arm64/perf_data.sh: turns the CPU samples
 * of an arm64 .fpt (fprt's in-process profiler, run under qemu-user, where
 * perf_event_open is not emulated) into the perf.data that
 * `perf record -e cpu-clock --call-graph dwarf` writes on an arm64 machine:
 *
 *   header     PERFILE2, one event, features HEADER_ARCH ("aarch64") and
 *              HEADER_CMDLINE ("fpt2perf -- ARGS": the reader takes the
 *              arguments after "--", as from perf's command line);
 *   attr       cpu-clock, sample_type IP|TID|TIME|CALLCHAIN|PERIOD|REGS_USER|
 *              STACK_USER, sample_regs_user the aarch64 mask (x0..x30, sp, pc:
 *              perf_event_arm64_regs), exclude_callchain_user (dwarf mode: the
 *              kernel gives no user callchain), sample_id_all;
 *   data       COMM (the process, then each thread), MMAP2 (each executable
 *              mapping), SAMPLE (each CPU sample: x19..x30, sp, pc as the
 *              .fpt kept them, x0..x18 zero as the .fpt does not keep them;
 *              the user-stack dump is the snapshot segment holding sp, from sp
 *              up, at most --stack bytes, dyn_size what the segment held).
 *
 * Wall samples (goroutines off CPU) have no perf counterpart and are left out.
 *
 *   fpt2perf IN.fpt OUT.data [--stack BYTES]     (default 8192, perf's)
 * Exit 0; 1 with one line on stderr for bad input or I/O errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/perf_event.h>

#include "fpu_record.h"
#include "fpu_sample.h"

#define FILE_HEADER_SIZE 104
#define FEAT_ARCH 6
#define FEAT_CMDLINE 11
#define A64_PERF_NREGS 33             /* x0..x30, sp, pc */
#define A64_PERF_PC 32
#define SAMPLE_FIXED (8 * 7 + 8 * A64_PERF_NREGS + 8)  /* all but the dump */
#define STACK_MAX ((65535 - SAMPLE_FIXED) & ~7)         /* a record's size is a u16 */

struct out {
	FILE *f;
	const char *path;
	uint64_t off;                         /* bytes written */
};

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fpt2perf: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void put(struct out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		die("%s: write failed: %s", o->path, strerror(errno));
	o->off += n;
}

static void put64(struct out *o, uint64_t v) { put(o, &v, 8); }
static void put32(struct out *o, uint32_t v) { put(o, &v, 4); }

static void put_zeros(struct out *o, size_t n)
{
	static const uint8_t zeros[64];
	while (n) {
		size_t k = n < sizeof zeros ? n : sizeof zeros;
		put(o, zeros, k);
		n -= k;
	}
}

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

static void put_header(struct out *o, uint32_t type, uint16_t misc, size_t size)
{
	struct perf_event_header h = { .type = type, .misc = misc, .size = (uint16_t)size };
	if (size > 65535)
		die("%s: a record of %zu bytes is larger than 64 KiB", o->path, size);
	put(o, &h, sizeof h);
}

/* The sample_id trailer of sample_type TID|TIME (sample_id_all). */
static void put_trailer(struct out *o, uint32_t pid, uint32_t tid, uint64_t time)
{
	put32(o, pid);
	put32(o, tid);
	put64(o, time);
}

static void put_comm(struct out *o, uint32_t pid, uint32_t tid, const char *name,
		     size_t len, uint64_t time)
{
	char comm[16] = { 0 };
	memcpy(comm, name, len < 15 ? len : 15);
	size_t clen = pad8(strlen(comm) + 1);
	put_header(o, PERF_RECORD_COMM, 0, 8 + 8 + clen + 16);
	put32(o, pid);
	put32(o, tid);
	put(o, comm, strlen(comm));
	put_zeros(o, clen - strlen(comm));
	put_trailer(o, pid, tid, time);
}

static void put_mmap2(struct out *o, uint32_t pid, const struct fpu_rec_mapping *m)
{
	size_t plen = pad8(m->path_len + 1);
	put_header(o, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER, 8 + 8 + 24 + 24 + 8 + plen + 16);
	put32(o, pid);
	put32(o, pid);
	put64(o, m->start);
	put64(o, m->end - m->start);
	put64(o, m->offset);
	put_zeros(o, 24);                     /* maj, min, ino, ino_generation */
	put32(o, m->prot);
	put32(o, MAP_PRIVATE);
	put(o, m->path, m->path_len);
	put_zeros(o, plen - m->path_len);
	put_trailer(o, pid, pid, 0);
}

/* The segment of s holding its sp, or NULL. */
static const struct fpu_segment *sp_segment(const struct fpu_sample *s)
{
	uint64_t sp = s->regs[FPU_REG_RSP];
	for (uint32_t i = 0; i < s->nseg; i++)
		if (sp >= s->seg[i].lo && sp - s->seg[i].lo < s->seg[i].len)
			return &s->seg[i];
	return NULL;
}

static void put_sample(struct out *o, uint32_t pid, const struct fpu_sample *s,
		       uint32_t stack)
{
	put_header(o, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER, SAMPLE_FIXED + 8 + stack);
	put64(o, s->regs[FPU_REG_RIP]);       /* IP */
	put32(o, pid);                        /* TID */
	put32(o, s->tid);
	put64(o, s->time_ns);                 /* TIME */
	put64(o, s->weight);                  /* PERIOD */
	put64(o, 0);                          /* CALLCHAIN: none (dwarf mode, user only) */
	put64(o, PERF_SAMPLE_REGS_ABI_64);    /* REGS_USER */
	for (unsigned r = 0; r < A64_PERF_NREGS; r++) {
		int slot = fpu_a64_slot(r == A64_PERF_PC ? FPU_A64_DWARF_PC : r);
		put64(o, slot >= 0 ? s->regs[slot] : 0);
	}
	const struct fpu_segment *g = sp_segment(s);   /* STACK_USER */
	uint64_t dyn = 0;
	put64(o, stack);
	if (g) {
		uint64_t from = s->regs[FPU_REG_RSP] - g->lo;
		dyn = g->len - from < stack ? g->len - from : stack;
		put(o, g->data + from, dyn);
	}
	put_zeros(o, stack - dyn);
	put64(o, dyn);
}

/* perf_header_string: u32 len, then the string NUL-padded to len (64-aligned). */
static void put_string(struct out *o, const char *s, size_t n)
{
	uint32_t len = (uint32_t)((n + 1 + 63) & ~(size_t)63);
	put32(o, len);
	put(o, s, n);
	put_zeros(o, len - n);
}

static uint64_t string_size(size_t n) { return 4 + ((n + 1 + 63) & ~(size_t)63); }

int main(int argc, char **argv)
{
	uint32_t stack = 8192;                /* perf record --call-graph dwarf's default */
	if (argc == 5 && !strcmp(argv[3], "--stack"))
		stack = (uint32_t)strtoul(argv[4], NULL, 10);
	else if (argc != 3)
		die("usage: fpt2perf IN.fpt OUT.data [--stack BYTES]");
	if (stack == 0 || stack > STACK_MAX || stack % 8)
		die("--stack %" PRIu32 ": want a multiple of 8 from 8 to %d", stack, STACK_MAX);

	struct fpu_reader r;
	struct fpu_record rec;
	if (fpu_reader_open(&r, argv[1]) != 0)
		die("%s", fpu_reader_error(&r));
	if (r.machine != FPU_REC_MACHINE_AARCH64)
		die("%s: not an aarch64 recording (%s)", argv[1],
		    fpu_rec_machine_name(r.machine) ? fpu_rec_machine_name(r.machine) : "unknown");
	struct out o = { fopen(argv[2], "wb"), argv[2], 0 };
	if (!o.f)
		die("%s: %s", argv[2], strerror(errno));

	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof a, .config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			       PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_PERIOD |
			       PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER,
		.sample_regs_user = (1ull << A64_PERF_NREGS) - 1,
		.sample_stack_user = stack,
		.disabled = 1, .inherit = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.mmap = 1, .comm = 1, .freq = 1, .enable_on_exec = 1, .task = 1,
		.sample_id_all = 1, .mmap2 = 1, .exclude_callchain_user = 1,
	};
	const uint64_t attrs_off = FILE_HEADER_SIZE, attr_size = sizeof a + 16;
	put_zeros(&o, FILE_HEADER_SIZE);      /* written last, with the sizes */
	put(&o, &a, sizeof a);
	put64(&o, 0);                         /* its ids: none (one event) */
	put64(&o, 0);
	const uint64_t data_off = o.off;

	/* The cmdline as it came from PROCESS, kept for HEADER_CMDLINE. */
	char *cmdline = NULL;
	uint32_t cmdline_len = 0, pid = 0;
	uint64_t samples = 0, wall = 0;
	int rc;
	while ((rc = fpu_reader_next(&r, &rec)) == 1) {
		switch (rec.type) {
		case FPU_REC_PROCESS: {
			const struct fpu_rec_process *p = &rec.u.process;
			const char *base = strrchr(p->exe, '/');
			base = base ? base + 1 : p->exe;
			pid = p->pid;
			if (p->sample_hz)
				a.sample_freq = p->sample_hz;
			cmdline_len = p->cmdline_len;
			if (!(cmdline = malloc(cmdline_len + 1)))
				die("out of memory");
			memcpy(cmdline, p->cmdline, cmdline_len);
			put_comm(&o, pid, pid, base, strlen(base), p->start_monotonic_ns);
			break;
		}
		case FPU_REC_THREAD:
			put_comm(&o, pid, rec.u.thread.tid, rec.u.thread.name,
				 rec.u.thread.name_len, rec.u.thread.time_ns);
			break;
		case FPU_REC_MAPPING:
			if (rec.u.mapping.prot & PROT_EXEC)
				put_mmap2(&o, pid, &rec.u.mapping);
			break;
		case FPU_REC_SAMPLE:
			if (rec.u.sample.kind != FPU_SAMPLE_CPU) {
				wall++;
				break;
			}
			put_sample(&o, pid, &rec.u.sample, stack);
			samples++;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		die("%s", fpu_reader_error(&r));
	fpu_reader_close(&r);
	const uint64_t data_size = o.off - data_off;

	/* Features: the section table, one {offset, size} per set bit in order,
	 * then the sections. */
	static const char arch[] = "aarch64";
	uint32_t nargs = 2;
	for (uint32_t i = 0; i < cmdline_len; i++)
		nargs += cmdline[i] == 0;
	uint64_t cmd_size = 4 + string_size(8) + string_size(2);
	for (uint32_t i = 0; i < cmdline_len; i += (uint32_t)strlen(cmdline + i) + 1)
		cmd_size += string_size(strlen(cmdline + i));
	const uint64_t arch_off = o.off + 32, cmd_off = arch_off + string_size(strlen(arch));
	put64(&o, arch_off);
	put64(&o, string_size(strlen(arch)));
	put64(&o, cmd_off);
	put64(&o, cmd_size);
	put_string(&o, arch, strlen(arch));
	put32(&o, nargs);
	put_string(&o, "fpt2perf", 8);
	put_string(&o, "--", 2);
	for (uint32_t i = 0; i < cmdline_len; i += (uint32_t)strlen(cmdline + i) + 1)
		put_string(&o, cmdline + i, strlen(cmdline + i));
	free(cmdline);

	uint64_t header[13] = { 0 };
	memcpy(&header[0], "PERFILE2", 8);
	header[1] = FILE_HEADER_SIZE;
	header[2] = attr_size;
	header[3] = attrs_off;
	header[4] = attr_size;
	header[5] = data_off;
	header[6] = data_size;
	header[9] = (1ull << FEAT_ARCH) | (1ull << FEAT_CMDLINE);   /* adds_features[0] */
	a.size = sizeof a;
	if (fseek(o.f, 0, SEEK_SET) != 0)
		die("%s: seek failed: %s", o.path, strerror(errno));
	put(&o, header, sizeof header);
	put(&o, &a, sizeof a);                /* sample_freq from PROCESS */
	if (fclose(o.f) != 0)
		die("%s: close failed: %s", o.path, strerror(errno));
	printf("fpt2perf: %s: %" PRIu64 " cpu samples of pid %u (%" PRIu64 " wall samples left "
	       "out), aarch64 registers, %u-byte stack dumps\n", argv[2], samples, pid, wall,
	       stack);
	return 0;
}
