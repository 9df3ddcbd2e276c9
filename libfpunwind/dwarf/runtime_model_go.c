/*
 * runtime_model_go.c — the Go runtime (amd64) as the runtime model sees it:
 * detect a Go binary and its version, and give the runtime's stack-switch and
 * boundary functions their roles.
 *
 * The rules are semantic, never tied to a version: Go 1.19 and a Go with seed
 * 003's fix (Go commit 9c1d19a, "runtime: clear frame pointer in mcall") carry
 * the same table; the frame pointers decide which one leaks.  Compare the
 * OpenTelemetry eBPF profiler (nativeunwind/elfunwindinfo/elfgopclntab.go),
 * which stops at goexit/mstart/mcall and steps systemstack, asmcgocall and
 * morestack with custom stack-delta commands; fptrace has a second unwinder to
 * check against, so here a role also says what the DWARF side may trust.
 */
#include "runtime_model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct go_rule {
	const char *name;        /* Go symbol; ".abi0" suffixed ones match too */
	enum fpu_rt_role role;
	const char *why;
	int foreign_caller_ok;
};

static const struct go_rule go_rules[] = {
	/* Where a chain must end. */
	{ "runtime.mcall", FPU_RT_END,
	  "runtime.mcall switched to g0: the goroutine below may already run on another M, "
	  "so BP must be 0 here (seed 003, Go commit 9c1d19a)", 0 },
	{ "runtime.morestack", FPU_RT_END,
	  "runtime.morestack switched to g0 for newstack: the goroutine stack below is being "
	  "copied and freed, so BP must be 0 here (later Go clears it)", 0 },
	{ "runtime.goexit", FPU_RT_END, "runtime.goexit is a goroutine's outermost frame", 0 },
	{ "runtime.mstart", FPU_RT_END,
	  "runtime.mstart is a thread's outermost Go frame (a BP inherited by runtime.clone's "
	  "child chains into the parent thread's stack)", 1 },
	{ "runtime.rt0_go", FPU_RT_END, "runtime.rt0_go is the main thread's outermost Go frame "
	  "(with cgo, libc's main calls it)", 1 },
	/* Where a chain may cross to another stack; DWARF cannot follow. */
	{ "runtime.systemstack", FPU_RT_SWITCH,
	  "runtime.systemstack: the frames above are the goroutine's, below are g0's", 0 },
	{ "runtime.asmcgocall", FPU_RT_SWITCH,
	  "runtime.asmcgocall: C code on g0 below, the goroutine above", 0 },
	{ "runtime.asmcgocall_no_g", FPU_RT_SWITCH, "runtime.asmcgocall_no_g: C code on g0", 0 },
	{ "runtime.cgocallback", FPU_RT_SWITCH,
	  "runtime.cgocallback: Go code on the goroutine below, C frames on g0 above", 0 },
	{ "runtime.gogo", FPU_RT_SWITCH, "runtime.gogo switches from g0 to a goroutine", 0 },
	{ "gogo", FPU_RT_SWITCH, "gogo switches from g0 to a goroutine", 0 },
	{ "runtime.sigtramp", FPU_RT_SWITCH,
	  "runtime.sigtramp: the signal stack below, the interrupted code above", 0 },
	{ "runtime.cgoSigtramp", FPU_RT_SWITCH,
	  "runtime.cgoSigtramp: the signal stack below, the interrupted code above", 0 },
	{ "runtime.sigreturn", FPU_RT_SWITCH, "runtime.sigreturn: the signal return trampoline", 0 },
	{ "runtime.sigreturn__sigaction", FPU_RT_SWITCH,
	  "runtime.sigreturn__sigaction: the signal return trampoline", 0 },
	/* The caller writes their frame record below SP (cmd/compile's duff
	 * device calls: MOVQ BP, -16(SP); LEAQ -16(SP), BP; CALL). */
	{ "runtime.duffzero", FPU_RT_BELOW_SP,
	  "runtime.duffzero's frame record lies below SP, outside the stack copy: "
	  "verified to the leaf", 0 },
	{ "runtime.duffcopy", FPU_RT_BELOW_SP,
	  "runtime.duffcopy's frame record lies below SP, outside the stack copy: "
	  "verified to the leaf", 0 },
	/* Injected by the preemption signal at the interrupted pc. */
	{ "runtime.asyncPreempt", FPU_RT_INJECTED,
	  "runtime.asyncPreempt was injected by a signal: the function above it was "
	  "interrupted, not calling", 0 },
	/* CFI wrong (SP realigned or moved to g0 for the vDSO), frame record right. */
	{ "runtime.nanotime1", FPU_RT_FP_STEP,
	  "runtime.nanotime1 calls the vDSO on g0 with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.walltime", FPU_RT_FP_STEP,
	  "runtime.walltime calls the vDSO on g0 with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.walltime1", FPU_RT_FP_STEP,
	  "runtime.walltime1 calls the vDSO on g0 with SP realigned: its CFI is wrong there", 0 },
	{ "time.now", FPU_RT_FP_STEP,
	  "time.now calls the vDSO on g0 with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.callCgoSigaction", FPU_RT_FP_STEP,
	  "runtime.callCgoSigaction calls C with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.callCgoMmap", FPU_RT_FP_STEP,
	  "runtime.callCgoMmap calls C with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.callCgoMunmap", FPU_RT_FP_STEP,
	  "runtime.callCgoMunmap calls C with SP realigned: its CFI is wrong there", 0 },
	{ "runtime.sigfwd", FPU_RT_FP_STEP,
	  "runtime.sigfwd calls a C handler with SP realigned: its CFI is wrong there", 0 },
	{ "crosscall2", FPU_RT_FP_STEP,
	  "crosscall2 saves the C registers below its frame: its CFI is wrong there", 0 },
};

/*
 * Does the function at link address addr, size bytes, set up a frame record?
 * Go's assembler gives a function with a frame SUBQ $n, SP; MOVQ BP, n-8(SP);
 * LEAQ n-8(SP), BP, and gcc's -fno-omit-frame-pointer push %rbp; mov %rsp,%rbp:
 * either way an instruction that makes rbp point into the stack.  A $0 frame
 * (runtime.systemstack in Go 1.19) has none.
 */
static int sets_frame_pointer(struct fpu_rt_elf *e, uint64_t addr, uint64_t size)
{
	static const uint8_t mov_rsp_rbp[3] = { 0x48, 0x89, 0xe5 };
	static const uint8_t lea_rsp8_rbp[4] = { 0x48, 0x8d, 0x6c, 0x24 };
	static const uint8_t lea_rsp32_rbp[4] = { 0x48, 0x8d, 0xac, 0x24 };
	uint8_t code[512];
	size_t n = size < sizeof code ? (size_t)size : sizeof code;
	if (n < 4 || fpu_rt_elf_read(e, addr, code, n) != 0)
		return 1;   /* unreadable: say nothing */
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(code + i, mov_rsp_rbp, 3) == 0 || memcmp(code + i, lea_rsp8_rbp, 4) == 0 ||
		    memcmp(code + i, lea_rsp32_rbp, 4) == 0)
			return 1;
	return 0;
}

/*
 * SWITCH functions whose code is read for a frame record: without one, the
 * function calls on the other stack with its caller's BP, so every chain
 * through it goes from its callee to its caller's caller.  Go 1.19's
 * runtime·systemstack is "NOSPLIT, $0-8": fp-skips there.  (asmcgocall has
 * the same shape and hides runtime.cgocall; it is left a plain switch.)
 */
static const struct { const char *name, *why; } frame_checked[] = {
	{ "runtime.systemstack",
	  "runtime.systemstack has no frame record of its own ($0 frame) and calls fn on g0 "
	  "with its caller's BP: every chain through it skips its caller (Go 1.19)" },
};

/* name is rule, or rule + ".abi0" (the ABI0 symbol of an assembly function). */
static int matches(const char *name, const char *rule)
{
	size_t n = strlen(rule);
	return strncmp(name, rule, n) == 0 && (!name[n] || strcmp(name + n, ".abi0") == 0);
}

static const char cgo_no_fp_why[] =
	"cgo C code built without frame pointers; build with "
	"CGO_CFLAGS='-O2 -g -fno-omit-frame-pointer'";

/* A cgo wrapper, _cgo_<hash>_Cfunc_<cname>, and the C function it enters. */
struct cgo_wrapper {
	char *cname;
	uint64_t at, size;
};

struct scan {
	struct fpu_runtime *rt;
	struct fpu_rt_elf *e;
	/* 0: find runtime.text/etext; 1: the rules, cgo's C code and its
	 * wrappers; 2: tie each C function to its wrapper */
	int pass;
	int cgo;   /* runtime/cgo is linked in: C code may start threads */
	struct cgo_wrapper *wrappers;
	size_t nwrappers, capwrappers;
};

/* The model's entry that starts at at, or NULL (the table is not sorted yet). */
static struct fpu_rt_func *entry_at(struct fpu_runtime *rt, uint64_t at)
{
	for (size_t i = 0; i < rt->nfuncs; i++)
		if (rt->funcs[i].lo == at)
			return &rt->funcs[i];
	return NULL;
}

/*
 * cmd/cgo turns C.<name>(...) into a call of the C wrapper
 * _cgo_<hash>_Cfunc_<name>, which unpacks the arguments and calls (or, at
 * -O2, tail-calls) <name>: remember it, with <name>, for pass 2.
 */
static int note_cgo_wrapper(struct scan *sc, const char *name, uint64_t at, uint64_t size)
{
	const char *cfunc = strstr(name, "_Cfunc_");
	if (strncmp(name, "_cgo_", 5) != 0 || !cfunc || !cfunc[7])
		return 0;
	if (sc->nwrappers == sc->capwrappers) {
		size_t cap = sc->capwrappers ? 2 * sc->capwrappers : 16;
		struct cgo_wrapper *w = realloc(sc->wrappers, cap * sizeof *w);
		if (!w)
			return -1;
		sc->wrappers = w;
		sc->capwrappers = cap;
	}
	char *cname = strdup(cfunc + 7);
	if (!cname)
		return -1;
	sc->wrappers[sc->nwrappers++] = (struct cgo_wrapper){ cname, at, size };
	return 0;
}

/*
 * Pass 2: a C function without frame records that a wrapper enters is
 * blamed as that wrapper (the cgo call the Go code made), with the hint.
 */
static int tie_cgo_function(struct scan *sc, const char *name, uint64_t at)
{
	struct fpu_rt_func *f = entry_at(sc->rt, at);
	if (!f || f->role != FPU_RT_NONE)
		return 0;
	for (size_t i = 0; i < sc->nwrappers; i++) {
		const struct cgo_wrapper *w = &sc->wrappers[i];
		if (w->at != at && strcmp(w->cname, name) != 0)
			continue;
		f->cgo_wrapper = w->at;
		if (!entry_at(sc->rt, w->at))   /* a wrapper with a frame of its own */
			return fpu_rt_add(sc->rt, w->at, w->at + w->size, FPU_RT_NONE,
					  "cgo C code", cgo_no_fp_why);
		return 0;
	}
	return 0;
}

/* Does the function at link address addr open with push %rbp; mov %rsp,%rbp
 * (after an endbr64)?  What gcc emits first with -fno-omit-frame-pointer. */
static int has_frame_prologue(struct fpu_rt_elf *e, uint64_t addr)
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t prologue[4] = { 0x55, 0x48, 0x89, 0xe5 };
	uint8_t code[8];
	if (fpu_rt_elf_read(e, addr, code, sizeof code) != 0)
		return 1;   /* unreadable: say nothing */
	const uint8_t *p = memcmp(code, endbr64, 4) == 0 ? code + 4 : code;
	return memcmp(p, prologue, 4) == 0;
}

static int add_go_symbol(void *arg, const char *name, const GElf_Sym *sym)
{
	struct scan *sc = arg;
	uint64_t at = sym->st_value + sc->e->bias;
	if (sc->pass == 0) {
		/* Go code lies in [runtime.text, runtime.etext); cgo's C code,
		 * linked in by gcc, outside. */
		if (strcmp(name, "runtime.text") == 0)
			sc->rt->go_text_lo = at;
		else if (strcmp(name, "runtime.etext") == 0)
			sc->rt->go_text_hi = at;
		/* runtime/cgo's assembly, which pthread threads enter Go by. */
		else if (strcmp(name, "crosscall_amd64") == 0 || strcmp(name, "x_cgo_init") == 0)
			sc->cgo = 1;
		return 0;
	}
	if (!sym->st_value || !sym->st_size)
		return 0;
	if (sc->pass == 2)
		return fpu_rt_is_go_code(sc->rt, at) ? 0 : tie_cgo_function(sc, name, at);
	if (sc->rt->go_text_hi && !fpu_rt_is_go_code(sc->rt, at) &&
	    note_cgo_wrapper(sc, name, at, sym->st_size) != 0)
		return -1;
	for (size_t i = 0; i < sizeof go_rules / sizeof go_rules[0]; i++)
		if (matches(name, go_rules[i].name)) {
			if (fpu_rt_add(sc->rt, at, at + sym->st_size, go_rules[i].role,
				       go_rules[i].name, go_rules[i].why) != 0)
				return -1;
			struct fpu_rt_func *f = &sc->rt->funcs[sc->rt->nfuncs - 1];
			/* Without cgo no C code calls mstart or rt0_go: a thread
			 * starts in runtime.clone's child, whose inherited BP is
			 * the defect, whatever the chain finds past it. */
			f->foreign_caller_ok = go_rules[i].foreign_caller_ok && sc->cgo;
			for (size_t k = 0; k < sizeof frame_checked / sizeof frame_checked[0]; k++)
				if (strcmp(go_rules[i].name, frame_checked[k].name) == 0 &&
				    !sets_frame_pointer(sc->e, sym->st_value, sym->st_size)) {
					f->hides_caller = 1;
					f->why = frame_checked[k].why;
				}
			return 0;
		}
	if (sc->rt->go_text_hi && !fpu_rt_is_go_code(sc->rt, at) &&
	    !has_frame_prologue(sc->e, sym->st_value))
		return fpu_rt_add(sc->rt, at, at + sym->st_size, FPU_RT_NONE, "cgo C code",
				  cgo_no_fp_why);
	return 0;
}

/* A uvarint-prefixed string at p (the inline build info of Go 1.18+). */
static void copy_varstring(const uint8_t *p, size_t avail, char *out, size_t outlen)
{
	uint64_t len = 0;
	unsigned shift = 0;
	size_t i = 0;
	while (i < avail && i < 10) {
		len |= (uint64_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if (!(p[i++] & 0x80))
			break;
	}
	if (len >= outlen || i + len > avail)
		return;
	memcpy(out, p + i, len);
	out[len] = 0;
}

/*
 * The version from .go.buildinfo: 14 bytes of magic, the pointer size, flags;
 * with flag 2 the version string follows inline at offset 32 (Go 1.18+),
 * else offset 16 holds the address of a Go string header {data, len}.
 */
static void go_version(struct fpu_rt_elf *e, char *out, size_t outlen)
{
	static const char magic[] = "\xff Go buildinf:";
	Elf_Scn *scn = fpu_rt_elf_section(e, ".go.buildinfo");
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const uint8_t *p = d ? d->d_buf : NULL;

	snprintf(out, outlen, "go (version unknown)");
	if (!p || d->d_size < 32 || memcmp(p, magic, 14) != 0)
		return;
	if (p[15] & 2) {
		copy_varstring(p + 32, d->d_size - 32, out, outlen);
		return;
	}
	if (p[14] != 8 || (p[15] & 1))
		return;   /* only little-endian 64-bit binaries are sampled here */
	uint64_t hdr_addr, hdr[2];
	memcpy(&hdr_addr, p + 16, 8);
	if (fpu_rt_elf_read(e, hdr_addr, hdr, sizeof hdr) == 0 && hdr[1] < outlen &&
	    fpu_rt_elf_read(e, hdr[0], out, hdr[1]) == 0)
		out[hdr[1]] = 0;
}

int fpu_rt_scan_go(struct fpu_runtime *rt, struct fpu_rt_elf *e)
{
	/* A Go binary has its pclntab, and build info since Go 1.13. */
	if (!fpu_rt_elf_section(e, ".gopclntab") && !fpu_rt_elf_section(e, ".go.buildinfo"))
		return 0;
	if (rt->go_version[0])
		return 0;   /* one Go runtime per process */
	go_version(e, rt->go_version, sizeof rt->go_version);
	rt->go_path = strdup(e->path);
	if (!rt->go_path)
		return -1;
	struct scan sc = { .rt = rt, .e = e, .pass = 0 };
	if (fpu_rt_elf_symbols(e, add_go_symbol, &sc) != 0)
		return -1;
	sc.pass = 1;
	int rc = fpu_rt_elf_symbols(e, add_go_symbol, &sc);
	sc.pass = 2;
	if (rc == 0 && sc.nwrappers)
		rc = fpu_rt_elf_symbols(e, add_go_symbol, &sc);
	for (size_t i = 0; i < sc.nwrappers; i++)
		free(sc.wrappers[i].cname);
	free(sc.wrappers);
	return rc;
}
