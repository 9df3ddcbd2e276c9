/*
 * runtime_model_int.h — what the runtime model's files share: the table of
 * functions, how a runtime adds to it, and one ELF symbol scan for all of them.
 */
#ifndef FPU_RUNTIME_MODEL_INT_H
#define FPU_RUNTIME_MODEL_INT_H

#include "fpu_runtime.h"

#include <gelf.h>

struct fpu_rt_elf;

struct fpu_runtime {
	struct fpu_rt_func *funcs;   /* sorted by lo once built */
	size_t nfuncs, capfuncs;
	struct fpu_rt_image { uint64_t lo, hi; } *images;   /* ELF files' loads */
	size_t nimages, capimages;
	uint64_t go_text_lo, go_text_hi;   /* [runtime.text, runtime.etext) */
	/* Callees blamed for an END function's leak (a coroutine's entry), so
	 * that fpu_runtime_why can say why; a few distinct ones suffice. */
	struct fpu_rt_blamed { uint64_t pc; const struct fpu_rt_func *end; } blamed[16];
	unsigned nblamed;
	char go_version[64];         /* "" when no Go binary was found */
	char *go_path;
};

/* Add [lo, hi) with a role; 0, or -1 when out of memory. */
int fpu_rt_add(struct fpu_runtime *rt, uint64_t lo, uint64_t hi, enum fpu_rt_role role,
	       const char *name, const char *why);

/* Is pc in the Go binary's Go code (not cgo's C code)? */
int fpu_rt_is_go_code(const struct fpu_runtime *rt, uint64_t pc);

/* Record where the loadable segments of e lie in the process; 0 or -1. */
int fpu_rt_add_image(struct fpu_runtime *rt, struct fpu_rt_elf *e);

/* Does addr lie in the loaded image of an ELF file (code or data)? */
int fpu_rt_in_image(const struct fpu_runtime *rt, uint64_t addr);

/* An ELF file of a mapping, opened for the model's scans. */
struct fpu_rt_elf {
	int fd;
	Elf *elf;
	uint64_t bias;   /* add to a symbol value for its address in the process */
	const char *path;
};

/* Open the file behind m and work out its load bias; 0, or -1. */
int fpu_rt_elf_open(struct fpu_rt_elf *e, const struct fpu_mapping *m);
void fpu_rt_elf_close(struct fpu_rt_elf *e);

/* The section called name, or NULL. */
Elf_Scn *fpu_rt_elf_section(struct fpu_rt_elf *e, const char *name);

/*
 * Copy len bytes at link-time address addr out of an allocated section with
 * file contents; 0, or -1 when no section holds all of them.
 */
int fpu_rt_elf_read(struct fpu_rt_elf *e, uint64_t addr, void *out, size_t len);

/* Call fn for every symbol of .symtab (or .dynsym when there is none). */
typedef int (*fpu_rt_sym_fn)(void *arg, const char *name, const GElf_Sym *sym);
int fpu_rt_elf_symbols(struct fpu_rt_elf *e, fpu_rt_sym_fn fn, void *arg);

/* The runtimes: each adds its functions when the file is one of its own. */
int fpu_rt_scan_go(struct fpu_runtime *rt, struct fpu_rt_elf *e);
int fpu_rt_scan_ucontext(struct fpu_runtime *rt, struct fpu_rt_elf *e);

#endif
