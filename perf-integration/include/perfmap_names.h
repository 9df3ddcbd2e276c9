/*
 * perfmap_names.h — names for pcs in code generated at run time, from the
 * perf map the process wrote (/tmp/perf-PID.map: "START SIZE name" per line,
 * hex without 0x; fprt writes one with FPRT_PERFMAP=1 for its rt_cgo_export
 * thunks).  The fallback of analyze.c's symbolization: libdw names what lies
 * in file mappings, this names what lies in none.
 */
#ifndef FPT_PERFMAP_NAMES_H
#define FPT_PERFMAP_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "fpu_dwarf.h"

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
 * If sym has no function and pc (pc - 1 for a return address) lies in an
 * entry of pid's perf map, names it: function = the entry's name, offset
 * from its start, module = the map's path.  Strings live until
 * fpt_perfmap_free.  pid 0 or no map file: sym is left alone.
 */
void fpt_perfmap_name(struct fpt_perfmap *m, uint32_t pid, uint64_t pc, int is_return,
		      struct fpu_symbol *sym);
void fpt_perfmap_free(struct fpt_perfmap *m);

#endif
