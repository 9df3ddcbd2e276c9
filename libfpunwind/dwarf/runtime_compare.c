/*
 * runtime_compare.c — the comparator with a runtime model: where a runtime
 * switches stacks, DWARF is not the truth, so the model says where each chain
 * must end, where it may cross, and how the DWARF side steps a frame whose CFI
 * is wrong.  Everything else is fpu_compare's.
 */
#include "runtime_model_int.h"
#include "dwarf_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_FP_STEPS 512

/*
 * The frame record of the frame whose pc (a return address) is pc, found by
 * walking frame records from the sample's rbp inside its stack copy: the
 * caller's registers {rip, rsp, rbp} in out.  0, or -1 when the record is not
 * in the copy (it lies on another stack: the switch the sample stops at).
 */
static int caller_by_record(const struct fpu_sample *s, uint64_t pc, uint64_t out[3])
{
	uint64_t fp = s->regs[FPU_REG_RBP];
	int found = pc == s->regs[FPU_REG_RIP];

	for (int i = 0; i < MAX_FP_STEPS && fp; i++) {
		uint64_t rec[2];
		if (fp & 7 || fpu_sample_read(s, fp, rec, sizeof rec) != 0)
			return -1;
		if (found) {
			out[0] = rec[1];
			out[1] = fp + FPU_FRAME_RECORD;
			out[2] = rec[0];
			return 0;
		}
		found = rec[1] == pc;
		if (rec[0] <= fp)
			return -1;
		fp = rec[0];
	}
	return -1;
}

/*
 * Step the DWARF chain over pcs[k] by its frame record, then let DWARF go on
 * from the caller.  Returns the new length, or 0 when the record is not in
 * the sample.  The caller is unwound from ret - 1, inside the call, so that a
 * call at the very end of a function finds that function's CFI.
 */
static size_t dwarf_from_caller(struct fpu_dwarf *d, const struct fpu_sample *s,
				uint64_t *pcs, size_t k, size_t max, const uint64_t caller[3],
				struct fpu_dwarf_result *dres);

static size_t step_by_record(struct fpu_dwarf *d, const struct fpu_sample *s, uint64_t *pcs,
			     size_t k, size_t max, struct fpu_dwarf_result *dres)
{
	uint64_t caller[3];
	if (k + 1 >= max || caller_by_record(s, pcs[k], caller) != 0 || !caller[0])
		return 0;
	return dwarf_from_caller(d, s, pcs, k, max, caller, dres);
}

/*
 * The caller's own frame pointer when the leaf's record (below SP) cannot be
 * read: the record in the copy, above sp, that holds the FP chain's return
 * address after the caller's (a walk that stopped at the leaf has none: 0).
 */
static uint64_t caller_fp_above(const struct fpu_sample *s, uint64_t sp)
{
	if (s->nfp < 3)
		return 0;
	for (uint64_t a = (sp + 7) & ~7ull; a < sp + 4096; a += 8) {
		uint64_t rec[2];
		if (fpu_sample_read(s, a, rec, sizeof rec) != 0)
			return 0;
		if (rec[1] == s->fp_pcs[2] && rec[0] > a)
			return a;
	}
	return 0;
}

/*
 * Step a frameless leaf by the return address at SP (duffzero, duffcopy: what
 * their CFI says).  The caller's rbp is its own frame pointer where the copy
 * shows it, not the record below SP that libunwind's frame-pointer fallback
 * would read outside the copy.  Returns the new length, or 0.
 */
static size_t step_by_sp(struct fpu_dwarf *d, const struct fpu_sample *s, uint64_t *pcs,
			 size_t max, struct fpu_dwarf_result *dres)
{
	uint64_t ret, sp = s->regs[FPU_REG_RSP];
	if (max < 2 || fpu_sample_read(s, sp, &ret, sizeof ret) != 0 || !ret)
		return 0;
	uint64_t fp = caller_fp_above(s, sp + 8);
	uint64_t caller[3] = { ret, sp + 8, fp ? fp : s->regs[FPU_REG_RBP] };
	return dwarf_from_caller(d, s, pcs, 0, max, caller, dres);
}

/* DWARF from the caller of pcs[k], whose registers are {rip, rsp, rbp}. */
static size_t dwarf_from_caller(struct fpu_dwarf *d, const struct fpu_sample *s,
				uint64_t *pcs, size_t k, size_t max, const uint64_t caller[3],
				struct fpu_dwarf_result *dres)
{
	struct fpu_sample from = *s;
	from.regs[FPU_REG_RIP] = caller[0] - 1;
	from.regs[FPU_REG_RSP] = caller[1];
	from.regs[FPU_REG_RBP] = caller[2];
	size_t n = fpu_dwarf_unwind(d, &from, pcs + k + 1, max - k - 1, dres);
	if (n == 0)
		return 0;
	pcs[k + 1] = caller[0];
	return k + 1 + n;
}

/*
 * May END function pc (a return address) have a caller that is C code on the
 * same stack (foreign_caller_ok: cgo's thread start calls mstart, libc's
 * main calls rt0_go)?  A leak needs the proof of a Go caller in the FP chain;
 * a chain that stops there (a walk at the edge of its stack copy) has none.
 */
static int foreign_caller(const struct fpu_runtime *rt, const struct fpu_sample *s, uint64_t pc)
{
	const struct fpu_rt_func *f = fpu_runtime_lookup(rt, pc, 1);
	if (!f || !f->foreign_caller_ok)
		return 0;
	for (size_t i = 1; i + 1 < s->nfp; i++)
		if (s->fp_pcs[i] == pc)
			return !fpu_rt_is_go_code(rt, s->fp_pcs[i + 1]);
	return 1;
}

/*
 * Is the leaf a vDSO function called by an FP_STEP function (nanotime1,
 * time.now) that DWARF cannot step?  The vDSO has no file, so DWARF has no CFI
 * for it and guesses (libunwind reads a stack slot as the return address).
 * Its frame record is what the kernel's code left: step it by the record.
 */
static int vdso_leaf(const struct fpu_runtime *rt, const struct fpu_sample *s,
		     const uint64_t *pcs, size_t nd)
{
	if (s->nfp < 2 || fpu_runtime_lookup(rt, s->fp_pcs[0], 0))
		return 0;
	const struct fpu_rt_func *caller = fpu_runtime_lookup(rt, s->fp_pcs[1], 1);
	return caller && caller->role == FPU_RT_FP_STEP && (nd < 2 || pcs[1] != s->fp_pcs[1]);
}

/*
 * The shape of the leaf's frame in Go code.  Go's compiler gives every
 * function that has a stack frame a frame record (only frameless leaves go
 * without), but Go's CFI never says where rbp is: CFA = rsp+N at every pc.
 * So a row "stack frame, no record" at a Go leaf is one of the instructions
 * between SUBQ $N, SP and LEAQ N-8(SP), BP, or between MOVQ N-8(SP), BP and
 * ADDQ $N, SP: its frame-pointer prologue or epilogue, where rbp is still
 * the caller's (the benign leaf window).  C code keeps the C rule.
 */
static enum fpu_leaf_frame go_leaf_frame(const struct fpu_runtime *rt,
					 const struct fpu_sample *s, uint32_t shape)
{
	if (shape == FPU_LEAF_FRAME_NO_RECORD && fpu_rt_is_go_code(rt, s->regs[FPU_REG_RIP]))
		return FPU_LEAF_FRAME_SETUP;
	return (enum fpu_leaf_frame)shape;
}

/*
 * Apply the model to the DWARF chain: cut it at an END or SWITCH function,
 * step an FP_STEP function by its record.  *switch_at gets the index of the
 * SWITCH frame the chain stopped at, or -1.
 */
static size_t model_steps(const struct fpu_runtime *rt, struct fpu_dwarf *d,
			  const struct fpu_sample *s, uint64_t *pcs, size_t nd, size_t max,
			  struct fpu_dwarf_result *dres, long *switch_at)
{
	const struct fpu_rt_func *leaf = fpu_runtime_lookup(rt, s->regs[FPU_REG_RIP], 0);
	if (leaf && leaf->role == FPU_RT_BELOW_SP && max > 0) {
		struct fpu_dwarf_result again;
		pcs[0] = s->regs[FPU_REG_RIP];   /* also when DWARF gave nothing */
		size_t n = step_by_sp(d, s, pcs, max, &again);
		if (n) {
			*dres = again;
			nd = n;
		}
	}
	if (vdso_leaf(rt, s, pcs, nd)) {
		struct fpu_dwarf_result again;
		size_t n = step_by_record(d, s, pcs, 0, max, &again);
		if (n) {
			*dres = again;
			nd = n;
		}
	}
	for (size_t k = 0; k < nd; k++) {
		const struct fpu_rt_func *f = fpu_runtime_lookup(rt, pcs[k], k > 0);
		enum fpu_rt_role role = fpu_runtime_role_at(f, k);
		if (role == FPU_RT_NONE || role == FPU_RT_INJECTED || role == FPU_RT_BELOW_SP)
			continue;
		if (role == FPU_RT_FP_STEP && k > 0) {
			struct fpu_dwarf_result again;
			size_t n = step_by_record(d, s, pcs, k, max, &again);
			if (n) {
				*dres = again;
				nd = n;
				continue;
			}
		}
		/* The outermost frame of its stack, or the last one DWARF can
		 * vouch for: what lies beyond is the model's business. */
		dres->end = FPU_DWARF_END_CLEAN;
		dres->read_outside_snapshot = 0;
		if (role == FPU_RT_END && !foreign_caller(rt, s, pcs[k])) {
			snprintf(dres->reason, sizeof dres->reason, "%s ends its stack", f->name);
		} else {
			/* A switch, or cgo's thread start (C code on the same pthread
			 * stack) calling mstart: beyond is not Go's to judge. */
			snprintf(dres->reason, sizeof dres->reason, role == FPU_RT_END
				 ? "%s was called by C code" : "stack switch at %s: the other "
				 "stack is not in the sample", f->name);
			*switch_at = (long)k;
		}
		return k + 1;
	}
	return nd;
}

/*
 * model_steps, with the leaf's frame shape as the model reads it.  A step
 * unwinds again from a caller, whose result describes the caller's frame:
 * the leaf is still pcs[0], and its shape stays the first unwind's.
 */
static size_t model_dwarf(const struct fpu_runtime *rt, struct fpu_dwarf *d,
			  const struct fpu_sample *s, uint64_t *pcs, size_t nd, size_t max,
			  struct fpu_dwarf_result *dres, long *switch_at)
{
	enum fpu_leaf_frame leaf_shape = go_leaf_frame(rt, s, dres->leaf_frame);
	*switch_at = -1;
	nd = model_steps(rt, d, s, pcs, nd, max, dres, switch_at);
	dres->leaf_frame = leaf_shape;
	return nd;
}

/*
 * The FP chain's END rule: the index of an END function the chain goes on
 * past, or 0.  In a chain from the kernel the frames after it are there; in
 * a walk of the sample's stack copy the walk stopped at the END frame on a
 * saved fp that was not 0 (what a sound runtime stores there).
 */
static size_t fp_goes_past_end(const struct fpu_runtime *rt, const struct fpu_sample *s)
{
	for (size_t i = 1; i < s->nfp; i++) {
		const struct fpu_rt_func *f = fpu_runtime_lookup(rt, s->fp_pcs[i], 1);
		if (fpu_runtime_role_at(f, i) != FPU_RT_END || foreign_caller(rt, s, s->fp_pcs[i]))
			continue;
		if (i + 1 < s->nfp)
			return i;
		if (s->fp_end != FPU_END_CLEAN && s->fp_end_fp != 0)
			return i;
	}
	return 0;
}

/*
 * A frame pointer points into a stack, never into a file's image: an rbp
 * there is data (crypto/sha256's block uses BP as its table register,
 * "#define TBL BP"), and the chain that starts from it is noise that says
 * nothing about the callers.  A fact of the sample, whatever DWARF managed:
 * a backend that could not unwind the leaf either must not make it a match.
 */
static int bp_holds_data(const struct fpu_runtime *rt, const struct fpu_sample *s)
{
	return fpu_rt_in_image(rt, s->regs[FPU_REG_RBP]);
}

/*
 * Go's signal trampolines, sigtramp (and cgoSigtramp) until it calls
 * sigtrampgo and the restorer sigreturn after it returns, keep the rbp of
 * the code the signal interrupted: it is not theirs.
 */
static int signal_trampoline(const struct fpu_rt_func *f)
{
	return f && (strstr(f->name, "igtramp") || strncmp(f->name, "runtime.sigreturn", 17) == 0);
}

/*
 * The pc a signal interrupted, from the kernel's x86-64 signal frame, when
 * the leaf is a signal trampoline and the frame saved the very rbp the leaf
 * holds; 0 when not found.  The frame: pretcode (the restorer's address,
 * at sp while sigtramp starts, popped by its ret), then the ucontext:
 * uc_flags, uc_link, uc_stack (24 bytes), then sigcontext: r8..r15, rdi,
 * rsi, rbp (its word 10), rbx, rdx, rax, rcx, rsp, rip (its word 16).
 */
#define UC_MCONTEXT 40
#define SIGCONTEXT_RBP (10 * 8)
#define SIGCONTEXT_RIP (16 * 8)
#define SIGTRAMP_FRAME_MAX 512   /* sigtramp's own pushes: 264 bytes in Go 1.19 */

static uint64_t interrupted_by_signal(const struct fpu_runtime *rt, const struct fpu_sample *s)
{
	const struct fpu_rt_func *leaf = fpu_runtime_lookup(rt, s->regs[FPU_REG_RIP], 0);
	if (!signal_trampoline(leaf))
		return 0;
	uint64_t sp = s->regs[FPU_REG_RSP];
	/* At the restorer the ucontext is at sp; in sigtramp, above pretcode. */
	int at_restorer = strncmp(leaf->name, "runtime.sigreturn", 17) == 0;
	for (uint64_t a = sp - 8; a < sp + SIGTRAMP_FRAME_MAX; a += 8) {
		uint64_t pretcode, ctx[2];
		if (at_restorer ? a != sp - 8
				: fpu_sample_read(s, a, &pretcode, sizeof pretcode) != 0 ||
				  !signal_trampoline(fpu_runtime_lookup(rt, pretcode, 0)))
			continue;
		uint64_t mc = a + 8 + UC_MCONTEXT;
		if (fpu_sample_read(s, mc + SIGCONTEXT_RBP, &ctx[0], 8) == 0 &&
		    fpu_sample_read(s, mc + SIGCONTEXT_RIP, &ctx[1], 8) == 0 &&
		    ctx[0] == s->regs[FPU_REG_RBP] && ctx[1])
			return ctx[1];
	}
	return 0;
}

/*
 * fp-skips at a frameless function that a signal interrupted: Go's
 * preemption signal makes it call asyncPreempt (the DWARF frame below it),
 * so it is a leaf that had no frame, and its missing caller is the benign
 * leaf window, as at the top of a sample.
 */
static int interrupted_leaf(const struct fpu_runtime *rt, const uint64_t *pcs, size_t nd,
			    const struct fpu_verdict *v)
{
	size_t frameless = v->dwarf_index - 1;   /* fp-skips blames d[at - 1] */
	if (v->cls != FPU_CLASS_FP_SKIPS || v->dwarf_index < 2 || frameless >= nd)
		return 0;
	const struct fpu_rt_func *f = fpu_runtime_lookup(rt, pcs[frameless - 1],
							 frameless - 1 > 0);
	return f && f->role == FPU_RT_INJECTED;
}

/*
 * A leaf in its prologue (no record of its own yet) right under an END
 * function, whose rbp is still the one the END function should have
 * cleared: newstack under Go 1.19's morestack, or a g0 function under
 * stock Go 1.19's mcall (seed 003).  Had it been 0, the walk would have
 * ended cleanly at the leaf.  Instead:
 *   - a walk in the stack copy stopped on a saved fp the copy does not hold
 *     (the goroutine's frame): fpu_compare says fp-truncated;
 *   - the kernel's walk went on into the goroutine's frames, and since the
 *     END function has no record either, its pc is in neither chain, so
 *     fpu_compare sees the chains part at the END frame: fp-diverge.
 * Either way the chain goes on past the END function: a leak there.
 */
static int leaf_below_end_kept_bp(const struct fpu_runtime *rt, const struct fpu_sample *s,
				  const uint64_t *pcs, size_t nd, const struct fpu_verdict *v,
				  const struct fpu_dwarf_result *dres)
{
	if (nd < 2 || v->dwarf_index + 1 != nd)
		return 0;
	int walk_stopped = v->cls == FPU_CLASS_FP_TRUNCATED && s->fp_end != FPU_END_CLEAN &&
			   s->fp_end_fp;
	int leaf_in_window = dres->leaf_frame != FPU_LEAF_FRAME_NO_RECORD &&
			     dres->leaf_frame != FPU_LEAF_FRAME_RECORD;
	int walk_went_on = v->cls == FPU_CLASS_FP_DIVERGE && nd == 2 && v->fp_index == 1 &&
			   s->nfp > 1 && leaf_in_window;
	if (!walk_stopped && !walk_went_on)
		return 0;
	const struct fpu_rt_func *f = fpu_runtime_lookup(rt, pcs[nd - 1], 1);
	return fpu_runtime_role_at(f, nd - 1) == FPU_RT_END && !foreign_caller(rt, s, pcs[nd - 1]);
}

/*
 * cmd/compile's duff device call, in the caller: MOVQ BP, -16(SP);
 * LEAQ -16(SP), BP; CALL duffzero; MOVQ 0(BP), BP.  From the LEAQ to that
 * last MOVQ the caller's rbp is the record below SP, whose return slot holds
 * a stale word before the call and the call's return address (the leaf's
 * own pc) after it.  Nowhere else is rbp below SP in Go code: a Go frame's
 * record is at its top, and a frameless leaf keeps its caller's.
 */
static int duff_call_window(const struct fpu_runtime *rt, const struct fpu_sample *s)
{
	return fpu_rt_is_go_code(rt, s->regs[FPU_REG_RIP]) &&
	       s->regs[FPU_REG_RBP] + 16 == s->regs[FPU_REG_RSP];
}

/*
 * A walk inside the sample's copy stopped at once in duffzero/duffcopy, or
 * in their caller's window around the call, whose frame record (rbp) lies
 * below SP where the copy starts: the copy cannot say more than the leaf.
 * The kernel's live walk reads it fine.
 */
static int record_below_sp(const struct fpu_runtime *rt, const struct fpu_sample *s,
			   const struct fpu_verdict *v)
{
	const struct fpu_rt_func *f = fpu_runtime_lookup(rt, s->regs[FPU_REG_RIP], 0);
	return ((f && f->role == FPU_RT_BELOW_SP) || duff_call_window(rt, s)) &&
	       v->cls == FPU_CLASS_FP_TRUNCATED && s->nfp <= 1 &&
	       s->regs[FPU_REG_RBP] < s->regs[FPU_REG_RSP];
}

/*
 * The live walk in a duff call window: its second frame is the record's
 * return slot, not a caller (the leaf's pc again, or a stale word), and the
 * saved fp after it is the caller's own.  The chain without that frame, in
 * buf; s itself when not in the window.
 */
#define DUFF_FP_MAX 1024

static const struct fpu_sample *without_duff_record(const struct fpu_runtime *rt,
						    const struct fpu_sample *s,
						    struct fpu_sample *out, uint64_t *buf)
{
	if (!duff_call_window(rt, s) || s->nfp < 3 || s->nfp > DUFF_FP_MAX)
		return s;
	*out = *s;
	buf[0] = s->fp_pcs[0];
	memcpy(buf + 1, s->fp_pcs + 2, (s->nfp - 2) * sizeof *buf);
	out->fp_pcs = buf;
	out->nfp = s->nfp - 1;
	return out;
}

/*
 * The FP chain's rule for a switch without a frame record (hides_caller:
 * Go 1.19's systemstack): the index of such a function that the chain
 * crosses, or 0.  Its callee on the other stack saved the caller's BP, so
 * the next record is the caller's caller's: the caller is never in the
 * chain.  A walk in the sample's copy crosses when it stops there on a
 * saved fp that is not 0 (the goroutine's frame, outside the copy).
 */
static size_t fp_skips_at_switch(const struct fpu_runtime *rt, const struct fpu_sample *s)
{
	for (size_t i = 1; i < s->nfp; i++) {
		const struct fpu_rt_func *f = fpu_runtime_lookup(rt, s->fp_pcs[i], 1);
		if (fpu_runtime_role_at(f, i) != FPU_RT_SWITCH || !f->hides_caller)
			continue;
		if (i + 1 < s->nfp || (s->fp_end != FPU_END_CLEAN && s->fp_end_fp != 0))
			return i;
	}
	return 0;
}

/*
 * cgo C code built without frame records, called on g0 by asmcgocall: the
 * C frames keep the goroutine's BP, so the FP chain skips them and
 * asmcgocall (and runtime.cgocall) to land in the Go code that made the
 * cgo call (the kernel's chain: a divergence, as DWARF stops at the
 * switch), or stops at the edge of a copy of g0's stack (a truncation).
 * Either way the frames are skipped, and the culprit a user can act on is
 * the cgo call: the wrapper of the C function asmcgocall entered.  Returns
 * that wrapper's address, or 0.
 */
static uint64_t cgo_c_code_skipped(const struct fpu_runtime *rt, const uint64_t *pcs,
				   long switch_at, const struct fpu_verdict *v,
				   const struct fpu_dwarf_result *dres)
{
	if (switch_at < 1 || v->dwarf_index > (uint32_t)switch_at ||
	    (v->cls != FPU_CLASS_FP_DIVERGE && v->cls != FPU_CLASS_FP_TRUNCATED))
		return 0;
	/*
	 * The C function asmcgocall called, caught at its entry or in its
	 * push/mov prologue: rbp is still the goroutine's, whatever its flags
	 * (C built with frame pointers too).  The leaf window across the
	 * switch, not C code without records.
	 */
	if (switch_at == 1 && dres->leaf_frame != FPU_LEAF_FRAME_NO_RECORD &&
	    dres->leaf_frame != FPU_LEAF_FRAME_RECORD)
		return 0;
	const struct fpu_rt_func *sw = fpu_runtime_lookup(rt, pcs[switch_at], 1);
	if (!sw || strcmp(sw->name, "runtime.asmcgocall") != 0)
		return 0;
	const struct fpu_rt_func *c = fpu_runtime_lookup(rt, pcs[switch_at - 1], switch_at > 1);
	return c ? c->cgo_wrapper : 0;
}

/* Remember that pc was blamed for END function f's leak (for fpu_runtime_why). */
static void remember_blame(struct fpu_runtime *rt, uint64_t pc, const struct fpu_rt_func *f)
{
	for (unsigned i = 0; i < rt->nblamed; i++)
		if (rt->blamed[i].pc == pc)
			return;
	if (rt->nblamed < sizeof rt->blamed / sizeof rt->blamed[0])
		rt->blamed[rt->nblamed++] = (struct fpu_rt_blamed){ pc, f };
}

/*
 * The x86-64 signal restorer, by its code: mov $15, %rax (rt_sigreturn);
 * syscall.  glibc's __restore_rt is the one a program gets from sigaction
 * (Go's cgo programs too); its symbol is not reliable (libc's dynamic symbols
 * show it as __sigaction+0x40).  The leaf pc is its start, its syscall (a
 * sample taken in rt_sigreturn), or just past it.
 */
#define RESTORER_CODE_LO 0x0f0000000fc0c748ull   /* 48 c7 c0 0f 00 00 00 0f */
#define RESTORER_CODE_HI 0x05                    /* 05: the end of syscall */

static int at_sigreturn_restorer(struct fpu_dwarf *d, uint64_t pc)
{
	static const uint64_t back[] = { 7, 9, 0 };
	for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
		uint64_t lo, hi;
		if (pc >= back[i] && fpu_dwarf_read_word(d, pc - back[i], &lo) == 0 &&
		    lo == RESTORER_CODE_LO && fpu_dwarf_read_word(d, pc - back[i] + 8, &hi) == 0 &&
		    (hi & 0xff) == RESTORER_CODE_HI)
			return 1;
	}
	return 0;
}

/*
 * A sample in the signal restorer, on a signal stack (sigaltstack; Go's
 * gsignal): rbp is the interrupted code's, on the stack the signal
 * interrupted, which a perf stack copy taken from the signal stack's sp does
 * not hold.  The frame-pointer walk stops at the leaf; DWARF reads one frame
 * more (the interrupted pc, from the kernel's signal frame) and stops too.
 * Both agree up to the switch back to the interrupted stack: to-switch, not
 * fp-truncated blamed on whatever the signal interrupted.
 */
static int restorer_on_signal_stack(struct fpu_dwarf *d, const struct fpu_sample *s,
				    const struct fpu_verdict *v)
{
	return v->cls == FPU_CLASS_FP_TRUNCATED && s->nfp <= 1 && s->fp_end != FPU_END_CLEAN &&
	       fpu_sample_read(s, s->regs[FPU_REG_RBP], (uint64_t[2]){ 0 }, 16) != 0 &&
	       at_sigreturn_restorer(d, s->regs[FPU_REG_RIP]);
}

static void to_switch_at_leaf(const struct fpu_sample *s, struct fpu_verdict *v)
{
	v->cls = FPU_CLASS_TO_SWITCH;
	v->culprit_pc = s->regs[FPU_REG_RIP];
	v->culprit_is_return = 0;
	v->missing_pc = 0;
	v->dwarf_index = 1;
}

size_t fpu_runtime_compare(struct fpu_runtime *rt, struct fpu_dwarf *d,
			   const struct fpu_sample *s, uint64_t *pcs, size_t max,
			   struct fpu_dwarf_result *dres, struct fpu_verdict *v)
{
	size_t nd = fpu_dwarf_unwind(d, s, pcs, max, dres);
	if (!rt) {
		fpu_compare(s, pcs, nd, dres, v);
		if (restorer_on_signal_stack(d, s, v))
			to_switch_at_leaf(s, v);
		return nd;
	}
	long switch_at;
	nd = model_dwarf(rt, d, s, pcs, nd, max, dres, &switch_at);
	struct fpu_sample live;
	uint64_t live_pcs[DUFF_FP_MAX];
	s = without_duff_record(rt, s, &live, live_pcs);
	fpu_compare(s, pcs, nd, dres, v);

	if (bp_holds_data(rt, s)) {
		/* In a signal trampoline the culprit is the code it interrupted. */
		uint64_t interrupted = interrupted_by_signal(rt, s);
		v->cls = FPU_CLASS_FP_CLOBBERED;
		v->culprit_pc = interrupted ? interrupted : s->regs[FPU_REG_RIP];
		v->culprit_is_return = 0;
		v->missing_pc = 0;
		return nd;
	}
	if (restorer_on_signal_stack(d, s, v)) {
		to_switch_at_leaf(s, v);
		return nd;
	}
	if (leaf_below_end_kept_bp(rt, s, pcs, nd, v, dres)) {
		v->cls = FPU_CLASS_FP_LEAK;
		v->culprit_pc = pcs[nd - 1];
		v->culprit_is_return = nd > 1;
		v->missing_pc = 0;
		return nd;
	}
	if (record_below_sp(rt, s, v)) {
		v->cls = FPU_CLASS_TO_SWITCH;
		v->culprit_pc = s->regs[FPU_REG_RIP];
		v->culprit_is_return = 0;
		return nd;
	}
	if (interrupted_leaf(rt, pcs, nd, v)) {
		v->cls = FPU_CLASS_LEAF_WINDOW;
		return nd;
	}
	size_t leak = fp_goes_past_end(rt, s);
	if (leak && !(fpu_class_is_malignant(v->cls) && v->fp_index < leak)) {
		/* Seed 003's rule, whatever the version: the chain must stop here. */
		v->cls = FPU_CLASS_FP_LEAK;
		v->fp_index = (uint32_t)leak + 1;
		v->dwarf_index = (uint32_t)(nd < leak + 1 ? nd : leak + 1);
		const struct fpu_rt_func *end = fpu_runtime_lookup(rt, s->fp_pcs[leak], 1);
		size_t at = end->blame_callee ? leak - 1 : leak;
		v->culprit_pc = s->fp_pcs[at];
		v->culprit_is_return = at > 0;
		v->missing_pc = 0;
		if (at != leak)
			remember_blame(rt, v->culprit_pc, end);
		return nd;
	}
	size_t skip = fp_skips_at_switch(rt, s);
	if (skip && !(fpu_class_is_malignant(v->cls) && v->fp_index < skip)) {
		v->cls = FPU_CLASS_FP_SKIPS;
		v->fp_index = (uint32_t)skip + 1;
		v->dwarf_index = (uint32_t)(nd < skip + 1 ? nd : skip + 1);
		v->culprit_pc = s->fp_pcs[skip];
		v->culprit_is_return = 1;
		v->missing_pc = 0;   /* on the other stack: not in a perf stack copy */
		return nd;
	}
	uint64_t wrapper = cgo_c_code_skipped(rt, pcs, switch_at, v, dres);
	if (wrapper) {
		v->cls = FPU_CLASS_FP_SKIPS;
		v->culprit_pc = wrapper;
		v->culprit_is_return = 0;
		v->missing_pc = 0;
		return nd;
	}
	if (switch_at < 0)
		return nd;
	/* Both chains agree up to a legal crossing that the sample cannot follow
	 * (FP went on across it, or stopped at the edge of the copy). */
	int agree_to_switch = (v->cls == FPU_CLASS_FP_LEAK && v->dwarf_index == nd) ||
			      v->cls == FPU_CLASS_MATCH;
	/*
	 * Or the FP chain stopped on a saved fp that the copy does not hold,
	 * and all DWARF has beyond it is the switch frame: systemstack and
	 * asmcgocall have no frame of their own, so FP's next step is already
	 * on the other stack (a g0 leaf in its prologue under systemstack).
	 */
	agree_to_switch |= v->cls == FPU_CLASS_FP_TRUNCATED && s->fp_end != FPU_END_CLEAN &&
			   s->fp_end_fp && v->dwarf_index == (uint32_t)switch_at;
	if (v->cls == FPU_CLASS_FP_DIVERGE && switch_at == 1 && v->fp_index == 1) {
		/*
		 * A frameless leaf (a vDSO function before its push) hid its caller,
		 * the switch function, whose own caller is on the other stack: the
		 * benign leaf window, not a divergence DWARF could vouch for.
		 */
		v->cls = FPU_CLASS_LEAF_WINDOW;
		v->culprit_pc = pcs[0];
		v->culprit_is_return = 0;
		v->missing_pc = pcs[1];
		return nd;
	}
	if (agree_to_switch) {
		v->cls = FPU_CLASS_TO_SWITCH;
		v->culprit_pc = pcs[switch_at];
		v->culprit_is_return = switch_at > 0;
		v->dwarf_index = (uint32_t)switch_at;
	}
	return nd;
}
