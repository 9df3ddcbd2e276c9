/*
 * file_load.c — how fptrace opens what it reads: the -i input (.fpt or
 * perf.data) and the files behind mappings (CFI, code).  Paths come from files
 * that may be hostile, so a FIFO or a device must never block open() (it would
 * wait for a writer forever), and an input truncated while it is read must give
 * a message, never the SIGBUS a file mapping raises.
 */
#include "fpu_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test hook: called between fstat and the reads, so a test can shrink the file
 * there deterministically.  NULL outside the tests. */
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

void *fpu_load_file(const char *path, uint64_t *size, uint64_t *bad_offset, char *why,
		    size_t whylen)
{
	uint64_t want;
	*bad_offset = 0;
	int fd = fpu_open_regular(path, &want, why, whylen);
	if (fd < 0)
		return NULL;
	if (fpu_load_file_hook)
		fpu_load_file_hook(fd, want);
	/* 8-aligned (decoded records are loaded in place), never 0 bytes */
	uint8_t *buf = want < SIZE_MAX - 8 ? malloc((size_t)want + 8) : NULL;
	if (!buf) {
		snprintf(why, whylen, "out of memory reading %llu bytes", (unsigned long long)want);
		close(fd);
		return NULL;
	}
	uint64_t got = 0;
	while (got < want) {
		size_t chunk = want - got > (1u << 24) ? (1u << 24) : (size_t)(want - got);
		ssize_t n = pread(fd, buf + got, chunk, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read error: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			snprintf(why, whylen, "file shrank while being read (%llu bytes at open)",
				 (unsigned long long)want);
			break;
		}
		got += (uint64_t)n;
	}
	close(fd);
	if (got < want) {
		*bad_offset = got;
		free(buf);
		return NULL;
	}
	*size = want;
	return buf;
}
