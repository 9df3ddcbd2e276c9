/*
 * shapes.c — an arm64 program (run under qemu-user by tests/arm64/leaf_shapes.sh)
 * that writes OUT.fpt: one CPU sample stopped in each aarch64 leaf shape of
 * shapes.S, with the registers and the stack the code would have there, and
 * the frame-pointer chain walked in that stack by libfpunwind's walker, as
 * fprt's profiler records it.  The host's fptrace check must tell them apart
 * (the classes in leaf_shapes.sh).  Samples are built, not caught: a test of
 * the comparator's rules cannot wait for a timer to land on one instruction.
 *
 * The stack of every sample, upwards from sp:
 *   [shape's frame, if it has one: {saved x29 or x19, saved x30 = ret_in_caller}]
 *   caller_record: ls_caller's frame record {0, ret_in_outer} (ls_outer set
 *                  x29 = 0: the chain's clean end)
 *   ls_outer's frame {0, 0} (CFI: x30 undefined, DWARF's outermost frame)
 *
 *   leaf_shapes OUT.fpt      exit 0; 1 with one line on stderr
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fpu_record.h"
#include "fpu_sample.h"
#include "fpunwind.h"

/* shapes.S's ls_pcs, in this order. */
enum ls_pc {
	RET_IN_OUTER, RET_IN_CALLER, LEAF_PC, LEAFSTACK_PC, SETUP_PC, RECORD_PC,
	AFTER_LDP_PC, NORECORD_PC, X29DATA_PC, NPCS
};
extern const uint64_t ls_pcs[NPCS];

#define STACK_WORDS 64
#define CALLER_RECORD 56                  /* word index of ls_caller's record */
#define X19_VALUE 0x1919u                 /* ls_norecord's saved x19 */
#define X29_DATA 0x1234u                  /* ls_x29data's x29 */

struct shape {
	const char *name;
	enum ls_pc pc;
	unsigned frame_words;                 /* the shape's stack below caller_record */
	int record_at_sp;                     /* {x29 of the caller, ret_in_caller} at sp */
	int x29_is_sp;                        /* mov x29, sp done */
};

static const struct shape shapes[] = {
	{ "leaf", LEAF_PC, 0, 0, 0 },
	{ "leafstack", LEAFSTACK_PC, 4, 0, 0 },
	{ "setup", SETUP_PC, 2, 1, 0 },
	{ "record", RECORD_PC, 2, 1, 1 },
	{ "after_ldp", AFTER_LDP_PC, 0, 0, 0 },
	{ "norecord", NORECORD_PC, 2, 0, 0 },
	{ "x29data", X29DATA_PC, 2, 1, 0 },
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "leaf_shapes: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void put(struct fpu_writer *w, const struct fpu_record *rec, const char *what)
{
	if (fpu_writer_put(w, rec) != 0)
		die("cannot write the record", what);
}

/* The executable mappings of this process, for fptrace's DWARF session. */
static int put_mapping(const struct fpu_maps_line *m, void *arg)
{
	if (!(m->prot & PROT_EXEC) || m->path[0] != '/')
		return 0;
	struct fpu_record rec = { .type = FPU_REC_MAPPING };
	rec.u.mapping = (struct fpu_rec_mapping){ .start = m->start, .end = m->end,
						  .offset = m->pgoff, .prot = m->prot,
						  .path_len = (uint32_t)m->path_len,
						  .path = m->path };
	put(arg, &rec, m->path);
	return 0;
}

/* The registers and stack at shape sh's pc, and the FP chain walked in them. */
static void put_sample(struct fpu_writer *w, const struct shape *sh, uint64_t *stack,
		       uint64_t time_ns)
{
	uint64_t *record = &stack[CALLER_RECORD];
	memset(stack, 0, STACK_WORDS * sizeof *stack);
	record[0] = 0;
	record[1] = ls_pcs[RET_IN_OUTER];
	uint64_t *sp = record - sh->frame_words;
	uint64_t x29 = (uint64_t)(uintptr_t)record, x30 = ls_pcs[RET_IN_CALLER];
	if (sh->record_at_sp) {
		sp[0] = x29;
		sp[1] = ls_pcs[RET_IN_CALLER];
	}
	if (sh->pc == NORECORD_PC) {
		sp[0] = X19_VALUE;                /* stp x19, x30 */
		sp[1] = ls_pcs[RET_IN_CALLER];
		x30 = ls_pcs[NORECORD_PC];        /* its bl returned here */
	}
	if (sh->pc == X29DATA_PC)
		x29 = X29_DATA;
	if (sh->x29_is_sp)
		x29 = (uint64_t)(uintptr_t)sp;

	static uint64_t pcs[16];
	struct fpu_record rec = { .type = FPU_REC_SAMPLE };
	struct fpu_sample *s = &rec.u.sample;
	uint64_t lo = (uint64_t)(uintptr_t)sp, hi = (uint64_t)(uintptr_t)&stack[STACK_WORDS];
	s->time_ns = time_ns;
	s->kind = FPU_SAMPLE_CPU;
	s->tid = (uint32_t)getpid();
	s->sp_kind = FPU_REGION_THREAD;
	s->weight = 1000000;
	s->regs[FPU_REG_RIP] = ls_pcs[sh->pc];
	s->regs[FPU_REG_RSP] = lo;
	s->regs[FPU_REG_RBP] = x29;
	s->regs[fpu_a64_slot(30)] = x30;
	s->nseg = 1;
	s->seg[0] = (struct fpu_segment){ .lo = lo, .len = (uint32_t)(hi - lo),
					  .kind = FPU_REGION_THREAD, .owner = s->tid,
					  .region_hi = hi, .data = (const uint8_t *)sp };

	struct fpu_region r = { .lo = lo, .hi = hi, .owner = s->tid,
				.kind = FPU_REGION_THREAD, .data = sp };
	struct fpu_ctx c = { .fixed = &r, .nfixed = 1 };
	struct fpu_walk_result res;
	uintptr_t walked[16];
	size_t n = fpu_walk_from(&c, ls_pcs[sh->pc], lo, x29, walked, 16, &res);
	for (size_t i = 0; i < n; i++)
		pcs[i] = walked[i];
	s->nfp = (uint32_t)n;
	s->fp_pcs = pcs;
	s->fp_end = res.end;
	s->fp_end_fp = res.fp;
	s->fp_end_pc = res.pc;
	s->fp_end_from = res.from.kind;
	s->fp_end_to = res.to.kind;
	s->fp_crossings = res.crossings;
	put(w, &rec, sh->name);
	printf("%-10s pc %#lx sp %#lx x29 %#lx x30 %#lx: FP chain of %zu, %s\n", sh->name,
	       (unsigned long)ls_pcs[sh->pc], (unsigned long)lo, (unsigned long)x29,
	       (unsigned long)x30, n, fpu_end_name(res.end));
}

int main(int argc, char **argv)
{
	/* On this thread's stack: the comparator knows an address in the
	 * program's image (a static array) for no frame pointer. */
	uint64_t stack[STACK_WORDS] __attribute__((aligned(16)));
	static char exe[4096], line[4096];
	struct fpu_writer w;
	struct timespec now;

	if (argc != 2)
		die("usage: leaf_shapes OUT.fpt", NULL);
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len <= 0)
		die("cannot read /proc/self/exe", NULL);
	exe[len] = 0;
	if (fpu_writer_open(&w, argv[1]) != 0)
		die("cannot create", argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t t = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;

	struct fpu_record rec = { .type = FPU_REC_PROCESS };
	rec.u.process = (struct fpu_rec_process){ .pid = (uint32_t)getpid(), .sample_hz = 1000,
						  .start_monotonic_ns = t,
						  .exe_len = (uint32_t)len, .exe = exe,
						  .cmdline_len = (uint32_t)len + 1, .cmdline = exe };
	put(&w, &rec, "PROCESS");
	if (fpu_maps_each(0, line, sizeof line, put_mapping, &w) != 0)
		die("cannot read /proc/self/maps", NULL);
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		put_sample(&w, &shapes[i], stack, t + i);
	rec = (struct fpu_record){ .type = FPU_REC_END };
	rec.u.end = (struct fpu_rec_end){ .how = FPU_END_HOW_EXITED, .status = 0,
					  .time_ns = t + 100,
					  .samples = sizeof shapes / sizeof shapes[0] };
	put(&w, &rec, "END");
	if (fpu_writer_close(&w) != 0)
		die("cannot close", argv[1]);
	return 0;
}
