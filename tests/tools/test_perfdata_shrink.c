/*
 * A perf.data file that shrinks while it is read: the reader says
 * "offset N: file shrank while being read" (it reads the file with pread, never
 * maps it, so no SIGBUS).  fpu_load_file_hook shrinks it between fstat and the
 * reads, deterministically.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfdata.h"

extern void (*fpu_load_file_hook)(int fd, uint64_t size);

static char path[64];

static void shrink_to_5000(int fd, uint64_t size)
{
	(void)fd;
	cr_assert_gt(size, 5000);
	cr_assert_eq(truncate(path, 5000), 0, "truncate %s: %m", path);
}

Test(perfdata_shrink, file_truncated_while_read_says_so)
{
	static struct fpt_perfdata p;   /* large: not on the stack */
	static uint8_t bytes[256 * 1024];
	char err[512], want[300];

	memcpy(bytes, "PERFILE2", 8);
	snprintf(path, sizeof path, "/tmp/fpt-pshrink-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, sizeof bytes), (ssize_t)sizeof bytes);
	close(fd);
	fpu_load_file_hook = shrink_to_5000;
	int rc = fpt_perfdata_open(&p, path, err, sizeof err);
	fpu_load_file_hook = NULL;
	snprintf(want, sizeof want, "%s: offset 5000: file shrank while being read (%zu bytes at open)",
		 path, sizeof bytes);
	cr_expect_eq(rc, -1);
	cr_expect_str_eq(err, want);
	fpt_perfdata_close(&p);
	unlink(path);
}
