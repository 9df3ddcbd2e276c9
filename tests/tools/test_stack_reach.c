/*
 * test_stack_reach.c — the rule by which `fptrace record` trims a user stack
 * dump to what unwinding can reach (perf-integration/src/stack_reach.c).
 *
 * live_*: samples of this process's own threads (SIGPROF, the registers from
 * the ucontext), each copied once as far as its stack mapping goes and once
 * trimmed by the rule (the main thread's to start_stack, another's to its
 * struct pthread); libdw and libunwind must unwind both to the very same
 * frames, down to the start-up frames, with the same end.  A rule that cuts
 * one reachable byte (the return address into _start) fails them.
 *
 * recorded_*: the recorder applies the rule: a program's main-thread samples
 * end at its start_stack, not at the top of [stack] with its environment.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ci_skip.h"
#include "scratch.h"
#include "fpt_stack_reach.h"
#include "fpu_dwarf.h"
#include "fpu_record.h"
#include "perf_record.h"

#define COPY_MAX (1u << 20)
#define MAXPCS 128

static struct fpu_sample sample;
static uint8_t whole_copy[COPY_MAX];
static uint64_t copy_hi;        /* the top of the mapping that holds the stack */
static volatile int sampled;

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	fpu_regs_from_ucontext(sample.regs, uc);
	uint64_t sp = sample.regs[FPU_REG_RSP];
	uint64_t len = copy_hi - sp;
	if (sp < copy_hi && len <= COPY_MAX)
		fpu_copy_live_stack(whole_copy, (const uint8_t *)(uintptr_t)sp, len);
	else
		len = 0;
	sample.nseg = 1;
	sample.seg[0] = (struct fpu_segment){ .lo = sp, .len = (uint32_t)len,
					      .kind = FPU_REGION_THREAD, .data = whole_copy };
	sampled = 1;
}

struct span_find {
	uint64_t addr, lo, hi;
};

static int find_mapping(const struct fpu_maps_line *m, void *arg)
{
	struct span_find *f = arg;
	if (f->addr >= m->start && f->addr < m->end) {
		f->lo = m->start;
		f->hi = m->end;
		return 1;
	}
	return 0;
}

/* A few frames of our own, so the chain is more than the test runner's. */
__attribute__((noinline)) static void take_sample(int depth)
{
	if (depth > 0) {
		take_sample(depth - 1);
		__asm__ volatile("" ::: "memory");   /* not a tail call */
		return;
	}
	char line[512];
	struct span_find f = { .addr = (uint64_t)(uintptr_t)__builtin_frame_address(0) };
	cr_assert_eq(fpu_maps_each(0, line, sizeof line, find_mapping, &f), 1,
		     "no mapping holds this thread's stack (%#lx)", (unsigned long)f.addr);
	copy_hi = f.hi;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGPROF, &sa, NULL);
	sampled = 0;
	pthread_kill(pthread_self(), SIGPROF);
	cr_assert(sampled, "SIGPROF was not delivered");
	cr_assert_gt(sample.seg[0].len, 0, "stack [%#lx, %#lx) not copied",
		     (unsigned long)sample.regs[FPU_REG_RSP], (unsigned long)copy_hi);
}

static const char *fn_name(struct fpu_dwarf *d, uint64_t pc, int is_return)
{
	struct fpu_symbol sym;
	if (fpu_symbolize(d, pc, is_return, &sym) != 0 || !sym.function)
		return "?";
	return sym.function;
}

/* Unwind the sample whole and trimmed with backend b: the same frames. */
static void same_unwind(enum fpu_dwarf_backend b, uint32_t kept, const char *root)
{
	size_t nmaps;
	char err[256];
	struct fpu_mapping *maps = fpu_mappings_from_proc(0, &nmaps);
	cr_assert_not_null(maps);
	struct fpu_dwarf *d = fpu_dwarf_new(b, maps, nmaps, err, sizeof err);
	free(maps);
	cr_assert_not_null(d, "%s", err);

	uint64_t whole[MAXPCS], trimmed[MAXPCS];
	struct fpu_dwarf_result rw, rt;
	struct fpu_sample s = sample;
	size_t nw = fpu_dwarf_unwind(d, &s, whole, MAXPCS, &rw);
	s.seg[0].len = kept;
	size_t nt = fpu_dwarf_unwind(d, &s, trimmed, MAXPCS, &rt);

	const char *backend = fpu_dwarf_backend_name(b);
	/* The whole copy unwinds to the start-up frames: the test means something. */
	cr_assert_gt(nw, 4, "%s: %zu frames from the whole copy", backend, nw);
	cr_assert_str_eq(fn_name(d, whole[nw - 1], 1), root,
			 "%s: the whole copy's outermost frame is %s (%#lx), not %s (end %d: %s)",
			 backend, fn_name(d, whole[nw - 1], 1), (unsigned long)whole[nw - 1], root,
			 rw.end, rw.reason);
	for (size_t i = 0; i < nw && i < nt; i++)
		cr_assert_eq(whole[i], trimmed[i], "%s: frame %zu: %#lx (%s) whole, %#lx (%s) "
			     "trimmed to %u of %u bytes", backend, i, (unsigned long)whole[i],
			     fn_name(d, whole[i], i > 0), (unsigned long)trimmed[i],
			     fn_name(d, trimmed[i], i > 0), kept, sample.seg[0].len);
	cr_assert_eq(nt, nw, "%s: %zu frames trimmed to %u bytes (ends %d: %s), %zu from the "
		     "whole %u (ends %d: %s)", backend, nt, kept, rt.end, rt.reason, nw,
		     sample.seg[0].len, rw.end, rw.reason);
	cr_assert_eq(rt.end, rw.end, "%s: trimmed ends %d (%s), whole %d (%s)", backend, rt.end,
		     rt.reason, rw.end, rw.reason);
	fpu_dwarf_free(d);
}

static uint32_t keep_for_this_process(void)
{
	struct fpt_stack_reach r = { 0 };
	uint32_t kept = fpt_stack_keep(&r, (uint32_t)getpid(), sample.regs[FPU_REG_RSP],
				       whole_copy, sample.seg[0].len);
	cr_assert_eq(r.reads, 1, "read /proc/PID/maps %llu times", (unsigned long long)r.reads);
	fpt_stack_reach_free(&r);
	return kept;
}

Test(stack_reach, live_main_thread_unwinds_the_same_trimmed)
{
	/* Criterion runs a test on its worker's main thread: [stack]. */
	cr_assert_eq(syscall(SYS_gettid), getpid(), "not on the main thread");
	take_sample(6);
	uint64_t start = fpt_proc_start_stack(0);
	uint64_t sp = sample.regs[FPU_REG_RSP];
	cr_assert(start > sp && start < copy_hi, "start_stack %#lx not in [sp %#lx, top %#lx)",
		  (unsigned long)start, (unsigned long)sp, (unsigned long)copy_hi);
	uint32_t kept = keep_for_this_process();
	/* Kept: the frames up to start_stack and argc, argv[0]; not argv's
	 * strings, the environment or the auxiliary vector above. */
	cr_assert_eq(sp + kept, start + FPT_STACK_START_MARGIN,
		     "kept [%#lx, %#lx), start_stack %#lx, [stack] top %#lx", (unsigned long)sp,
		     (unsigned long)(sp + kept), (unsigned long)start, (unsigned long)copy_hi);
	same_unwind(FPU_DWARF_LIBDW, kept, "_start");
	same_unwind(FPU_DWARF_LIBUNWIND, kept, "_start");
}

static uint64_t thread_self;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_self = (uint64_t)pthread_self();   /* glibc: its struct pthread, the TCB */
	take_sample(6);
	return NULL;
}

Test(stack_reach, live_thread_unwinds_the_same_trimmed)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, thread_main, NULL), 0);
	pthread_join(t, NULL);
	uint32_t kept = keep_for_this_process();
	uint64_t sp = sample.regs[FPU_REG_RSP];
	/* A glibc thread's frames end below its struct pthread, which glibc
	 * puts at the top of the stack mapping (on x86-64: found by its TCB). */
	cr_assert(thread_self > sp && thread_self < copy_hi, "struct pthread %#lx not in the "
		  "thread's stack [%#lx, %#lx)", (unsigned long)thread_self, (unsigned long)sp,
		  (unsigned long)copy_hi);
	cr_assert_eq(sp + kept, thread_self, "kept [%#lx, %#lx), struct pthread at %#lx, the "
		     "stack mapping ends at %#lx", (unsigned long)sp, (unsigned long)(sp + kept),
		     (unsigned long)thread_self, (unsigned long)copy_hi);
	same_unwind(FPU_DWARF_LIBDW, kept, "__clone3");
	same_unwind(FPU_DWARF_LIBUNWIND, kept, "__clone3");
}

Test(stack_reach, rule_keeps_what_it_cannot_place)
{
	/* sp in no known mapping, or above the start frame: the copy stays whole */
	cr_assert_eq(fpt_stack_keep_rule(0x5000, 4096, 0, 0, 0), 4096);
	cr_assert_eq(fpt_stack_keep_rule(0x5000, 4096, 0x1000, 0x4000, 0), 4096);
	cr_assert_eq(fpt_stack_keep_rule(0x7f00, 4096, 0x1000, 0x9000, 0x7000), 4096);
	/* never more than the copy */
	cr_assert_eq(fpt_stack_keep_rule(0x1000, 64, 0x1000, 0x9000, 0), 64);
	cr_assert_eq(fpt_stack_keep_rule(0x1000, 65536, 0x1000, 0x9000, 0), 0x8000);
	cr_assert_eq(fpt_stack_keep_rule(0x1000, 65536, 0x1000, 0x9000, 0x2000),
		     0x1000 + FPT_STACK_START_MARGIN);
}

/* The recorder trims: every main-thread sample of a program ends at its
 * start_stack (+ the margin), which the program writes to a file. */
Test(stack_reach, recorded_main_thread_dumps_end_at_start_stack)
{
	fpt_need_perf_event();
	char dir[32];
	fpt_scratch_make(dir, sizeof dir, "reach");
	char src[64], prog[64], out[64], startf[64], cmd[512];
	snprintf(src, sizeof src, "%s/p.c", dir);
	snprintf(prog, sizeof prog, "%s/p", dir);
	snprintf(out, sizeof out, "%s/p.fpt", dir);
	snprintf(startf, sizeof startf, "%s/start", dir);
	fpt_write_text(src, "#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n#include <time.h>\n"
	      "volatile unsigned long sink;\n"
	      "__attribute__((noinline)) static void spin(int d) { if (d) { spin(d - 1); sink++;"
	      " return; } struct timespec ts; double t0 = 0, t;\n"
	      "  for (;;) { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); t = ts.tv_sec + ts.tv_nsec"
	      " / 1e9; if (!t0) t0 = t; if (t - t0 > 0.2) break;\n"
	      "    for (int i = 0; i < 100000; i++) sink += i; } }\n"
	      "int main(int argc, char **argv) { char b[2048]; FILE *s = fopen(\"/proc/self/stat\","
	      " \"r\"); if (!s || !fgets(b, sizeof b, s)) return 1; char *p = strrchr(b, ')') + 2;"
	      " for (int i = 3; i < 28; i++) p = strchr(p, ' ') + 1;\n"
	      "  FILE *o = fopen(argv[1], \"w\"); fprintf(o, \"%llu\\n\", strtoull(p, 0, 10));"
	      " fclose(o); spin(8); return 0; }\n");
	snprintf(cmd, sizeof cmd, "cc -O1 -g -fno-omit-frame-pointer -o %s %s", prog, src);
	fpt_scratch_build(dir, cmd);

	char *argv[] = { prog, startf, NULL };
	struct fpt_record_opts o = { .hz = 997, .snapshot_max = 32768, .out_path = out };
	char err[512] = "";
	int st;
	cr_assert_eq(fpt_perf_record(argv, &o, &st, err, sizeof err), 0, "%s", err);
	FILE *f = fopen(startf, "r");
	unsigned long long start = 0;
	cr_assert(f && fscanf(f, "%llu", &start) == 1 && start, "no start_stack from %s", prog);
	fclose(f);

	struct fpu_reader r;
	struct fpu_record rec;
	cr_assert_eq(fpu_reader_open(&r, out), 0, "%s", fpu_reader_error(&r));
	unsigned samples = 0;
	uint32_t pid = 0;
	while (fpu_reader_next(&r, &rec) == 1) {
		if (rec.type == FPU_REC_PROCESS)
			pid = rec.u.process.pid;
		if (rec.type != FPU_REC_SAMPLE || rec.u.sample.tid != pid || !rec.u.sample.nseg)
			continue;
		const struct fpu_segment *g = &rec.u.sample.seg[0];
		samples++;
		cr_assert_leq(g->lo + g->len, start + FPT_STACK_START_MARGIN,
			      "a dump [%#llx, %#llx) goes past start_stack %#llx + %d",
			      (unsigned long long)g->lo, (unsigned long long)(g->lo + g->len),
			      start, FPT_STACK_START_MARGIN);
	}
	fpu_reader_close(&r);
	cr_assert_gt(samples, 20, "%u main-thread samples", samples);
	fpt_scratch_remove(dir);
}
