/*
 * fpu_dwarf.h — the DWARF half of libfpunwind: unwind a sample's registers and
 * stack snapshot with elfutils libdw or with libunwind, symbolize pcs, and
 * compare a frame-pointer chain with a DWARF chain of the same sample.
 *
 * Unlike fpunwind.h this part allocates, opens files and is not signal-safe: it
 * runs in the fptrace CLI (or a writer thread), never in a sampling handler.
 * Link with -ldw -lelf -lunwind-generic -lunwind (pkg-config fpunwind does).
 */
#ifndef FPU_DWARF_H
#define FPU_DWARF_H

#include <stddef.h>
#include <stdint.h>
#include "fpu_sample.h"
#include "fpunwind.h"   /* struct fpu_mapping */

#ifdef __cplusplus
extern "C" {
#endif

enum fpu_dwarf_backend {
	FPU_DWARF_LIBDW = 1,
	FPU_DWARF_LIBUNWIND = 2,
};

const char *fpu_dwarf_backend_name(enum fpu_dwarf_backend b);

/*
 * How a DWARF unwind ended.  CLEAN: the CFI said the return address is
 * undefined (the outermost frame: _start, a thread base, a runtime stack base)
 * or the unwinder reported no further frame.  ERROR: the unwinder stopped on
 * something it could not do (no CFI for a pc, a read outside the snapshot);
 * reason says what.  DEPTH: the pcs buffer was full.
 */
enum fpu_dwarf_end { FPU_DWARF_END_CLEAN = 0, FPU_DWARF_END_ERROR, FPU_DWARF_END_DEPTH };

/*
 * The interrupted function's frame at its pc, from the CFI row there.  The
 * comparator's leaf rule needs it: a leaf without a frame (NONE), or in a
 * frame-pointer prologue or epilogue (SETUP), hides its caller from the FP
 * chain and that is benign; a function with a real stack frame but no frame
 * record (NO_RECORD: built with -fomit-frame-pointer) hides it for good.
 */
enum fpu_leaf_frame {
	FPU_LEAF_FRAME_UNKNOWN = 0,  /* no CFI there, or a rule not of these shapes */
	FPU_LEAF_FRAME_NONE,         /* CFA = rsp+8 (or +0): nothing pushed (entry,
					ret, a frameless leaf, a jump to a gobuf);
					or a PLT stub, whatever it pushed */
	FPU_LEAF_FRAME_SETUP,        /* CFA = rsp+16, rbp saved at CFA-16: between
					push rbp and mov rsp,rbp */
	FPU_LEAF_FRAME_RECORD,       /* CFA = rbp+N: the function's frame record */
	FPU_LEAF_FRAME_NO_RECORD,    /* CFA = rsp+N otherwise: a stack frame with no
					frame record */
};

struct fpu_dwarf_result {
	enum fpu_dwarf_end end;
	uint32_t frames;
	/* For ERROR: the unwinder's own message, and whether it needed stack
	 * that the snapshot cut off (the "dump too small" case of perf: a limit
	 * of the copy, not evidence against the CFI), and whether a snapshot of
	 * the largest size (64 KiB) would have held it.  A read below sp or off
	 * every stack sets neither: that is what broken CFI reads. */
	char reason[128];
	int read_outside_snapshot;
	int larger_snapshot_helps;
	/* The shape of pcs[0]'s frame (enum fpu_leaf_frame). */
	uint32_t leaf_frame;
	/*
	 * 0, or n > 0: pcs[n-1] has no CFI and the unwinder stepped from it by
	 * following rbp (libdw's x86-64 fallback, libunwind's frame-pointer
	 * heuristic).  pcs[n..] are then the frame-pointer chain read again, not
	 * independent evidence; the comparator verifies only pcs[0..n-1].
	 */
	uint32_t unverified_from;
	/*
	 * 0, or n > 0: pcs[n..] are all start-up frames below main or below a
	 * thread's start routine (_start, __libc_start_main,
	 * __libc_start_call_main, start_thread, clone3), which libc builds
	 * without frame pointers: no frame-pointer chain is expected to reach
	 * them.
	 */
	uint32_t root_from;
};

/* An unwinding session over one process's mappings; caches across samples. */
struct fpu_dwarf;

/*
 * Make a session.  Mappings are copied.  NULL on failure with a message in err.
 */
struct fpu_dwarf *fpu_dwarf_new(enum fpu_dwarf_backend backend,
				const struct fpu_mapping *maps, size_t nmaps,
				char *err, size_t errlen);
/*
 * The same for samples recorded on machine (fpu_record.h's FPU_REC_MACHINE_*,
 * the .fpt header's): libdw unwinds x86-64 and aarch64 samples on any host,
 * libunwind only the host's own.  fpu_dwarf_new is this with the host's.
 * NULL with a one-line message in err for any other machine.
 */
struct fpu_dwarf *fpu_dwarf_new_machine(enum fpu_dwarf_backend backend, uint32_t machine,
					const struct fpu_mapping *maps, size_t nmaps,
					char *err, size_t errlen);
void fpu_dwarf_free(struct fpu_dwarf *d);
/*
 * What the session had to leave out, as one line for the user, or NULL: mapped
 * files that are not regular files (a FIFO is never opened), modules beyond the
 * open-file budget (each module libdw loads holds a file descriptor; a file is
 * loaded once per load address however many mappings repeat it, and at most
 * RLIMIT_NOFILE / 4 modules per session).  Samples in what was left out have
 * no CFI.
 */
const char *fpu_dwarf_note(const struct fpu_dwarf *d);

/*
 * Unwind sample s from its registers and snapshot.  pcs[0] is rip, the rest are
 * return addresses (as in the frame-pointer chain, so the two align).  Returns
 * the number of pcs.
 */
size_t fpu_dwarf_unwind(struct fpu_dwarf *d, const struct fpu_sample *s,
			uint64_t *pcs, size_t max, struct fpu_dwarf_result *res);

/* ---------------------------------------------------------------------------
 * Symbolization (libdw): function, module, source line of a pc.
 * ------------------------------------------------------------------------- */

struct fpu_symbol {
	const char *function;   /* NULL when unknown; owned by the session */
	const char *module;     /* the mapping's path, or NULL */
	uint64_t offset;        /* pc - function start (or - module base) */
	const char *file;       /* source file, or NULL */
	int line;               /* 0 when unknown */
	int system;             /* 1: module in a system library directory */
};

/*
 * Symbolize pc.  A return address is looked up at pc - 1 (the call
 * instruction) when is_return is set, so a call that is the last instruction of
 * its function is not attributed to the next one.  Returns 0, or -1 if pc is in
 * no known mapping (out->module NULL).
 */
int fpu_symbolize(struct fpu_dwarf *d, uint64_t pc, int is_return,
		  struct fpu_symbol *out);

/*
 * fpu_symbolize without the source line (file NULL, line 0): the same
 * function, module and offset, from symbol tables alone.  The line is the
 * module's DWARF, and for a system library that is its -dbg package's
 * compressed debug info, inflated whole on first use (libc6-dbg: about 40 ms,
 * most of a small file's check): a caller that needs only the name asks this.
 */
int fpu_symbolize_function(struct fpu_dwarf *d, uint64_t pc, int is_return,
			   struct fpu_symbol *out);

/*
 * The functions inlined at pc, innermost first, each with the source line it
 * is at (for out[0], the pc's own line; for out[i], the line in out[i] where
 * out[i-1] was inlined).  out[n-1] is the real function (the one
 * fpu_symbolize names).  Returns n (1 when nothing is inlined there, up to
 * max), or 0 when pc has no debug information (then use fpu_symbolize).
 * Strings are owned by the session.
 */
int fpu_symbolize_inlined(struct fpu_dwarf *d, uint64_t pc, int is_return,
			  struct fpu_symbol *out, int max);

/*
 * How often a session answered from its per-pc caches (symbols, CFI rows)
 * instead of asking libdw again: the figures behind the cache, for tests and
 * for --stats style diagnostics.
 */
struct fpu_dwarf_cache_stats {
	uint64_t symbol_hits, symbol_misses;
	uint64_t cfi_hits, cfi_misses;
	/* libdw sessions of x86-64 samples: samples unwound from cached CFI
	 * rules, and samples handed to libdw's own unwinder instead */
	uint64_t steps_samples, steps_handed_over;
	uint64_t step_rule_hits, step_rule_misses;
};
void fpu_dwarf_cache_stats(const struct fpu_dwarf *d, struct fpu_dwarf_cache_stats *out);

/*
 * A libdw session of x86-64 samples unwinds from CFI rules it caches per pc
 * (CFA = register + offset; each register undefined, unchanged, saved at
 * CFA + n or equal to CFA + n), with the frames libdw's unwinder gives, several
 * times faster; a sample with any other rule, a signal frame, a pc without
 * CFI or a failed read goes to libdw's unwinder.  on = 0: every sample goes
 * there (the reference the cached steps are tested against).  No effect on
 * other sessions.
 */
void fpu_dwarf_set_cfi_steps(struct fpu_dwarf *d, int on);

/* Is path in a system library directory (/lib, /usr/lib, /lib64, ...)? */
int fpu_path_is_system(const char *path);

/* ---------------------------------------------------------------------------
 * The comparator
 * ------------------------------------------------------------------------- */

enum fpu_class {
	FPU_CLASS_MATCH = 0,
	FPU_CLASS_LEAF_WINDOW,  /* benign: the leaf's caller missing at position 1 */
	FPU_CLASS_FP_SKIPS,     /* a caller of a frameless function missing mid-chain */
	FPU_CLASS_FP_TRUNCATED, /* the FP chain ends early */
	FPU_CLASS_FP_LEAK,      /* the FP chain goes on past DWARF's end, or crosses
				   stacks at a frame that is not a transition */
	FPU_CLASS_FP_STALE,     /* the FP chain read a freed or moved stack */
	FPU_CLASS_FP_DIVERGE,   /* the chains disagree mid-stack */
	FPU_CLASS_FP_CLOBBERED, /* rbp held data, not a frame pointer: the leaf
				   uses BP as a general register (fpu_runtime.h) */
	FPU_CLASS_DWARF_FAIL,   /* DWARF could not unwind: not an FP defect */
	FPU_CLASS_UNVERIFIED,   /* the chains agree as far as DWARF had CFI; past
				   that the unwinder followed rbp itself */
	FPU_CLASS_ROOT_WINDOW,  /* benign: only the system start-up frames below
				   main or a thread's start routine are missing */
	FPU_CLASS_TO_SWITCH,    /* verified up to a legal stack switch whose other
				   side the sample does not hold (fpu_runtime.h) */
	FPU_CLASS_COUNT
};

const char *fpu_class_name(enum fpu_class c);   /* "match", "fp-skips", ... */
/* Not match, leaf-window, dwarf-fail, unverified, root-window or to-switch. */
int fpu_class_is_malignant(enum fpu_class c);

/*
 * The verdict on one sample.
 *   fp_index, dwarf_index  where the chains part (or end);
 *   culprit_pc             the frame to blame: for fp-skips the first function
 *                          whose caller vanished (a frameless leaf's own
 *                          window is benign, so then its caller); for
 *                          leaf-window the leaf; for fp-leak the frame where
 *                          the chain leaves; for fp-stale the last frame read;
 *                          for fp-truncated and fp-diverge the function whose
 *                          frame record should have led to the missing frame;
 *                          for unverified the last frame DWARF had CFI for;
 *                          for root-window the first start-up frame missing;
 *                          0 for match;
 *   culprit_is_return      whether culprit_pc is a return address (symbolize
 *                          at pc - 1);
 *   missing_pc             for fp-skips / leaf-window, the DWARF frame that the
 *                          FP chain lacks.
 */
struct fpu_verdict {
	enum fpu_class cls;
	uint32_t fp_index, dwarf_index;
	uint64_t culprit_pc;
	int culprit_is_return;
	uint64_t missing_pc;
};

/*
 * Compare the FP chain of s (s->fp_pcs, s->nfp, s->fp_end) with a DWARF chain
 * of the same sample.
 */
void fpu_compare(const struct fpu_sample *s, const uint64_t *dwarf_pcs,
		 size_t ndwarf, const struct fpu_dwarf_result *dres,
		 struct fpu_verdict *out);

#ifdef __cplusplus
}
#endif
#endif
