/*
 * audit_cache.c — a module's verdict counts, kept across runs for check's
 * no-FP summary (audit.h: fpt_audit_counts).
 *
 * The summary counts the verdicts of every function of each module it names:
 * Debian's libc is 4,000 functions and 160,000 instructions through Capstone,
 * about 33 ms, half of what a check of a 1,000-sample file costs, and the same
 * answer every time.  The counts depend on the module's bytes, on its separate
 * debug file (symbols, .debug_frame) and on the audit's rules, which live in
 * fptrace's own executable: an entry names the identity (device, inode, size,
 * modification time) of all three and is used only when all three still
 * match.  An entry is written whole and renamed into place, so checks running
 * side by side never read half of one.  Failing to read or write is a miss:
 * the audit runs, as it did before the cache.
 */
#include "audit.h"
#include "intern.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "PATH DEV:INO SIZE MTIME", or "PATH none" when it cannot be read. */
static void identity(const char *path, char *out, size_t len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(out, len, "%s none", path);
		return;
	}
	snprintf(out, len, "%s %ju:%ju %jd %jd.%09ld", path, (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
}

/* $FPTRACE_CACHE_DIR ("" turns the cache off), else $XDG_CACHE_HOME/fptrace,
 * else $HOME/.cache/fptrace; made if missing.  0, or -1: no cache. */
static int cache_dir(char *out, size_t len)
{
	const char *env = getenv("FPTRACE_CACHE_DIR");
	if (env) {
		if (!env[0])
			return -1;
		snprintf(out, len, "%s", env);
	} else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
		snprintf(out, len, "%s/fptrace", env);
	} else if ((env = getenv("HOME")) && env[0] == '/') {
		int n = snprintf(out, len, "%s/.cache", env);
		if (n <= 0 || (size_t)n >= len || (mkdir(out, 0700) != 0 && errno != EEXIST))
			return -1;
		n = snprintf(out, len, "%s/.cache/fptrace", env);
		if (n <= 0 || (size_t)n >= len)
			return -1;
	} else {
		return -1;
	}
	return mkdir(out, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* The key: the rules (this executable), the module and its debug file. */
static int cache_key(const char *path, char *key, size_t len)
{
	struct fpt_elf o;
	char err[256], debug[300], exe[4200], mod[4200], dbg[4200];

	if (fpt_elf_open(&o, path, err, sizeof err) != 0)
		return -1;
	if (fpt_elf_debug_path(&o, debug, sizeof debug) != 0)
		snprintf(debug, sizeof debug, "(no build id)");
	fpt_elf_close(&o);
	identity("/proc/self/exe", exe, sizeof exe);
	identity(path, mod, sizeof mod);
	identity(debug, dbg, sizeof dbg);
	int n = snprintf(key, len, "fptrace audit counts, breaking only, 1\nexe %s\nmodule %s\n"
			 "debug %s\n", exe, mod, dbg);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int entry_path(const char *key, char *out, size_t len)
{
	char dir[4096];
	if (cache_dir(dir, sizeof dir) != 0)
		return -1;
	int n = snprintf(out, len, "%s/audit-%016" PRIx64, dir, fpt_hash(key, strlen(key), 0));
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* 0 with counts when the entry holds exactly key; else -1. */
static int read_entry(const char *file, const char *key, uint64_t counts[FPT_VERDICT_COUNT])
{
	char buf[16384];
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	size_t klen = strlen(key);
	if (n <= klen || memcmp(buf, key, klen) != 0 || strncmp(buf + klen, "counts", 6) != 0)
		return -1;
	const char *p = buf + klen + 6;
	for (int i = 0; i < FPT_VERDICT_COUNT; i++) {
		char *end;
		errno = 0;
		counts[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return -1;
		p = end;
	}
	return *p == '\n' ? 0 : -1;
}

static void write_entry(const char *file, const char *key, const uint64_t counts[FPT_VERDICT_COUNT])
{
	char tmp[4300];
	int n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", file, (long)getpid());
	int fd = n > 0 && (size_t)n < sizeof tmp
		 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fputs(key, f);
	fputs("counts", f);
	for (int i = 0; i < FPT_VERDICT_COUNT; i++)
		fprintf(f, " %" PRIu64, counts[i]);
	fputc('\n', f);
	if ((ferror(f) | fclose(f)) || rename(tmp, file) != 0)
		unlink(tmp);
}

int fpt_audit_counts(struct fpt_decoder_cs *d, const char *path,
		     uint64_t counts[FPT_VERDICT_COUNT], char *err, size_t errlen)
{
	char key[16384], file[4200];
	int cached = cache_key(path, key, sizeof key) == 0 &&
		     entry_path(key, file, sizeof file) == 0;

	if (cached && read_entry(file, key, counts) == 0)
		return 0;
	struct fpt_arena arena = { 0 };
	struct fpt_audit_module am = { 0 };
	int rc = fpt_audit_module(d, path, &arena, 0, &am);
	if (rc == 0) {
		memcpy(counts, am.counts, sizeof am.counts);
		if (cached)
			write_entry(file, key, counts);
	} else {
		snprintf(err, errlen, "%s", am.error);
	}
	fpt_arena_free(&arena);
	return rc;
}
