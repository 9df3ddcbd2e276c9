/* dwarf_internal.h — the session shared by the DWARF backends and symbolizer. */
#ifndef FPU_DWARF_INTERNAL_H
#define FPU_DWARF_INTERNAL_H

#include <elfutils/libdwfl.h>
#include "fpu_dwarf.h"
#include "fpu_record.h"

struct unw_state;   /* dwarf_libunwind.c */
struct fpu_made_name;   /* symbolize_fde.c */

/* A register's save slot below the stack pointer, served with its value. */
struct fpu_dead_slot {
	uint64_t addr, value;
};
#define FPU_DWARF_MAX_DEAD 8

/*
 * A table from an address key to a fixed-size value, for what a session learnt
 * about a pc (dwarf_pc_cache.c).  Keys are compared in full.
 */
struct fpu_pc_cache {
	uint64_t *keys;          /* key + 1; 0 is an empty slot */
	uint32_t *index;         /* slot -> value number */
	size_t cap, count;       /* cap is a power of two */
	unsigned char *values;   /* count values of value_size bytes */
	size_t value_size, value_cap;
	uint64_t hits, misses;
};

void fpu_pc_cache_init(struct fpu_pc_cache *c, size_t value_size);
/* The value cached under key, or NULL (a miss).  Valid until the next add. */
void *fpu_pc_cache_find(struct fpu_pc_cache *c, uint64_t key);
/* A zeroed value for key, to fill in, or NULL when out of memory.  key must
 * not be UINT64_MAX.  Valid until the next add. */
void *fpu_pc_cache_add(struct fpu_pc_cache *c, uint64_t key);
void fpu_pc_cache_free(struct fpu_pc_cache *c);

struct fpu_dwarf {
	enum fpu_dwarf_backend backend;
	uint32_t machine;              /* FPU_REC_MACHINE_*: what the slots hold */
	struct fpu_mapping *maps;      /* sorted by start; one block with the paths */
	size_t nmaps;
	/*
	 * One Dwfl per session, kept across samples: module reporting and CFI
	 * parsing are the expensive part (perf's lesson: a Dwfl per sample is 18x
	 * slower).  Used for symbolization by both backends, for unwinding by libdw.
	 */
	Dwfl *dwfl;
	int attached;                   /* dwfl_attach_state done */
	const struct fpu_sample *cur;   /* the sample being unwound */
	int read_outside;               /* the unwinder read outside the snapshot */
	uint64_t read_outside_addr;     /* the first such address */
	int read_short;                 /* ... above a clamped segment: 1, and
					   within reach of a larger one: 2 */
	struct fpu_dead_slot dead[FPU_DWARF_MAX_DEAD];   /* of the current sample */
	size_t ndead;
	struct unw_state *unw;          /* libunwind backend state, lazily made */
	/*
	 * Files, each once however many mappings name it (a process can map one
	 * file thousands of times): maps[i] is file file_of[i].
	 */
	struct mapped_file *files;      /* the file, mmap'ed on demand */
	size_t nfiles;
	uint32_t *file_of;
	char note[512];                 /* what was degraded, for the user; "" if nothing */
	struct fpu_made_name *made_names;   /* names made for symbol-less functions */
	struct fpu_pc_cache symbols;    /* (pc, is_return) -> fpu_symbolize's answer */
	struct fpu_pc_cache functions;  /* (pc, is_return) -> fpu_symbolize_function's */
	struct fpu_pc_cache cfi_rows;   /* lookup address -> the CFI row's shape */
	/* x86-64 libdw sessions: unwind from cached CFI rules (dwarf_cfi_steps.c)
	 * where they say all, else with libdw's own unwinder */
	int cfi_steps;
	struct fpu_pc_cache step_rules; /* lookup address -> struct fpu_step_rule */
	uint64_t steps_samples, steps_handed_over;
};

/* A read-only file mapping used to serve reads of code and CFI by address. */
struct mapped_file {
	const char *path;
	const uint8_t *data;   /* NULL: not tried yet, or MAP_FAILED: unreadable */
	size_t size;
};

/*
 * The bytes of the file behind mapping m, mmap'ed once per session; NULL if the
 * file cannot be read.  *size gets its length.
 */
const uint8_t *fpu_dwarf_file_bytes(struct fpu_dwarf *d, const struct fpu_mapping *m,
				    size_t *size);

/* The mapping containing addr, or NULL. */
const struct fpu_mapping *fpu_dwarf_mapping_of(const struct fpu_dwarf *d, uint64_t addr);

/*
 * Read an 8-byte word for an unwinder: from the sample's snapshot; failing that
 * from the file behind an executable mapping (CFI or code read through memory).
 * Sets d->read_outside when the address is on no segment and in no file.
 */
int fpu_dwarf_read_word(struct fpu_dwarf *d, uint64_t addr, uint64_t *out);

/*
 * "sub_<start>" for the function of a module that has no symbol at addr, from
 * the range of the FDE that covers addr; *start gets the function's address.
 * NULL when no FDE covers it.  The name lives until the session is freed
 * (fpu_dwarf_free_made_names; symbolize_fde.c).
 */
const char *fpu_dwarf_fde_name(struct fpu_dwarf *d, Dwfl_Module *mod, uint64_t addr,
			       uint64_t *start);
void fpu_dwarf_free_made_names(struct fpu_dwarf *d);

/*
 * Report mapping i to libdw when it is the sampled process's vDSO and that is
 * this process's own vDSO (same build-id), and make its bytes the mapping's
 * file bytes.  Returns 1 when it did, 0 otherwise (dwarf_vdso.c).
 */
int fpu_dwarf_report_vdso(struct fpu_dwarf *d, size_t i);

/*
 * The shape of the CFI row at one lookup address, what the comparator asks of
 * it (dwarf_cfi.c), kept in the session's cfi_rows cache.
 */
struct fpu_cfi_row {
	uint8_t has_eh;          /* .eh_frame covers it */
	uint8_t has_any;         /* .eh_frame or .debug_frame does */
	int8_t cfa_reg;          /* CFA = cfa_reg + cfa_offset, or -1: another rule */
	int64_t cfa_offset;
	uint32_t saved;          /* bit r: register r saved at CFA + saved_at[r] */
	int64_t saved_at[FPU_NREGS];
	uint8_t in_plt;          /* x86-64: a stack frame in a PLT section (read_row) */
};

/* symbolize_fde.c: the PLT section that holds pc (".plt", ".plt.got",
 * ".plt.sec", ".iplt": the linker's stubs), or NULL. */
const char *fpu_dwarf_plt_section(Dwfl_Module *mod, uint64_t pc);

/* dwarf_cfi.c: the CFI row of a pc, as the unwinders see it. */
/* libdw's row at lookup address pc (pc - 1 applied for a return address):
 * .eh_frame first, then (unless eh_only) .debug_frame, as libdw's unwinder
 * tries them; NULL if none covers it.  The caller frees it. */
Dwarf_Frame *fpu_dwarf_cfi_row_at(struct fpu_dwarf *d, uint64_t pc, int eh_only);
/* Does pc (pc - 1 already applied for a return address) have CFI?  eh_only:
 * only .eh_frame counts (the libunwind backend reads no .debug_frame). */
int fpu_dwarf_pc_has_cfi(struct fpu_dwarf *d, uint64_t pc, int eh_only);
enum fpu_leaf_frame fpu_dwarf_leaf_frame(struct fpu_dwarf *d, uint64_t pc);
/* Fill d->dead with the interrupted frame's save slots below rsp. */
void fpu_dwarf_dead_slots(struct fpu_dwarf *d, const uint64_t regs[FPU_NREGS]);

/* dwarf_roots.c: the first of the start-up frames that end pcs, or 0. */
uint32_t fpu_dwarf_root_from(struct fpu_dwarf *d, const uint64_t *pcs, size_t n);

size_t fpu_dwarf_unwind_libdw(struct fpu_dwarf *d, const struct fpu_sample *s,
			      uint64_t *pcs, size_t max, struct fpu_dwarf_result *res);
size_t fpu_dwarf_unwind_libunwind(struct fpu_dwarf *d, const struct fpu_sample *s,
				  uint64_t *pcs, size_t max, struct fpu_dwarf_result *res);
void fpu_dwarf_libunwind_free(struct fpu_dwarf *d);
/*
 * dwarf_cfi_steps.c: the sample unwound as libdw's unwinder would, from the
 * session's cached rules (x86-64).  0 with *nframes pcs and res->end set, or
 * -1 when a frame needs libdw itself (then nothing but the session's caches
 * and d->read_outside / read_short may have changed).
 */
int fpu_dwarf_unwind_cfi_steps(struct fpu_dwarf *d, const struct fpu_sample *s, uint64_t *pcs,
			       size_t max, struct fpu_dwarf_result *res, size_t *nframes);
/* Set up d->step_rules, and d->cfi_steps for the sessions it serves. */
void fpu_dwarf_cfi_steps_init(struct fpu_dwarf *d);

#endif
