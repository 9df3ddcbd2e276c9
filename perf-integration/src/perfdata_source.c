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
	return fpt_source_open_pids(s, path, NULL, 0);
}

static int is_selected(const struct fpt_source *s, uint32_t pid)
{
	for (size_t i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return 1;
	return 0;
}

/* The processes of a .fpt file: pid, program and samples of each PROCESS. */
struct fpt_process_seen {
	uint32_t pid;
	uint64_t samples;
	char name[64];
};

/* Read the .fpt file once for its processes; how many (at most max), or -1
 * with s->err set when the file cannot be read. */
static int list_processes(struct fpt_source *s, const char *path,
			  struct fpt_process_seen *seen, size_t max)
{
	struct fpu_reader r;
	struct fpu_record rec;
	size_t n = 0;
	int rc, cur = -1;
	if (fpu_reader_open(&r, path) != 0) {
		snprintf(s->err, sizeof s->err, "%s", fpu_reader_error(&r));
		fpu_reader_close(&r);
		return -1;
	}
	while ((rc = fpu_reader_next(&r, &rec)) > 0) {
		if (rec.type == FPU_REC_PROCESS && n < max) {
			const struct fpu_rec_process *pr = &rec.u.process;
			const char *exe = pr->exe, *slash;
			uint32_t len = pr->exe_len;
			if (pr->exe_len && (slash = memrchr(exe, '/', len))) {
				len -= (uint32_t)(slash + 1 - exe);
				exe = slash + 1;
			}
			seen[n] = (struct fpt_process_seen){ .pid = pr->pid };
			snprintf(seen[n].name, sizeof seen[n].name, "%.*s", (int)len, exe);
			cur = (int)n++;
		} else if (rec.type == FPU_REC_PROCESS) {
			cur = -1;
		} else if (rec.type == FPU_REC_SAMPLE && cur >= 0) {
			seen[cur].samples++;
		}
	}
	if (rc < 0)
		snprintf(s->err, sizeof s->err, "%s", fpu_reader_error(&r));
	fpu_reader_close(&r);
	return rc < 0 ? -1 : (int)n;
}

/* Every selected pid is a process of the .fpt file: 0, or -1 with s->err
 * naming the one that is not and the processes there are. */
static int check_pids(struct fpt_source *s, const char *path)
{
	struct fpt_process_seen seen[FPT_PIDS_MAX];
	int n = list_processes(s, path, seen, FPT_PIDS_MAX);
	if (n < 0)
		return -1;
	for (size_t i = 0; i < s->npids; i++) {
		int found = 0;
		for (int k = 0; k < n && !found; k++)
			found = seen[k].pid == s->pids[i];
		if (found)
			continue;
		char list[300] = "";
		size_t len = 0;
		for (int k = 0; k < n && len < sizeof list; k++)
			len += (size_t)snprintf(list + len, sizeof list - len,
						"%s%u %s (%llu samples)", k ? ", " : "",
						seen[k].pid, seen[k].name,
						(unsigned long long)seen[k].samples);
		snprintf(s->err, sizeof s->err, "%s: --pid %u: no such process in the recording "
			 "(it holds %s)", path, s->pids[i], n ? list : "none");
		return -1;
	}
	return 0;
}

/* The --pid selection, at most FPT_PIDS_MAX pids, in a zeroed source. */
static void start_source(struct fpt_source *s, const uint32_t *pids, size_t npids)
{
	memset(s, 0, sizeof *s);
	if (npids > FPT_PIDS_MAX)
		npids = FPT_PIDS_MAX;
	if (npids)
		memcpy(s->pids, pids, npids * sizeof *pids);
	s->npids = npids;
}

/* A .fpt source: its open reads only the header.  check_selection: fail,
 * naming the file's processes, when a selected pid is not one of them (a
 * rewind keeps the selection its first open checked, and does not read
 * the whole file again for it). */
static int open_fpt(struct fpt_source *s, const char *path, const uint32_t *pids,
		    size_t npids, int check_selection)
{
	start_source(s, pids, npids);
	s->kind = FPT_SOURCE_FPT;
	if (check_selection && s->npids && check_pids(s, path) != 0)
		return -1;
	return fpu_reader_open(&s->fpt, path);
}

int fpt_source_open_pids(struct fpt_source *s, const char *path, const uint32_t *pids,
			 size_t npids)
{
	static char warned[256];
	if (!fpt_is_perfdata(path))
		return open_fpt(s, path, pids, npids, 1);
	start_source(s, pids, npids);
	s->kind = FPT_SOURCE_PERF;
	s->perf = malloc(sizeof *s->perf);
	if (!s->perf) {
		snprintf(s->err, sizeof s->err, "%s: out of memory", path);
		return -1;
	}
	if (fpt_perfdata_open_pids(s->perf, path, s->pids, s->npids, s->err, sizeof s->err) != 0)
		return -1;
	if (s->perf->note[0] && strncmp(warned, path, sizeof warned - 1)) {
		fprintf(stderr, "fptrace: warning: %s\n", s->perf->note);
		snprintf(warned, sizeof warned, "%s", path);
	}
	return 0;
}

int fpt_source_next(struct fpt_source *s, struct fpu_record *rec)
{
	if (s->kind == FPT_SOURCE_FPT) {
		int rc;
		/* --pid: the selected processes' records, and END */
		while ((rc = fpu_reader_next(&s->fpt, rec)) > 0 && s->npids) {
			if (rec->type == FPU_REC_PROCESS) {
				s->selected = is_selected(s, rec->u.process.pid);
				if (!s->sections++)
					s->first_selected = s->selected;
			}
			if (rec->type == FPU_REC_END && !s->first_selected) {
				/* END tells the fate of the first process alone */
				rec->u.end.how = FPU_END_HOW_UNKNOWN;
				rec->u.end.status = 0;
			}
			if (s->selected || rec->type == FPU_REC_END)
				break;
		}
		return rc;
	}
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
	/* a .fpt: open it again, with the same selection; what fpt_source_next
	 * learnt (the current section) starts afresh */
	uint32_t pids[FPT_PIDS_MAX];
	size_t npids = s->npids;
	memcpy(pids, s->pids, npids * sizeof *pids);
	fpt_source_close(s);
	return open_fpt(s, path, pids, npids, 0);
}

const char *fpt_source_error(const struct fpt_source *s)
{
	if (s->kind == FPT_SOURCE_FPT && !s->err[0])
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
