/*
 * check.c — print what `fptrace check` found: the class table per backend, then
 * for each malignant class the frames where it happens most, each with one
 * example as the FP stack and the DWARF stack side by side.  Defects are
 * attributed: those whose culprit frame is in a system library (Debian's libc
 * and ld.so have no frame pointers) are listed apart and fail the check only
 * with --strict, so "libc costs you 0.4% of your stacks" is news, not a red build.
 */
#include "check.h"
#include "nofp_modules.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

static const char *const backend_names[FPT_BACKENDS] = { "libdw", "libunwind" };

static int judge_backend(const struct fpt_analysis *a)
{
	return fpt_judge_backend(a);
}

uint64_t fpt_check_defects(const struct fpt_analysis *a, const struct fpt_check_opts *o)
{
	const struct fpt_backend_stats *bs = &a->backend[judge_backend(a)];
	uint64_t n = 0;

	/* With both backends, counted per sample: both call it a defect (and,
	 * unless strict, neither in a system library). */
	if (a->backend[0].used && a->backend[1].used)
		return o->strict ? a->malignant_both : a->defects_both;
	for (size_t i = 0; i < bs->nsites; i++)
		if (fpu_class_is_malignant(bs->sites[i].cls) && (o->strict || !bs->sites[i].system))
			n += bs->sites[i].samples;
	return n;
}

uint64_t fpt_check_dwarf_fail(const struct fpt_analysis *a, const struct fpt_site **worst)
{
	const struct fpt_backend_stats *bs = &a->backend[judge_backend(a)];
	uint64_t n = 0;

	*worst = NULL;
	for (size_t i = 0; i < bs->nsites; i++) {
		const struct fpt_site *s = &bs->sites[i];
		if (s->cls != FPU_CLASS_DWARF_FAIL || s->system ||
		    !a->profile.frames[s->culprit].module[0])
			continue;
		n += s->cfi_failures;
		if (s->cfi_failures && (!*worst || s->cfi_failures > (*worst)->cfi_failures))
			*worst = s;
	}
	return n;
}

static int dwarf_fail_too_many(const struct fpt_analysis *a, uint64_t n)
{
	return n * 1000 > a->samples * FPT_DWARF_FAIL_MAX_PERMILLE;
}

static const struct fpt_site *const *sorted_sites(const struct fpt_backend_stats *bs)
{
	const struct fpt_site **v = malloc((bs->nsites + 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < bs->nsites; i++)
		v[i] = &bs->sites[i];
	/* Most samples first; insertion sort is plenty for a few hundred sites. */
	for (size_t i = 1; i < bs->nsites; i++)
		for (size_t j = i; j > 0 && v[j]->samples > v[j - 1]->samples; j--) {
			const struct fpt_site *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static uint64_t system_samples(const struct fpt_backend_stats *bs, int cls)
{
	uint64_t n = 0;
	for (size_t i = 0; i < bs->nsites; i++)
		if ((int)bs->sites[i].cls == cls && bs->sites[i].system)
			n += bs->sites[i].samples;
	return n;
}

static void print_class_table(FILE *out, const struct fpt_analysis *a)
{
	fprintf(out, "%-14s", "class");
	for (int b = 0; b < FPT_BACKENDS; b++)
		if (a->backend[b].used)
			fprintf(out, " %10s %7s", backend_names[b], "%");
	fprintf(out, "\n");
	for (int c = 0; c < FPU_CLASS_COUNT; c++) {
		fprintf(out, "%-14s", fpu_class_name(c));
		for (int b = 0; b < FPT_BACKENDS; b++) {
			if (!a->backend[b].used)
				continue;
			uint64_t n = a->backend[b].classes[c];
			fprintf(out, " %10llu %6.2f%%", (unsigned long long)n,
				a->samples ? 100.0 * (double)n / (double)a->samples : 0.0);
		}
		if (fpu_class_is_malignant(c)) {
			uint64_t sys = system_samples(&a->backend[judge_backend(a)], c);
			fprintf(out, "  defect");
			if (sys)
				fprintf(out, ", %llu in system libraries", (unsigned long long)sys);
		}
		fprintf(out, "\n");
	}
	for (int b = 0; b < FPT_BACKENDS; b++)
		if (a->backend[b].outside_snapshot)
			fprintf(out, "  %s: %llu dwarf-fail samples read past their stack snapshot "
				"(raise fptrace record --snapshot-max, or perf record "
				"--call-graph dwarf,SIZE)\n", backend_names[b],
				(unsigned long long)a->backend[b].outside_snapshot);
	if (a->backend[0].used && a->backend[1].used)
		fprintf(out, "backends disagree on %llu samples; %llu are defects for both, "
			"%llu of them in the code under test\n",
			(unsigned long long)a->backends_disagree,
			(unsigned long long)a->malignant_both, (unsigned long long)a->defects_both);
}

static void print_frame(FILE *out, const struct fpt_profile *p, const uint32_t *ids,
			uint32_t n, uint32_t i, uint32_t at)
{
	if (i >= n) {
		fprintf(out, "%-40s", "");
		return;
	}
	char buf[64];
	snprintf(buf, sizeof buf, "%s#%-2u %s", i == at ? ">" : " ", i,
		 p->frames[ids[i]].function);
	fprintf(out, "%-40.40s", buf);
}

static void print_example(FILE *out, const struct fpt_analysis *a, const struct fpt_site *s)
{
	const struct fpt_profile *p = &a->profile;
	uint32_t rows = s->nfp > s->ndwarf ? s->nfp : s->ndwarf;

	fprintf(out, "      %-40s %s\n", "frame-pointer chain", "DWARF");
	for (uint32_t i = 0; i < rows; i++) {
		fprintf(out, "      ");
		print_frame(out, p, s->fp, s->nfp, i, s->fp_index);
		fprintf(out, " ");
		print_frame(out, p, s->dwarf, s->ndwarf, i, s->dwarf_index);
		fprintf(out, "\n");
	}
	if (s->dwarf_reason[0])
		fprintf(out, "      (DWARF stopped: %s)\n", s->dwarf_reason);
}

/*
 * One section's sites (code under test, or system libraries), most samples
 * first, at most o->top of them; only the first few carry the side-by-side
 * chains, so a program with hundreds of broken sites prints a page, not a book.
 * A module built without frame pointers is one line, ahead of the sites,
 * unless --all-sites.
 */
static void print_sites(FILE *out, const struct fpt_analysis *a,
			const struct fpt_check_opts *o, const struct fpt_nofp *nofp, int system)
{
	const struct fpt_backend_stats *bs = &a->backend[judge_backend(a)];
	const struct fpt_site *const *v = sorted_sites(bs);
	const struct fpt_profile *p = &a->profile;
	unsigned shown = 0;
	size_t more = 0;
	uint64_t more_samples = 0;

	for (size_t i = 0; !o->all_sites && i < nofp->n; i++)
		if (nofp->v[i].system == system) {
			fpt_nofp_print(out, "  ", &nofp->v[i], a->samples);
			shown++;
		}
	if (shown)
		fprintf(out, "  (--all-sites lists the sites of modules built without frame "
			"pointers)\n");
	unsigned summarized = shown;
	for (size_t i = 0; v && i < bs->nsites; i++) {
		const struct fpt_site *s = v[i];
		if (!fpu_class_is_malignant(s->cls) || s->system != system)
			continue;
		if (!o->all_sites && fpt_nofp_lookup(nofp, p->frames[s->culprit].module))
			continue;
		if (shown - summarized >= o->top) {
			more++;
			more_samples += s->samples;
			continue;
		}
		const struct fpt_frame *f = &p->frames[s->culprit];
		fprintf(out, "  %-12s %6llu samples  at %s (%s)", fpu_class_name(s->cls),
			(unsigned long long)s->samples, f->function,
			f->module[0] ? base(f->module) : "?");
		if (s->missing >= 0)
			fprintf(out, ", hiding its caller %s", p->frames[s->missing].function);
		fprintf(out, "\n");
		if (s->stacks[0])
			fprintf(out, "      %s\n", s->stacks);
		if (!system && shown - summarized < FPT_CHECK_CHAINS)
			print_example(out, a, s);
		shown++;
	}
	if (!shown)
		fprintf(out, "  none\n");
	if (more)
		fprintf(out, "  ... %zu more sites with %llu samples (--top %zu lists them)\n", more,
			(unsigned long long)more_samples, (size_t)(shown - summarized) + more);
	free((void *)v);
}

/* Samples of malignant classes whose culprit is in a system library. */
static uint64_t system_defects(const struct fpt_analysis *a)
{
	uint64_t n = 0;
	for (int c = 0; c < FPU_CLASS_COUNT; c++)
		if (fpu_class_is_malignant(c))
			n += system_samples(&a->backend[judge_backend(a)], c);
	return n;
}

int fpt_check_has_stacks(const struct fpt_analysis *a, const char *path, char *reason,
			 size_t len)
{
	if (a->samples_no_stack * 2 <= a->samples)
		return 0;
	snprintf(reason, len, "%s: no user stack dumps in %llu of %llu samples: record with "
		 "--call-graph dwarf (perf record --call-graph fp copies no stack, so DWARF "
		 "cannot check a single frame)", path, (unsigned long long)a->samples_no_stack,
		 (unsigned long long)a->samples);
	return -1;
}

/* Samples the judging backend unwound with DWARF: the ones that were checked. */
static uint64_t unwound_samples(const struct fpt_analysis *a)
{
	return a->samples - a->backend[judge_backend(a)].classes[FPU_CLASS_DWARF_FAIL];
}

static int too_few_unwound(const struct fpt_analysis *a)
{
	return unwound_samples(a) * 100 < a->samples * FPT_CHECK_MIN_UNWOUND_PERCENT;
}

/* Why a check found nothing and still cannot pass: most samples unchecked. */
static int print_too_few_unwound(const struct fpt_analysis *a, char *reason, size_t len)
{
	const struct fpt_backend_stats *bs = &a->backend[judge_backend(a)];
	uint64_t unwound = unwound_samples(a);
	uint64_t failed = a->samples - unwound;
	return snprintf(reason, len, "only %llu of %llu samples (%.1f%%) could be unwound with DWARF, "
			"fewer than %d%%: too few were checked to call the program clean (%s)",
			(unsigned long long)unwound, (unsigned long long)a->samples,
			a->samples ? 100.0 * (double)unwound / (double)a->samples : 0.0,
			FPT_CHECK_MIN_UNWOUND_PERCENT,
			bs->outside_snapshot * 2 > failed
				? "most read past their stack copy: raise fptrace record "
				  "--snapshot-max, or perf record --call-graph dwarf,SIZE"
				: "the dwarf-fail samples say why");
}

int fpt_check_verdict(const struct fpt_analysis *a, const struct fpt_check_opts *o,
		      char *reason, size_t len)
{
	uint64_t defects = fpt_check_defects(a, o);
	uint64_t sys = o->strict ? 0 : system_defects(a);
	const char *where = o->strict ? "" : " in the code under test";
	int n;

	const struct fpt_site *worst;
	uint64_t dwarf_fail = fpt_check_dwarf_fail(a, &worst);
	int dwarf_fails = dwarf_fail_too_many(a, dwarf_fail);

	int status = defects > o->max_defects || dwarf_fails ? FPT_CHECK_EXIT_DEFECTS : 0;

	if (defects > o->max_defects)
		n = snprintf(reason, len, "%llu defect samples%s, more than --max-defects %llu",
			     (unsigned long long)defects, where, (unsigned long long)o->max_defects);
	else if (dwarf_fails)
		n = snprintf(reason, len, "%llu dwarf-fail samples (%.1f%%) in the code under test, "
			     "above %.1f%%: broken or missing CFI", (unsigned long long)dwarf_fail,
			     100.0 * (double)dwarf_fail / (double)a->samples,
			     FPT_DWARF_FAIL_MAX_PERMILLE / 10.0);
	else if (too_few_unwound(a)) {
		n = print_too_few_unwound(a, reason, len);
		status = FPT_CHECK_EXIT_ERROR;
	} else if (defects)
		n = snprintf(reason, len, "%llu defect samples%s, within --max-defects %llu",
			     (unsigned long long)defects, where, (unsigned long long)o->max_defects);
	else
		n = snprintf(reason, len, "no defect samples%s", where);
	if (sys && n >= 0 && (size_t)n < len)
		snprintf(reason + n, len - (size_t)n,
			 "; %llu in system libraries do not count without --strict",
			 (unsigned long long)sys);
	return status;
}

static const char *verdict_word(int status, int json)
{
	if (status == FPT_CHECK_EXIT_DEFECTS)
		return json ? "fail" : "FAIL";
	if (status == FPT_CHECK_EXIT_ERROR)
		return json ? "error" : "cannot judge";
	return "ok";
}

void fpt_check_print_error_json(FILE *out, int status, const char *reason)
{
	fprintf(out, "{\"verdict\":\"error\",\"exit_status\":%d,\"reason\":", status);
	fpt_json_string(out, reason);
	fprintf(out, "}\n");
}

static void print_json(FILE *out, const struct fpt_analysis *a, const struct fpt_check_opts *o,
		       const struct fpt_nofp *nofp, uint64_t defects, uint64_t dwarf_fail,
		       int status, const char *reason)
{
	const struct fpt_profile *p = &a->profile;
	fprintf(out, "{\"samples\":%llu,\"cpu\":%llu,\"wall\":%llu,\"defects\":%llu,"
		"\"max_defects\":%llu,\"dwarf_fail_under_test\":%llu,"
		"\"dwarf_fail_max_permille\":%d,\"strict\":%s,\"verdict\":\"%s\",\"exit_status\":%d,"
		"\"reason\":", (unsigned long long)a->samples, (unsigned long long)a->samples_cpu,
		(unsigned long long)a->samples_wall, (unsigned long long)defects,
		(unsigned long long)o->max_defects, (unsigned long long)dwarf_fail,
		FPT_DWARF_FAIL_MAX_PERMILLE, o->strict ? "true" : "false",
		verdict_word(status, 1), status);
	fpt_json_string(out, reason);
	/* Every site stays in "sites" below: the summary is for people. */
	fprintf(out, ",\"modules_without_frame_pointers\":[");
	for (size_t i = 0; i < nofp->n; i++) {
		const struct fpt_nofp_module *m = &nofp->v[i];
		fprintf(out, "%s{\"module\":", i ? "," : "");
		fpt_json_string(out, m->path);
		fprintf(out, ",\"system\":%s,\"sites\":%llu,\"samples\":%llu,"
			"\"functions_calling\":%llu,\"functions_breaking\":%llu}",
			m->system ? "true" : "false", (unsigned long long)m->sites,
			(unsigned long long)m->samples, (unsigned long long)m->calling,
			(unsigned long long)m->breaking);
	}
	fprintf(out, "]");
	fprintf(out, ",\"backends\":{");
	int first = 1;
	for (int b = 0; b < FPT_BACKENDS; b++) {
		const struct fpt_backend_stats *bs = &a->backend[b];
		if (!bs->used)
			continue;
		fprintf(out, "%s\"%s\":{\"classes\":{", first ? "" : ",", backend_names[b]);
		first = 0;
		for (int c = 0; c < FPU_CLASS_COUNT; c++)
			fprintf(out, "%s\"%s\":%llu", c ? "," : "", fpu_class_name(c),
				(unsigned long long)bs->classes[c]);
		fprintf(out, "},\"sites\":[");
		for (size_t i = 0; i < bs->nsites; i++) {
			const struct fpt_frame *f = &p->frames[bs->sites[i].culprit];
			fprintf(out, "%s{\"class\":\"%s\",\"samples\":%llu,\"function\":",
				i ? "," : "", fpu_class_name(bs->sites[i].cls),
				(unsigned long long)bs->sites[i].samples);
			fpt_json_string(out, f->function);
			fprintf(out, ",\"module\":");
			fpt_json_string(out, f->module);
			fprintf(out, ",\"system\":%s}", bs->sites[i].system ? "true" : "false");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "}}\n");
}

/* The verdict on dwarf-fail in the code under test, when it fails the check. */
static void print_dwarf_fail(FILE *out, const struct fpt_analysis *a, uint64_t n,
			     const struct fpt_site *worst)
{
	const struct fpt_frame *f = &a->profile.frames[worst->culprit];
	fprintf(out, "\nverdict: %llu dwarf-fail samples (%.1f%%) in the code under test, "
		"above %.1f%%: FAIL\n", (unsigned long long)n,
		100.0 * (double)n / (double)a->samples, FPT_DWARF_FAIL_MAX_PERMILLE / 10.0);
	fprintf(out, "  most in %s at %s: %s\n", base(f->module), f->function,
		worst->cfi_reason[0] ? worst->cfi_reason : "DWARF could not unwind");
	fprintf(out, "  (broken or missing CFI there: every DWARF-based tool is wrong there too)\n");
}

int fpt_check_print(FILE *out, const struct fpt_analysis *a, const struct fpt_check_opts *o)
{
	uint64_t defects = fpt_check_defects(a, o);
	char how[128], reason[512];
	int status = fpt_check_verdict(a, o, reason, sizeof reason);
	const struct fpt_site *worst;
	uint64_t dwarf_fail = fpt_check_dwarf_fail(a, &worst);

	struct fpt_nofp nofp;
	fpt_nofp_find(a, &nofp);   /* out of memory: no summary, every site listed */
	if (o->json) {
		print_json(out, a, o, &nofp, defects, dwarf_fail, status, reason);
		fpt_nofp_free(&nofp);
		return status;
	}
	fpt_describe_end(a, how, sizeof how);
	fprintf(out, "fptrace check: %s (pid %u, %s)\n", a->cmdline ? a->cmdline : "?", a->pid, how);
	if (a->go_version)
		fprintf(out, "Go program (%s): the Go runtime model decides at its stack switches\n",
			a->go_version);
	char sampling[256];
	fpt_describe_sampling(a, sampling, sizeof sampling);
	if (sampling[0])
		fprintf(out, "cpu sampling: %s\n", sampling);
	if (a->stack_moves || a->stack_frees)
		fprintf(out, "stacks: %llu moved (copystack), %llu freed\n",
			(unsigned long long)a->stack_moves, (unsigned long long)a->stack_frees);
	fprintf(out, "%llu samples (%llu cpu, %llu wall), %llu dropped\n\n",
		(unsigned long long)a->samples, (unsigned long long)a->samples_cpu,
		(unsigned long long)a->samples_wall, (unsigned long long)a->drops);
	print_class_table(out, a);
	fprintf(out, "\nDefects in the code under test:\n");
	print_sites(out, a, o, &nofp, 0);
	fprintf(out, "\nDefects in system libraries%s:\n",
		o->strict ? "" : " (reported, not failing; --strict to fail on them)");
	print_sites(out, a, o, &nofp, 1);
	fprintf(out, "\nverdict: %s: %s (exit %d)\n", verdict_word(status, 0), reason, status);
	if (a->samples < FPT_CHECK_FEW_SAMPLES)
		fprintf(out, "the verdict rests on %llu samples (fewer than %d): record for longer "
			"or at a higher rate\n", (unsigned long long)a->samples,
			FPT_CHECK_FEW_SAMPLES);
	if (dwarf_fail_too_many(a, dwarf_fail) && worst)
		print_dwarf_fail(out, a, dwarf_fail, worst);
	fpt_nofp_free(&nofp);
	return status;
}
