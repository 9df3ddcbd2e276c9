/*
 * test_perfdata.c — the perf.data reader (perf-integration/src/perfdata.c) on files
 * made by the real `perf record` from a small program compiled at test time:
 * main -> pd_a -> pd_b -> pd_spin, built once with frame pointers everywhere
 * and once with pd_b in its own object built with -fomit-frame-pointer.  The
 * samples are read back, unwound with libdw and compared with their FP chain
 * (walked inside each sample's stack dump); then truncated and bit-flipped
 * copies of a small real file must read or fail with an offset, never crash.
 *
 * Skipped (with the reason) when perf is missing or cannot record here, or no
 * C compiler is installed.  Nothing depends on timing: the program spins for
 * CPU time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ci_skip.h"
#include "scratch.h"
#include "fpu_dwarf.h"
#include "perfdata.h"

static const char prog_main[] =
	"#include <stdlib.h>\n"
	"#include <time.h>\n"
	"volatile unsigned long sink;\n"
	"void pd_b(double s);\n"
	"static double cpu_now(void) {\n"
	"  struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);\n"
	"  return ts.tv_sec + ts.tv_nsec / 1e9; }\n"
	"__attribute__((noinline)) void pd_spin(double s) {\n"
	"  double t0 = cpu_now();\n"
	"  while (cpu_now() - t0 < s)\n"
	"    for (unsigned long i = 0; i < 300000; i++) sink += i ^ (sink >> 3);\n"
	"}\n"
	"__attribute__((noinline)) void pd_a(double s) { pd_b(s); sink++; }\n"
	"int main(int argc, char **argv) { pd_a(argc > 1 ? atof(argv[1]) : 1.0); return 0; }\n";

static const char prog_b[] =
	"extern volatile unsigned long sink;\n"
	"void pd_spin(double s);\n"
	"__attribute__((noinline)) void pd_b(double s) { pd_spin(s); sink++;"
	" __asm__ volatile(\"\" ::: \"memory\"); }\n";

static char tmpdir[256];

/* Build prog (all frame pointers) and prog_nofp (pd_b without). */
static void setup(void)
{
	char cmd[2048];
	fpt_scratch_make(tmpdir, sizeof tmpdir, "perfdata");
	fpt_need_perf_record(tmpdir);
	char path[400];
	snprintf(path, sizeof path, "%s/main.c", tmpdir);
	fpt_write_text(path, prog_main);
	snprintf(path, sizeof path, "%s/b.c", tmpdir);
	fpt_write_text(path, prog_b);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && cc -O1 -g -fno-omit-frame-pointer -c main.c -o main.o && "
		 "cc -O1 -g -fno-omit-frame-pointer -c b.c -o b_fp.o && "
		 "cc -O1 -g -fomit-frame-pointer -c b.c -o b_nofp.o && "
		 "cc main.o b_fp.o -o prog && cc main.o b_nofp.o -o prog_nofp 2>/dev/null",
		 tmpdir);
	fpt_scratch_build(tmpdir, cmd);
}

static void teardown(void)
{
	fpt_scratch_remove(tmpdir);
}

TestSuite(perfdata, .init = setup, .fini = teardown, .timeout = 240);

/* perf record OPTS -o OUT -- PROG SECS, in tmpdir. */
static void perf_record(const char *opts, const char *out, const char *prog, const char *secs)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cd '%s' && perf record -q -e cpu-clock %s -o %s -- ./%s %s "
		 ">perf.log 2>&1", tmpdir, opts, out, prog, secs);
	cr_assert_eq(system(cmd), 0, "%s failed (see %s/perf.log)", cmd, tmpdir);
}

static struct fpt_perfdata *open_file(const char *name)
{
	static struct fpt_perfdata p;   /* large: not on the stack */
	char path[400], err[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	cr_assert(fpt_is_perfdata(path), "%s has no perf.data magic", path);
	cr_assert_eq(fpt_perfdata_open(&p, path, err, sizeof err), 0, "%s", err);
	return &p;
}

/* What one file held, with every sample compared by libdw. */
struct result {
	uint64_t samples, with_stack, chain_ok, outside_snapshot;
	uint64_t classes[FPU_CLASS_COUNT];
	uint64_t malignant_in_prog;      /* culprit in the test program */
	uint64_t skips_at_b;             /* fp-skips blamed on pd_b, hiding pd_a */
	uint32_t pid;
	int first_is_process, last_is_end, prog_mapped;
	char first_bad[256];
};

static const char *fn_of(struct fpu_dwarf *d, uint64_t pc, int is_return, const char **mod)
{
	struct fpu_symbol sym;
	*mod = NULL;
	if (fpu_symbolize(d, pc, is_return, &sym) != 0)
		return "?";
	*mod = sym.module;
	return sym.function ? sym.function : "?";
}

static int in_prog(const char *mod)
{
	return mod && strstr(mod, tmpdir) == mod;
}

/* Do the FP pcs hold pd_spin, pd_b, pd_a, main in this order (allowing skips)? */
static int chain_names(struct fpu_dwarf *d, const struct fpu_sample *s, int skip_b)
{
	static const char *const want[] = { "pd_spin", "pd_b", "pd_a", "main" };
	unsigned k = 0;
	for (uint32_t i = 0; i < s->nfp && k < 4; i++) {
		const char *mod, *fn = fn_of(d, s->fp_pcs[i], i > 0, &mod);
		if (skip_b && k == 2 && !strcmp(want[k], "pd_a"))
			k++;   /* pd_b without a frame hides pd_a */
		if (!strcmp(fn, want[k]))
			k++;
	}
	return k == 4;
}

static void analyse(const char *name, int skip_b, struct result *res)
{
	struct fpt_perfdata *p = open_file(name);
	struct fpu_record rec;
	struct fpu_mapping maps[256];
	size_t nmaps = 0;
	int rc, n = 0, last = 0;

	memset(res, 0, sizeof *res);
	/* Pass 1: the mappings (the reader is cheap to reopen). */
	while ((rc = fpt_perfdata_next(p, &rec)) > 0) {
		if (n++ == 0)
			res->first_is_process = rec.type == FPU_REC_PROCESS;
		if (rec.type == FPU_REC_PROCESS)
			res->pid = rec.u.process.pid;
		last = (int)rec.type;
		if (rec.type != FPU_REC_MAPPING || nmaps == 256)
			continue;
		const struct fpu_rec_mapping *m = &rec.u.mapping;
		maps[nmaps++] = (struct fpu_mapping){ .start = m->start, .end = m->end,
						      .pgoff = m->offset, .prot = m->prot,
						      .path = strndup(m->path, m->path_len) };
		res->prog_mapped |= in_prog(maps[nmaps - 1].path);
	}
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(p));
	res->last_is_end = last == FPU_REC_END;
	fpt_perfdata_close(p);

	char err[256];
	struct fpu_dwarf *d = fpu_dwarf_new(FPU_DWARF_LIBDW, maps, nmaps, err, sizeof err);
	cr_assert_not_null(d, "%s", err);
	p = open_file(name);
	static uint64_t pcs[512];
	while ((rc = fpt_perfdata_next(p, &rec)) > 0) {
		if (rec.type != FPU_REC_SAMPLE)
			continue;
		const struct fpu_sample *s = &rec.u.sample;
		res->samples++;
		cr_assert_gt(s->nfp, 0);
		cr_assert_eq(s->fp_pcs[0], s->regs[FPU_REG_RIP]);
		if (s->nseg) {
			res->with_stack++;
			cr_assert_eq(s->seg[0].lo, s->regs[FPU_REG_RSP]);
		}
		const char *mod;
		if (!strcmp(fn_of(d, s->fp_pcs[0], 0, &mod), "pd_spin") && chain_names(d, s, skip_b))
			res->chain_ok++;
		struct fpu_dwarf_result dres;
		struct fpu_verdict v;
		size_t nd = fpu_dwarf_unwind(d, s, pcs, 512, &dres);
		fpu_compare(s, pcs, nd, &dres, &v);
		res->classes[v.cls]++;
		res->outside_snapshot += dres.read_outside_snapshot;
		if (!fpu_class_is_malignant(v.cls))
			continue;
		const char *fn = fn_of(d, v.culprit_pc, v.culprit_is_return, &mod);
		if (in_prog(mod)) {
			res->malignant_in_prog++;
			if (!res->first_bad[0])
				snprintf(res->first_bad, sizeof res->first_bad, "%s at %s",
					 fpu_class_name(v.cls), fn);
		}
		const char *hidden = v.missing_pc ? fn_of(d, v.missing_pc, 1, &mod) : "";
		if (v.cls == FPU_CLASS_FP_SKIPS && !strcmp(fn, "pd_b") && !strcmp(hidden, "pd_a"))
			res->skips_at_b++;
	}
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(p));
	fpt_perfdata_close(p);
	fpu_dwarf_free(d);
	for (size_t i = 0; i < nmaps; i++)
		free((void *)maps[i].path);
	fprintf(stderr, "perfdata %s: %llu samples, %llu with stack, %llu chains ok, "
		"match %llu leaf %llu skips %llu trunc %llu dwarf-fail %llu (outside %llu), "
		"malignant in prog %llu%s%s\n", name, (unsigned long long)res->samples,
		(unsigned long long)res->with_stack, (unsigned long long)res->chain_ok,
		(unsigned long long)res->classes[FPU_CLASS_MATCH],
		(unsigned long long)res->classes[FPU_CLASS_LEAF_WINDOW],
		(unsigned long long)res->classes[FPU_CLASS_FP_SKIPS],
		(unsigned long long)res->classes[FPU_CLASS_FP_TRUNCATED],
		(unsigned long long)res->classes[FPU_CLASS_DWARF_FAIL],
		(unsigned long long)res->outside_snapshot,
		(unsigned long long)res->malignant_in_prog, res->first_bad[0] ? ": " : "",
		res->first_bad);
}

Test(perfdata, clean_program_dwarf)
{
	struct result r;
	perf_record("-F 499 --call-graph dwarf,16384", "clean.data", "prog", "1");
	analyse("clean.data", 0, &r);
	cr_assert(r.first_is_process && r.last_is_end, "PROCESS first, END last");
	cr_assert_gt(r.pid, 0);
	cr_assert(r.prog_mapped, "no MAPPING of the test program");
	cr_assert_gt(r.samples, 100, "only %llu samples", (unsigned long long)r.samples);
	cr_assert_eq(r.with_stack, r.samples, "samples without a stack dump");
	cr_assert_gt(r.chain_ok, r.samples / 2, "FP chain pd_spin<-pd_b<-pd_a<-main in %llu "
		     "of %llu samples", (unsigned long long)r.chain_ok,
		     (unsigned long long)r.samples);
	cr_assert_eq(r.malignant_in_prog, 0, "%llu malignant samples in the program (%s)",
		     (unsigned long long)r.malignant_in_prog, r.first_bad);
}

Test(perfdata, nofp_function_is_named)
{
	struct result r;
	perf_record("-F 499 --call-graph dwarf,16384", "nofp.data", "prog_nofp", "1");
	analyse("nofp.data", 1, &r);
	cr_assert_gt(r.samples, 100);
	cr_assert_gt(r.chain_ok, r.samples / 2);
	cr_assert_gt(r.skips_at_b, r.samples / 2, "fp-skips at pd_b hiding pd_a: %llu of %llu",
		     (unsigned long long)r.skips_at_b, (unsigned long long)r.samples);
}

/* A dump too small for DWARF: DWARF reads outside it; not an FP defect. */
Test(perfdata, small_dump_is_not_a_defect)
{
	struct result r;
	perf_record("-F 199 --call-graph dwarf,64", "small.data", "prog", "0.5");
	analyse("small.data", 0, &r);
	cr_assert_gt(r.samples, 20);
	cr_assert_gt(r.outside_snapshot, r.samples / 2, "DWARF read outside the dump in %llu "
		     "of %llu samples", (unsigned long long)r.outside_snapshot,
		     (unsigned long long)r.samples);
	cr_assert_eq(r.malignant_in_prog, 0, "%s", r.first_bad);
}

/* --call-graph fp: the kernel's FP chain, no stack dump, and a note saying so. */
Test(perfdata, callgraph_fp_has_no_stacks)
{
	perf_record("-F 199 --call-graph fp", "fp.data", "prog", "0.5");
	struct fpt_perfdata *p = open_file("fp.data");
	cr_assert_eq(p->has_stacks, 0);
	cr_assert(strstr(p->note, "--call-graph dwarf"), "note: %s", p->note);
	struct fpu_record rec;
	int rc;
	uint64_t n = 0, deep = 0;
	while ((rc = fpt_perfdata_next(p, &rec)) > 0) {
		if (rec.type != FPU_REC_SAMPLE)
			continue;
		n++;
		cr_assert_eq(rec.u.sample.nseg, 0);
		deep += rec.u.sample.nfp >= 4;
	}
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(p));
	cr_assert_gt(n, 20);
	cr_assert_gt(deep, n / 2, "kernel FP chains of 4+ frames: %llu of %llu",
		     (unsigned long long)deep, (unsigned long long)n);
	fpt_perfdata_close(p);
}

Test(perfdata, pipe_mode)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cd '%s' && perf record -q -e cpu-clock -F 199 --call-graph "
		 "dwarf,4096 -o - -- ./prog 0.3 >pipe.data 2>perf.log", tmpdir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	struct fpt_perfdata *p = open_file("pipe.data");
	cr_assert(p->pipe);
	struct fpu_record rec;
	int rc;
	uint64_t n = 0;
	while ((rc = fpt_perfdata_next(p, &rec)) > 0)
		n += rec.type == FPU_REC_SAMPLE && rec.u.sample.nseg == 1;
	cr_assert_eq(rc, 0, "%s", fpt_perfdata_error(p));
	cr_assert_gt(n, 10);
	fpt_perfdata_close(p);
}

/* ---------------------------------------------------------------------------
 * Hostile input
 * ------------------------------------------------------------------------- */

/* An 8-aligned buffer of at least n bytes.  aligned_alloc requires a size
 * that is a multiple of the alignment; glibc tolerates other sizes but ASan
 * rejects them, and a perf.data length is whatever perf wrote on this machine. */
static uint8_t *alloc_aligned8(size_t n)
{
	uint8_t *p = aligned_alloc(8, (n + 7) & ~(size_t)7);
	cr_assert_not_null(p, "aligned_alloc(8, %zu) failed", n);
	return p;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = alloc_aligned8((size_t)n);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Read all of buf: 0 read cleanly, -1 failed with "offset" in the message. */
static int read_all(struct fpt_perfdata *p, const uint8_t *buf, size_t len, uint64_t *samples)
{
	char err[512];
	struct fpu_record rec;
	int rc;
	*samples = 0;
	if (fpt_perfdata_open_mem(p, buf, len, "t.data", err, sizeof err) != 0) {
		fpt_perfdata_close(p);
		cr_assert(strstr(err, "t.data: offset "), "open error without offset: %s", err);
		return -1;
	}
	while ((rc = fpt_perfdata_next(p, &rec)) > 0)
		if (rec.type == FPU_REC_SAMPLE) {
			const struct fpu_sample *s = &rec.u.sample;
			cr_assert(s->nfp >= 1 && s->nfp <= FPT_PERFDATA_MAX_PCS + 1);
			cr_assert(s->nseg <= 1);
			(*samples)++;
		}
	if (rc < 0)
		cr_assert(strstr(fpt_perfdata_error(p), "t.data: offset "),
			  "error without offset: %s", fpt_perfdata_error(p));
	fpt_perfdata_close(p);
	return rc < 0 ? -1 : 0;
}

static struct fpt_perfdata hostile;

Test(perfdata, truncations_and_flips)
{
	size_t len;
	uint64_t all, got;
	perf_record("-F 97 --call-graph dwarf,1024", "tiny.data", "prog", "0.15");
	uint8_t *buf = slurp("tiny.data", &len);
	uint8_t *copy = alloc_aligned8(len + 8);
	cr_assert_eq(read_all(&hostile, buf, len, &all), 0, "%s", hostile.err);
	cr_assert_gt(all, 0);

	unsigned failed = 0;
	for (size_t cut = 0; cut < len; cut += 64) {
		memcpy(copy, buf, cut);
		failed += read_all(&hostile, copy, cut, &got) != 0;
	}
	cr_assert_gt(failed, 0);

	unsigned seed = 12345, ok = 0;
	for (int it = 0; it < 3000; it++) {
		memcpy(copy, buf, len);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (it % 3 == 0) ? (seed >> 8) % (len < 512 ? len : 512)
						  : (seed >> 8) % len;
			copy[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
		}
		ok += read_all(&hostile, copy, len, &got) == 0;
	}
	fprintf(stderr, "perfdata hostile: %zu bytes, %llu samples, %u of %zu truncations "
		"failed, %u of 3000 flipped copies read\n", len, (unsigned long long)all, failed,
		(len + 63) / 64, ok);
	free(copy);
	free(buf);
}

static void expect_error(const uint8_t *buf, size_t len, const char *what)
{
	char err[512];
	struct fpu_record rec;
	int rc = fpt_perfdata_open_mem(&hostile, buf, len, "t.data", err, sizeof err);
	if (rc == 0) {
		while ((rc = fpt_perfdata_next(&hostile, &rec)) > 0)
			;
		snprintf(err, sizeof err, "%s", fpt_perfdata_error(&hostile));
	}
	fpt_perfdata_close(&hostile);
	cr_assert_lt(rc, 0, "no error for %s", what);
	cr_assert(strstr(err, what), "error for %s: %s", what, err);
	cr_assert(strstr(err, "t.data: offset "), "%s", err);
}

Test(perfdata, bad_files)
{
	size_t len;
	perf_record("-F 97 --call-graph dwarf,1024", "bad.data", "prog", "0.1");
	uint8_t *buf = slurp("bad.data", &len);
	uint8_t *c = alloc_aligned8(len + 8);

	expect_error(buf, 10, "truncated header");
	memcpy(c, buf, len);
	memcpy(c, "PERFILE3", 8);
	expect_error(c, len, "bad magic");
	memcpy(c, "2ELIFREP", 8);
	expect_error(c, len, "big-endian");
	memcpy(c, buf, len);
	uint64_t v = 15;
	memcpy(c + 16, &v, 8);                     /* attr_size */
	expect_error(c, len, "attr size 15 unknown");
	memcpy(c, buf, len);
	v = 0;
	memcpy(c + 48, &v, 8);                     /* data size */
	expect_error(c, len, "data section is empty");
	memcpy(c, buf, len);
	v = len;
	memcpy(c + 48, &v, 8);                     /* data size past EOF */
	expect_error(c, len, "outside the file");

	/* The first record of the data section: size 0, then past the end. */
	uint64_t data_off;
	memcpy(&data_off, buf + 40, 8);
	memcpy(c, buf, len);
	memset(c + data_off + 6, 0, 2);
	expect_error(c, len, "smaller than its header");
	memcpy(c, buf, len);
	memset(c + data_off + 6, 0xff, 2);
	uint64_t dsize = 0x18;
	memcpy(c + 48, &dsize, 8);
	expect_error(c, len, "runs past the end");

	/* A sample cut short: shrink the first SAMPLE record's declared size. */
	memcpy(c, buf, len);
	uint64_t data_end = data_off + *(const uint64_t *)(buf + 48);
	for (uint64_t off = data_off; off + 8 <= data_end;) {
		struct perf_event_header h;
		memcpy(&h, buf + off, sizeof h);
		cr_assert_geq(h.size, 8);
		if (h.type == PERF_RECORD_SAMPLE) {
			/* keep the header: the record claims only its first 24 bytes */
			struct perf_event_header nh = h;
			nh.size = 24;
			memcpy(c + off, &nh, sizeof nh);
			struct perf_event_header pad = { .type = 0xffff, .misc = 0,
							 .size = (uint16_t)(h.size - 24) };
			memcpy(c + off + 24, &pad, sizeof pad);
			break;
		}
		off += h.size;
	}
	expect_error(c, len, "SAMPLE record: size 24 is too short");
	free(c);
	free(buf);
}

Test(perfdata, source_reads_both_kinds)
{
	struct fpt_source s;
	struct fpu_record rec;
	char path[400];
	perf_record("-F 97 --call-graph dwarf,1024", "src.data", "prog", "0.1");
	snprintf(path, sizeof path, "%s/src.data", tmpdir);
	cr_assert_eq(fpt_source_open(&s, path), 0, "%s", fpt_source_error(&s));
	cr_assert_eq(s.kind, FPT_SOURCE_PERF);
	cr_assert_eq(fpt_source_next(&s, &rec), 1);
	cr_assert_eq(rec.type, FPU_REC_PROCESS);
	fpt_source_close(&s);
	/* Anything else goes to the .fpt reader, which names the problem. */
	snprintf(path, sizeof path, "%s/main.c", tmpdir);
	cr_assert_eq(fpt_is_perfdata(path), 0);
	cr_assert_neq(fpt_source_open(&s, path), 0);
	cr_assert(strstr(fpt_source_error(&s), "magic"), "%s", fpt_source_error(&s));
	fpt_source_close(&s);
}
