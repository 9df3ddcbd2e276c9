/*
 * dwarf_libdw.c — unwind a sample with elfutils libdw: the Dwfl of the session
 * is attached once to a one-thread "process" whose registers and memory come
 * from whatever sample is current, so module and CFI caches survive across
 * samples.
 */
#include "dwarf_internal.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The single thread of the pseudo-process; any positive number will do. */
#define SAMPLE_TID 1

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return SAMPLE_TID;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	uint64_t word;
	if (fpu_dwarf_read_word(arg, addr, &word) != 0)
		return false;
	*result = word;
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct fpu_dwarf *d = arg;
	Dwarf_Word regs[FPU_NREGS];

	for (int i = 0; i < FPU_NREGS; i++)
		regs[i] = d->cur->regs[i];
	return dwfl_thread_state_registers(thread, 0, FPU_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct frames {
	struct fpu_dwarf *d;
	uint64_t *pcs;
	size_t n, max;
	int full;
	int r12_known;              /* in the previous frame */
	uint64_t prev_lookup;       /* the previous frame's pc as libdw looks it up */
	size_t unverified_from;     /* the first frame a fallback step made, or 0 */
	uint64_t cfi_failed_at;     /* a pc whose CFI libdw could not evaluate */
};

/*
 * Was the step into this frame libdw's fallback?  When the CFI of a pc is
 * missing, or cannot be evaluated, libdw's x86-64 backend (x86_64_unwind)
 * steps by following rbp and sets only rip, rsp and rbp: r12, which a CFI
 * step carries over (same value by the x86-64 ABI), becomes unknown.  (rbx
 * would do as well by the ABI, but libdw 0.188 leaves it unknown after any
 * step.)
 */
static int fallback_step(struct frames *f, Dwfl_Frame *frame)
{
	Dwarf_Word r12;
	int known = dwfl_frame_reg(frame, FPU_REG_R12, &r12) == 0;
	int fallback = f->n > 0 && f->r12_known && !known;
	f->r12_known = known;
	return fallback;
}

static int on_frame(Dwfl_Frame *frame, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(frame, &pc, &activation))
		return DWARF_CB_ABORT;
	if (f->n == f->max) {
		f->full = 1;
		return DWARF_CB_ABORT;
	}
	if (fallback_step(f, frame) && !f->unverified_from) {
		/*
		 * No CFI there (JIT code, stripped assembly, glibc's
		 * __start_context): this frame is the frame-pointer chain's own,
		 * not a second opinion.  CFI that is there but failed is broken
		 * CFI: DWARF stops at the frame it could not unwind.
		 */
		if (fpu_dwarf_pc_has_cfi(f->d, f->prev_lookup, 0)) {
			f->cfi_failed_at = f->prev_lookup;
			return DWARF_CB_ABORT;
		}
		f->unverified_from = f->n;
	}
	/* Raw pcs: return addresses stay return addresses, as in the FP chain. */
	f->pcs[f->n++] = pc;
	f->prev_lookup = activation ? pc : pc - 1;
	return DWARF_CB_OK;
}

size_t fpu_dwarf_unwind_libdw(struct fpu_dwarf *d, const struct fpu_sample *s,
			      uint64_t *pcs, size_t max, struct fpu_dwarf_result *res)
{
	struct frames f = { .d = d, .pcs = pcs, .max = max };
	(void)s;

	if (!d->attached) {
		if (!dwfl_attach_state(d->dwfl, NULL, SAMPLE_TID, &thread_callbacks, d)) {
			res->end = FPU_DWARF_END_ERROR;
			snprintf(res->reason, sizeof res->reason, "dwfl_attach_state: %s",
				 dwfl_errmsg(-1));
			return 0;
		}
		d->attached = 1;
	}
	int rc = dwfl_getthread_frames(d->dwfl, SAMPLE_TID, on_frame, &f);
	res->unverified_from = (uint32_t)f.unverified_from;
	if (f.cfi_failed_at) {
		res->end = FPU_DWARF_END_ERROR;
		snprintf(res->reason, sizeof res->reason,
			 "the CFI at %#" PRIx64 " could not be evaluated (libdw fell back to rbp)",
			 f.cfi_failed_at);
	} else if (f.full) {
		res->end = FPU_DWARF_END_DEPTH;
	} else if (rc == 0) {
		res->end = FPU_DWARF_END_CLEAN;
	} else {
		res->end = FPU_DWARF_END_ERROR;
		snprintf(res->reason, sizeof res->reason, "%s", dwfl_errmsg(-1));
	}
	return f.n;
}
