/*
 * dwarf_maps.c — file mappings of a live process, from /proc/PID/maps, in the
 * form the DWARF session takes (the recorder writes the same data as MAPPING
 * records, so a report later sees what the process had mapped).
 */
#include "dwarf_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct line_map {
	uint64_t start, end, pgoff;
	uint32_t prot;
	char path[4096];
};

static int parse_maps_line(const char *line, struct line_map *m)
{
	char perms[5];
	int path_at = 0;

	m->path[0] = 0;
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n",
		   &m->start, &m->end, perms, &m->pgoff, &path_at) < 4 || !path_at)
		return -1;
	snprintf(m->path, sizeof m->path, "%s", line + path_at);
	m->path[strcspn(m->path, "\n")] = 0;
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	/* Only real files: not [heap], [vdso] (no file to read CFI from), anon. */
	return m->path[0] == '/' ? 0 : -1;
}

struct fpu_mapping *fpu_mappings_from_proc(int pid, size_t *count)
{
	char path[64], line[4352];
	struct line_map m;
	size_t n = 0, strbytes = 0;
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/maps", pid);
	else
		snprintf(path, sizeof path, "/proc/self/maps");
	f = fopen(path, "re");
	if (!f)
		return NULL;
	/* Two passes over the same file: count, then fill one block. */
	while (fgets(line, sizeof line, f))
		if (parse_maps_line(line, &m) == 0) {
			n++;
			strbytes += strlen(m.path) + 1;
		}
	struct fpu_mapping *maps = calloc(1, n * sizeof *maps + strbytes + 1);
	if (!maps) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	char *str = (char *)(maps + n), *str_end = str + strbytes;
	size_t i = 0;
	rewind(f);
	while (i < n && fgets(line, sizeof line, f)) {
		if (parse_maps_line(line, &m) != 0)
			continue;
		maps[i] = (struct fpu_mapping){ .start = m.start, .end = m.end,
						.pgoff = m.pgoff, .prot = m.prot,
						.path = str };
		size_t len = strlen(m.path) + 1;
		/* The process may have mapped more between the passes. */
		if (len > (size_t)(str_end - str))
			break;
		memcpy(str, m.path, len);
		str += len;
		i++;
	}
	fclose(f);
	*count = i;
	return maps;
}
