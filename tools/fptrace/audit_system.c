/*
 * audit_system.c — `fptrace audit --system`: every shared object in the
 * library directories (those of /etc/ld.so.conf and the defaults), ranked
 * by the share of their functions that break frame-pointer stacks, each
 * with the Debian package that owns it (read from the dpkg database,
 * the .list files of /var/lib/dpkg/info, once).
 */
#include "audit.h"
#include "report.h"

#include <dirent.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* path -> package, from every /var/lib/dpkg/info/<package>[:arch].list. */
struct dpkg_db {
	struct fpt_map paths;
	struct fpt_arena names;
	const char **pkgs;
	size_t npkgs;
	int loaded;
};

static struct dpkg_db db;

static void load_dpkg(void)
{
	glob_t g;
	db.loaded = 1;
	if (glob("/var/lib/dpkg/info/*.list", 0, NULL, &g) != 0)
		return;
	db.pkgs = calloc(g.gl_pathc + 1, sizeof *db.pkgs);
	for (size_t i = 0; db.pkgs && i < g.gl_pathc; i++) {
		const char *file = strrchr(g.gl_pathv[i], '/') + 1;
		size_t len = strlen(file) - 5;   /* ".list" */
		const char *pkg = fpt_arena_strndup(&db.names, file, len);
		FILE *f = fopen(g.gl_pathv[i], "re");
		if (!pkg || !f) {
			if (f)
				fclose(f);
			continue;
		}
		db.pkgs[db.npkgs] = pkg;
		char line[PATH_MAX];
		while (fgets(line, sizeof line, f)) {
			size_t n = strcspn(line, "\n");
			if (n > 3 && strstr(line, ".so"))
				fpt_map_put(&db.paths, fpt_hash(line, n, 0), (uint32_t)db.npkgs);
		}
		db.npkgs++;
		fclose(f);
	}
	globfree(&g);
}

const char *fpt_dpkg_owner(const char *path)
{
	if (!db.loaded)
		load_dpkg();
	uint32_t i;
	/* A merged /usr: dpkg may list /lib/... for what realpath calls /usr/lib/... */
	const char *tries[2] = { path, !strncmp(path, "/usr/", 5) ? path + 4 : NULL };
	for (int t = 0; t < 2; t++)
		if (tries[t] && fpt_map_get(&db.paths, fpt_hash(tries[t], strlen(tries[t]), 0), &i) &&
		    i < db.npkgs)
			return db.pkgs[i];
	return NULL;
}

struct row {
	const char *path;
	uint64_t counts[FPT_VERDICT_COUNT];
	uint64_t total;
};

static double share(const struct row *r)
{
	uint64_t b = r->counts[FPT_VERDICT_NO_FRAME] + r->counts[FPT_VERDICT_CLOBBERS_RBP];
	return r->total ? (double)b / (double)r->total : 0.0;
}

static int by_share(const void *a, const void *b)
{
	double x = share(a), y = share(b);
	return x < y ? 1 : x > y ? -1 : strcmp(((const struct row *)a)->path, ((const struct row *)b)->path);
}

static int is_shared_object_name(const char *name)
{
	const char *so = strstr(name, ".so");
	return so && (so[3] == 0 || so[3] == '.');
}

static int list_dir(struct fpt_audit_targets *t, struct fpt_arena *arena, const char *dirpath)
{
	DIR *dir = opendir(dirpath);
	struct dirent *e;
	int rc = 0;
	while (dir && rc == 0 && (e = readdir(dir))) {
		char path[PATH_MAX];
		struct stat st;
		if (!is_shared_object_name(e->d_name) ||
		    snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name) >= (int)sizeof path ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = fpt_audit_add_path(t, arena, path, NULL);
	}
	if (dir)
		closedir(dir);
	return rc;
}

/*
 * The regular files named *.so* in the library directories, by real path.
 * FPTRACE_AUDIT_DIRS (colon-separated) replaces the directories: a test
 * audits one small directory instead of the whole system.
 */
static int list_objects(struct fpt_audit_targets *t, struct fpt_arena *arena)
{
	static const char defaults[] = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:"
				       "/lib64:/usr/lib64:/lib:/usr/lib:/usr/local/lib";
	const char *dirs = getenv("FPTRACE_AUDIT_DIRS");
	if (!dirs || !*dirs)
		dirs = defaults;
	while (*dirs) {
		size_t len = strcspn(dirs, ":");
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%.*s", (int)len, dirs);
		if (len && list_dir(t, arena, dir) != 0)
			return -1;
		dirs += len + (dirs[len] == ':');
	}
	return 0;
}

/* One object's result, as a worker sends it (a pipe write of this size is
 * atomic, so workers share one pipe). */
enum { ROW_PENDING = 0, ROW_AUDITED, ROW_UNREADABLE };

struct row_msg {
	uint32_t index, state;    /* ROW_* */
	uint64_t total;
	uint64_t counts[FPT_VERDICT_COUNT];
};

static struct row_msg audit_one(struct fpt_decoder_cs *d, const struct fpt_audit_targets *t, size_t i)
{
	struct fpt_arena scratch = { 0 };
	struct fpt_audit_module m = { .path = t->v[i].path };
	struct row_msg r = { .index = (uint32_t)i, .state = ROW_UNREADABLE };
	if (fpt_audit_module(d, t->v[i].path, &scratch, 0, &m) == 0) {
		r.state = ROW_AUDITED;
		r.total = m.nfuncs;
		memcpy(r.counts, m.counts, sizeof r.counts);
	}
	fpt_arena_free(&scratch);
	return r;
}

static void show_progress(int progress, size_t done, const struct fpt_audit_targets *t, size_t i)
{
	if (progress)
		fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, t->n, t->v[i].path);
}

/*
 * Audit every target into res[], with one worker process per CPU (at most
 * 4): the objects are independent and decoding is CPU-bound.  Worker w takes
 * the objects i with i % nworkers == w and writes one row_msg per object.
 * Without fork or a pipe, the objects are audited here, one after another.
 */
static void audit_all(struct fpt_decoder_cs *d, const struct fpt_audit_targets *t,
		      struct row_msg *res, int progress)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nworkers = cpus < 2 ? 1 : cpus > 4 ? 4 : (size_t)cpus, started = 0, done = 0;
	pid_t pids[4];
	int fds[2] = { -1, -1 };

	if (nworkers > 1 && t->n > 1 && pipe(fds) == 0) {
		fflush(NULL);
		for (; started < nworkers; started++) {
			if ((pids[started] = fork()) < 0)
				break;
			if (pids[started] == 0) {
				close(fds[0]);
				for (size_t i = started; i < t->n; i += nworkers) {
					struct row_msg r = audit_one(d, t, i);
					if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r)
						_exit(1);
				}
				_exit(0);
			}
		}
		close(fds[1]);
	}
	if (started == nworkers && started > 1) {
		struct row_msg r;
		while (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r)
			if (r.index < t->n) {
				res[r.index] = r;
				show_progress(progress, ++done, t, r.index);
			}
	}
	if (fds[0] >= 0)
		close(fds[0]);
	for (size_t w = 0; w < started; w++)
		waitpid(pids[w], NULL, 0);
	/* No workers, or one that died: what is missing, here. */
	for (size_t i = 0; i < t->n; i++)
		if (res[i].state == ROW_PENDING) {
			res[i] = audit_one(d, t, i);
			show_progress(progress, ++done, t, i);
		}
}

int fpt_audit_system(FILE *out, struct fpt_decoder_cs *d, const struct fpt_audit_print_opts *o,
		     int progress)
{
	struct fpt_arena arena = { 0 };
	struct fpt_audit_targets t = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (list_objects(&t, &arena) != 0) {
		fprintf(stderr, "fptrace audit: out of memory listing the library directories\n");
		return 1;
	}
	struct row *rows = calloc(t.n + 1, sizeof *rows);
	struct row_msg *res = calloc(t.n + 1, sizeof *res);
	size_t nrows = 0, failed = 0;
	uint64_t funcs = 0;
	if (rows && res)
		audit_all(d, &t, res, progress);
	for (size_t i = 0; rows && res && i < t.n; i++) {
		if (res[i].state != ROW_AUDITED) {
			/* Linker scripts and foreign objects sit in these directories too. */
			failed++;
			continue;
		}
		rows[nrows] = (struct row){ .path = t.v[i].path, .total = res[i].total };
		memcpy(rows[nrows].counts, res[i].counts, sizeof res[i].counts);
		funcs += res[i].total;
		nrows++;
	}
	free(res);
	if (progress)
		fprintf(stderr, "\r\033[K");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	qsort(rows, nrows, sizeof *rows, by_share);
	if (o->json) {
		fprintf(out, "{\"objects\":%zu,\"unreadable\":%zu,\"functions\":%" PRIu64
			",\"seconds\":%.3f,\"ranking\":[", nrows, failed, funcs, secs);
		for (size_t i = 0; i < nrows; i++) {
			const char *pkg = fpt_dpkg_owner(rows[i].path);
			fprintf(out, "%s\n{\"path\":", i ? "," : "");
			fpt_json_string(out, rows[i].path);
			fprintf(out, ",\"package\":");
			fpt_json_string(out, pkg ? pkg : "");
			fprintf(out, ",\"functions_total\":%" PRIu64 ",\"breaking_share\":%.4f,\"counts\":{",
				rows[i].total, share(&rows[i]));
			for (int v = 0; v < FPT_VERDICT_COUNT; v++)
				fprintf(out, "%s\"%s\":%" PRIu64, v ? "," : "", fpt_verdict_name(v),
					rows[i].counts[v]);
			fprintf(out, "}}");
		}
		fprintf(out, "]}\n");
	} else {
		fprintf(out, "%zu shared objects, %" PRIu64 " functions audited in %.2f s "
			"(%.0f objects/s, %.0f functions/s); %zu files skipped (not x86-64 ELF objects)\n",
			nrows, funcs, secs, secs > 0 ? (double)nrows / secs : 0.0,
			secs > 0 ? (double)funcs / secs : 0.0, failed);
		fprintf(out, "%-8s %8s %9s  %-28s %s\n", "breaking", "of", "functions", "package", "object");
		for (size_t i = 0; i < nrows && i < o->top; i++) {
			const char *pkg = fpt_dpkg_owner(rows[i].path);
			fprintf(out, "%7.1f%% %8" PRIu64 " %9" PRIu64 "  %-28s %s\n", 100.0 * share(&rows[i]),
				rows[i].counts[FPT_VERDICT_NO_FRAME] + rows[i].counts[FPT_VERDICT_CLOBBERS_RBP],
				rows[i].total, pkg ? pkg : "-", rows[i].path);
		}
		if (nrows > o->top)
			fprintf(out, "... and %zu more objects (--top N)\n", nrows - o->top);
	}
	free(rows);
	fpt_audit_targets_free(&t);
	fpt_arena_free(&arena);
	return 0;
}
