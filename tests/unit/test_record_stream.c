/*
 * A .fpt file many times larger than the reader's window: every record comes
 * back whole and equal to what was written, memory stays flat (the file is
 * read through the window, not loaded), and a cut far past the first window
 * still gives "offset N: file shrank while being read" at the bytes there were.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_record_fixture.h"

extern void (*fpu_load_file_hook)(int fd, uint64_t size);

static char path[64];
static uint64_t cut_to;

static void make_path(void)
{
	snprintf(path, sizeof path, "/tmp/fpt-stream-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static long max_rss_kb(void)
{
	struct rusage ru;
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* 16 windows of samples: read to END, each sample equal to the fixture's,
 * and the process's peak RSS grows by far less than the file's size. */
Test(stream, file_of_many_windows_reads_whole_in_flat_memory)
{
	static struct fixture fx;
	fixture_build(&fx);
	int s = 0;
	while (fx.rec[s].type != FPU_REC_SAMPLE)
		s++;
	make_path();
	uint64_t want_samples;
	size_t size = fixture_write_big(path, 16 * (size_t)FPU_READER_WINDOW, &want_samples);
	long rss0 = max_rss_kb();

	struct fpu_reader r;
	struct fpu_record rec;
	uint64_t samples = 0;
	int rc;
	cr_assert_eq(fpu_reader_open(&r, path), 0, "%s", fpu_reader_error(&r));
	while ((rc = fpu_reader_next(&r, &rec)) > 0)
		if (rec.type == FPU_REC_SAMPLE) {
			fixture_expect_equal(&fx.rec[s], &rec);
			samples++;
		}
	cr_assert_eq(rc, 0, "%s", fpu_reader_error(&r));
	cr_assert(r.has_end);
	cr_assert_eq(samples, want_samples);
	cr_assert_eq(r.last_good, size);
	fpu_reader_close(&r);
	long grown_kb = max_rss_kb() - rss0;
	cr_assert_lt(grown_kb, (long)(size / 1024 / 4),
		     "peak RSS grew by %ld KB reading a %zu KB file: the file was loaded, "
		     "not streamed", grown_kb, size / 1024);
	unlink(path);
}

static void shrink(int fd, uint64_t size)
{
	(void)fd;
	cr_assert_lt(cut_to, size);
	cr_assert_eq(truncate(path, (off_t)cut_to), 0, "truncate %s: %m", path);
}

/* Cut three windows in: the records before the cut are read, then one line. */
Test(stream, cut_past_the_first_window_says_where)
{
	make_path();
	size_t size = fixture_write_big(path, 4 * (size_t)FPU_READER_WINDOW, NULL);
	struct fpu_reader r;
	struct fpu_record rec;
	char want[200];
	uint64_t n = 0;
	int rc;

	cut_to = 3 * (uint64_t)FPU_READER_WINDOW + 3;
	fpu_load_file_hook = shrink;
	rc = fpu_reader_open(&r, path);
	fpu_load_file_hook = NULL;
	cr_assert_eq(rc, 0, "%s", fpu_reader_error(&r));
	while ((rc = fpu_reader_next(&r, &rec)) > 0)
		n++;
	snprintf(want, sizeof want, "%s: offset %" PRIu64 ": file shrank while being read "
		 "(%zu bytes at open)", path, cut_to, size);
	cr_assert_eq(rc, -1);
	cr_expect_str_eq(fpu_reader_error(&r) ? fpu_reader_error(&r) : "(no error)", want);
	cr_expect_gt(n, 100, "%" PRIu64 " records before the cut", n);
	cr_expect_leq(r.last_good, cut_to);
	fpu_reader_close(&r);
	unlink(path);
}
