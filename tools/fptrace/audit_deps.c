/*
 * audit_deps.c — which objects to audit: a program and the shared objects it
 * needs, found the way ld.so finds them (DT_RPATH when there is no
 * DT_RUNPATH, LD_LIBRARY_PATH, DT_RUNPATH, the directories of
 * /etc/ld.so.conf that ld.so.cache is built from, then the default
 * directories; $ORIGIN expanded; objects of another class or machine
 * skipped as ld.so skips them), its interpreter, or the executable mappings
 * of a live process.
 */
#include "audit.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fpu_dwarf.h"

static int push(struct fpt_audit_targets *t, struct fpt_audit_target v)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 32;
		void *p = realloc(t->v, ncap * sizeof *t->v);
		if (!p)
			return -1;
		t->v = p;
		t->cap = ncap;
	}
	t->v[t->n++] = v;
	return 0;
}

int fpt_audit_add_path(struct fpt_audit_targets *t, struct fpt_arena *arena,
		       const char *path, const char *needed_by)
{
	char real[PATH_MAX];
	const char *p = realpath(path, real) ? real : path;
	for (size_t i = 0; i < t->n; i++)
		if (!t->v[i].error[0] && !strcmp(t->v[i].path, p))
			return 0;
	struct fpt_audit_target v = { .path = fpt_arena_strdup(arena, p), .needed_by = needed_by };
	return v.path ? push(t, v) : -1;
}

void fpt_audit_targets_free(struct fpt_audit_targets *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* Would ld.so take this file: ELF64, little-endian, x86-64? */
static int loadable(const char *path)
{
	unsigned char h[20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof h);
	close(fd);
	return n == (ssize_t)sizeof h && !memcmp(h, ELFMAG, SELFMAG) && h[EI_CLASS] == ELFCLASS64 &&
	       h[EI_DATA] == ELFDATA2LSB && (h[18] | h[19] << 8) == EM_X86_64;
}

/* The directories of /etc/ld.so.conf and its includes, once. */
struct dirs {
	char **v;
	size_t n, cap;
};

static void add_dir(struct dirs *d, const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
		len--;
	if (!len || *s != '/')
		return;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		char **p = realloc(d->v, ncap * sizeof *p);
		if (!p)
			return;
		d->v = p;
		d->cap = ncap;
	}
	if ((d->v[d->n] = strndup(s, len)))
		d->n++;
}

static void read_conf(struct dirs *d, const char *path, int depth)
{
	FILE *f = depth < 8 ? fopen(path, "re") : NULL;
	char line[PATH_MAX];
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *s = line + strspn(line, " \t");
		char *hash = strchr(s, '#');
		if (hash)
			*hash = 0;
		if (!strncmp(s, "include", 7) && (s[7] == ' ' || s[7] == '\t')) {
			char *pat = s + 8 + strspn(s + 8, " \t");
			pat[strcspn(pat, " \t\n")] = 0;
			glob_t g;
			if (glob(pat, 0, NULL, &g) == 0)
				for (size_t i = 0; i < g.gl_pathc; i++)
					read_conf(d, g.gl_pathv[i], depth + 1);
			globfree(&g);
		} else
			add_dir(d, s, strlen(s));
	}
	fclose(f);
}

static const struct dirs *system_dirs(void)
{
	static struct dirs d;
	static int done;
	static const char *const defaults[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
						"/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	if (!done) {
		done = 1;
		read_conf(&d, "/etc/ld.so.conf", 0);
		for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
			add_dir(&d, defaults[i], strlen(defaults[i]));
	}
	return &d;
}

/* Try each directory of a colon-separated list; $ORIGIN is origin. */
static int search_list(const char *list, const char *origin, const char *name, char *out)
{
	while (list && *list) {
		size_t len = strcspn(list, ":");
		char dir[PATH_MAX];
		if (len >= 7 && (!strncmp(list, "$ORIGIN", 7) || !strncmp(list, "${ORIGIN}", 9))) {
			size_t skip = list[1] == '{' ? 9 : 7;
			snprintf(dir, sizeof dir, "%s%.*s", origin, (int)(len - skip), list + skip);
		} else
			snprintf(dir, sizeof dir, "%.*s", (int)len, list);
		if (len && snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX && loadable(out))
			return 0;
		list += len;
		if (*list == ':')
			list++;
	}
	return -1;
}

struct dyninfo {
	const char *needed[256];
	size_t nneeded;
	const char *rpath, *runpath, *interp;
};

static void read_dynamic(const struct fpt_elf *o, struct fpt_arena *arena, struct dyninfo *di)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(data = elf_getdata(scn, NULL)))
			continue;
		size_t n = data->d_size / sizeof(Elf64_Dyn);
		for (size_t i = 0; i < n; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
				continue;
			const char *s = elf_strptr(o->elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			s = fpt_arena_strdup(arena, s);
			if (dyn.d_tag == DT_NEEDED && di->nneeded < 256)
				di->needed[di->nneeded++] = s;
			else if (dyn.d_tag == DT_RPATH)
				di->rpath = s;
			else if (dyn.d_tag == DT_RUNPATH)
				di->runpath = s;
		}
	}
	size_t nph;
	if (elf_getphdrnum(o->elf, &nph) != 0)
		return;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(o->elf, (int)i, &ph) && ph.p_type == PT_INTERP && ph.p_offset < o->size &&
		    ph.p_filesz <= o->size - ph.p_offset && ph.p_filesz > 1)
			di->interp = fpt_arena_strndup(arena, (const char *)o->data + ph.p_offset,
						       strnlen((const char *)o->data + ph.p_offset, ph.p_filesz));
	}
}

static int resolve(const char *name, const struct dyninfo *di, const char *exe_rpath,
		   const char *origin, char *out)
{
	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return loadable(out) ? 0 : -1;
	}
	if (!di->runpath && ((di->rpath && search_list(di->rpath, origin, name, out) == 0) ||
			     (exe_rpath && search_list(exe_rpath, origin, name, out) == 0)))
		return 0;
	if (search_list(getenv("LD_LIBRARY_PATH"), origin, name, out) == 0)
		return 0;
	if (di->runpath && search_list(di->runpath, origin, name, out) == 0)
		return 0;
	const struct dirs *d = system_dirs();
	for (size_t i = 0; i < d->n; i++)
		if (snprintf(out, PATH_MAX, "%s/%s", d->v[i], name) < PATH_MAX && loadable(out))
			return 0;
	return -1;
}

int fpt_audit_add_with_deps(struct fpt_audit_targets *t, struct fpt_arena *arena, const char *path)
{
	size_t first = t->n;
	const char *exe_rpath = NULL;
	if (fpt_audit_add_path(t, arena, path, NULL) != 0)
		return -1;
	for (size_t i = first; i < t->n; i++) {
		if (t->v[i].error[0])
			continue;
		struct fpt_elf o;
		char err[256];
		if (fpt_elf_open(&o, t->v[i].path, err, sizeof err) != 0)
			continue;   /* said when the object itself is audited */
		struct dyninfo di = { 0 };
		read_dynamic(&o, arena, &di);
		fpt_elf_close(&o);
		if (i == first)
			exe_rpath = di.runpath ? NULL : di.rpath;
		char origin[PATH_MAX];
		snprintf(origin, sizeof origin, "%s", t->v[i].path);
		char *slash = strrchr(origin, '/');
		if (slash)
			*slash = 0;
		const char *by = t->v[i].path;
		if (di.interp && fpt_audit_add_path(t, arena, di.interp, by) != 0)
			return -1;
		for (size_t k = 0; k < di.nneeded; k++) {
			char found[PATH_MAX];
			if (resolve(di.needed[k], &di, exe_rpath, origin, found) == 0) {
				if (fpt_audit_add_path(t, arena, found, by) != 0)
					return -1;
				continue;
			}
			int seen = 0;
			for (size_t j = 0; j < t->n && !seen; j++)
				seen = t->v[j].error[0] && !strcmp(t->v[j].path, di.needed[k]);
			if (seen)
				continue;
			struct fpt_audit_target miss = { .path = di.needed[k], .needed_by = by };
			snprintf(miss.error, sizeof miss.error, "library not found (needed by %s)", by);
			if (push(t, miss) != 0)
				return -1;
		}
	}
	return 0;
}

int fpt_audit_add_pid(struct fpt_audit_targets *t, struct fpt_arena *arena, int pid,
		      char *err, size_t errlen)
{
	size_t n = 0;
	struct fpu_mapping *maps = fpu_mappings_from_proc(pid, &n);
	if (!maps) {
		snprintf(err, errlen, "/proc/%d/maps: %s", pid, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((maps[i].prot & PROT_EXEC) && maps[i].path && maps[i].path[0] == '/')
			rc = fpt_audit_add_path(t, arena, maps[i].path, NULL);
	free(maps);
	if (rc)
		snprintf(err, errlen, "out of memory");
	return rc;
}
