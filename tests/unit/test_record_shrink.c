/*
 * A .fpt file that shrinks while it is read (a recording rotated or cut by
 * another process): one line "offset N: file shrank while being read", never
 * SIGBUS (a mapped file raises it on the pages that are gone) and never
 * "checksum mismatch" (a mapping reads zeros up to the end of the last page).
 * fpu_load_file_hook shrinks the file between fstat and the reads, which is
 * where another process does it, only deterministically.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_record_fixture.h"

extern void (*fpu_load_file_hook)(int fd, uint64_t size);

static char path[64];
static uint64_t cut_to;

static void shrink(int fd, uint64_t size)
{
	(void)fd;
	cr_assert_lt(cut_to, size);
	cr_assert_eq(truncate(path, (off_t)cut_to), 0, "truncate %s: %m", path);
}

static size_t write_big_file(void)
{
	snprintf(path, sizeof path, "/tmp/fpt-shrink-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	return fixture_write_big(path, 256 * 1024, NULL);
}

Test(shrink, file_truncated_while_read_says_so)
{
	size_t size = write_big_file();
	/* inside the last record, inside the first one, mid-file, on a page boundary */
	const uint64_t cuts[] = { size - 3, 100, size / 2 + 3, 8192 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		struct fpu_reader r;
		char want[200];
		write_big_file();
		cut_to = cuts[i];
		fpu_load_file_hook = shrink;
		int rc = fpu_reader_open(&r, path);
		fpu_load_file_hook = NULL;
		struct fpu_record rec;
		while (rc == 0 && (rc = fpu_reader_next(&r, &rec)) > 0)
			rc = 0;   /* a reader that looks at the file only now meets the cut here */
		snprintf(want, sizeof want, "%s: offset %" PRIu64 ": file shrank while being read "
			 "(%zu bytes at open)", path, cut_to, size);
		cr_expect_eq(rc, -1, "cut to %" PRIu64 " of %zu: read to the end", cut_to, size);
		cr_expect_str_eq(fpu_reader_error(&r) ? fpu_reader_error(&r) : "(no error)", want);
		fpu_reader_close(&r);
		unlink(path);
	}
}

/* The same file, not shrinking: read to its END (the test's own control). */
Test(shrink, the_same_file_whole_reads_to_the_end)
{
	write_big_file();
	struct fpu_reader r;
	struct fpu_record rec;
	int rc;
	uint64_t n = 0;
	cr_assert_eq(fpu_reader_open(&r, path), 0, "%s", fpu_reader_error(&r));
	while ((rc = fpu_reader_next(&r, &rec)) > 0)
		n++;
	cr_expect_eq(rc, 0, "%s", fpu_reader_error(&r));
	cr_expect(r.has_end && n > 100, "%" PRIu64 " records, END %d", n, r.has_end);
	fpu_reader_close(&r);
	unlink(path);
}
