/*
 * test_audit_cache.c — fpt_audit_counts keeps a module's verdict counts
 * across runs (audit_cache.c): the first call audits and writes an entry, the
 * next reads it (shown by an entry changed by hand, whose counts come back),
 * a module whose file changed is audited again, and FPTRACE_CACHE_DIR=""
 * writes nothing.  The module is a copy of this process's libc in a scratch
 * directory, so that the test can change its modification time.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "scratch.h"

static char dir[256], cache[320], module[320];

static void remove_scratch(void)
{
	fpt_scratch_remove(dir);
}

static void setup(void)
{
	char libc[PATH_MAX] = "", line[PATH_MAX + 128], cmd[2048];
	FILE *maps = fopen("/proc/self/maps", "r");
	cr_assert_not_null(maps);
	while (!libc[0] && fgets(line, sizeof line, maps)) {
		char *path = strchr(line, '/');
		if (path && strstr(path, "/libc.so")) {
			path[strcspn(path, "\n")] = 0;
			snprintf(libc, sizeof libc, "%s", path);
		}
	}
	fclose(maps);
	cr_assert(libc[0], "no libc in /proc/self/maps");
	fpt_scratch_make(dir, sizeof dir, "auditcache");
	snprintf(cache, sizeof cache, "%s/cache", dir);
	snprintf(module, sizeof module, "%s/libc-copy.so", dir);
	snprintf(cmd, sizeof cmd, "mkdir '%s' && cp '%s' '%s'", cache, libc, module);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(setenv("FPTRACE_CACHE_DIR", cache, 1), 0);
}

TestSuite(audit_cache, .init = setup, .fini = remove_scratch, .timeout = 120);

static void counts_of(const char *path, uint64_t counts[FPT_VERDICT_COUNT])
{
	char err[256];
	struct fpt_decoder_cs *d = fpt_audit_decoder_new(err, sizeof err);
	cr_assert_not_null(d, "%s", err);
	fpt_audit_decoder_breaking_only(d, 1);
	cr_assert_eq(fpt_audit_counts(d, path, counts, err, sizeof err), 0, "%s: %s", path, err);
	fpt_audit_decoder_free(d);
}

/* The entries in the cache directory; the last one's path in last. */
static int entries(char *last, size_t len)
{
	DIR *dp = opendir(cache);
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(dp);
	while ((e = readdir(dp)))
		if (!strncmp(e->d_name, "audit-", 6)) {
			n++;
			snprintf(last, len, "%s/%s", cache, e->d_name);
		}
	closedir(dp);
	return n;
}

/* Rewrite the entry's counts line, keeping its key. */
static void forge(const char *entry, const char *counts_line)
{
	char buf[16384];
	FILE *f = fopen(entry, "r");
	cr_assert_not_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *at = strstr(buf, "\ncounts ");
	cr_assert_not_null(at, "no counts line in %s", entry);
	strcpy(at + 1, counts_line);
	f = fopen(entry, "w");
	cr_assert_not_null(f);
	fputs(buf, f);
	cr_assert_eq(fclose(f), 0);
}

static void assert_counts(const uint64_t *got, const uint64_t *want, const char *what)
{
	for (int i = 0; i < FPT_VERDICT_COUNT; i++)
		cr_assert_eq(got[i], want[i], "%s: %llu %s functions, want %llu", what,
			     (unsigned long long)got[i], fpt_verdict_name(i),
			     (unsigned long long)want[i]);
}

Test(audit_cache, kept_read_back_and_dropped_when_the_module_changes)
{
	struct fpt_arena arena = { 0 };
	struct fpt_audit_module fresh = { 0 };
	uint64_t first[FPT_VERDICT_COUNT], again[FPT_VERDICT_COUNT];
	char entry[PATH_MAX], err[256];

	struct fpt_decoder_cs *d = fpt_audit_decoder_new(err, sizeof err);
	cr_assert_not_null(d, "%s", err);
	fpt_audit_decoder_breaking_only(d, 1);
	cr_assert_eq(fpt_audit_module(d, module, &arena, 0, &fresh), 0, "%s", fresh.error);
	fpt_audit_decoder_free(d);

	counts_of(module, first);
	assert_counts(first, fresh.counts, "first call");
	cr_assert_eq(entries(entry, sizeof entry), 1, "no entry written in %s", cache);

	/* Read back: an entry changed by hand is what the next call answers. */
	forge(entry, "counts 1 2 3 4 5\n");
	counts_of(module, again);
	static const uint64_t forged[FPT_VERDICT_COUNT] = { 1, 2, 3, 4, 5 };
	assert_counts(again, forged, "second call, entry forged");

	/* A module with a new modification time is another file: audited again. */
	struct timespec times[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	cr_assert_eq(utimensat(AT_FDCWD, module, times, 0), 0);
	counts_of(module, again);
	assert_counts(again, fresh.counts, "after the module changed");
	cr_assert_eq(entries(entry, sizeof entry), 2);

	/* A damaged entry is a miss, never an answer. */
	forge(entry, "counts 1 2 x\n");
	counts_of(module, again);
	assert_counts(again, fresh.counts, "damaged entry");
	fpt_arena_free(&arena);
}

Test(audit_cache, off_when_the_directory_is_empty)
{
	uint64_t counts[FPT_VERDICT_COUNT];
	char entry[PATH_MAX];
	cr_assert_eq(setenv("FPTRACE_CACHE_DIR", "", 1), 0);
	counts_of(module, counts);
	cr_assert_eq(entries(entry, sizeof entry), 0, "%s written with the cache off", entry);
	cr_assert_gt(counts[FPT_VERDICT_NO_FRAME] + counts[FPT_VERDICT_CLOBBERS_RBP], 100);
}
