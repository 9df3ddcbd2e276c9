/*
 * file_load.c — how fptrace opens what it reads: the -i input (.fpt or
 * perf.data) and the files behind mappings (CFI, code).  Paths come from files
 * that may be hostile, so a FIFO or a device must never block open() (it would
 * wait for a writer forever), and an input truncated while it is read must give
 * a message, never the SIGBUS a file mapping raises.  A large input is read
 * through a window (fpu_stream), so memory stays flat however big it is.
 */
#include "fpu_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test hook: called between fstat and the reads (fpu_stream_open), so a test
 * can shrink the file there deterministically.  NULL outside the tests. */
void (*fpu_load_file_hook)(int fd, uint64_t size);

static const char *kind_of(mode_t mode)
{
	if (S_ISFIFO(mode)) return "a FIFO";
	if (S_ISCHR(mode)) return "a character device";
	if (S_ISBLK(mode)) return "a block device";
	if (S_ISDIR(mode)) return "a directory";
	if (S_ISSOCK(mode)) return "a socket";
	return "not a plain file";
}

int fpu_open_regular(const char *path, uint64_t *size, char *why, size_t whylen)
{
	struct stat st;
	/* O_NONBLOCK: open() of a FIFO with no writer returns at once instead of
	 * blocking; on a regular file it changes nothing. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file (%s)", kind_of(st.st_mode));
		close(fd);
		return -2;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	return fd;
}

/*
 * Read into s->buf from file offset s->buf_off + s->have until it holds at
 * least want bytes (and as many more as fit, up to the size at open).
 */
static int stream_fill(struct fpu_stream *s, size_t want, uint64_t *bad_offset, char *why,
		       size_t whylen)
{
	uint64_t left = s->size - s->buf_off;
	size_t upto = left < s->cap ? (size_t)left : s->cap;
	while (s->have < want || s->have < upto) {
		ssize_t n = pread(s->fd, s->buf + s->have, upto - s->have,
				  (off_t)(s->buf_off + s->have));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read error: %s", strerror(errno));
			*bad_offset = s->buf_off + s->have;
			return -1;
		}
		if (n == 0 && s->have >= want)
			break;   /* what was asked for is here; the next get meets the cut */
		if (n == 0) {
			snprintf(why, whylen, "file shrank while being read (%llu bytes at open)",
				 (unsigned long long)s->size);
			*bad_offset = s->buf_off + s->have;
			return -1;
		}
		s->have += (size_t)n;
	}
	return 0;
}

int fpu_stream_open(struct fpu_stream *s, const char *path, size_t window,
		    uint64_t *bad_offset, char *why, size_t whylen)
{
	memset(s, 0, sizeof *s);
	*bad_offset = 0;
	s->fd = fpu_open_regular(path, &s->size, why, whylen);
	if (s->fd < 0)
		return -1;
	if (fpu_load_file_hook)
		fpu_load_file_hook(s->fd, s->size);
	s->cap = window < 4096 ? 4096 : window;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		snprintf(why, whylen, "out of memory for a %zu-byte read window", s->cap);
		return -1;
	}
	/* The first window whole: a file cut inside it says so at once. */
	return stream_fill(s, s->size < s->cap ? (size_t)s->size : s->cap, bad_offset, why,
			   whylen);
}

const uint8_t *fpu_stream_get(struct fpu_stream *s, uint64_t off, uint64_t len,
			      uint64_t *bad_offset, char *why, size_t whylen)
{
	uint64_t end = s->buf_off + s->have;
	if (off >= s->buf_off && len <= end - s->buf_off && off - s->buf_off <= end - s->buf_off - len)
		return s->buf + (off - s->buf_off);
	if (len > s->size || off > s->size - len || len > SIZE_MAX - 8) {
		snprintf(why, whylen, "read of %llu bytes at %llu past the end of the file "
			 "(%llu bytes)", (unsigned long long)len, (unsigned long long)off,
			 (unsigned long long)s->size);
		*bad_offset = off;
		return NULL;
	}
	if (off < s->buf_off) {   /* backwards (a header, a record found before): again */
		s->buf_off = off;
		s->have = 0;
		end = off;
	}
	/* Keep what is already read from off on; forget what lies before it. */
	size_t keep = off < end ? (size_t)(end - off) : 0;
	if (keep)
		memmove(s->buf, s->buf + (off - s->buf_off), keep);
	s->buf_off = off;
	s->have = keep;
	if (len > s->cap) {   /* one record larger than the window: grow to fit it */
		uint8_t *b = realloc(s->buf, (size_t)len);
		if (!b) {
			snprintf(why, whylen, "out of memory for a %llu-byte record",
				 (unsigned long long)len);
			*bad_offset = off;
			return NULL;
		}
		s->buf = b;
		s->cap = (size_t)len;
	}
	if (stream_fill(s, (size_t)len, bad_offset, why, whylen) != 0)
		return NULL;
	return s->buf;
}

void fpu_stream_close(struct fpu_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}
