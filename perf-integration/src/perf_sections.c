/*
 * perf_sections.c — the end of a perf_event_open recording: END, or the file
 * rewritten as one section per process (see perf_session.h, and
 * docs/FORMAT.md for the sections).
 *
 * A section is one address space: a PROCESS record, then the mappings,
 * threads and samples of that process (and of its forks that run the same
 * program).  Keeping each process's records together, instead of one file of
 * the busiest process alone, lets report and check select processes
 * (--pid) and show the others, as perf report does with a shell wrapper's
 * child, or with `perf record -p A,B`.
 */
#include "perf_session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fpt_rec_tmpdir(const char *path, char *dir, size_t len)
{
	snprintf(dir, len, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
}

/* The samples of section i: -1 the file's own process, else stream i. */
static uint64_t section_samples(const struct fpt_decoder *d, int i)
{
	return i < 0 ? d->samples : d->execs[i]->samples;
}

/* The records written to the file so far (its own process: PROCESS first,
 * no END yet) into out.  0, or -1 with errno. */
static int copy_own(const char *path, struct fpu_writer *out)
{
	struct fpu_reader r;
	struct fpu_record rec;
	int rc;
	if (fpu_reader_open(&r, path) != 0) {
		fpu_reader_close(&r);
		errno = EIO;
		return -1;
	}
	while ((rc = fpu_reader_next(&r, &rec)) == 1)
		if (fpu_writer_put(out, &rec) != 0) {
			rc = -1;
			break;
		}
	fpu_reader_close(&r);
	if (rc < 0 && !errno)
		errno = EIO;
	return rc < 0 ? -1 : 0;
}

/* Write the sections order[0, n) into out, then END.  0, or -1 with errno. */
static int write_sections(struct fpt_perf_rec *r, const char *path, struct fpu_writer *out,
			  const int *order, size_t n, const struct fpu_rec_process *base,
			  struct fpu_rec_end end)
{
	uint64_t samples = 0;
	for (size_t k = 0; k < n; k++) {
		int i = order[k];
		if ((i < 0 ? copy_own(path, out)
			   : fpt_exec_stream_write(r->dec.execs[i], out, base)) != 0)
			return -1;
		samples += section_samples(&r->dec, i);
	}
	if (order[0] >= 0)   /* an exec'd or attached process first: not our child */
		end = (struct fpu_rec_end){ .how = FPU_END_HOW_UNKNOWN, .time_ns = end.time_ns };
	end.samples = samples;
	end.drops = r->dec.lost;
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_END;
	rec.u.end = end;
	return fpu_writer_put(out, &rec);
}

int fpt_rec_finish(struct fpt_perf_rec *r, const char *path, const struct fpu_rec_process *base,
		   struct fpu_rec_end end)
{
	struct fpt_decoder *d = &r->dec;
	int order[FPT_EXEC_STREAMS_MAX + 1];
	size_t n = 0;
	int others = 0;
	/* the sections with samples, the most sampled first (a stable insertion) */
	for (int i = -1; i < (int)d->nexecs; i++) {
		if (!section_samples(d, i))
			continue;
		others |= i >= 0;
		size_t at = n++;
		while (at > 0 && section_samples(d, order[at - 1]) < section_samples(d, i)) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
	}
	if (!others) {
		fpt_rec_put_end(r, end);
		int e = d->write_failed;
		if (fpu_writer_close(&r->w) != 0 && !e)
			e = errno ? errno : EIO;
		return e;
	}
	int e = d->write_failed;
	if (fpu_writer_close(&r->w) != 0 && !e)
		e = errno ? errno : EIO;
	if (e)
		return e;

	/* written beside it, then renamed over it: never half a file */
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.sections", path) >= (int)sizeof tmp)
		return ENAMETOOLONG;
	struct fpu_writer w;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (fpu_writer_fdopen(&w, fd, 1) != 0) {
		e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return e;
	}
	if (write_sections(r, path, &w, order, n, base, end) != 0)
		e = errno ? errno : EIO;
	if (fpu_writer_close(&w) != 0 && !e)
		e = errno ? errno : EIO;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}
