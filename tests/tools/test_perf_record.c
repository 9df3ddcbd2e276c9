/*
 * test_perf_record.c — the perf_event_open sampler (perf-integration/src/perf_record.c)
 * on a small CPU-bound program compiled at test time with frame pointers:
 * main -> pr_a -> pr_b -> pr_spin, and a thread pr_thread -> pr_b -> pr_spin.
 * The recorded file is read back with fpu_reader and checked record by record;
 * the program's own frames are unwound again with libdw and compared.
 *
 * Skipped (with the reason) when perf_event_open is not permitted or no C
 * compiler is installed.  Nothing here depends on timing: the program spins
 * for CPU time, not wall time.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "ci_skip.h"
#include "scratch.h"
#include "fpu_dwarf.h"
#include "fpu_record.h"
#include "perf_record.h"
#include "fpt_perf_abi.h"

static const char prog_src[] =
	"#include <pthread.h>\n"
	"#include <signal.h>\n"
	"#include <stdlib.h>\n"
	"#include <string.h>\n"
	"#include <time.h>\n"
	"#include <sys/resource.h>\n"
	"volatile unsigned long sink;\n"
	"static double cpu_now(void) {\n"
	"  struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);\n"
	"  return ts.tv_sec + ts.tv_nsec / 1e9; }\n"
	"__attribute__((noinline)) void pr_spin(double s) {\n"
	"  double t0 = cpu_now();\n"
	"  while (s < 0 || cpu_now() - t0 < s)\n"
	"    for (unsigned long i = 0; i < 2000000; i++) sink += i ^ (sink >> 3);\n"
	"}\n"
	"__attribute__((noinline)) void pr_b(double s) { pr_spin(s); sink++; }\n"
	"__attribute__((noinline)) void pr_a(double s) { pr_b(s); sink++; }\n"
	"__attribute__((noinline)) void *pr_thread(void *p) { pr_b(*(double *)p); sink++;"
	"  return 0; }\n"
	"int main(int argc, char **argv) {\n"
	"  const char *mode = argc > 1 ? argv[1] : \"\";\n"
	"  double s = argc > 2 ? atof(argv[2]) : 0.5;\n"
	"  if (!strcmp(mode, \"exit3\")) return 3;\n"
	"  if (!strcmp(mode, \"forever\")) s = -1;\n"
	"  pthread_t t; double ts = s;\n"
	"  if (!strcmp(mode, \"thread\")) pthread_create(&t, 0, pr_thread, &ts);\n"
	"  pr_a(s);\n"
	"  if (!strcmp(mode, \"thread\")) pthread_join(t, 0);\n"
	"  if (!strcmp(mode, \"segv\")) {\n"
	"    struct rlimit rl = {0, 0}; setrlimit(RLIMIT_CORE, &rl);\n"
	"    volatile int *volatile p = 0; *p = 1; }\n"
	"  return 0;\n"
	"}\n";

static char tmpdir[256];
static char prog[300];

/* Compile the test program into a fresh temp dir (once per test process). */
static void setup(void)
{
	fpt_need_perf_event();
	fpt_scratch_make(tmpdir, sizeof tmpdir, "perf");
	char src[300], cmd[1024];
	snprintf(src, sizeof src, "%s/prog.c", tmpdir);
	snprintf(prog, sizeof prog, "%s/prog", tmpdir);
	fpt_write_text(src, prog_src);
	snprintf(cmd, sizeof cmd,
		 "cc -O1 -g -fno-omit-frame-pointer -pthread -o '%s' '%s' 2>/dev/null", prog,
		 src);
	fpt_scratch_build(tmpdir, cmd);
}

static void teardown(void)
{
	fpt_scratch_remove(tmpdir);
}

TestSuite(perf_record, .init = setup, .fini = teardown);

/* Everything the file says, gathered while reading it. */
struct summary {
	int first_is_process, last_is_end, nrec;
	struct fpu_rec_process process;  /* its strings are not valid after reading */
	char exe[4096];
	struct fpu_rec_end end;
	uint64_t samples;
	uint32_t tids[8];
	int ntids;
	struct fpu_mapping maps[256];
	size_t nmaps;
	int prog_text_mapped;
};

static void record(const char *mode, const char *secs, const char *out, int *wst,
		   int expect_rc)
{
	char *argv[] = { prog, (char *)mode, (char *)secs, NULL };
	struct fpt_record_opts o = { .hz = 997, .snapshot_max = 16384, .out_path = out };
	char err[512] = "";
	int rc = fpt_perf_record(argv, &o, wst, err, sizeof err);
	cr_assert_eq(rc, expect_rc, "fpt_perf_record: %d (%s)", rc, err);
}

/* Read the file, check every record's own rules, run fn on each sample. */
static void read_all(const char *path, struct summary *s,
		     void (*fn)(const struct fpu_sample *, struct summary *, void *),
		     void *arg)
{
	struct fpu_reader r;
	struct fpu_record rec;
	memset(s, 0, sizeof *s);
	cr_assert_eq(fpu_reader_open(&r, path), 0, "%s", fpu_reader_error(&r));
	int rc, last = 0;
	char *prog_real = realpath(prog, NULL);
	cr_assert_not_null(prog_real);
	while ((rc = fpu_reader_next(&r, &rec)) == 1) {
		if (s->nrec++ == 0)
			s->first_is_process = rec.type == FPU_REC_PROCESS;
		last = (int)rec.type;
		switch (rec.type) {
		case FPU_REC_PROCESS:
			s->process = rec.u.process;
			snprintf(s->exe, sizeof s->exe, "%.*s", (int)rec.u.process.exe_len,
				 rec.u.process.exe);
			break;
		case FPU_REC_END:
			s->end = rec.u.end;
			break;
		case FPU_REC_MAPPING: {
			const struct fpu_rec_mapping *m = &rec.u.mapping;
			if (s->nmaps < 256) {
				/* path points into the mapping of the file: stays valid
				 * until close, so copy it */
				char *p = strndup(m->path, m->path_len);
				s->maps[s->nmaps++] = (struct fpu_mapping){
					.start = m->start, .end = m->end, .pgoff = m->offset,
					.path = p, .prot = m->prot };
			}
			if ((m->prot & PROT_EXEC) && m->path_len == strlen(prog_real) &&
			    !memcmp(m->path, prog_real, m->path_len))
				s->prog_text_mapped = 1;
			break;
		}
		case FPU_REC_SAMPLE: {
			const struct fpu_sample *smp = &rec.u.sample;
			s->samples++;
			int seen = 0;
			for (int i = 0; i < s->ntids; i++)
				seen |= s->tids[i] == smp->tid;
			if (!seen && s->ntids < 8)
				s->tids[s->ntids++] = smp->tid;
			cr_assert_eq(smp->kind, FPU_SAMPLE_CPU);
			cr_assert_gt(smp->nfp, 0, "empty FP chain");
			cr_assert_eq(smp->fp_pcs[0], smp->regs[FPU_REG_RIP],
				     "pcs[0] %#lx != rip %#lx", (unsigned long)smp->fp_pcs[0],
				     (unsigned long)smp->regs[FPU_REG_RIP]);
			cr_assert(smp->fp_end == FPU_END_CLEAN || smp->fp_end == FPU_END_DEPTH);
			cr_assert_eq(smp->nseg, 1, "no stack dump");
			cr_assert_eq(smp->seg[0].lo, smp->regs[FPU_REG_RSP]);
			cr_assert_gt(smp->seg[0].len, 0);
			cr_assert_leq(smp->seg[0].len, 16384);
			cr_assert_gt(smp->weight, 0);
			if (fn)
				fn(smp, s, arg);
			break;
		}
		default:
			break;
		}
	}
	cr_assert_eq(rc, 0, "%s", fpu_reader_error(&r));
	s->last_is_end = last == FPU_REC_END;
	fpu_reader_close(&r);
	free(prog_real);
}

static void free_summary(struct summary *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		free((char *)s->maps[i].path);
}

/* DWARF check of the samples whose leaf is pr_spin. */
struct dwarf_check {
	struct fpu_dwarf *d;
	unsigned spin, chain_ok, dwarf_ok;
};

static const char *fname(struct fpu_dwarf *d, uint64_t pc, int is_return)
{
	struct fpu_symbol sym;
	if (fpu_symbolize(d, pc, is_return, &sym) != 0 || !sym.function)
		return "?";
	return sym.function;
}

static void check_sample(const struct fpu_sample *smp, struct summary *s, void *arg)
{
	(void)s;
	struct dwarf_check *c = arg;
	if (strcmp(fname(c->d, smp->fp_pcs[0], 0), "pr_spin") != 0)
		return;
	c->spin++;
	/* The FP chain names the program's frames: pr_spin, pr_b, then pr_a and
	 * main (main thread) or pr_thread. */
	if (smp->nfp >= 3 && !strcmp(fname(c->d, smp->fp_pcs[1], 1), "pr_b")) {
		const char *f2 = fname(c->d, smp->fp_pcs[2], 1);
		if (!strcmp(f2, "pr_thread") ||
		    (!strcmp(f2, "pr_a") && smp->nfp >= 4 &&
		     !strcmp(fname(c->d, smp->fp_pcs[3], 1), "main")))
			c->chain_ok++;
	}
	/* DWARF (libdw) from the registers and the stack dump agrees on them. */
	uint64_t pcs[128];
	struct fpu_dwarf_result res;
	size_t n = fpu_dwarf_unwind(c->d, smp, pcs, 128, &res);
	if (n >= 3 && smp->nfp >= 3 && !memcmp(pcs, smp->fp_pcs, 3 * sizeof pcs[0]))
		c->dwarf_ok++;
}

Test(perf_record, cpu_bound_program_with_a_thread)
{
	char out[300];
	snprintf(out, sizeof out, "%s/thread.fpt", tmpdir);
	int st = -1;
	record("thread", "0.5", out, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %#x", st);

	struct summary s;
	read_all(out, &s, NULL, NULL);
	cr_assert(s.first_is_process, "PROCESS is not the first record");
	cr_assert(s.last_is_end, "END is not the last record");
	cr_assert_eq(s.end.how, FPU_END_HOW_EXITED);
	cr_assert_eq(s.end.status, 0);
	cr_assert_eq(s.end.samples, s.samples);
	cr_assert_gt(s.samples, 0);
	cr_assert_geq(s.ntids, 2, "samples from %d thread(s) only", s.ntids);
	cr_assert(s.prog_text_mapped, "no MAPPING for the program's text");
	cr_assert_eq(s.process.sample_hz, 997);
	cr_assert_eq(s.process.snapshot_max, 16384);
	cr_assert_gt(s.process.pid, 0);
	char *real = realpath(prog, NULL);
	cr_assert_str_eq(s.exe, real);
	free(real);

	/* Symbolize and unwind the samples again with DWARF. */
	char derr[256];
	struct dwarf_check c = { 0 };
	c.d = fpu_dwarf_new(FPU_DWARF_LIBDW, s.maps, s.nmaps, derr, sizeof derr);
	cr_assert_not_null(c.d, "%s", derr);
	struct summary s2;
	read_all(out, &s2, check_sample, &c);
	fpu_dwarf_free(c.d);
	free_summary(&s2);
	free_summary(&s);
	cr_assert_gt(c.spin, 0, "no sample in pr_spin");
	/* A sample may land on pr_spin's first instruction (before push rbp):
	 * its FP chain lacks pr_b.  Allow a few. */
	unsigned slack = c.spin / 10 + 2;
	cr_assert_geq(c.chain_ok + slack, c.spin, "FP chain names the frames in %u of %u",
		      c.chain_ok, c.spin);
	cr_assert_geq(c.dwarf_ok + slack, c.spin, "DWARF agrees in %u of %u", c.dwarf_ok,
		      c.spin);
}

Test(perf_record, crash_keeps_samples_and_says_signal)
{
	char out[300];
	snprintf(out, sizeof out, "%s/segv.fpt", tmpdir);
	int st = -1;
	record("segv", "0.3", out, &st, 0);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "wait status %#x", st);
	struct summary s;
	read_all(out, &s, NULL, NULL);
	cr_assert(s.first_is_process && s.last_is_end);
	cr_assert_eq(s.end.how, FPU_END_HOW_SIGNALED);
	cr_assert_eq(s.end.status, SIGSEGV);
	cr_assert_gt(s.samples, 0);
	free_summary(&s);
}

Test(perf_record, exit_status_is_recorded)
{
	char out[300];
	snprintf(out, sizeof out, "%s/exit3.fpt", tmpdir);
	int st = -1;
	record("exit3", "0", out, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "wait status %#x", st);
	struct summary s;
	read_all(out, &s, NULL, NULL);
	cr_assert(s.first_is_process && s.last_is_end);
	cr_assert_eq(s.end.how, FPU_END_HOW_EXITED);
	cr_assert_eq(s.end.status, 3);
	cr_assert(s.prog_text_mapped, "no MAPPING for the program's text");
	free_summary(&s);
}

Test(perf_record, missing_command_leaves_no_file)
{
	char out[300];
	snprintf(out, sizeof out, "%s/missing.fpt", tmpdir);
	char *argv[] = { "/nonexistent/fpt-no-such-command", NULL };
	struct fpt_record_opts o = { .hz = 997, .out_path = out };
	char err[512] = "";
	int st = -1;
	cr_assert_eq(fpt_perf_record(argv, &o, &st, err, sizeof err), -1);
	cr_assert(strstr(err, "No such file"), "err: %s", err);
	cr_assert(strstr(err, "fpt-no-such-command"), "err: %s", err);
	cr_assert(!strchr(err, '\n'), "err: %s", err);
	cr_assert_neq(access(out, F_OK), 0, "%s left behind", out);

	/* not in PATH either */
	char *argv2[] = { "fpt-no-such-command-in-path", NULL };
	cr_assert_eq(fpt_perf_record(argv2, &o, &st, err, sizeof err), -1);
	cr_assert(strstr(err, "No such file"), "err: %s", err);
	cr_assert_neq(access(out, F_OK), 0);
}

Test(perf_record, non_executable_is_permission_denied)
{
	char out[300], noexec[300];
	snprintf(out, sizeof out, "%s/noexec.fpt", tmpdir);
	snprintf(noexec, sizeof noexec, "%s/prog.c", tmpdir);   /* mode 0644 */
	char *argv[] = { noexec, NULL };
	struct fpt_record_opts o = { .out_path = out };
	char err[512] = "";
	int st;
	cr_assert_eq(fpt_perf_record(argv, &o, &st, err, sizeof err), -1);
	cr_assert(strstr(err, "Permission denied"), "err: %s", err);
	cr_assert_neq(access(out, F_OK), 0);
}

Test(perf_record, unwritable_output_fails_before_running)
{
	char *argv[] = { prog, "exit3", NULL };
	struct fpt_record_opts o = { .out_path = "/nonexistent-dir/x.fpt" };
	char err[512] = "";
	int st = -1;
	cr_assert_eq(fpt_perf_record(argv, &o, &st, err, sizeof err), -1);
	cr_assert(strstr(err, "/nonexistent-dir/x.fpt: No such file"), "err: %s", err);
}

/* SIGTERM sent to the recorder is forwarded; the file is completed. */
static char sig_out[300];
static void *send_term(void *arg)
{
	(void)arg;
	struct stat sb;
	/* PROCESS is written once forwarding is in place: wait for it */
	while (stat(sig_out, &sb) != 0 || sb.st_size <= FPU_REC_FILE_HEADER_SIZE)
		usleep(10000);
	usleep(100000);
	kill(getpid(), SIGTERM);
	return NULL;
}

Test(perf_record, sigterm_is_forwarded)
{
	snprintf(sig_out, sizeof sig_out, "%s/term.fpt", tmpdir);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, send_term, NULL), 0);
	int st = -1;
	record("forever", "0", sig_out, &st, 0);
	pthread_join(t, NULL);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "wait status %#x", st);
	struct summary s;
	read_all(sig_out, &s, NULL, NULL);
	cr_assert(s.first_is_process && s.last_is_end);
	cr_assert_eq(s.end.how, FPU_END_HOW_SIGNALED);
	cr_assert_eq(s.end.status, SIGTERM);
	free_summary(&s);
}

Test(perf_regs, perf_order_to_dwarf_order)
{
	uint64_t mask = fpt_perf_regs_mask();
	cr_assert_eq(__builtin_popcountll(mask), 20);   /* no DS ES FS GS */
	/* perf order: AX BX CX DX SI DI BP SP IP FLAGS CS SS R8..R15 */
	uint64_t perf[20];
	for (int i = 0; i < 20; i++)
		perf[i] = 100 + (uint64_t)i;
	uint64_t regs[FPU_NREGS];
	fpt_perf_regs_to_dwarf(FPU_REC_MACHINE_X86_64, mask, perf, regs);
	cr_assert_eq(regs[FPU_REG_RAX], 100);
	cr_assert_eq(regs[FPU_REG_RBX], 101);
	cr_assert_eq(regs[FPU_REG_RCX], 102);
	cr_assert_eq(regs[FPU_REG_RDX], 103);
	cr_assert_eq(regs[FPU_REG_RSI], 104);
	cr_assert_eq(regs[FPU_REG_RDI], 105);
	cr_assert_eq(regs[FPU_REG_RBP], 106);
	cr_assert_eq(regs[FPU_REG_RSP], 107);
	cr_assert_eq(regs[FPU_REG_RIP], 108);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(regs[FPU_REG_R8 + i], 112 + (uint64_t)i);
}

Test(perf_regs, stack_size_limits)
{
	struct fpt_record_opts o = { 0 };
	cr_assert_eq(fpt_perf_hz(&o), 997);
	cr_assert_eq(fpt_perf_stack_size(&o), 32768);
	o.snapshot_max = 1000001;
	cr_assert_eq(fpt_perf_stack_size(&o), 65528);
	o.snapshot_max = 8191;
	cr_assert_eq(fpt_perf_stack_size(&o), 8184);
}
