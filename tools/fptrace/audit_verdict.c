/*
 * audit_verdict.c — the verdict on one function, from its instructions
 * (Capstone, every register an instruction writes, implicit ones included)
 * and from the CFI at the instructions that matter.
 *
 * The rules, in order:
 *   clobbers-rbp  an instruction writes rbp other than the frame setup
 *                 (mov rbp,rsp right after push rbp, or enter), the restore
 *                 (pop rbp, leave) and, in the outermost frame only (CFI
 *                 says rip is undefined there, as in _start), zeroing rbp to
 *                 end the chain;
 *   no-frame      a call is made where the CFA is not rbp-based (the CFI at
 *                 the call says so; without CFI, before any frame setup);
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
	uint64_t setup_pc;
	char setup_cfa[40];
	int clobber, frameless_call;
	uint64_t zero_pc;
	char clobber_text[160], call_text[160], zero_text[96];
};

static void on_call(struct scan *s, const struct fpt_elf *o, const cs_insn *insn,
		    const struct fpt_audit_func *f, const struct fpt_elf_func *funcs, size_t nfuncs)
{
	char cfa[40];
	enum cfi_kind k = cfi_at(o, insn->address, cfa, sizeof cfa);
	s->calls++;
	if (k == CFI_OUTERMOST)
		s->outermost = 1;
	int framed = k == CFI_CFA_RBP || k == CFI_OUTERMOST ||
		     ((k == CFI_NONE || k == CFI_CFA_EXPR) && s->setup);
	if (framed || s->frameless_call)
		return;
	s->frameless_call = 1;
	const char *t = target_name(insn, funcs, nfuncs);
	snprintf(s->call_text, sizeof s->call_text, "+%#" PRIx64 ": %.16s %.40s%s%.40s%s without a frame record (%.39s)",
		 insn->address - f->lo, insn->mnemonic, insn->op_str, t ? " <" : "", t ? t : "",
		 t ? ">" : "", cfa);
}

static void on_rbp_write(struct scan *s, const cs_insn *insn, int after_push_rbp,
			 const struct fpt_audit_func *f, const struct fpt_elf *o)
{
	if (insn->id == X86_INS_POP || insn->id == X86_INS_LEAVE)
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
		snprintf(f->evidence, sizeof f->evidence, "%s", s->call_text);
	} else if (s->outermost) {
		f->verdict = FPT_VERDICT_FRAME;
		snprintf(f->evidence, sizeof f->evidence, "outermost frame: CFI leaves rip undefined%s%s",
			 s->zero_pc ? ", " : "", s->zero_pc ? s->zero_text : "");
	} else if (s->setup) {
		f->verdict = FPT_VERDICT_FRAME;
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
		if (insn->id == X86_INS_PUSH && op_is_reg(insn, 0, X86_REG_RBP))
			after_push_rbp = 1;
		else if (w)
			after_push_rbp = 0;
	}
	decide(&s, o, f);
}
