/*
 * maps.c — /proc/PID/maps: the one parser of its lines, the stack regions of
 * a process and its file mappings; and the stack of the calling thread.
 *
 * The line parser and fpu_maps_each use open/read/close and fixed buffers: no
 * stdio, no malloc, so a profiler can call them from a context where the heap
 * may be inconsistent.  fpu_mappings_from_proc allocates its result.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const char *parse_hex(const char *s, uint64_t *out, int *digits)
{
	uint64_t v = 0;
	int n = 0;
	for (;; s++, n++) {
		unsigned d;
		if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
		else break;
		v = v * 16 + d;
	}
	*out = v;
	*digits = n;
	return s;
}

static const char *skip_field(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int fpu_maps_parse_line(const char *line, struct fpu_maps_line *m)
{
	int n;
	const char *s = parse_hex(line, &m->start, &n);
	if (!n || *s != '-')
		return -1;
	s = parse_hex(s + 1, &m->end, &n);
	if (!n || *s != ' ')
		return -1;
	s++;
	for (int i = 0; i < 4; i++)
		m->perms[i] = s[i] && s[i] != ' ' ? s[i] : '?';
	m->perms[4] = 0;
	m->prot = (m->perms[0] == 'r' ? PROT_READ : 0) | (m->perms[1] == 'w' ? PROT_WRITE : 0) |
		  (m->perms[2] == 'x' ? PROT_EXEC : 0);
	s = skip_field(s);        /* perms */
	s = parse_hex(s, &m->pgoff, &n);
	if (!n)
		return -1;
	s = skip_field(s);        /* offset */
	s = skip_field(s);        /* dev */
	uint64_t inode = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		inode = inode * 10 + (uint64_t)(*s - '0');
	m->inode = inode;
	while (*s == ' ')
		s++;
	m->path = s;
	m->path_len = 0;
	while (s[m->path_len])
		m->path_len++;
	return m->start < m->end ? 0 : -1;
}

static void format_path(char *buf, int pid)
{
	const char *prefix = "/proc/";
	char digits[16];
	int nd = 0, n = 0;

	if (pid <= 0) {
		const char *self = "/proc/self/maps";
		while ((buf[n] = self[n]))
			n++;
		return;
	}
	while (*prefix)
		buf[n++] = *prefix++;
	do {
		digits[nd++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid);
	while (nd)
		buf[n++] = digits[--nd];
	const char *tail = "/maps";
	while ((buf[n++] = *tail++))
		;
}

int fpu_maps_each(int pid, char *line, size_t linecap,
		  int (*fn)(const struct fpu_maps_line *m, void *arg), void *arg)
{
	char path[32], buf[1024];
	struct fpu_maps_line m;
	size_t len = 0;
	ssize_t got;
	int fd, rc = 0;

	format_path(path, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (!rc && (got = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got && !rc; i++) {
			if (buf[i] != '\n') {
				if (len < linecap - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			if (fpu_maps_parse_line(line, &m) == 0)
				rc = fn(&m, arg);
		}
	}
	int read_errno = !rc && got < 0 ? errno : 0;
	close(fd);
	if (read_errno) {
		errno = read_errno;
		return -1;
	}
	return rc;
}

/* ---------------------------------------------------------------------------
 * Stack regions
 * ------------------------------------------------------------------------- */

struct regions_scan {
	int pid;
	struct fpu_region *out;
	unsigned max, found;
	int have_prev;
	uint64_t prev_end;
	char prev_perms[5];
};

/*
 * Decide what one mapping is, given the one before it.  glibc allocates a pthread
 * stack as one mmap and mprotects its lowest page(s) to PROT_NONE, so the stack is
 * the rw anonymous mapping that starts exactly where a ---p mapping ends.
 */
static int classify(const struct regions_scan *r, const struct fpu_maps_line *m,
		    struct fpu_region *out)
{
	out->lo = m->start;
	out->hi = m->end;
	out->kind = FPU_REGION_THREAD;
	out->flags = 0;
	out->data = NULL;
	if (streq(m->path, "[stack]")) {
		out->owner = (uint64_t)r->pid;
		return 1;
	}
	out->owner = 0;
	int anonymous = m->inode == 0 && m->path_len == 0;
	return r->have_prev && r->prev_end == m->start && streq(r->prev_perms, "---p") &&
	       anonymous && streq(m->perms, "rw-p");
}

static int region_of_line(const struct fpu_maps_line *m, void *arg)
{
	struct regions_scan *r = arg;
	if (r->found < r->max && classify(r, m, &r->out[r->found]))
		r->found++;
	r->prev_end = m->end;
	for (int i = 0; i < 5; i++)
		r->prev_perms[i] = m->perms[i];
	r->have_prev = 1;
	return 0;
}

int fpu_regions_from_maps(int pid, struct fpu_region *out, unsigned max)
{
	char line[512];
	int saved_errno = errno;
	struct regions_scan r = { .pid = pid > 0 ? pid : getpid(), .out = out, .max = max };
	if (fpu_maps_each(pid, line, sizeof line, region_of_line, &r) != 0)
		return -1;
	errno = saved_errno;
	return (int)r.found;
}

int fpu_region_current_thread(struct fpu_region *out)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return -1;
	int rc = pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -1;
	out->lo = (uintptr_t)addr;
	out->hi = (uintptr_t)addr + size;
	out->owner = (uint64_t)syscall(SYS_gettid);
	out->kind = FPU_REGION_THREAD;
	out->flags = 0;
	out->data = NULL;
	return 0;
}

/* ---------------------------------------------------------------------------
 * File mappings
 * ------------------------------------------------------------------------- */

#define MAPS_LINE_MAX 4352   /* a PATH_MAX path and the fields before it */

struct files_scan {
	struct fpu_mapping *maps;     /* NULL: count only */
	size_t n, max;
	char *str, *str_end;
	size_t strbytes;
};

/* Only real files: not [heap], [vdso] (no file to read CFI from), anon. */
static int file_of_line(const struct fpu_maps_line *m, void *arg)
{
	struct files_scan *f = arg;
	if (m->path[0] != '/')
		return 0;
	if (!f->maps) {
		f->n++;
		f->strbytes += m->path_len + 1;
		return 0;
	}
	/* The process may have mapped more between the passes. */
	if (f->n == f->max || m->path_len + 1 > (size_t)(f->str_end - f->str))
		return 1;
	for (size_t i = 0; i <= m->path_len; i++)
		f->str[i] = m->path[i];
	f->maps[f->n++] = (struct fpu_mapping){ .start = m->start, .end = m->end,
						 .pgoff = m->pgoff, .prot = m->prot,
						 .path = f->str };
	f->str += m->path_len + 1;
	return 0;
}

struct fpu_mapping *fpu_mappings_from_proc(int pid, size_t *count)
{
	struct files_scan f = { 0 };
	char *line = malloc(MAPS_LINE_MAX);
	if (!line) {
		errno = ENOMEM;
		return NULL;
	}
	/* Two passes over the same file: count, then fill one block. */
	if (fpu_maps_each(pid, line, MAPS_LINE_MAX, file_of_line, &f) != 0) {
		free(line);
		return NULL;
	}
	f.maps = calloc(1, f.n * sizeof *f.maps + f.strbytes + 1);
	if (!f.maps) {
		free(line);
		errno = ENOMEM;
		return NULL;
	}
	f.max = f.n;
	f.n = 0;
	f.str = (char *)(f.maps + f.max);
	f.str_end = f.str + f.strbytes;
	int rc = fpu_maps_each(pid, line, MAPS_LINE_MAX, file_of_line, &f);
	free(line);
	if (rc < 0) {
		int e = errno;
		free(f.maps);
		errno = e;
		return NULL;
	}
	*count = f.n;
	return f.maps;
}
