/*
 * fpu_runtime.h — runtime models: where a runtime's stacks end and where its
 * chains legally cross to another stack, so that the comparator does not take
 * DWARF as the truth exactly where a runtime switches stacks.
 *
 * DWARF is wrong at a runtime's stack switches: Go's assembly (mcall, gogo,
 * systemstack, morestack, asmcgocall, cgocallback, the vDSO calls on g0) has
 * CFI that neither ends nor crosses where the stack does.  A model, made from
 * the symbols of the sampled program, gives each such function a role:
 *
 *   END     a stack's outermost frame once it has called out (a return
 *           address into runtime.mcall, goexit, mstart, rt0_go, morestack,
 *           glibc's __start_context): a chain must stop there.  One that goes
 *           on is fp-leak (seed 003) whatever the runtime's version says.
 *   SWITCH  the frame above is on another stack (systemstack, asmcgocall,
 *           cgocallback, gogo, the signal trampolines): a crossing is legal,
 *           and DWARF cannot step it from a sample's stack copy.
 *   INJECTED a call a signal handler made the interrupted code perform
 *           (Go's asyncPreempt): the function above it was interrupted, so
 *           if it has no frame that is the benign leaf window, not fp-skips.
 *   BELOW_SP a leaf whose frame record its caller wrote below SP (Go's
 *           duffzero, duffcopy): a walk inside a stack copy, which starts at
 *           SP, cannot read it; the sample is verified to the leaf only.
 *   NONE    a name for reports only: cgo C code built without frame
 *           pointers gets the CGO_CFLAGS hint.
 *   FP_STEP the CFI is wrong because the function realigns or switches SP
 *           (Go's vDSO calls in nanotime1 / time.now, crosscall2); its frame
 *           record is the truth, so the DWARF side steps it by the record
 *           when the record is in the sample and starts again above it.
 *
 * Not signal-safe (it reads files and allocates): the fptrace CLI uses it.
 */
#ifndef FPU_RUNTIME_H
#define FPU_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include "fpu_dwarf.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fpu_rt_role {
	FPU_RT_NONE = 0,
	FPU_RT_END,
	FPU_RT_SWITCH,
	FPU_RT_FP_STEP,
	FPU_RT_INJECTED,
	FPU_RT_BELOW_SP,
};

/* One function of the model, at absolute addresses of the sampled process. */
struct fpu_rt_func {
	uint64_t lo, hi;         /* [lo, hi) */
	enum fpu_rt_role role;
	const char *name;        /* the symbol, e.g. "runtime.mcall" (static) */
	const char *why;         /* one line for reports (static) */
	/* END only: a caller that is not Go code (cgo's thread start calling
	 * mstart on the same pthread stack) is legal, a Go caller is a leak. */
	int foreign_caller_ok;
	/* END only: a leak is blamed on the function the trampoline entered
	 * (the coroutine's entry), not on the trampoline in libc. */
	int blame_callee;
	/* SWITCH only: the function calls on the other stack without a frame
	 * record of its own (Go 1.19's runtime.systemstack), so every chain
	 * through it goes from its callee straight to its caller's caller. */
	int hides_caller;
	/* cgo C code without frame records only: the address of the cgo
	 * wrapper (_cgo_<hash>_Cfunc_<name>) that Go's C.<name> enters it
	 * through, the culprit a report names; 0 for other C code. */
	uint64_t cgo_wrapper;
};

struct fpu_runtime;

/*
 * The model of the runtimes found in a process's executable mappings: Go
 * (detected from .go.buildinfo, runtime.buildVersion or .gopclntab) and
 * glibc's ucontext trampoline.  Returns NULL when no mapping holds a known
 * runtime function (then fpu_runtime_compare is plain fpu_compare).
 */
struct fpu_runtime *fpu_runtime_new(const struct fpu_mapping *maps, size_t nmaps);
void fpu_runtime_free(struct fpu_runtime *rt);

/* "go1.19.8" for a Go program, NULL for none; the path of the Go binary. */
const char *fpu_runtime_go_version(const struct fpu_runtime *rt);
const char *fpu_runtime_go_path(const struct fpu_runtime *rt);

/*
 * The model's function at pc (looked up at pc - 1 for a return address), or
 * NULL.  The role that applies depends on the position: a leaf pc inside an
 * END function may be before its switch, so there it counts as SWITCH.
 */
const struct fpu_rt_func *fpu_runtime_lookup(const struct fpu_runtime *rt, uint64_t pc,
					     int is_return);
enum fpu_rt_role fpu_runtime_role_at(const struct fpu_rt_func *f, size_t index);

/*
 * Unwind s with DWARF session d, apply the model to both chains, compare.
 * The DWARF chain is cut at an END function and at a SWITCH, and stepped by
 * the frame record at an FP_STEP function; an FP chain that goes on past an
 * END function is fp-leak there; a sample whose chains agree up to a legal
 * switch beyond which the sample holds nothing is FPU_CLASS_TO_SWITCH; one
 * whose rbp points into a file's image, not a stack, is FPU_CLASS_FP_CLOBBERED.
 * rt may be NULL; it remembers the entries it blamed, for fpu_runtime_why.
 * Returns the number of DWARF pcs in pcs.
 */
size_t fpu_runtime_compare(struct fpu_runtime *rt, struct fpu_dwarf *d,
			   const struct fpu_sample *s, uint64_t *pcs, size_t max,
			   struct fpu_dwarf_result *dres, struct fpu_verdict *v);

/* Why the model ruled as it did on verdict v (one line for a report), or NULL. */
const char *fpu_runtime_why(const struct fpu_runtime *rt, const struct fpu_verdict *v);

#ifdef __cplusplus
}
#endif
#endif
