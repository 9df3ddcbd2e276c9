/*
 * maps.c — stack regions of a process read from /proc, and of the calling thread.
 *
 * The maps parser uses open/read/close and a fixed buffer: no stdio, no malloc,
 * so a profiler can call it from a context where the heap may be inconsistent.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

struct mapping {
	uintptr_t lo, hi;
	char perms[5];
	int anonymous;     /* no inode and no path */
	int is_stack;      /* the "[stack]" pseudo-path */
};

static const char *parse_hex(const char *s, uintptr_t *out)
{
	uintptr_t v = 0;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
		else break;
		v = v * 16 + d;
	}
	*out = v;
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

/* "lo-hi perms offset dev inode   path" */
static int parse_line(const char *line, struct mapping *m)
{
	const char *s = parse_hex(line, &m->lo);
	if (*s != '-')
		return -1;
	s = parse_hex(s + 1, &m->hi);
	if (*s != ' ')
		return -1;
	s++;
	for (int i = 0; i < 4; i++)
		m->perms[i] = s[i] ? s[i] : '?';
	m->perms[4] = 0;
	s = skip_field(s);        /* perms */
	s = skip_field(s);        /* offset */
	s = skip_field(s);        /* dev */
	int inode_zero = s[0] == '0' && s[1] == ' ';
	s = skip_field(s);        /* inode */
	m->anonymous = inode_zero && *s == 0;
	m->is_stack = streq(s, "[stack]");
	return m->lo < m->hi ? 0 : -1;
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

/*
 * Decide what one mapping is, given the one before it.  glibc allocates a pthread
 * stack as one mmap and mprotects its lowest page(s) to PROT_NONE, so the stack is
 * the rw anonymous mapping that starts exactly where a ---p mapping ends.
 */
static int classify(const struct mapping *prev, const struct mapping *m, int pid,
		    struct fpu_region *out)
{
	out->lo = m->lo;
	out->hi = m->hi;
	out->kind = FPU_REGION_THREAD;
	out->flags = 0;
	out->data = NULL;
	if (m->is_stack) {
		out->owner = (uint64_t)pid;
		return 1;
	}
	out->owner = 0;
	return prev && prev->hi == m->lo && streq(prev->perms, "---p") &&
	       m->anonymous && streq(m->perms, "rw-p");
}

int fpu_regions_from_maps(int pid, struct fpu_region *out, unsigned max)
{
	char path[32], buf[4096], line[512];
	struct mapping prev, cur;
	int have_prev = 0, fd, found = 0;
	size_t len = 0;
	ssize_t got;
	int saved_errno = errno;

	format_path(path, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pid <= 0)
		pid = getpid();
	while ((got = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof line - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			if (parse_line(line, &cur) != 0)
				continue;
			if ((unsigned)found < max &&
			    classify(have_prev ? &prev : NULL, &cur, pid, &out[found]))
				found++;
			prev = cur;
			have_prev = 1;
		}
	}
	int read_errno = got < 0 ? errno : 0;
	close(fd);
	if (read_errno) {
		errno = read_errno;
		return -1;
	}
	errno = saved_errno;
	return found;
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
