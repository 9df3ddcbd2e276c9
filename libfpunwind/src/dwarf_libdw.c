/*
 * dwarf_libdw.c — unwind a sample with elfutils libdw: the Dwfl of the session
 * is attached once to a one-thread "process" whose registers and memory come
 * from whatever sample is current, so module and CFI caches survive across
 * samples.
 */
#include "dwarf_internal.h"

#include <dwarf.h>
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
	size_t first_without_cfi;   /* index + 1 of the first frame with no CFI, or 0 */
};

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
	/*
	 * Where a pc has no CFI, libdw's x86-64 backend (x86_64_unwind) steps by
	 * following rbp: the next frame is the frame-pointer chain's own.  Look
	 * the pc up as libdw does (.eh_frame, then .debug_frame; pc - 1 for a
	 * return address) and remember the first such frame.
	 */
	if (!f->first_without_cfi && !fpu_dwarf_pc_has_cfi(f->d, activation ? pc : pc - 1, 0))
		f->first_without_cfi = f->n + 1;
	/* Raw pcs: return addresses stay return addresses, as in the FP chain. */
	f->pcs[f->n++] = pc;
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
	/* A frame without CFI counts only if a step was taken from it. */
	if (f.first_without_cfi && f.first_without_cfi < f.n)
		res->unverified_from = (uint32_t)f.first_without_cfi;
	if (f.full) {
		res->end = FPU_DWARF_END_DEPTH;
	} else if (rc == 0) {
		res->end = FPU_DWARF_END_CLEAN;
	} else {
		res->end = FPU_DWARF_END_ERROR;
		snprintf(res->reason, sizeof res->reason, "%s", dwfl_errmsg(-1));
	}
	return f.n;
}
