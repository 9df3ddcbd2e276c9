/*
 * perf_exec.c — see perf_exec.h.
 */
#include "perf_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A /proc file's bytes (up to len - 1); the length read. */
static size_t read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t got;
	if (fd < 0)
		return 0;
	while (n + 1 < len && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	return n;
}

struct fpt_exec_stream *fpt_exec_stream_new(uint32_t pid, const char *tmpdir)
{
	struct fpt_exec_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	int wfd = s->fd >= 0 ? dup(s->fd) : -1;
	if (wfd < 0 || fpu_writer_fdopen(&s->w, wfd, 1) != 0) {
		if (wfd >= 0)
			close(wfd);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	s->pid = pid;
	s->pids[s->npids++] = pid;
	char path[64];
	snprintf(path, sizeof path, "/proc/%u/exe", pid);
	ssize_t n = readlink(path, s->exe, sizeof s->exe - 1);
	s->exe[n > 0 ? n : 0] = 0;
	s->cmdline = malloc(FPU_REC_MAX_CMDLINE);
	if (s->cmdline) {
		snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
		s->cmdline_len = (uint32_t)read_proc(path, s->cmdline, FPU_REC_MAX_CMDLINE);
	}
	return s;
}

void fpt_exec_stream_free(struct fpt_exec_stream *s)
{
	if (!s)
		return;
	if (!s->closed)
		fpu_writer_close(&s->w);
	close(s->fd);
	free(s->cmdline);
	free(s);
}

int fpt_exec_stream_has(const struct fpt_exec_stream *s, uint32_t pid)
{
	for (size_t i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return 1;
	return 0;
}

void fpt_exec_stream_add(struct fpt_exec_stream *s, uint32_t pid)
{
	if (!fpt_exec_stream_has(s, pid) && s->npids < FPT_EXEC_PIDS_MAX)
		s->pids[s->npids++] = pid;
}

void fpt_exec_stream_remove(struct fpt_exec_stream *s, uint32_t pid)
{
	for (size_t i = 0; i < s->npids; i++)
		if (s->pids[i] == pid) {
			s->pids[i] = s->pids[--s->npids];
			return;
		}
}

void fpt_exec_stream_put(struct fpt_exec_stream *s, const struct fpu_record *rec)
{
	if (s->write_failed)
		return;
	if (fpu_writer_put(&s->w, rec) != 0)
		s->write_failed = errno ? errno : EIO;
	else if (rec->type == FPU_REC_SAMPLE)
		s->samples++;
}

int fpt_exec_stream_write(struct fpt_exec_stream *s, struct fpu_writer *out,
			  const struct fpu_rec_process *process)
{
	if (s->write_failed) {
		errno = s->write_failed;
		return -1;
	}
	s->closed = 1;
	if (fpu_writer_close(&s->w) != 0)   /* flushes what is buffered */
		return -1;
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_PROCESS;
	rec.u.process = *process;
	rec.u.process.pid = s->pid;
	if (s->exe[0]) {
		rec.u.process.exe = s->exe;
		rec.u.process.exe_len = (uint32_t)strnlen(s->exe, FPU_REC_MAX_PATH);
	}
	rec.u.process.cmdline = s->cmdline ? s->cmdline : "";
	rec.u.process.cmdline_len = s->cmdline ? s->cmdline_len : 0;
	if (fpu_writer_put(out, &rec) != 0)
		return -1;

	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", s->fd);
	struct fpu_reader r;
	if (fpu_reader_open(&r, path) != 0) {
		fpu_reader_close(&r);
		errno = EIO;
		return -1;
	}
	int rc = 0;
	while ((rc = fpu_reader_next(&r, &rec)) == 1)
		if (fpu_writer_put(out, &rec) != 0) {
			rc = -1;
			break;
		}
	fpu_reader_close(&r);
	if (rc < 0) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}
