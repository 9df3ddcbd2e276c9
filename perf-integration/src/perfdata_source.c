/*
 * perfdata_source.c — small pieces around the perf.data reader: record names,
 * the bounded record cursor, the magic sniffer, and fpt_source, which opens a
 * .fpt file or a perf.data file behind one interface for the analysis.
 */
#include "perfdata.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *fpt_perf_record_name(uint32_t type)
{
	static const char *const kernel[] = {
		[PERF_RECORD_MMAP] = "MMAP", [PERF_RECORD_LOST] = "LOST",
		[PERF_RECORD_COMM] = "COMM", [PERF_RECORD_EXIT] = "EXIT",
		[PERF_RECORD_THROTTLE] = "THROTTLE", [PERF_RECORD_UNTHROTTLE] = "UNTHROTTLE",
		[PERF_RECORD_FORK] = "FORK", [PERF_RECORD_READ] = "READ",
		[PERF_RECORD_SAMPLE] = "SAMPLE", [PERF_RECORD_MMAP2] = "MMAP2",
		[PERF_RECORD_AUX] = "AUX", [PERF_RECORD_ITRACE_START] = "ITRACE_START",
		[PERF_RECORD_LOST_SAMPLES] = "LOST_SAMPLES", [PERF_RECORD_SWITCH] = "SWITCH",
		[PERF_RECORD_SWITCH_CPU_WIDE] = "SWITCH_CPU_WIDE",
		[PERF_RECORD_NAMESPACES] = "NAMESPACES", [PERF_RECORD_KSYMBOL] = "KSYMBOL",
		[PERF_RECORD_BPF_EVENT] = "BPF_EVENT", [PERF_RECORD_CGROUP] = "CGROUP",
		[PERF_RECORD_TEXT_POKE] = "TEXT_POKE",
	};
	static const char *const user[] = {
		"HEADER_ATTR", "HEADER_EVENT_TYPE", "HEADER_TRACING_DATA", "HEADER_BUILD_ID",
		"FINISHED_ROUND", "ID_INDEX", "AUXTRACE_INFO", "AUXTRACE", "AUXTRACE_ERROR",
		"THREAD_MAP", "CPU_MAP", "STAT_CONFIG", "STAT", "STAT_ROUND", "EVENT_UPDATE",
		"TIME_CONV", "HEADER_FEATURE", "COMPRESSED", "FINISHED_INIT", "COMPRESSED2",
	};
	if (type < sizeof kernel / sizeof kernel[0] && kernel[type])
		return kernel[type];
	if (type >= 64 && type - 64 < sizeof user / sizeof user[0])
		return user[type - 64];
	return "unknown";
}

uint64_t fpt_pcur_u64(struct fpt_pcur *c)
{
	uint64_t v = 0;
	const uint8_t *q = fpt_pcur_take(c, 8);
	if (q)
		memcpy(&v, q, 8);
	return v;
}

const uint8_t *fpt_pcur_take(struct fpt_pcur *c, uint64_t n)
{
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *q = c->p;
	c->p += n;
	return q;
}

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
