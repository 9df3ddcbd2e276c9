/*
 * perfmap_names.h — names for pcs in code generated at run time, from the
 * perf map the process wrote (/tmp/perf-PID.map: "START SIZE name" per line,
 * hex without 0x; fprt writes one with FPRT_PERFMAP=1 for its rt_cgo_export
 * thunks).  The fallback of the analysis' symbolization: libdw names what
 * lies in file mappings, this names what lies in none.
 */
#ifndef FPT_PERFMAP_NAMES_H
#define FPT_PERFMAP_NAMES_H

#include <stddef.h>
#include <stdint.h>


struct fpt_perfmap_ent { uint64_t start, end; char *name; size_t seq; };
struct fpt_perfmap {
	int loaded;                       /* read once, on the first unnamed pc */
	char path[64];                    /* /tmp/perf-PID.map */
	struct fpt_perfmap_ent *ents;     /* sorted by start */
	size_t n;
};

/* The file for process pid: $FPTRACE_PERFMAP_DIR (default /tmp)/perf-PID.map. */
int fpt_perfmap_load(struct fpt_perfmap *m, uint32_t pid);

/*
 * The entry of pid's perf map that holds pc (pc - 1 for a return address),
 * read on the first call; NULL when none does, pid is 0 or there is no map
 * file.  Entries live until fpt_perfmap_free.
 */
const struct fpt_perfmap_ent *fpt_perfmap_find(struct fpt_perfmap *m, uint32_t pid,
					       uint64_t pc, int is_return);
void fpt_perfmap_free(struct fpt_perfmap *m);

#endif
