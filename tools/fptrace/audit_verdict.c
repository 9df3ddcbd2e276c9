/*
 * audit_verdict.c — the verdict on one function, from its instructions
 * (Capstone, every register an instruction writes, implicit ones included)
 * and from the CFI at the instructions that matter.
 *
 * The rules, in order:
 *   clobbers-rbp  an instruction writes rbp other than the frame setup
 *                 (mov rbp,rsp right after push rbp, or enter; or Go's
 *                 mov [rsp+K],rbp then lea rbp,[rsp+K]), the restore
 *                 (pop rbp, leave; mov rbp,[rsp+K] from a slot rbp was
 *                 saved in; mov rbp,[rbp] after Go's setup) and, in the
 *                 outermost frame only (CFI says rip is undefined there, as
 *                 in _start), zeroing rbp to end the chain;
 *   no-frame      a call is made where the CFA is not rbp-based (the CFI at
 *                 the call says so; without CFI, before any frame setup),
 *                 except after Go's frame setup: Go's CFI is always
 *                 rsp-based, so there the instructions decide;
 *   frame         a frame setup, or calls all made inside a frame (a .cold
 *                 part runs inside its parent's frame), or the outermost
 *                 frame;
 *   leaf          decodable code that calls nothing;
 *   unknown       nothing to decode.
 * The CFI is what the compiler knew at each call, so shrink-wrapped code
 * (a frameless early path before the prologue) is judged per call.
 */
#include "audit.h"

#include <capstone/capstone.h>
#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fpt_decoder_cs {
	csh handle;
	cs_insn *insn;
	int breaking_only;   /* fpt_audit_decoder_breaking_only */
};

const char *fpt_verdict_name(enum fpt_verdict v)
{
	static const char *const names[FPT_VERDICT_COUNT] = {
		"frame", "leaf", "no-frame", "clobbers-rbp", "unknown" };
	return (unsigned)v < FPT_VERDICT_COUNT ? names[v] : "?";
}

struct fpt_decoder_cs *fpt_audit_decoder_new(char *err, size_t errlen)
{
	struct fpt_decoder_cs *d = calloc(1, sizeof *d);
	cs_err e;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((e = cs_open(CS_ARCH_X86, CS_MODE_64, &d->handle)) != CS_ERR_OK ||
	    (e = cs_option(d->handle, CS_OPT_DETAIL, CS_OPT_ON)) != CS_ERR_OK ||
	    !(d->insn = cs_malloc(d->handle))) {
		snprintf(err, errlen, "Capstone: %s", cs_strerror(e ? e : CS_ERR_MEM));
		if (d->handle)
			cs_close(&d->handle);
		free(d);
		return NULL;
	}
	return d;
}

void fpt_audit_decoder_breaking_only(struct fpt_decoder_cs *d, int on)
{
	d->breaking_only = on;
}

void fpt_audit_decoder_free(struct fpt_decoder_cs *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->handle);
	free(d);
}

/* CFI_CFA_EXPR: a DWARF expression, as at a stack switch: the CFI cannot
 * say whether a frame record is live, the instructions decide. */
enum cfi_kind { CFI_NONE, CFI_CFA_RBP, CFI_CFA_OTHER, CFI_CFA_EXPR, CFI_OUTERMOST };

/* DWARF register numbers of x86-64 that CFA rules use. */
static const char *dwarf_reg_name(uint64_t r)
{
	static const char *const n[17] = { "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
					   "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip" };
	return r < 17 ? n[r] : "r?";
}

/* What the CFI says at pc; desc gets "CFA=rsp+16" and the like. */
static enum cfi_kind cfi_at(const struct fpt_elf *o, uint64_t pc, char *desc, size_t desclen)
{
	Dwarf_CFI *cfis[3] = { o->eh_cfi, o->debug_cfi, o->debug ? o->debug->debug_cfi : NULL };
	snprintf(desc, desclen, "no CFI");
	for (int i = 0; i < 3; i++) {
		Dwarf_Frame *fr = NULL;
		if (!cfis[i] || dwarf_cfi_addrframe(cfis[i], pc, &fr) != 0)
			continue;
		enum cfi_kind k = CFI_CFA_OTHER;
		Dwarf_Op mem[3], *ops = NULL;
		size_t nops = 0;
		if (dwarf_frame_register(fr, 16, mem, &ops, &nops) == 0 && nops == 0 && ops == mem) {
			snprintf(desc, desclen, "CFI: rip undefined");
			free(fr);
			return CFI_OUTERMOST;
		}
		snprintf(desc, desclen, "CFA by expression");
		k = CFI_CFA_EXPR;
		if (dwarf_frame_cfa(fr, &ops, &nops) == 0 && nops == 1) {
			uint64_t reg = ops[0].atom == DW_OP_bregx ? ops[0].number :
				       ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31 ?
				       (uint64_t)(ops[0].atom - DW_OP_breg0) : 99;
			int64_t off = (int64_t)(ops[0].atom == DW_OP_bregx ? ops[0].number2 : ops[0].number);
			if (reg != 99) {
				k = CFI_CFA_OTHER;
				snprintf(desc, desclen, "CFA=%s%+" PRId64, dwarf_reg_name(reg), off);
				if (reg == 6)
					k = CFI_CFA_RBP;
			}
		}
		free(fr);
		return k;
	}
	return CFI_NONE;
}

static int is_rbp(unsigned r)
{
	return r == X86_REG_RBP || r == X86_REG_EBP || r == X86_REG_BP || r == X86_REG_BPL;
}

enum { WRITES_RBP = 1, WRITES_RSP = 2 };

/* Which of rbp and rsp the instruction writes, implicit writes included. */
static int stack_regs_written(csh h, const cs_insn *insn)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	int w = 0;
	if (cs_regs_access(h, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return 0;
	for (unsigned i = 0; i < nwr; i++) {
		if (is_rbp(wr[i]))
			w |= WRITES_RBP;
		if (wr[i] == X86_REG_RSP || wr[i] == X86_REG_ESP || wr[i] == X86_REG_SP)
			w |= WRITES_RSP;
	}
	return w;
}

static int op_is_reg(const cs_insn *insn, int i, unsigned reg)
{
	const cs_x86 *x = &insn->detail->x86;
	return i < x->op_count && x->operands[i].type == X86_OP_REG && x->operands[i].reg == reg;
}

/* Operand i is [base + disp] with no index; *disp gets the displacement. */
static int op_is_mem(const cs_insn *insn, int i, unsigned base, int64_t *disp)
{
	const cs_x86 *x = &insn->detail->x86;
	if (i >= x->op_count || x->operands[i].type != X86_OP_MEM ||
	    x->operands[i].mem.base != base || x->operands[i].mem.index != X86_REG_INVALID ||
	    x->operands[i].mem.segment != X86_REG_INVALID)
		return 0;
	*disp = x->operands[i].mem.disp;
	return 1;
}

/* mov [rsp+K],rbp: rbp saved in the frame, the first half of Go's setup. */
static int stores_rbp_at_rsp(const cs_insn *insn, int64_t *slot)
{
	return insn->id == X86_INS_MOV && op_is_reg(insn, 1, X86_REG_RBP) &&
	       op_is_mem(insn, 0, X86_REG_RSP, slot);
}

/* push, pop, add/sub rsp and the like: a slot's rsp offset is no longer
 * where it was.  (Calls and returns leave it where it was after them.) */
static int moves_rsp(const cs_insn *insn)
{
	return insn->id == X86_INS_PUSH || insn->id == X86_INS_POP ||
	       insn->id == X86_INS_PUSHFQ || insn->id == X86_INS_POPFQ ||
	       ((insn->id == X86_INS_SUB || insn->id == X86_INS_ADD || insn->id == X86_INS_LEA ||
		 insn->id == X86_INS_MOV || insn->id == X86_INS_AND) && op_is_reg(insn, 0, X86_REG_RSP));
}

/* xor ebp,ebp / mov ebp,0: the value that ends a frame-pointer chain. */
static int zeroes_rbp(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	if ((insn->id == X86_INS_XOR || insn->id == X86_INS_SUB) && x->op_count == 2 &&
	    x->operands[0].type == X86_OP_REG && x->operands[1].type == X86_OP_REG &&
	    x->operands[0].reg == x->operands[1].reg && is_rbp(x->operands[0].reg))
		return 1;
	return insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       is_rbp(x->operands[0].reg) && x->operands[1].type == X86_OP_IMM && x->operands[1].imm == 0;
}

/* The function a direct call goes to, for the evidence. */
static const char *target_name(const cs_insn *insn, const struct fpt_elf_func *funcs, size_t n)
{
	const cs_x86 *x = &insn->detail->x86;
	if (!funcs || x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return NULL;
	uint64_t t = (uint64_t)x->operands[0].imm;
	size_t l = 0, h = n;
	while (l < h) {
		size_t m = (l + h) / 2;
		if (funcs[m].lo <= t)
			l = m + 1;
		else
			h = m;
	}
	return l > 0 && t < funcs[l - 1].hi ? funcs[l - 1].name : NULL;
}

struct scan {
	uint64_t insns, bad_bytes, calls;
	int setup, outermost;
	/* Go's compiler (1.19 and before 1.21) makes its frame record without a
	 * push: SUBQ $N,SP; MOVQ BP,N-8(SP); LEAQ N-8(SP),BP, and the same two
	 * instructions at -16(SP) around each call into duffzero/duffcopy, so
	 * the duff routine gets a record too.  rbp_slot is the rsp offset rbp
	 * was last stored at (rbp_stored says whether there is one, until rsp
	 * moves); go_setup says such a record was made, go_slot at which
	 * offset (every epilogue restores from it: the scan is linear, so a
	 * second epilogue comes after the first one's add rsp).  Without this every Go function reads as
	 * clobbers-rbp and every Go call as frameless. */
	int rbp_stored, go_setup;
	int64_t rbp_slot, go_slot;
	/* A stack switch: rsp loaded from memory (gogo, mcall, systemstack).
	 * After it, rbp loaded from the same structure is the new stack's
	 * saved frame pointer (gogo restores gobuf.bp), and rbp zeroed ends the
	 * chain at the switch (mcall since seed 003's fix): neither clobbers.
	 * rbp_since_switch says whether rbp was written after the switch; a
	 * call made before that runs on the new stack with the old stack's
	 * rbp, which the evidence says (seed 003: Go 1.19's mcall). */
	int switched, rbp_since_switch, chain_ended;
	unsigned switch_base;
	uint64_t switch_pc;
	char switch_text[80];
	uint64_t setup_pc;
	char setup_cfa[64];
	int clobber, frameless_call;
	uint64_t zero_pc;
	char clobber_text[160], call_text[320], zero_text[96];
};

static void on_call(struct scan *s, const struct fpt_elf *o, const cs_insn *insn,
		    const struct fpt_audit_func *f, const struct fpt_elf_func *funcs, size_t nfuncs)
{
	char cfa[40];
	enum cfi_kind k = cfi_at(o, insn->address, cfa, sizeof cfa);
	s->calls++;
	if (k == CFI_OUTERMOST)
		s->outermost = 1;
	int framed = k == CFI_CFA_RBP || k == CFI_OUTERMOST || s->go_setup || s->chain_ended ||
		     ((k == CFI_NONE || k == CFI_CFA_EXPR) && s->setup);
	if (framed || s->frameless_call)
		return;
	s->frameless_call = 1;
	const char *t = target_name(insn, funcs, nfuncs);
	snprintf(s->call_text, sizeof s->call_text, "+%#" PRIx64 ": %.16s %.40s%s%.40s%s without a frame record (%.39s)%s%s",
		 insn->address - f->lo, insn->mnemonic, insn->op_str, t ? " <" : "", t ? t : "",
		 t ? ">" : "", cfa, s->switched && !s->rbp_since_switch ? ", after a stack switch with the old stack's rbp: " : "",
		 s->switched && !s->rbp_since_switch ? s->switch_text : "");
}

static void on_rbp_write(struct scan *s, const cs_insn *insn, int after_push_rbp,
			 const struct fpt_audit_func *f, const struct fpt_elf *o)
{
	int64_t k;
	if (insn->id == X86_INS_POP || insn->id == X86_INS_LEAVE)
		return;
	/* Go's setup: rbp points at the slot the caller's rbp was just saved
	 * in, a frame record. */
	if (insn->id == X86_INS_LEA && op_is_reg(insn, 0, X86_REG_RBP) &&
	    op_is_mem(insn, 1, X86_REG_RSP, &k) && s->rbp_stored && k == s->rbp_slot) {
		if (!s->setup) {
			s->setup = 1;
			s->setup_pc = insn->address;
			snprintf(s->setup_cfa, sizeof s->setup_cfa, "mov [rsp%+" PRId64 "], rbp; lea rbp, [rsp%+" PRId64 "]",
				 k, k);
		}
		if (!s->go_setup)
			s->go_slot = k;
		s->go_setup = 1;
		return;
	}
	/* Go's restore: rbp back from the slot it was saved in, or from the
	 * record rbp points at (after a call into duffzero/duffcopy). */
	if (insn->id == X86_INS_MOV && op_is_reg(insn, 0, X86_REG_RBP) &&
	    ((op_is_mem(insn, 1, X86_REG_RSP, &k) &&
	      ((s->rbp_stored && k == s->rbp_slot) || (s->go_setup && k == s->go_slot))) ||
	     (op_is_mem(insn, 1, X86_REG_RBP, &k) && k == 0 && s->go_setup)))
		return;
	if ((insn->id == X86_INS_MOV && op_is_reg(insn, 0, X86_REG_RBP) &&
	     op_is_reg(insn, 1, X86_REG_RSP) && after_push_rbp) || insn->id == X86_INS_ENTER) {
		/* Where the CFI exists it must agree: a "setup" that it does not
		 * see is bytes decoded out of step (after data or an instruction
		 * the decoder does not know). */
		char cfa[40];
		enum cfi_kind k = cfi_at(o, insn->address + insn->size, cfa, sizeof cfa);
		if (!s->setup && (k == CFI_CFA_RBP || k == CFI_NONE || k == CFI_CFA_EXPR)) {
			s->setup = 1;
			s->setup_pc = insn->address;
			snprintf(s->setup_cfa, sizeof s->setup_cfa, "%s", cfa);
		}
		return;
	}
	if (s->switched && !s->rbp_since_switch) {
		s->rbp_since_switch = 1;
		if (zeroes_rbp(insn)) {
			s->chain_ended = 1;
			return;
		}
		if (insn->id == X86_INS_MOV && op_is_reg(insn, 0, X86_REG_RBP) &&
		    op_is_mem(insn, 1, s->switch_base, &k))
			return;
	}
	if (zeroes_rbp(insn) && !s->zero_pc) {
		s->zero_pc = insn->address;
		snprintf(s->zero_text, sizeof s->zero_text, "+%#" PRIx64 ": %.16s %.48s",
			 insn->address - f->lo, insn->mnemonic, insn->op_str);
		return;
	}
	if (s->clobber)
		return;
	s->clobber = 1;
	snprintf(s->clobber_text, sizeof s->clobber_text, "+%#" PRIx64 ": %.16s %.64s writes rbp",
		 insn->address - f->lo, insn->mnemonic, insn->op_str);
}

static void decide(struct scan *s, const struct fpt_elf *o, struct fpt_audit_func *f)
{
	char cfa[40];
	/* Zeroing rbp is the chain's end only where the CFI ends it too. */
	if (s->zero_pc && !s->outermost && cfi_at(o, s->zero_pc, cfa, sizeof cfa) == CFI_OUTERMOST)
		s->outermost = 1;
	if (s->zero_pc && !s->outermost && !s->clobber) {
		s->clobber = 1;
		snprintf(s->clobber_text, sizeof s->clobber_text, "%s zeroes rbp outside an outermost frame",
			 s->zero_text);
	}
	f->calls = (uint32_t)s->calls;
	if (s->clobber) {
		f->verdict = FPT_VERDICT_CLOBBERS_RBP;
		snprintf(f->evidence, sizeof f->evidence, "%s", s->clobber_text);
	} else if (s->frameless_call) {
		f->verdict = FPT_VERDICT_NO_FRAME;
		/* Cut at the buffer's end, the evidence is still evidence. */
		snprintf(f->evidence, sizeof f->evidence, "%.175s", s->call_text);
	} else if (s->chain_ended && !s->setup) {
		f->verdict = FPT_VERDICT_FRAME;
		int n = snprintf(f->evidence, sizeof f->evidence, "ends the frame chain at a stack switch (%s, then rbp = 0)",
				 s->switch_text);
		(void)n;
	} else if (s->outermost) {
		f->verdict = FPT_VERDICT_FRAME;
		snprintf(f->evidence, sizeof f->evidence, "outermost frame: CFI leaves rip undefined%s%s",
			 s->zero_pc ? ", " : "", s->zero_pc ? s->zero_text : "");
	} else if (s->setup) {
		f->verdict = FPT_VERDICT_FRAME;
		if (s->go_setup)
			snprintf(f->evidence, sizeof f->evidence, "+%#" PRIx64 ": %s (Go's frame record)",
				 s->setup_pc - f->lo, s->setup_cfa);
		else
			snprintf(f->evidence, sizeof f->evidence, "+%#" PRIx64 ": push rbp; mov rbp, rsp (%s)",
				 s->setup_pc - f->lo, s->setup_cfa);
	} else if (s->calls) {
		f->verdict = FPT_VERDICT_FRAME;
		snprintf(f->evidence, sizeof f->evidence,
			 "%" PRIu64 " calls, all inside a frame record (CFA=rbp+16)", s->calls);
	} else if (s->insns) {
		f->verdict = FPT_VERDICT_LEAF;
		snprintf(f->evidence, sizeof f->evidence, "no call in %" PRIu64 " instructions", s->insns);
	} else {
		f->verdict = FPT_VERDICT_UNKNOWN;
		snprintf(f->evidence, sizeof f->evidence, "no instruction decodes (%" PRIu64 " bytes)",
			 s->bad_bytes);
	}
	if (s->bad_bytes && f->verdict != FPT_VERDICT_UNKNOWN) {
		size_t at = strlen(f->evidence);
		snprintf(f->evidence + at, sizeof f->evidence - at, "; %" PRIu64 " bytes do not decode",
			 s->bad_bytes);
	}
}

void fpt_audit_judge(struct fpt_decoder_cs *d, const struct fpt_elf *o, struct fpt_audit_func *f,
		     const struct fpt_elf_func *funcs, size_t nfuncs)
{
	size_t len = f->hi > f->lo ? (size_t)(f->hi - f->lo) : 0;
	const uint8_t *code = len ? fpt_elf_bytes(o, f->lo, &len) : NULL;
	struct scan s = { 0 };

	if (!code || !len) {
		f->verdict = FPT_VERDICT_UNKNOWN;
		snprintf(f->evidence, sizeof f->evidence, "%s",
			 f->hi > f->lo ? "no code in the file at this address" : "empty range");
		return;
	}
	uint64_t addr = f->lo;
	/* rbp was pushed and neither rsp nor rbp written since: [rsp] holds the
	 * caller's rbp, so mov rbp,rsp now makes a frame record (GCC may
	 * schedule an unrelated instruction between the two). */
	int after_push_rbp = 0;
	/* Either is a breaking verdict whatever follows (decide: clobbers-rbp,
	 * then no-frame, before any other); Capstone is most of check's time on
	 * a small file, and most of libc's functions break early. */
	while (len > 0 && !(d->breaking_only && (s.clobber || s.frameless_call))) {
		if (!cs_disasm_iter(d->handle, &code, &len, &addr, d->insn)) {
			/* Data in the text (jump tables of hand-written code): step over a byte. */
			code++, len--, addr++;
			s.bad_bytes++;
			after_push_rbp = 0;
			continue;
		}
		const cs_insn *insn = d->insn;
		s.insns++;
		if (insn->id == X86_INS_CALL || insn->id == X86_INS_LCALL)
			on_call(&s, o, insn, f, funcs, nfuncs);
		/* Asking Capstone for the registers written is most of the cost of an
		 * instruction; in 64-bit code only leave and enter write rbp without
		 * naming it, and rsp matters only right after push rbp. */
		int w = after_push_rbp || strstr(insn->op_str, "bp") || insn->id == X86_INS_LEAVE ||
				insn->id == X86_INS_ENTER ? stack_regs_written(d->handle, insn) : 0;
		if ((w & WRITES_RBP) || insn->id == X86_INS_ENTER)
			on_rbp_write(&s, insn, after_push_rbp, f, o);
		int64_t slot;
		const cs_x86 *x = &insn->detail->x86;
		if (insn->id == X86_INS_MOV && op_is_reg(insn, 0, X86_REG_RSP) && x->op_count == 2 &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base != X86_REG_RSP) {
			s.switched = 1;
			s.rbp_since_switch = 0;
			s.switch_base = x->operands[1].mem.base;
			s.switch_pc = insn->address;
			snprintf(s.switch_text, sizeof s.switch_text, "+%#" PRIx64 ": mov rsp, %.48s",
				 insn->address - f->lo, strchr(insn->op_str, ',') ? strchr(insn->op_str, ',') + 2 : insn->op_str);
		}
		if (stores_rbp_at_rsp(insn, &slot)) {
			s.rbp_stored = 1;
			s.rbp_slot = slot;
		} else if (moves_rsp(insn)) {
			s.rbp_stored = 0;
		}
		if (insn->id == X86_INS_PUSH && op_is_reg(insn, 0, X86_REG_RBP))
			after_push_rbp = 1;
		else if (w)
			after_push_rbp = 0;
	}
	decide(&s, o, f);
}
