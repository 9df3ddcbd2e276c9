/*
 * perfdata_source.c — the perf.data magic sniffer, and fpt_source, which opens
 * a .fpt file or a perf.data file behind one interface for the analysis.
 */
#include "perfdata.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fpt_is_perfdata(const char *path)
{
	char magic[8], why[200];
	/* a FIFO is no perf.data: the .fpt reader then says what it is */
	int fd = fpu_open_regular(path, NULL, why, sizeof why);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, magic, sizeof magic);
	close(fd);
	return n == (ssize_t)sizeof magic &&
	       (!memcmp(magic, "PERFILE2", 8) || !memcmp(magic, "2ELIFREP", 8) ||
		!memcmp(magic, "PERFFILE", 8));
}

/* ---------------------------------------------------------------------------
 * fpt_source
 * ------------------------------------------------------------------------- */

int fpt_source_open(struct fpt_source *s, const char *path)
{
	static char warned[256];
	memset(s, 0, sizeof *s);
	if (!fpt_is_perfdata(path)) {
		s->kind = FPT_SOURCE_FPT;
		return fpu_reader_open(&s->fpt, path);
	}
	s->kind = FPT_SOURCE_PERF;
	s->perf = malloc(sizeof *s->perf);
	if (!s->perf) {
		snprintf(s->err, sizeof s->err, "%s: out of memory", path);
		return -1;
	}
	if (fpt_perfdata_open(s->perf, path, s->err, sizeof s->err) != 0)
		return -1;
	if (s->perf->note[0] && strncmp(warned, path, sizeof warned - 1)) {
		fprintf(stderr, "fptrace: warning: %s\n", s->perf->note);
		snprintf(warned, sizeof warned, "%s", path);
	}
	return 0;
}

int fpt_source_next(struct fpt_source *s, struct fpu_record *rec)
{
	if (s->kind == FPT_SOURCE_FPT)
		return fpu_reader_next(&s->fpt, rec);
	if (!s->perf)
		return -1;
	int rc = fpt_perfdata_next(s->perf, rec);
	if (rc < 0)
		snprintf(s->err, sizeof s->err, "%s", s->perf->err);
	return rc;
}

int fpt_source_rewind(struct fpt_source *s, const char *path)
{
	if (s->kind == FPT_SOURCE_PERF && s->perf) {
		if (fpt_perfdata_rewind(s->perf) == 0)
			return 0;
		snprintf(s->err, sizeof s->err, "%s", s->perf->err);
		return -1;
	}
	/* a .fpt: its open reads only the header */
	fpt_source_close(s);
	return fpt_source_open(s, path);
}

const char *fpt_source_error(const struct fpt_source *s)
{
	if (s->kind == FPT_SOURCE_FPT)
		return fpu_reader_error(&s->fpt);
	return s->err;
}

void fpt_source_close(struct fpt_source *s)
{
	if (s->kind == FPT_SOURCE_FPT)
		fpu_reader_close(&s->fpt);
	if (s->perf) {
		fpt_perfdata_close(s->perf);
		free(s->perf);
		s->perf = NULL;
	}
	s->kind = 0;
}
