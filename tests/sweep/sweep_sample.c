/*
 * sweep_sample.c — one stop of the sweep: the sample SIGPROF would have taken
 * at that instruction, walked, unwound by both DWARF backends and compared.
 *
 * Everything is read from the stopped child the way the profiler's handler
 * reads it in process (runtime/src/prof.c, sample_cpu): g from the thread's
 * TLS, the regions g->m published, the registers, the walk from rip/rsp/rbp
 * with the runtime's transitions and graveyard, and the stack segments of
 * rt_prof_add_cpu_segments.  Stacks are copied whole from the child, so the
 * walker and the DWARF backends read copies (region.data, segment.data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "sweep.h"
#include "fpu_sample.h"
#include "../../runtime/src/rt.h"
#include "../../runtime/src/prof.h"

#define MAX_PCS 128

/*
 * What cannot be closed, each with its reason; a defect it covers is counted
 * as "allowed" and does not fail the sweep.
 *
 * Windows in a routine: one instruction of it (its bytes, so that the entry
 * holds in sanitizer builds too, where rt_gogo starts with a hook), for one
 * class and one backend.  The windows the sweep found in morestack.S,
 * mcall.S and cgo.S were closed; this one cannot be:
 *
 * rt_gogo's `jmp *%rax` (ff e0), when it starts a NEW goroutine: the CFI
 * says, rightly, that the caller's pc is in rax, the entry function's first
 * byte.  That pc is no return address, but libdw takes every caller pc for
 * one and looks its CFI up at pc - 1, in the padding before the entry
 * function: "no matching address range".  The only DWARF way to say "this
 * pc is exact" is to mark rt_gogo a signal frame, which breaks the step to
 * rt_gogo's own caller (rt_execute calls it last, so its return address
 * lies past rt_execute).  libunwind gets it right.
 */
struct sweep_allow {
	const char *routine;
	const char *insn;
	size_t insn_len;
	enum fpu_class cls;
	enum fpu_dwarf_backend backend;
	const char *reason;
};
static const struct sweep_allow allow[] = {
	{ "rt_gogo", "\xff\xe0", 2, FPU_CLASS_DWARF_FAIL, FPU_DWARF_LIBDW,
	  "libdw looks up the entry pc of a new goroutine at pc - 1" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/*
 * The rt_cgo_export thunk is code generated at run time in anonymous memory:
 * no ELF file holds its CFI (in process it is registered with libgcc and
 * libunwind, runtime/src/export.c; a remote unwinder reads files).  libunwind
 * then cannot step through it at all (it reads the code to look for a
 * sigreturn, outside any file and the snapshot), and libdw steps through it
 * with its frame-pointer fallback, which is no independent evidence.  So for
 * libunwind, a sample whose chain passes through a thunk frame (pcs[1..]) or
 * stops in one is allowed, whatever the class; the scenario calls the thunk
 * in a cgo call of its own, so that every routine is also swept without it.
 */
static int through_thunk(const struct sweep *sw, const uint64_t *pcs, size_t n)
{
	const struct sweep_routine *t = sw->thunk;
	for (size_t i = 0; t && i < n; i++)
		if (pcs[i] - (i > 0) >= t->lo && pcs[i] - (i > 0) < t->hi)
			return 1;
	return 0;
}

int sweep_read(pid_t pid, uintptr_t addr, void *out, size_t len)
{
	struct iovec local = { out, len }, remote = { (void *)addr, len };
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static void regs_from_user(uint64_t out[FPU_NREGS], const struct user_regs_struct *u)
{
	out[FPU_REG_RAX] = u->rax; out[FPU_REG_RDX] = u->rdx; out[FPU_REG_RCX] = u->rcx;
	out[FPU_REG_RBX] = u->rbx; out[FPU_REG_RSI] = u->rsi; out[FPU_REG_RDI] = u->rdi;
	out[FPU_REG_RBP] = u->rbp; out[FPU_REG_RSP] = u->rsp; out[FPU_REG_R8] = u->r8;
	out[FPU_REG_R9] = u->r9; out[FPU_REG_R10] = u->r10; out[FPU_REG_R11] = u->r11;
	out[FPU_REG_R12] = u->r12; out[FPU_REG_R13] = u->r13; out[FPU_REG_R14] = u->r14;
	out[FPU_REG_R15] = u->r15; out[FPU_REG_RIP] = u->rip;
}

/* The child's state a walk needs: its regions (with copies), transitions, graveyard. */
struct child_state {
	struct fpu_region reg[FPU_MAX_REGIONS];
	int nreg;
	uint8_t *copy[FPU_MAX_REGIONS];
	struct fpu_transitions transitions;
	struct fpu_graveyard graveyard;
	uint64_t m_id, g_id;
	int on_g0;
};

static void child_state_free(struct child_state *c)
{
	for (int i = 0; i < c->nreg; i++)
		free(c->copy[i]);
}

/* 1: read; 0: the thread is on no M (nothing published); -1: error. */
static int read_child_state(struct sweep *sw, uintptr_t fs_base, struct child_state *c)
{
	uintptr_t g = 0, m = 0;
	memset(c, 0, sizeof *c);
	if (sweep_read(sw->pid, fs_base + sw->tls_off, &g, sizeof g) != 0)
		return -1;
	if (!g)
		return 0;
	struct rt_g gv;
	if (sweep_read(sw->pid, g, &gv, sizeof gv) != 0 || !(m = (uintptr_t)gv.m))
		return gv.m ? -1 : 0;
	struct rt_m mv;
	if (sweep_read(sw->pid, m, &mv, sizeof mv) != 0)
		return -1;
	uintptr_t curg = (uintptr_t)mv.curg;
	struct rt_g cg;
	c->g_id = curg && sweep_read(sw->pid, curg, &cg, sizeof cg) == 0 ? cg.goid : 0;
	c->m_id = (uint64_t)mv.id + 1;
	c->on_g0 = g == (uintptr_t)mv.g0;
	c->nreg = fpu_regions_read(&mv.regions, c->reg, FPU_MAX_REGIONS);
	if (c->nreg < 0)
		return -1;
	for (int i = 0; i < c->nreg; i++) {
		size_t len = c->reg[i].hi - c->reg[i].lo;
		c->copy[i] = malloc(len);
		if (!c->copy[i] || sweep_read(sw->pid, c->reg[i].lo, c->copy[i], len) != 0) {
			fprintf(stderr, "sweep: cannot copy region [%#lx, %#lx) of M%llu\n",
				(unsigned long)c->reg[i].lo, (unsigned long)c->reg[i].hi,
				(unsigned long long)c->m_id - 1);
			c->nreg = i + 1;
			return -1;
		}
		c->reg[i].data = c->copy[i];
	}
	if (sweep_read(sw->pid, (uintptr_t)&rt_fpu_transitions, &c->transitions,
		       sizeof c->transitions) != 0 ||
	    sweep_read(sw->pid, (uintptr_t)&rt_fpu_graveyard, &c->graveyard,
		       sizeof c->graveyard) != 0)
		return -1;
	return 1;
}

/* Point every segment at the copy of the region it was cut from. */
static void segments_to_copies(struct fpu_sample *s, const struct child_state *c)
{
	for (uint32_t k = 0; k < s->nseg; k++)
		for (int i = 0; i < c->nreg; i++)
			if (s->seg[k].lo >= c->reg[i].lo && s->seg[k].lo < c->reg[i].hi)
				s->seg[k].data = c->copy[i] + (s->seg[k].lo - c->reg[i].lo);
}

static int make_dwarf(struct sweep *sw)
{
	static const enum fpu_dwarf_backend kinds[2] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	size_t nmaps = 0;
	struct fpu_mapping *maps = fpu_mappings_from_proc(sw->pid, &nmaps);
	if (!maps) {
		fprintf(stderr, "sweep: cannot read /proc/%d/maps\n", (int)sw->pid);
		return -1;
	}
	for (int b = 0; b < 2; b++) {
		char err[256] = "";
		sw->dwarf[b] = fpu_dwarf_new(kinds[b], maps, nmaps, err, sizeof err);
		if (!sw->dwarf[b]) {
			fprintf(stderr, "sweep: %s session: %s\n", fpu_dwarf_backend_name(kinds[b]), err);
			free(maps);
			return -1;
		}
	}
	free(maps);
	return 0;
}

static const struct sweep_allow *allowed(const struct sweep_routine *rt, uintptr_t pc,
					 enum fpu_class cls, int backend)
{
	/* the child runs this executable: its code is ours, at the same address */
	for (const struct sweep_allow *a = allow; a->routine; a++)
		if (strcmp(a->routine, rt->name) == 0 && pc + a->insn_len <= rt->hi &&
		    memcmp((const void *)pc, a->insn, a->insn_len) == 0 && a->cls == cls &&
		    (int)a->backend == backend + 1)
			return a;
	return NULL;
}

static void print_chain(const char *what, const uint64_t *pcs, size_t n)
{
	fprintf(stderr, "    %-9s", what);
	for (size_t i = 0; i < n && i < 12; i++) {
		char name[128];
		rt_symbolize(i ? pcs[i] - 1 : pcs[i], name, sizeof name);
		fprintf(stderr, " %s%s", name, i + 1 < n ? " <-" : "");
	}
	fprintf(stderr, "%s\n", n > 12 ? " ..." : "");
}

static void report_sample(const struct sweep_routine *rt, const struct fpu_sample *s, int b,
			  const struct fpu_verdict *v, const uint64_t *d, size_t nd,
			  const struct fpu_dwarf_result *dres, const char *what)
{
	uintptr_t pc = s->regs[FPU_REG_RIP];
	fprintf(stderr, "%s %s+%#lx (%s): %s by %s; FP walk ended %s, DWARF %s%s\n",
		what, rt->name, (unsigned long)(pc - rt->lo), s->g_status == FPU_G_NONE ? "on g0" :
		"on a goroutine", fpu_class_name(v->cls), fpu_dwarf_backend_name(b + 1),
		fpu_end_name(s->fp_end), dres->end == FPU_DWARF_END_CLEAN ? "clean" :
		dres->end == FPU_DWARF_END_DEPTH ? "depth" : "error: ",
		dres->end == FPU_DWARF_END_ERROR ? dres->reason : "");
	fprintf(stderr, "    rsp %#lx rbp %#lx\n", (unsigned long)s->regs[FPU_REG_RSP],
		(unsigned long)s->regs[FPU_REG_RBP]);
	print_chain("fp:", s->fp_pcs, s->nfp);
	print_chain("dwarf:", d, nd);
}

static void report_defect(struct sweep *sw, const struct sweep_routine *rt,
			  const struct fpu_sample *s, int b, const struct fpu_verdict *v,
			  const uint64_t *d, size_t nd, const struct fpu_dwarf_result *dres)
{
	if (sw->max_reports-- > 0)
		report_sample(rt, s, b, v, d, nd, dres, "DEFECT");
}

int sweep_check_stop(struct sweep *sw, pid_t tid, struct sweep_routine *rt,
		     const void *user_regs)
{
	const struct user_regs_struct *u = user_regs;
	struct child_state *c = malloc(sizeof *c);
	if (!c)
		return -1;
	int got = read_child_state(sw, u->fs_base, c);
	if (got <= 0) {
		child_state_free(c);
		free(c);
		if (got == 0)
			rt->skipped++;
		return got;
	}
	if (!sw->dwarf[0] && make_dwarf(sw) != 0) {
		child_state_free(c);
		free(c);
		return -1;
	}
	struct fpu_sample s;
	memset(&s, 0, sizeof s);
	regs_from_user(s.regs, u);
	s.kind = FPU_SAMPLE_CPU;
	s.tid = (uint32_t)tid;
	s.m_id = c->m_id;
	s.g_id = c->g_id;
	s.g_status = c->on_g0 ? FPU_G_NONE : FPU_G_RUNNING;
	s.weight = 1;

	uintptr_t pcs[MAX_PCS];
	struct fpu_walk_result res;
	struct fpu_ctx ctx = { .fixed = c->reg, .nfixed = (unsigned)c->nreg,
			       .transitions = &c->transitions, .graveyard = &c->graveyard };
	size_t n = fpu_walk_from(&ctx, u->rip, u->rsp, u->rbp, pcs, MAX_PCS, &res);
	rt_prof_set_chain(&s, pcs, n, &res);
	rt_prof_add_cpu_segments(&s, c->reg, c->nreg, &res);
	segments_to_copies(&s, c);

	rt->seen[u->rip - rt->lo] = 1;
	rt->steps++;
	for (int b = 0; b < 2; b++) {
		uint64_t d[MAX_PCS];
		struct fpu_dwarf_result dres;
		struct fpu_verdict v;
		size_t nd = fpu_dwarf_unwind(sw->dwarf[b], &s, d, MAX_PCS, &dres);
		fpu_compare(&s, d, nd, &dres, &v);
		/*
		 * DESIGN.md: in fprt a disagreement, broken CFI included, is a
		 * defect.  So is a DWARF unwind that ends in an error under a
		 * benign class: the comparator's leaf-window rule would otherwise
		 * hide a CFI that runs on where the FP chain has ended.
		 */
		if (dres.end == FPU_DWARF_END_ERROR && !fpu_class_is_malignant(v.cls))
			v.cls = FPU_CLASS_DWARF_FAIL;
		rt->classes[b][v.cls]++;
		if (!fpu_class_is_malignant(v.cls) && v.cls != FPU_CLASS_DWARF_FAIL) {
			if (sw->show && strcmp(sw->show, rt->name) == 0)
				report_sample(rt, &s, b, &v, d, nd, &dres, "sample");
			continue;
		}
		if (allowed(rt, u->rip, v.cls, b) ||
		    (b == 1 && (through_thunk(sw, s.fp_pcs, s.nfp) || through_thunk(sw, d, nd)))) {
			rt->allowed++;
			continue;
		}
		rt->defects++;
		sw->defects++;
		report_defect(sw, rt, &s, b, &v, d, nd, &dres);
	}
	child_state_free(c);
	free(c);
	return 1;
}
