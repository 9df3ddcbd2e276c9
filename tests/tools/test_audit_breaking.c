/*
 * test_audit_breaking.c — the audit judging only whether functions break the
 * chain (fpt_audit_decoder_breaking_only: check's no-FP summary, which stops
 * decoding a function at its first frameless call or rbp write) counts the
 * same breaking, frame, leaf and unknown functions as the full judgement, on
 * the system's libc and ld.so (Debian's: without frame pointers, so most
 * functions stop early), on this test binary (with frame pointers), and on a
 * program built here whose function writes rbp only after a call made inside
 * its frame record (a judgement stopped at the first call would call it framed).
 */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "ci_skip.h"
#include "scratch.h"

/* The file of the first mapping of /proc/self/maps whose path holds name. */
static int mapped_path(const char *name, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	int found = 0;
	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof line, f)) {
		char *path = strchr(line, '/');
		if (!path || !strstr(path, name))
			continue;
		path[strcspn(path, "\n")] = 0;
		snprintf(out, outlen, "%s", path);
		found = 1;
	}
	fclose(f);
	return found;
}

static void audit(const char *path, int breaking_only, struct fpt_audit_module *m,
		  struct fpt_arena *arena)
{
	char err[256];
	struct fpt_decoder_cs *d = fpt_audit_decoder_new(err, sizeof err);
	cr_assert_not_null(d, "%s", err);
	fpt_audit_decoder_breaking_only(d, breaking_only);
	memset(m, 0, sizeof *m);
	cr_assert_eq(fpt_audit_module(d, path, arena, 0, m), 0, "%s: %s", path, m->error);
	fpt_audit_decoder_free(d);
}

static void same_counts(const char *path, uint64_t min_breaking)
{
	struct fpt_arena arena = { 0 };
	struct fpt_audit_module full, fast;
	audit(path, 0, &full, &arena);
	audit(path, 1, &fast, &arena);
	fprintf(stderr, "audit_breaking %s: %zu functions, breaking %llu / %llu, frame %llu / %llu\n",
		path, full.nfuncs, (unsigned long long)fpt_audit_breaking(&full),
		(unsigned long long)fpt_audit_breaking(&fast),
		(unsigned long long)full.counts[FPT_VERDICT_FRAME],
		(unsigned long long)fast.counts[FPT_VERDICT_FRAME]);
	cr_assert_eq(fast.nfuncs, full.nfuncs, "%s", path);
	cr_assert_eq(fpt_audit_breaking(&fast), fpt_audit_breaking(&full),
		     "%s: %llu breaking functions judged breaking-only, %llu in full", path,
		     (unsigned long long)fpt_audit_breaking(&fast),
		     (unsigned long long)fpt_audit_breaking(&full));
	static const enum fpt_verdict others[] = { FPT_VERDICT_FRAME, FPT_VERDICT_LEAF,
						   FPT_VERDICT_UNKNOWN };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		cr_assert_eq(fast.counts[others[i]], full.counts[others[i]],
			     "%s: %llu %s functions judged breaking-only, %llu in full", path,
			     (unsigned long long)fast.counts[others[i]],
			     fpt_verdict_name(others[i]),
			     (unsigned long long)full.counts[others[i]]);
	cr_assert_geq(fpt_audit_breaking(&full), min_breaking, "%s: %llu breaking functions",
		      path, (unsigned long long)fpt_audit_breaking(&full));
	fpt_arena_free(&arena);
}

Test(audit_breaking, libc_counts_as_in_full)
{
	char path[PATH_MAX];
	cr_assert(mapped_path("/libc.so", path, sizeof path), "no libc in /proc/self/maps");
	same_counts(path, 100);
}

Test(audit_breaking, ld_so_counts_as_in_full)
{
	char path[PATH_MAX];
	cr_assert(mapped_path("/ld-linux", path, sizeof path), "no ld.so in /proc/self/maps");
	same_counts(path, 10);
}

Test(audit_breaking, frame_pointer_binary_counts_as_in_full)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	cr_assert_gt(n, 0);
	path[n] = 0;
	same_counts(path, 0);
}

Test(audit_breaking, rbp_written_after_a_framed_call)
{
	static const char prog[] =
		"__attribute__((noinline)) void callee(void) { __asm__ volatile(\"\"); }\n"
		"__attribute__((noinline)) void late_clobber(void) {\n"
		"  callee();\n"
		"  __asm__ volatile(\"push %%rbp\\n\\tmov $5, %%rbp\\n\\tpop %%rbp\" ::: \"memory\");\n"
		"  callee(); }\n"
		"int main(void) { late_clobber(); return 0; }\n";
	char dir[64], path[300], cmd[800];
	fpt_scratch_make(dir, sizeof dir, "auditbrk");
	snprintf(path, sizeof path, "%s/late.c", dir);
	fpt_write_text(path, prog);
	snprintf(cmd, sizeof cmd, "cc -O1 -g -fno-omit-frame-pointer %s/late.c -o %s/late", dir, dir);
	fpt_scratch_build(dir, cmd);
	snprintf(path, sizeof path, "%s/late", dir);
	same_counts(path, 1);
	fpt_scratch_remove(dir);
}
