/*
 * perfmap_names.c — see perfmap_names.h.  Lines that do not parse are
 * skipped (the format has no comments, but tolerate junk); a later line for
 * the same range wins, as in perf (code can be replaced at one address).
 */
#include "perfmap_names.h"
#include "fpu_record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int by_start(const void *a, const void *b)
{
	const struct fpt_perfmap_ent *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;   /* file order among equals */
}

int fpt_perfmap_load(struct fpt_perfmap *m, uint32_t pid)
{
	m->loaded = 1;
	if (!pid)
		return -1;
	const char *dir = getenv("FPTRACE_PERFMAP_DIR");
	snprintf(m->path, sizeof m->path, "%s/perf-%" PRIu32 ".map", dir && dir[0] ? dir : "/tmp",
		 pid);
	/* the pid comes from the input file and /tmp is anyone's: never wait on a FIFO */
	char why[200];
	int fd = fpu_open_regular(m->path, NULL, why, sizeof why);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char line[4096];
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		uint64_t start, size;
		int name_at = 0;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &name_at) != 2 ||
		    !name_at || !size || start + size < start)
			continue;
		char *name = line + name_at;
		name[strcspn(name, "\n")] = 0;
		if (!name[0])
			continue;
		if (m->n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct fpt_perfmap_ent *p = realloc(m->ents, ncap * sizeof *p);
			if (!p)
				break;
			m->ents = p;
			cap = ncap;
		}
		if (!(name = strdup(name)))
			break;
		m->ents[m->n] = (struct fpt_perfmap_ent){ start, start + size, name, m->n };
		m->n++;
	}
	fclose(f);
	if (m->n)
		qsort(m->ents, m->n, sizeof *m->ents, by_start);
	return 0;
}

const struct fpt_perfmap_ent *fpt_perfmap_find(struct fpt_perfmap *m, uint32_t pid,
					       uint64_t pc, int is_return)
{
	if (!m->loaded)
		fpt_perfmap_load(m, pid);
	uint64_t a = is_return && pc ? pc - 1 : pc;
	/* the last entry starting at or below a that holds it (the innermost
	 * start; a later line for the same start wins) */
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->ents[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;)
		if (a < m->ents[i].end)
			return &m->ents[i];
	return NULL;
}

void fpt_perfmap_free(struct fpt_perfmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ents[i].name);
	free(m->ents);
	memset(m, 0, sizeof *m);
}
