/*
 * dwarf_cfi_steps.c — libdw's CFI unwinding of an x86-64 sample, done from
 * rules cached per pc.  dwfl_getthread_frames asks libdw afresh at every
 * frame of every sample: dwarf_cfi_addrframe runs the FDE's program and
 * mallocs a row, dwarf_frame_register builds each register's expression, and
 * on_frame's dwfl_frame_pc unwinds each frame once more to learn whether it is
 * an activation.  That was about 40% of `fptrace check` on a perf.data of
 * 100,000 samples.  Here each lookup address's row is read from libdw once, as
 * a CFA = reg + offset rule and per register one of: undefined, same value,
 * saved at CFA + offset, or the value CFA + offset; then every sample steps
 * from those rules, reading memory through the same fpu_dwarf_read_word.
 *
 * Only what these rules express is done here: anything else (no module or no
 * CFI at a pc, so libdw would fall back to following rbp; a DWARF expression,
 * a register rule; a signal frame's CIE; a read that fails; a pc of the
 * callee-saved witness that on_frame watches going unknown) hands the whole
 * sample to libdw's own unwinder (dwarf_libdw.c), which stays the reference:
 * test_cfi_steps.c compares both on every sample of real recordings.
 *
 * The semantics followed are elfutils' (libdwfl/frame_unwind.c, handle_cfi):
 * registers 0..16 of the row, an undefined return address ends the stack
 * cleanly, a return address of 0 too, and the lookup address of every frame
 * but the first is pc - 1.
 */
#include "dwarf_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* The x86-64 DWARF registers libdw unwinds (ebl_frame_nregs): rax..r15, rip. */
#define STEP_NREGS 17
#define STEP_RA 16

enum step_kind {
	STEP_UNDEFINED = 0,   /* the caller's value is unknown */
	STEP_SAME,            /* the caller's value is this frame's (if known) */
	STEP_AT_CFA,          /* saved in memory at CFA + offset */
	STEP_VAL_CFA,         /* the value CFA + offset (rsp's usual rule) */
};

/* What one lookup address's CFI row says, in the shape this file steps. */
struct fpu_step_rule {
	uint8_t usable;       /* 0: libdw must unwind through here */
	uint8_t cfa_reg;
	uint8_t kind[STEP_NREGS];
	int64_t cfa_offset;
	int64_t offset[STEP_NREGS];
	/* The same, by kind, for step: most of a row is "same value", and a
	 * step is done about fifteen times per sample. */
	uint32_t same;                 /* bit r: kind[r] is STEP_SAME */
	uint8_t nloads, nvalues;
	uint8_t loads[STEP_NREGS];     /* STEP_AT_CFA, ascending */
	uint8_t values[STEP_NREGS];    /* STEP_VAL_CFA */
};

/* CFA = register + offset, the register one this file knows; else -1. */
static int read_cfa(Dwarf_Frame *frame, struct fpu_step_rule *rule)
{
	Dwarf_Op *ops;
	size_t nops;
	uint64_t reg;

	if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
		return -1;
	if (ops[0].atom == DW_OP_bregx) {
		reg = ops[0].number;
		rule->cfa_offset = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = (uint64_t)(ops[0].atom - DW_OP_breg0);
		rule->cfa_offset = (int64_t)ops[0].number;
	} else {
		return -1;
	}
	if (reg >= STEP_NREGS)
		return -1;
	rule->cfa_reg = (uint8_t)reg;
	return 0;
}

/*
 * Register regno's rule, as dwarf_frame_register spells it (libdw's
 * dwarf_frame_register.c): no ops and ops == mem is undefined, no ops and
 * ops == NULL is same value, call_frame_cfa [plus_uconst n] [stack_value] is
 * a slot at CFA + n or the value CFA + n.  Anything else: -1.
 */
static int read_register(Dwarf_Frame *frame, int regno, struct fpu_step_rule *rule)
{
	Dwarf_Op mem[3], *ops;
	size_t nops, i = 1;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops) != 0)
		return -1;
	if (nops == 0) {
		if (ops != mem && ops != NULL)
			return -1;
		rule->kind[regno] = ops == mem ? STEP_UNDEFINED : STEP_SAME;
		return 0;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	rule->offset[regno] = 0;
	if (i < nops && ops[i].atom == DW_OP_plus_uconst)
		rule->offset[regno] = (int64_t)ops[i++].number;   /* negative: wraps around */
	rule->kind[regno] = STEP_AT_CFA;
	if (i < nops && ops[i].atom == DW_OP_stack_value) {
		rule->kind[regno] = STEP_VAL_CFA;
		i++;
	}
	return i == nops ? 0 : -1;
}

static void read_rule(struct fpu_dwarf *d, uint64_t lookup, struct fpu_step_rule *rule)
{
	Dwarf_Frame *frame = fpu_dwarf_cfi_row_at(d, lookup, 0);
	bool signal_frame = false;

	rule->usable = 0;
	if (!frame)
		return;   /* libdw then steps by rbp (x86_64_unwind): its own business */
	int ra = dwarf_frame_info(frame, NULL, NULL, &signal_frame);
	int ok = ra == STEP_RA && !signal_frame && read_cfa(frame, rule) == 0;
	for (int r = 0; ok && r < STEP_NREGS; r++)
		ok = read_register(frame, r, rule) == 0;
	rule->usable = (uint8_t)ok;
	free(frame);
	rule->same = 0;
	rule->nloads = rule->nvalues = 0;
	for (int r = 0; ok && r < STEP_NREGS; r++) {
		if (rule->kind[r] == STEP_SAME)
			rule->same |= 1u << r;
		else if (rule->kind[r] == STEP_AT_CFA)
			rule->loads[rule->nloads++] = (uint8_t)r;
		else if (rule->kind[r] == STEP_VAL_CFA)
			rule->values[rule->nvalues++] = (uint8_t)r;
	}
}

static const struct fpu_step_rule *rule_at(struct fpu_dwarf *d, uint64_t lookup)
{
	const struct fpu_step_rule *hit = fpu_pc_cache_find(&d->step_rules, lookup);
	if (hit)
		return hit;
	struct fpu_step_rule *kept = fpu_pc_cache_add(&d->step_rules, lookup);
	if (!kept)
		return NULL;
	read_rule(d, lookup, kept);
	return kept;
}

/* One frame's registers, and which of them are known. */
struct step_regs {
	uint64_t v[STEP_NREGS];
	uint32_t known;
};

/*
 * The caller's registers from rule, as handle_cfi computes them.  0, or -1
 * when libdw must do it: the CFA's register unknown, or a read that failed
 * (libdw would leave that register unset and may go on; not followed here).
 */
static int step(struct fpu_dwarf *d, const struct fpu_step_rule *rule, const struct step_regs *in,
		struct step_regs *out)
{
	if (!(in->known >> rule->cfa_reg & 1))
		return -1;
	uint64_t cfa = in->v[rule->cfa_reg] + (uint64_t)rule->cfa_offset;
	/* same value: the value where known; undefined: unknown.  The reads go
	 * in register order, so the first that fails is libdw's first too. */
	memcpy(out->v, in->v, sizeof out->v);
	out->known = in->known & rule->same;
	for (unsigned i = 0; i < rule->nloads; i++) {
		unsigned r = rule->loads[i];
		if (fpu_dwarf_read_word(d, cfa + (uint64_t)rule->offset[r], &out->v[r]) != 0)
			return -1;
		out->known |= 1u << r;
	}
	for (unsigned i = 0; i < rule->nvalues; i++) {
		unsigned r = rule->values[i];
		out->v[r] = cfa + (uint64_t)rule->offset[r];
		out->known |= 1u << r;
	}
	return 0;
}

int fpu_dwarf_unwind_cfi_steps(struct fpu_dwarf *d, const struct fpu_sample *s, uint64_t *pcs,
			       size_t max, struct fpu_dwarf_result *res, size_t *nframes)
{
	struct step_regs frame[2];
	int cur = 0;
	size_t n = 0;

	if (max == 0)
		return -1;
	for (int r = 0; r < STEP_NREGS; r++)
		frame[cur].v[r] = s->regs[r];
	frame[cur].known = (1u << STEP_NREGS) - 1;   /* set_initial_registers sets all */
	for (;;) {
		const struct step_regs *in = &frame[cur];
		struct step_regs *out = &frame[!cur];
		uint64_t pc = in->v[STEP_RA];
		/* dwfl_frame_pc: the first frame is an activation, a caller's pc a
		 * return address (no signal frame gets here) */
		const struct fpu_step_rule *rule = rule_at(d, n == 0 ? pc : pc - 1);
		if (!rule || !rule->usable || step(d, rule, in, out) != 0)
			return -1;
		int ends = rule->kind[STEP_RA] == STEP_UNDEFINED ||
			   ((out->known >> STEP_RA & 1) && out->v[STEP_RA] == 0);
		/* the return address unset otherwise: libdw's error, in its words */
		if (!ends && !(out->known >> STEP_RA & 1))
			return -1;
		/* on_frame takes r12 going unknown for libdw's rbp fallback (fallback_step) */
		if (!ends && !(out->known >> FPU_REG_R12 & 1))
			return -1;
		/* libdw unwinds a frame (dwfl_frame_pc's look ahead) before on_frame
		 * sees that it is one too many */
		if (n == max) {
			res->end = FPU_DWARF_END_DEPTH;
			break;
		}
		pcs[n++] = pc;
		if (ends) {
			res->end = FPU_DWARF_END_CLEAN;
			break;
		}
		cur = !cur;
	}
	*nframes = n;
	return 0;
}

void fpu_dwarf_cfi_steps_init(struct fpu_dwarf *d)
{
	fpu_pc_cache_init(&d->step_rules, sizeof(struct fpu_step_rule));
	d->cfi_steps = d->backend == FPU_DWARF_LIBDW && d->machine == FPU_REC_MACHINE_X86_64;
}

void fpu_dwarf_set_cfi_steps(struct fpu_dwarf *d, int on)
{
	d->cfi_steps = on && d->backend == FPU_DWARF_LIBDW && d->machine == FPU_REC_MACHINE_X86_64;
}
