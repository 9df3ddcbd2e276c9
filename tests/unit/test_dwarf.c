/*
 * The DWARF backends on real samples of this process.  A thread spins in a
 * known chain; SIGPROF copies its registers, FP chain and stack (from sp to the
 * top of its stack) the way the profiler does; then libdw and libunwind unwind
 * the copy, and the comparator judges the two chains.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "fpu_dwarf.h"
#include "nofp_helpers.h"
#include "sampler.h"

void dwarf_chain_leaf(void);
void dwarf_chain_mid(void);
void dwarf_chain_top(void);
void dwarf_chain_top_nofp(void);

#define MAXPCS 128

__attribute__((noinline)) void dwarf_chain_leaf(void)
{
	volatile char buf[64];
	while (!sampler_stop)
		buf[sampler_stop & 63]++;
}

__attribute__((noinline)) void dwarf_chain_mid(void)
{
	dwarf_chain_leaf();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dwarf_chain_top(void)
{
	dwarf_chain_mid();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dwarf_chain_top_nofp(void)
{
	nofp_middle(dwarf_chain_leaf);
	__asm__ volatile("" ::: "memory");
}

/* Interrupted in the loop body, not in a prologue: the FP chain's second
 * frame is then the leaf's caller. */
static int in_loop_body(const struct fpu_sample *s)
{
	return s->nfp >= 3 && s->regs[FPU_REG_RBP] > s->regs[FPU_REG_RSP];
}


ParameterizedTestParameters(dwarf, clean_chain_matches)
{
	static enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	return cr_make_param_array(enum fpu_dwarf_backend, backends, 2);
}

ParameterizedTest(enum fpu_dwarf_backend *backend, dwarf, clean_chain_matches)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;
	struct fpu_verdict v;

	const struct fpu_sample *sample = sample_thread(dwarf_chain_top, in_loop_body);
	struct fpu_dwarf *d = sampler_session(*backend);
	size_t n = fpu_dwarf_unwind(d, sample, pcs, MAXPCS, &dres);
	cr_assert_geq(n, 4, "%s: %zu frames (%s)", fpu_dwarf_backend_name(*backend), n,
		      dres.reason);
	cr_assert_str_eq(sampler_fn(d, pcs[0], 0), "dwarf_chain_leaf");
	cr_assert_str_eq(sampler_fn(d, pcs[1], 1), "dwarf_chain_mid");
	cr_assert_str_eq(sampler_fn(d, pcs[2], 1), "dwarf_chain_top");
	cr_assert_str_eq(sampler_fn(d, pcs[3], 1), "spinner");
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(pcs[i], sample->fp_pcs[i], "frame %zu differs", i);
	fpu_compare(sample, pcs, n, &dres, &v);
	/* Past spinner the FP chain enters libc's start_thread (no frame pointer):
	 * either it happens to end cleanly, or it loses only the thread's
	 * start-up frames, start_thread and clone3: benign, not a defect. */
	if (v.cls != FPU_CLASS_MATCH) {
		cr_assert_eq(v.cls, FPU_CLASS_ROOT_WINDOW, "%s", fpu_class_name(v.cls));
		const char *first = sampler_fn(d, v.culprit_pc, v.culprit_is_return);
		cr_assert(!strcmp(first, "start_thread") || !strcmp(first, "__clone3"),
			  "the first frame missing is %s", first);
		cr_assert_not(fpu_class_is_malignant(v.cls));
	}
	fpu_dwarf_free(d);
}

ParameterizedTestParameters(dwarf, frameless_caller_is_fp_skips)
{
	static enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	return cr_make_param_array(enum fpu_dwarf_backend, backends, 2);
}

ParameterizedTest(enum fpu_dwarf_backend *backend, dwarf, frameless_caller_is_fp_skips)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;
	struct fpu_verdict v;

	const struct fpu_sample *sample = sample_thread(dwarf_chain_top_nofp, in_loop_body);
	struct fpu_dwarf *d = sampler_session(*backend);
	size_t n = fpu_dwarf_unwind(d, sample, pcs, MAXPCS, &dres);
	cr_assert_geq(n, 4, "%zu frames (%s)", n, dres.reason);
	fpu_compare(sample, pcs, n, &dres, &v);
	cr_assert_eq(v.cls, FPU_CLASS_FP_SKIPS, "%s", fpu_class_name(v.cls));
	cr_assert_str_eq(sampler_fn(d, v.culprit_pc, v.culprit_is_return), "nofp_middle");
	cr_assert_str_eq(sampler_fn(d, v.missing_pc, 1), "dwarf_chain_top_nofp");
	fpu_dwarf_free(d);
}

Test(dwarf, symbolize_gives_file_and_line)
{
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_symbol sym;
	cr_assert_eq(fpu_symbolize(d, (uint64_t)(uintptr_t)dwarf_chain_mid + 4, 0, &sym), 0);
	cr_assert_str_eq(sym.function, "dwarf_chain_mid");
	cr_assert_not_null(sym.file);
	cr_assert(strstr(sym.file, "test_dwarf.c"), "%s", sym.file);
	cr_assert_gt(sym.line, 0);
	cr_assert_not(sym.system);
	cr_assert_eq(fpu_symbolize(d, 16, 0, &sym), -1, "no mapping at 16");
	fpu_dwarf_free(d);
}

Test(dwarf, bad_backend_and_system_paths)
{
	char err[128];
	cr_assert_null(fpu_dwarf_new(99, NULL, 0, err, sizeof err));
	cr_assert(strstr(err, "99"), "%s", err);
	cr_assert(fpu_path_is_system("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	cr_assert(fpu_path_is_system("/lib64/ld-linux-x86-64.so.2"));
	cr_assert_not(fpu_path_is_system("/work/build/progs/yield"));
	cr_assert_not(fpu_path_is_system(NULL));
}

/* A snapshot that stops short of the caller frames: DWARF must say so. */
Test(dwarf, truncated_snapshot_is_reported)
{
	uint64_t pcs[MAXPCS];
	struct fpu_dwarf_result dres;

	struct fpu_sample sample = *sample_thread(dwarf_chain_top, in_loop_body);
	sample.seg[0].len = 16;
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	size_t n = fpu_dwarf_unwind(d, &sample, pcs, MAXPCS, &dres);
	cr_assert_lt(n, 4);
	cr_assert_eq(dres.end, FPU_DWARF_END_ERROR);
	cr_assert(dres.read_outside_snapshot);
	fpu_dwarf_free(d);
}

static inline __attribute__((always_inline)) int inl_inner(int x)
{
	for (int i = 0; i < 100; i++)
		x = x * 3 + i;
	return x;
}

static inline __attribute__((always_inline)) int inl_middle(int x)
{
	return inl_inner(x) + 1;
}

int inl_outer(int x);
__attribute__((noinline)) int inl_outer(int x)
{
	int r = inl_middle(x);
	__asm__ volatile("" : "+r"(r));
	return r;
}

/* Every pc of inl_outer: its inline chain ends in inl_outer, and where
 * inl_inner is inlined the chain is inner, middle, outer, as gdb and perf show. */
Test(dwarf, inlined_frames)
{
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_symbol syms[8];
	int deepest = 0;
	for (uint64_t pc = (uint64_t)(uintptr_t)inl_outer; pc < (uint64_t)(uintptr_t)inl_outer + 64; pc++) {
		struct fpu_symbol real;
		fpu_symbolize(d, pc, 0, &real);
		if (!real.function || strcmp(real.function, "inl_outer") != 0)
			break;   /* past the end of inl_outer */
		int n = fpu_symbolize_inlined(d, pc, 0, syms, 8);
		cr_assert_gt(n, 0, "no scope at inl_outer+%llu",
			     (unsigned long long)(pc - (uint64_t)(uintptr_t)inl_outer));
		cr_assert_str_eq(syms[n - 1].function, "inl_outer");
		if (n == 3) {
			cr_assert_str_eq(syms[0].function, "inl_inner");
			cr_assert_str_eq(syms[1].function, "inl_middle");
			cr_assert_gt(syms[1].line, 0, "the line in inl_middle where inl_inner was inlined");
		}
		if (n > deepest)
			deepest = n;
	}
	cr_assert_eq(deepest, 3, "no pc showed the whole inline chain");
	fpu_dwarf_free(d);
}

/* A chain deeper than max drops the inlined callers in between, never the
 * real function: check names a culprit by its symbol alone, and that must be
 * the last frame of the chain report shows (at the line in inl_outer where
 * inl_middle was inlined). */
Test(dwarf, inlined_frames_past_max_keep_the_real_function)
{
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_symbol whole[8], cut[2];
	int seen = 0;
	for (uint64_t pc = (uint64_t)(uintptr_t)inl_outer; pc < (uint64_t)(uintptr_t)inl_outer + 64; pc++) {
		if (fpu_symbolize_inlined(d, pc, 0, whole, 8) != 3)
			continue;
		int n = fpu_symbolize_inlined(d, pc, 0, cut, 2);
		cr_assert_eq(n, 2, "inl_outer+%llu: %d frames with max 2",
			     (unsigned long long)(pc - (uint64_t)(uintptr_t)inl_outer), n);
		cr_assert_str_eq(cut[0].function, "inl_inner");
		cr_assert_str_eq(cut[1].function, "inl_outer", "the real function, not %s",
				 cut[1].function);
		cr_assert_eq(cut[1].line, whole[2].line, "line %d, whole chain's %d", cut[1].line,
			     whole[2].line);
		seen++;
	}
	cr_assert_gt(seen, 0, "no pc of inl_outer is inside inl_inner");
	fpu_dwarf_free(d);
}

/*
 * GCC's CFI at the ret of a function built without frame pointers: rbp was
 * pushed as an ordinary callee-saved register and popped, and the row still
 * says "rbp at CFA-16" while CFA = rsp+8 (no .cfi_restore after the pop).
 */
__asm__(".text\n"
	".globl dwarf_epilogue_fn\n"
	".type dwarf_epilogue_fn, @function\n"
	"dwarf_epilogue_fn:\n"
	".cfi_startproc\n"
	"	pushq %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset rbp, -16\n"
	"	movq $1, %rbp\n"
	".globl dwarf_epilogue_pop\n"
	"dwarf_epilogue_pop:\n"
	"	popq %rbp\n"
	".cfi_def_cfa_offset 8\n"
	".globl dwarf_epilogue_ret\n"
	"dwarf_epilogue_ret:\n"
	"	ret\n"
	".cfi_endproc\n"
	".size dwarf_epilogue_fn, .-dwarf_epilogue_fn\n");
void dwarf_epilogue_ret(void);
void dwarf_epilogue_pop(void);
uint64_t dwarf_return_address(void);
uint64_t dwarf_ra_caller(void);

__attribute__((noinline)) uint64_t dwarf_return_address(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* A frame-pointer function; the pc after its call has a CFA of rbp+16. */
__attribute__((noinline)) uint64_t dwarf_ra_caller(void)
{
	uint64_t ra = dwarf_return_address();
	__asm__ volatile("" ::: "memory");
	return ra;
}

/*
 * A sample at that ret, called from dwarf_ra_caller: stack[0] is the return
 * address at sp, stack[2..3] the caller's frame record (the chain's end).
 */
static struct fpu_sample at_epilogue_ret(uint64_t *stack, size_t words)
{
	struct fpu_sample s;
	memset(&s, 0, sizeof s);
	memset(stack, 0, words * sizeof *stack);
	stack[0] = dwarf_ra_caller();
	s.regs[FPU_REG_RIP] = (uint64_t)(uintptr_t)dwarf_epilogue_ret;
	s.regs[FPU_REG_RSP] = (uint64_t)(uintptr_t)&stack[0];
	s.regs[FPU_REG_RBP] = (uint64_t)(uintptr_t)&stack[2];
	s.nseg = 1;
	s.seg[0] = (struct fpu_segment){ .lo = s.regs[FPU_REG_RSP],
					 .len = (uint32_t)(words * sizeof *stack),
					 .kind = FPU_REGION_THREAD,
					 .region_hi = s.regs[FPU_REG_RSP] + words * sizeof *stack,
					 .data = (const uint8_t *)stack };
	return s;
}

/* The slot below sp holds what was just popped: the register's own value. */
Test(dwarf, epilogue_row_below_sp_is_same_value)
{
	static const enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	uint64_t stack[8], pcs[MAXPCS];
	struct fpu_dwarf_result dres;

	for (size_t b = 0; b < 2; b++) {
		struct fpu_sample s = at_epilogue_ret(stack, 8);
		struct fpu_dwarf *d = sampler_session(backends[b]);
		size_t n = fpu_dwarf_unwind(d, &s, pcs, MAXPCS, &dres);
		cr_assert_geq(n, 2, "%s: %zu frames (%s)", fpu_dwarf_backend_name(backends[b]), n,
			      dres.reason);
		cr_assert_str_eq(sampler_fn(d, pcs[1], 1), "dwarf_ra_caller");
		cr_assert_not(dres.read_outside_snapshot, "%s: %s",
			      fpu_dwarf_backend_name(backends[b]), dres.reason);
		/* libdw says so: a read it could not make turns its clean end into
		 * an error.  (libunwind stops at the synthetic record's return
		 * address 0 with an error of its own.) */
		if (backends[b] == FPU_DWARF_LIBDW)
			cr_assert_neq(dres.end, FPU_DWARF_END_ERROR, "nothing read below sp: %s",
				      dres.reason);
		cr_assert_eq(dres.leaf_frame, FPU_LEAF_FRAME_NONE, "at a ret: %u", dres.leaf_frame);
		fpu_dwarf_free(d);
	}
}

/*
 * At the pop %rbp of a function that pushed rbp as a callee-saved register and
 * used it for data (glibc's free does): the row looks like a frame-pointer
 * prologue (CFA = rsp+16, rbp at CFA-16), but rbp is not what was pushed.  The
 * function itself broke the chain: not the benign window that blames its
 * caller.  With rbp equal to what was pushed it is the prologue window.
 */
Test(dwarf, pushed_rbp_used_for_data_is_no_frame_record)
{
	static const enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	uint64_t stack[8], pcs[MAXPCS];
	struct fpu_dwarf_result dres;

	for (size_t b = 0; b < 2; b++) {
		for (int clobbered = 0; clobbered < 2; clobbered++) {
			struct fpu_sample s = at_epilogue_ret(stack, 8);
			/* sp -> [pushed rbp][return address][caller's record] */
			stack[1] = stack[0];
			stack[0] = (uint64_t)(uintptr_t)&stack[2];
			s.regs[FPU_REG_RIP] = (uint64_t)(uintptr_t)dwarf_epilogue_pop;
			s.regs[FPU_REG_RBP] = clobbered ? 1 : stack[0];
			struct fpu_dwarf *d = sampler_session(backends[b]);
			fpu_dwarf_unwind(d, &s, pcs, MAXPCS, &dres);
			cr_assert_eq(dres.leaf_frame,
				     clobbered ? FPU_LEAF_FRAME_NO_RECORD : FPU_LEAF_FRAME_SETUP,
				     "%s, rbp %s: leaf frame %u", fpu_dwarf_backend_name(backends[b]),
				     clobbered ? "clobbered" : "as pushed", dres.leaf_frame);
			fpu_dwarf_free(d);
		}
	}
}

/*
 * A frame whose CFA comes from rbp, while sp is on another stack mapped above
 * it (rt_cgocallback_asm: its frame on g0, sp on the goroutine).  Its saved
 * rbp lies below sp, yet it is live memory, not a popped slot: served as the
 * register's value, the caller's CFA would repeat it forever.
 */
__asm__(".text\n"
	".globl dwarf_switched_fn\n"
	".type dwarf_switched_fn, @function\n"
	"dwarf_switched_fn:\n"
	".cfi_startproc\n"
	"	pushq %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset rbp, -16\n"
	"	movq %rsp, %rbp\n"
	".cfi_def_cfa_register rbp\n"
	".globl dwarf_switched_at\n"
	"dwarf_switched_at:\n"
	"	nop\n"
	"	popq %rbp\n"
	".cfi_def_cfa rsp, 8\n"
	"	ret\n"
	".cfi_endproc\n"
	".size dwarf_switched_fn, .-dwarf_switched_fn\n");
void dwarf_switched_at(void);

Test(dwarf, frame_on_a_lower_stack_is_read_not_served)
{
	static const enum fpu_dwarf_backend backends[] = { FPU_DWARF_LIBDW, FPU_DWARF_LIBUNWIND };
	uint64_t mem[64], pcs[MAXPCS];
	struct fpu_dwarf_result dres;

	for (size_t b = 0; b < 2; b++) {
		struct fpu_sample s;
		memset(&s, 0, sizeof s);
		memset(mem, 0, sizeof mem);
		/* the low stack: this frame's record, then dwarf_ra_caller's (the end) */
		mem[0] = (uint64_t)(uintptr_t)&mem[2];
		mem[1] = dwarf_ra_caller();
		s.regs[FPU_REG_RIP] = (uint64_t)(uintptr_t)dwarf_switched_at;
		s.regs[FPU_REG_RBP] = (uint64_t)(uintptr_t)&mem[0];
		s.regs[FPU_REG_RSP] = (uint64_t)(uintptr_t)&mem[32];
		s.nseg = 2;
		s.seg[0] = (struct fpu_segment){ .lo = s.regs[FPU_REG_RSP], .len = 32 * 8,
						 .kind = FPU_REGION_GOROUTINE,
						 .region_hi = s.regs[FPU_REG_RSP] + 32 * 8,
						 .data = (const uint8_t *)&mem[32] };
		s.seg[1] = (struct fpu_segment){ .lo = s.regs[FPU_REG_RBP], .len = 4 * 8,
						 .kind = FPU_REGION_G0,
						 .region_hi = s.regs[FPU_REG_RBP] + 4 * 8,
						 .data = (const uint8_t *)&mem[0] };
		struct fpu_dwarf *d = sampler_session(backends[b]);
		size_t n = fpu_dwarf_unwind(d, &s, pcs, MAXPCS, &dres);
		const char *name = fpu_dwarf_backend_name(backends[b]);
		cr_assert_geq(n, 2, "%s: %zu frames (%s)", name, n, dres.reason);
		cr_assert_str_eq(sampler_fn(d, pcs[1], 1), "dwarf_ra_caller");
		cr_assert_neq(dres.end, FPU_DWARF_END_DEPTH, "%s: the caller repeats", name);
		cr_assert_leq(n, 3, "%s: %zu frames, the caller repeats", name, n);
		fpu_dwarf_free(d);
	}
}

/* A snapshot that holds its whole stack: a larger one would not help. */
Test(dwarf, no_snapshot_hint_when_the_whole_stack_was_copied)
{
	uint64_t stack[8], pcs[MAXPCS];
	struct fpu_dwarf_result dres;
	struct fpu_sample s = at_epilogue_ret(stack, 8);

	/* dwarf_ra_caller's frame record lies past the top of the region. */
	s.regs[FPU_REG_RBP] = s.seg[0].region_hi + 64;
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	fpu_dwarf_unwind(d, &s, pcs, MAXPCS, &dres);
	cr_assert_eq(dres.end, FPU_DWARF_END_ERROR, "%s", dres.reason);
	cr_assert_not(dres.read_outside_snapshot, "%s", dres.reason);
	cr_assert_not(dres.larger_snapshot_helps, "%s", dres.reason);
	/* Cut the same snapshot short of its region: now a larger one would help. */
	s.regs[FPU_REG_RBP] = (uint64_t)(uintptr_t)&stack[2];
	s.seg[0].len = 16;
	fpu_dwarf_unwind(d, &s, pcs, MAXPCS, &dres);
	cr_assert(dres.read_outside_snapshot, "%s", dres.reason);
	cr_assert(dres.larger_snapshot_helps, "%s", dres.reason);
	fpu_dwarf_free(d);
}
