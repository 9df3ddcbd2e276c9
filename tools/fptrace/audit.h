/*
 * audit.h — `fptrace audit`: a static verdict per function of a program and of
 * every shared object it loads, on whether frame-pointer unwinding gets
 * through it, from the CFI (.eh_frame / .debug_frame) and from the function's
 * instructions decoded with Capstone.  DW_AT_producer flags are shown as
 * corroboration, never used for the verdict.
 *
 * Pieces: audit_elf.c reads one ELF object (segments, CFI, symbols, FDE
 * ranges, producer); audit_verdict.c judges one function; audit_deps.c finds
 * the objects to audit (DT_NEEDED like ld.so, /proc/PID/maps, a recording);
 * audit_profile.c weighs verdicts by a recording's stacks; audit_print.c
 * writes text and JSON; audit_system.c walks the library directories;
 * audit_cmd.c is the subcommand.
 */
#ifndef FPT_AUDIT_H
#define FPT_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include "intern.h"

enum fpt_verdict {
	FPT_VERDICT_FRAME = 0,    /* push rbp; mov rbp,rsp, every call inside the frame */
	FPT_VERDICT_LEAF,         /* no frame record, calls nothing */
	FPT_VERDICT_NO_FRAME,     /* calls without a frame record: hides its caller */
	FPT_VERDICT_CLOBBERS_RBP, /* writes rbp as a general register */
	FPT_VERDICT_UNKNOWN,      /* no code to decode */
	FPT_VERDICT_COUNT
};

const char *fpt_verdict_name(enum fpt_verdict v);   /* "frame", "no-frame", ... */

/* ---- one ELF object (audit_elf.c) --------------------------------------- */

struct fpt_elf_segment {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;           /* PF_X | PF_W | PF_R */
};

struct fpt_elf {
	uint8_t *data;            /* the whole file, private copy-on-write map */
	size_t size;
	int mapped;               /* data is an mmap (else borrowed memory) */
	Elf *elf;
	GElf_Ehdr ehdr;
	struct fpt_elf_segment *segs;
	size_t nsegs;
	Dwarf_CFI *eh_cfi;        /* .eh_frame, NULL if none */
	Dwarf *dwarf;             /* .debug_info of this file or of its debug file */
	Dwarf_CFI *debug_cfi;     /* .debug_frame, NULL if none */
	struct fpt_elf *debug;    /* separate debug file (build-id), or NULL */
};

/*
 * Open the ELF object at path (for_arch: refuse anything but x86-64 ELF64).
 * 0, or -1 with one line in err saying what is wrong: not ELF, other class or
 * architecture (named), truncated (offsets named), relocatable object.
 */
int fpt_elf_open(struct fpt_elf *o, const char *path, char *err, size_t errlen);
/* The same over bytes in memory (the fuzz target); data must outlive o. */
int fpt_elf_open_mem(struct fpt_elf *o, uint8_t *data, size_t size, char *err, size_t errlen);
void fpt_elf_close(struct fpt_elf *o);
/* Its DWARF (producers, .debug_frame) and, with search_debug_file, its
 * separate debug file under /usr/lib/debug/.build-id.  Without producers only
 * the CFI of .debug_frame is wanted: a file without one opens no DWARF. */
void fpt_elf_load_debug(struct fpt_elf *o, int search_debug_file, int producers);
/* Where its separate debug file would be: /usr/lib/debug/.build-id/xx/yyyy.debug
 * from its build id.  0, or -1 without a build id. */
int fpt_elf_debug_path(const struct fpt_elf *o, char *path, size_t len);

/* The bytes at [vaddr, vaddr + *len) of a loaded segment; *len is clipped
 * to what the file holds.  NULL when vaddr is in no segment with file bytes. */
const uint8_t *fpt_elf_bytes(const struct fpt_elf *o, uint64_t vaddr, size_t *len);

/* A file offset as a virtual address (for a profile's pcs); 0 if unmapped. */
int fpt_elf_offset_to_vaddr(const struct fpt_elf *o, uint64_t offset, uint64_t *vaddr);

/* One function: a symbol or an FDE range. */
struct fpt_elf_func {
	uint64_t lo, hi;
	const char *name;         /* arena string; "sub_<lo>" without a symbol */
	const char *aliases;      /* other names at lo, space-separated, or NULL */
	int has_symbol;
};

/*
 * The functions of o, sorted by lo, from .symtab (this file's or its debug
 * file's), .dynsym and the FDEs of .eh_frame and .debug_frame.  Strings and
 * the array live in arena.  0, or -1 on allocation failure.
 */
int fpt_elf_functions(const struct fpt_elf *o, struct fpt_arena *arena,
		      struct fpt_elf_func **out, size_t *count);

/*
 * What the compiler said about frame pointers for the code at vaddr, from
 * DW_AT_producer: "-fomit-frame-pointer", "-fno-omit-frame-pointer",
 * "assembler" (GNU AS), "compiler" (a producer without either flag), or NULL
 * when there is no DWARF for it.
 */
const char *fpt_elf_producer_hint(const struct fpt_elf *o, uint64_t vaddr);

/* ---- verdict of one function (audit_verdict.c) ------------------------- */

struct fpt_audit_func {
	uint64_t lo, hi;
	const char *name;
	const char *aliases;
	const char *producer;     /* fpt_elf_producer_hint */
	uint32_t verdict;         /* enum fpt_verdict */
	uint32_t calls;           /* call instructions */
	char evidence[176];       /* the instruction and why, for the verdict */
};

struct fpt_decoder_cs;        /* a Capstone handle, opened once per run */
struct fpt_decoder_cs *fpt_audit_decoder_new(char *err, size_t errlen);
void fpt_audit_decoder_free(struct fpt_decoder_cs *d);
/*
 * Judge only whether each function breaks the chain (check's no-FP summary):
 * a function's decoding stops at its first call without a frame record or its
 * first write of rbp, so no-frame and clobbers-rbp are not told apart (the
 * first seen wins), and the evidence is partial.  frame, leaf and unknown,
 * and their sum with the breaking ones, are as in a full judgement.
 */
void fpt_audit_decoder_breaking_only(struct fpt_decoder_cs *d, int on);

/* Judge f (lo, hi set) of o: verdict, evidence, calls.  funcs (sorted, may
 * be NULL) names the targets of direct calls in the evidence. */
void fpt_audit_judge(struct fpt_decoder_cs *d, const struct fpt_elf *o, struct fpt_audit_func *f,
		     const struct fpt_elf_func *funcs, size_t nfuncs);

/* ---- one audited module ------------------------------------------------- */

struct fpt_audit_module {
	const char *path;
	const char *needed_by;    /* who loads it, or NULL */
	const char *package;      /* dpkg package, or NULL */
	struct fpt_audit_func *funcs;
	size_t nfuncs;
	struct fpt_elf_segment *segs;   /* to place a profile's file offsets */
	size_t nsegs;
	uint64_t counts[FPT_VERDICT_COUNT];
	char error[320];          /* non-empty: could not be audited, and why */
};

/*
 * Audit the object at path into m (strings in arena).  keep_funcs = 0 keeps
 * only the counts (--system).  0, or -1 with m->error set.
 */
int fpt_audit_module(struct fpt_decoder_cs *d, const char *path, struct fpt_arena *arena,
		     int keep_funcs, struct fpt_audit_module *m);

/* ---- which objects (audit_deps.c) --------------------------------------- */

struct fpt_audit_target {
	const char *path;         /* arena string */
	const char *needed_by;    /* NULL for a named file */
	char error[256];          /* a dependency that was not found: one line */
};

struct fpt_audit_targets {
	struct fpt_audit_target *v;
	size_t n, cap;
};

/* path and every shared object it needs, resolved the way ld.so does
 * (DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.conf, default dirs),
 * plus its interpreter.  Unresolved names become entries with error set. */
int fpt_audit_add_with_deps(struct fpt_audit_targets *t, struct fpt_arena *arena,
			    const char *path);
/* The executable file mappings of a live process. 0, or -1 with err. */
int fpt_audit_add_pid(struct fpt_audit_targets *t, struct fpt_arena *arena, int pid,
		      char *err, size_t errlen);
/* One path, once (realpath-deduplicated). */
int fpt_audit_add_path(struct fpt_audit_targets *t, struct fpt_arena *arena,
		       const char *path, const char *needed_by);
void fpt_audit_targets_free(struct fpt_audit_targets *t);

/* ---- output (audit_print.c) --------------------------------------------- */

struct fpt_audit_print_opts {
	int json;
	unsigned top;             /* functions listed per module (breaking ones first) */
	int all_functions;        /* --all: every function, not only the top */
};

void fpt_audit_print_module(FILE *out, const struct fpt_audit_module *m,
			    const struct fpt_audit_print_opts *o, int first);
uint64_t fpt_audit_breaking(const struct fpt_audit_module *m);   /* no-frame + clobbers-rbp */

/*
 * The verdict counts of the module at path (fpt_audit_module's, without the
 * functions), kept across runs in $FPTRACE_CACHE_DIR (else
 * $XDG_CACHE_HOME/fptrace or ~/.cache/fptrace; FPTRACE_CACHE_DIR="" turns
 * it off) for as long as the module, its debug file and fptrace itself are
 * the same files (audit_cache.c).  0, or -1 with the reason in err.
 */
int fpt_audit_counts(struct fpt_decoder_cs *d, const char *path,
		     uint64_t counts[FPT_VERDICT_COUNT], char *err, size_t errlen);

/* ---- profile weighting (audit_profile.c) -------------------------------- */

struct fpt_analysis;
/* The breaking functions on the recorded stacks, and the callers they hide. */
void fpt_audit_print_profile(FILE *out, const struct fpt_analysis *a,
			     struct fpt_audit_module *mods, size_t nmods,
			     const struct fpt_audit_print_opts *o);

/* ---- --system (audit_system.c) ------------------------------------------ */

int fpt_audit_system(FILE *out, struct fpt_decoder_cs *d, const struct fpt_audit_print_opts *o,
		     int progress);
/* The Debian package that owns path (the dpkg database), or NULL. */
const char *fpt_dpkg_owner(const char *path);

/* ---- the subcommand (audit_cmd.c) --------------------------------------- */

/* argv[0] is "audit".  Returns the exit status (see the usage text). */
int fpt_audit_main(int argc, char **argv);

#endif
