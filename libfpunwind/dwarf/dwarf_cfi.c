/*
 * dwarf_cfi.c — what the CFI of the session's modules says at one pc, read with
 * libdw the way its own unwinder reads it (.eh_frame first, then .debug_frame).
 * The unwinders only follow the CFI; the comparator needs to know its shape:
 *
 *   - whether a pc has CFI at all: where it has none, libdw's x86-64 backend
 *     and libunwind step by following rbp, and that step is the frame-pointer
 *     chain again, not a second opinion;
 *   - the shape of the interrupted function's frame: no frame yet (or any
 *     more), a frame-pointer prologue in progress, a frame record, or a stack
 *     frame without a frame record (-fomit-frame-pointer);
 *   - which saved registers lie below the stack pointer (GCC's epilogue rows).
 */
#include "dwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

Dwarf_Frame *fpu_dwarf_cfi_row_at(struct fpu_dwarf *d, uint64_t pc, int eh_only)
{
	Dwfl_Module *mod = dwfl_addrmodule(d->dwfl, pc);
	Dwarf_Frame *frame = NULL;
	Dwarf_Addr bias;

	if (!mod)
		return NULL;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0)
		return frame;
	if (eh_only)
		return NULL;
	cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0)
		return frame;
	return NULL;
}

/* CFA = register + offset: 0 with both set, -1 for any other rule. */
static int cfa_rule(Dwarf_Frame *frame, int *reg, int64_t *offset)
{
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
		return -1;
	if (ops[0].atom == DW_OP_bregx) {
		*reg = (int)ops[0].number;
		*offset = (int64_t)ops[0].number2;
		return 0;
	}
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*offset = (int64_t)ops[0].number;
		return 0;
	}
	return -1;
}

/* Register regno saved in memory at CFA + *offset: 1, else 0. */
static int saved_at(Dwarf_Frame *frame, int regno, int64_t *offset)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops) != 0 || !ops || nops == 0 ||
	    ops[0].atom != DW_OP_call_frame_cfa)
		return 0;
	if (nops == 1) {
		*offset = 0;
		return 1;
	}
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*offset = (int64_t)ops[1].number;   /* negative offsets wrap around */
		return 1;
	}
	return 0;
}

/*
 * The sample slot (fpu_sample.h) of the session's DWARF register r, or -1:
 * x86-64's DWARF numbers are the slots; aarch64's (x29 = 29, x30 = 30, sp =
 * 31) go through fpu_a64_slot, so that a row reads the same on both
 * (cfa_reg FPU_REG_RSP: from the stack pointer; FPU_REG_RBP: from the frame
 * pointer).
 */
static int slot_of(const struct fpu_dwarf *d, int r)
{
	if (d->machine == FPU_REC_MACHINE_AARCH64)
		return r >= 0 && r <= 31 ? fpu_a64_slot((unsigned)r) : -1;
	return r >= 0 && r < FPU_NREGS ? r : -1;
}

/* The row's shape, read from libdw: .eh_frame first, then .debug_frame. */
static void read_row(struct fpu_dwarf *d, uint64_t pc, struct fpu_cfi_row *row)
{
	Dwarf_Frame *frame = fpu_dwarf_cfi_row_at(d, pc, 1);
	int reg, nregs = d->machine == FPU_REC_MACHINE_AARCH64 ? 32 : FPU_NREGS;
	int64_t at;

	row->has_eh = frame != NULL;
	if (!frame)
		frame = fpu_dwarf_cfi_row_at(d, pc, 0);
	row->has_any = frame != NULL;
	row->cfa_reg = -1;
	if (!frame)
		return;
	if (cfa_rule(frame, &reg, &row->cfa_offset) == 0 && slot_of(d, reg) >= 0)
		row->cfa_reg = (int8_t)slot_of(d, reg);
	for (int r = 0; r < nregs; r++) {
		int slot = slot_of(d, r);
		if (slot >= 0 && saved_at(frame, r, &at)) {
			row->saved |= 1u << slot;
			row->saved_at[slot] = at;
		}
	}
	free(frame);
	/* only a row that would read as a frame without a record needs to know */
	if (d->machine != FPU_REC_MACHINE_AARCH64 && row->cfa_reg == FPU_REG_RSP &&
	    row->cfa_offset > 8 && !(row->saved >> FPU_REG_RBP & 1))
		row->in_plt = fpu_dwarf_plt_section(dwfl_addrmodule(d->dwfl, pc), pc) != NULL;
}

/*
 * The row at pc, from the session's cache: every sample asks about its leaf
 * (twice) and libdw's fallback steps about their callers, and parsing a row
 * mallocs one.  NULL only when out of memory.
 */
static const struct fpu_cfi_row *cached_row(struct fpu_dwarf *d, uint64_t pc,
					    struct fpu_cfi_row *scratch)
{
	const struct fpu_cfi_row *hit = fpu_pc_cache_find(&d->cfi_rows, pc);
	if (hit)
		return hit;
	memset(scratch, 0, sizeof *scratch);
	read_row(d, pc, scratch);
	struct fpu_cfi_row *kept = fpu_pc_cache_add(&d->cfi_rows, pc);
	if (kept)
		*kept = *scratch;
	return scratch;
}

int fpu_dwarf_pc_has_cfi(struct fpu_dwarf *d, uint64_t pc, int eh_only)
{
	struct fpu_cfi_row scratch;
	const struct fpu_cfi_row *row = cached_row(d, pc, &scratch);
	return eh_only ? row->has_eh : row->has_any;
}

/*
 * Between push rbp and mov rsp,rbp, rbp still holds what was just pushed: the
 * caller's frame pointer, so the chain only lacks the caller.  The same row
 * (CFA = rsp+16, rbp at CFA-16) also describes a function that pushed rbp as
 * an ordinary callee-saved register and then used it for data: glibc's free
 * right before its pop %rbp.  There rbp is not what was pushed, the chain read
 * from it is garbage, and the function itself broke it.  Unknown (no sample,
 * [rsp] not in the copy): the benefit of the doubt, as before.  slot is where
 * the row saved it ([rsp] on x86-64; the frame record's first word on aarch64).
 */
static int pushed_rbp_is_live(struct fpu_dwarf *d, uint64_t slot)
{
	const struct fpu_sample *s = d->cur;
	uint64_t pushed;
	int outside = d->read_outside, short_ = d->read_short;
	uint64_t outside_addr = d->read_outside_addr;

	if (!s)
		return 1;
	int ok = fpu_dwarf_read_word(d, slot, &pushed) == 0;
	/* a probe, not part of the unwind: leave its bookkeeping as it was */
	d->read_outside = outside;
	d->read_short = short_;
	d->read_outside_addr = outside_addr;
	return !ok || pushed == s->regs[FPU_REG_RBP];
}

/*
 * aarch64 (AAPCS64: the frame record {x29, x30} lies anywhere in the frame, and
 * GCC keeps CFA = sp + N after mov x29, sp):
 *   - x30 not saved: it holds the return address (a leaf, with or without
 *     locals; a non-leaf before its stp x29, x30 or after its ldp), and x29 is
 *     still the caller's: the leaf window, NONE;
 *   - x30 saved, x29 not, or not right below it: a stack frame without a frame
 *     record (-fomit-frame-pointer), NO_RECORD;
 *   - x29 and x30 saved as a record: x29 pointing at it, RECORD; x29 still
 *     what was stored there, between the stp and the mov x29, sp, SETUP; else
 *     x29 saved as a callee-saved register and then used for data, NO_RECORD.
 */
static enum fpu_leaf_frame a64_leaf_frame(struct fpu_dwarf *d, const struct fpu_cfi_row *row)
{
	const int lr = fpu_a64_slot(30);

	if (row->cfa_reg == FPU_REG_RBP)
		return FPU_LEAF_FRAME_RECORD;
	if (row->cfa_reg != FPU_REG_RSP)
		return FPU_LEAF_FRAME_UNKNOWN;
	if (!(row->saved >> lr & 1))
		return FPU_LEAF_FRAME_NONE;
	if (!(row->saved >> FPU_REG_RBP & 1) ||
	    row->saved_at[lr] != row->saved_at[FPU_REG_RBP] + 8)
		return FPU_LEAF_FRAME_NO_RECORD;
	if (!d->cur)
		return FPU_LEAF_FRAME_SETUP;   /* no registers to tell: the benefit of the doubt */
	const uint64_t *regs = d->cur->regs;
	uint64_t record = regs[FPU_REG_RSP] + (uint64_t)row->cfa_offset +
			  (uint64_t)row->saved_at[FPU_REG_RBP];
	if (regs[FPU_REG_RBP] == record)
		return FPU_LEAF_FRAME_RECORD;
	return pushed_rbp_is_live(d, record) ? FPU_LEAF_FRAME_SETUP : FPU_LEAF_FRAME_NO_RECORD;
}

enum fpu_leaf_frame fpu_dwarf_leaf_frame(struct fpu_dwarf *d, uint64_t pc)
{
	struct fpu_cfi_row scratch;
	const struct fpu_cfi_row *row = cached_row(d, pc, &scratch);
	int reg = row->cfa_reg;
	int64_t cfa_off = row->cfa_offset;

	if (!row->has_any || reg < 0)
		return FPU_LEAF_FRAME_UNKNOWN;
	if (d->machine == FPU_REC_MACHINE_AARCH64)
		return a64_leaf_frame(d, row);
	int rbp_pushed = (row->saved >> FPU_REG_RBP & 1) && row->saved_at[FPU_REG_RBP] == -16;
	if (reg == FPU_REG_RBP)
		return FPU_LEAF_FRAME_RECORD;
	if (reg != FPU_REG_RSP)
		return FPU_LEAF_FRAME_UNKNOWN;
	if (cfa_off <= 8)
		/* rsp+0: a stack switch about to jump (rt_gogo's row says rip is
		 * in rax); no frame of its own either. */
		return FPU_LEAF_FRAME_NONE;
	if (cfa_off == 16 && rbp_pushed)
		return pushed_rbp_is_live(d, d->cur ? d->cur->regs[FPU_REG_RSP] : 0)
			       ? FPU_LEAF_FRAME_SETUP : FPU_LEAF_FRAME_NO_RECORD;
	if (row->in_plt)
		/* A PLT stub: never a frame record, and rbp still the caller's.
		 * Lazy binding's first call of each function goes through PLT0,
		 * which pushes the link map over the relocation index the entry
		 * pushed (CFA = rsp+16, then rsp+24) and jumps to the resolver:
		 * like a callee at its entry, it lacks only its caller's record. */
		return FPU_LEAF_FRAME_NONE;
	return FPU_LEAF_FRAME_NO_RECORD;
}

/*
 * GCC's CFI for a function without frame pointers keeps "rbp saved at
 * CFA-16" in the row of its final ret, where CFA = rsp+8: the slot lies below
 * the stack pointer, and the register was popped from it a moment ago, so it
 * holds the register's current value.  perf and gdb never read below sp; they
 * take such a register as unchanged.  Here each such slot of the interrupted
 * frame is served with the register's own value (the unwinders ask for the
 * memory, not for a rule), so neither backend reads outside the snapshot.
 */
void fpu_dwarf_dead_slots(struct fpu_dwarf *d, const uint64_t regs[FPU_NREGS])
{
	struct fpu_cfi_row scratch;
	const struct fpu_cfi_row *row = cached_row(d, regs[FPU_REG_RIP], &scratch);

	d->ndead = 0;
	/*
	 * Only a CFA computed from rsp: then a slot below sp was popped.  With a
	 * CFA from rbp the frame may lie on another stack, mapped below sp (a
	 * callback's g0 frame while sp is on the goroutine): live memory.
	 */
	if (!row->has_any || row->cfa_reg != FPU_REG_RSP)
		return;
	uint64_t cfa = regs[FPU_REG_RSP] + (uint64_t)row->cfa_offset;
	for (int r = 0; r < FPU_NREGS && d->ndead < FPU_DWARF_MAX_DEAD; r++) {
		if (r == FPU_REG_RSP || r == FPU_REG_RIP || !(row->saved >> r & 1))
			continue;
		uint64_t slot = cfa + (uint64_t)row->saved_at[r];
		if (slot < regs[FPU_REG_RSP])
			d->dead[d->ndead++] = (struct fpu_dead_slot){ slot, regs[r] };
	}
}
