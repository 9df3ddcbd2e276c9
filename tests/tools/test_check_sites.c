/*
 * test_check_sites.c — check's analysis (fpt_analysis_opts.sites_only) finds
 * the same sites as the full one report uses: the same classes, culprits,
 * missing callers, samples and, for the defects in the code under test, the
 * same example chains; and it reads a system library's DWARF only for the
 * examples it prints (a libc frame carries a source line, which only
 * libc6-dbg's compressed DWARF holds, only there) and builds no profile stacks.  The file is recorded by the real
 * perf from a program built here that sorts with libc's qsort (Debian's libc
 * has no frame pointers: its culprits are libc functions) and breaks its own
 * chain in a function built without a frame record (a defect in the code
 * under test).
 *
 * Skipped (failed under CI=true) when perf cannot record here.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "ci_skip.h"
#include "scratch.h"

static char tmpdir[256], data[320];

static const char program[] =
	"#include <stdlib.h>\n"
	"volatile unsigned long sink;\n"
	"static int cmp(const void *a, const void *b) {\n"
	"  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;\n"
	"  return (x > y) - (x < y); }\n"
	"__attribute__((noinline)) static void sorter(unsigned seed) {\n"
	"  unsigned v[512];\n"
	"  for (int i = 0; i < 512; i++) v[i] = seed = seed * 1103515245u + 12345u;\n"
	"  qsort(v, 512, sizeof v[0], cmp); sink += v[7]; }\n"
	"__attribute__((noinline)) static void leaf(void) {\n"
	"  for (int i = 0; i < 20000; i++) sink += i; }\n"
	/* no frame record: the FP chain skips its caller */
	"__attribute__((noinline, optimize(\"omit-frame-pointer\"))) static void nofp(void) {\n"
	"  leaf(); sink++; }\n"
	"int main(void) { for (unsigned u = 0; u < 3000; u++) { sorter(u); nofp(); }\n"
	"  return 0; }\n";

static void remove_scratch(void)
{
	fpt_scratch_remove(tmpdir);
}

static void setup(void)
{
	char path[320], cmd[1024];
	fpt_scratch_make(tmpdir, sizeof tmpdir, "check-sites");
	snprintf(path, sizeof path, "%s/sorts.c", tmpdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(program, f);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && cc -O1 -g -fno-omit-frame-pointer sorts.c -o sorts",
		 tmpdir);
	cr_assert_eq(system(cmd), 0, "cc failed: %s", cmd);
	snprintf(data, sizeof data, "%s/sorts.data", tmpdir);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && command -v perf >/dev/null 2>&1 && perf record -q -e cpu-clock -F 4000 "
		 "--call-graph dwarf -o sorts.data ./sorts >perf.log 2>&1", tmpdir);
	if (system(cmd) != 0) {
		fpt_scratch_remove(tmpdir);
		fpt_skip_test("perf cannot record here (perf record -e cpu-clock failed, or no perf)");
	}
}

TestSuite(check_sites, .init = setup, .fini = remove_scratch, .timeout = 120);

static const char *fn(const struct fpt_analysis *a, uint32_t frame)
{
	return a->profile.frames[frame].function;
}

static void same_site(const struct fpt_analysis *full, const struct fpt_site *f,
		      const struct fpt_analysis *lazy, const struct fpt_site *l, size_t i)
{
	cr_assert_eq(l->cls, f->cls, "site %zu: class %u, full %u", i, l->cls, f->cls);
	cr_assert_eq(l->samples, f->samples, "site %zu: %llu samples, full %llu", i,
		     (unsigned long long)l->samples, (unsigned long long)f->samples);
	cr_assert_eq(l->system, f->system, "site %zu", i);
	cr_assert_str_eq(fn(lazy, l->culprit), fn(full, f->culprit), "site %zu", i);
	cr_assert_str_eq(lazy->profile.frames[l->culprit].module,
			 full->profile.frames[f->culprit].module, "site %zu", i);
	cr_assert_eq(l->missing < 0, f->missing < 0, "site %zu", i);
	if (f->missing >= 0)
		cr_assert_str_eq(fn(lazy, (uint32_t)l->missing), fn(full, (uint32_t)f->missing));
	cr_assert_eq(l->cfi_failures, f->cfi_failures, "site %zu", i);
	cr_assert_str_eq(l->stacks, f->stacks, "site %zu", i);
	cr_assert_str_eq(l->dwarf_reason, f->dwarf_reason, "site %zu", i);
	if (f->system || !fpu_class_is_malignant(f->cls))
		return;   /* check prints no example of these */
	cr_assert_eq(l->nfp, f->nfp, "site %zu", i);
	cr_assert_eq(l->ndwarf, f->ndwarf, "site %zu", i);
	cr_assert_eq(l->fp_index, f->fp_index, "site %zu", i);
	cr_assert_eq(l->dwarf_index, f->dwarf_index, "site %zu", i);
	for (uint32_t k = 0; k < f->nfp; k++)
		cr_assert_str_eq(fn(lazy, l->fp[k]), fn(full, f->fp[k]), "site %zu fp #%u", i, k);
	for (uint32_t k = 0; k < f->ndwarf; k++)
		cr_assert_str_eq(fn(lazy, l->dwarf[k]), fn(full, f->dwarf[k]), "site %zu dwarf #%u",
				 i, k);
}

Test(check_sites, sites_only_finds_the_same_sites_without_system_dwarf)
{
	struct fpt_analysis_opts o = { .backends = FPT_BACKEND_LIBDW,
				       .kinds = FPT_KIND_CPU | FPT_KIND_WALL };
	struct fpt_analysis full, lazy;
	char err[512];

	cr_assert_eq(fpt_analyze(data, &o, &full, err, sizeof err), 0, "%s", err);
	o.sites_only = 1;
	cr_assert_eq(fpt_analyze(data, &o, &lazy, err, sizeof err), 0, "%s", err);

	cr_assert_eq(lazy.samples, full.samples);
	for (int c = 0; c < FPU_CLASS_COUNT; c++)
		cr_assert_eq(lazy.backend[0].classes[c], full.backend[0].classes[c], "class %s",
			     fpu_class_name(c));
	const struct fpt_backend_stats *fb = &full.backend[0], *lb = &lazy.backend[0];
	cr_assert_eq(lb->nsites, fb->nsites, "%zu sites, full %zu", lb->nsites, fb->nsites);
	int system_defects = 0, own_defects = 0;
	for (size_t i = 0; i < fb->nsites; i++) {
		same_site(&full, &fb->sites[i], &lazy, &lb->sites[i], i);
		if (fpu_class_is_malignant(fb->sites[i].cls))
			*(fb->sites[i].system ? &system_defects : &own_defects) += 1;
	}
	cr_assert_gt(system_defects, 0, "no defect site in a system library: nothing was tested");
	cr_assert_gt(own_defects, 0, "no defect site in the program: no example was compared");

	cr_assert_gt(full.profile.nstacks, 0);
	cr_assert_eq(lazy.profile.nstacks, 0, "check built %zu profile stacks",
		     (size_t)lazy.profile.nstacks);
	/* A system frame has its line (libc6-dbg's DWARF) only when an example
	 * check prints passes through it: the inlined frames there are shown. */
	for (size_t i = 0; i < lazy.profile.nframes; i++) {
		const struct fpt_frame *f = &lazy.profile.frames[i];
		if (!f->system || !f->file[0])
			continue;
		int shown = 0;
		for (size_t k = 0; k < lb->nsites && !shown; k++) {
			const struct fpt_site *s = &lb->sites[k];
			for (uint32_t j = 0; j < s->nfp && !shown; j++)
				shown = s->fp[j] == i;
			for (uint32_t j = 0; j < s->ndwarf && !shown; j++)
				shown = s->dwarf[j] == i;
		}
		cr_assert(shown, "%s in %s: source line %s:%u read from DWARF, and no example "
			  "shows it", f->function, f->module, f->file, f->line);
	}
	fpt_analysis_free(&full);
	fpt_analysis_free(&lazy);
}
