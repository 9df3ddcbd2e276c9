/*
 * The CFI of the assembly against a second, independent DWARF unwinder
 * (libgcc's, through glibc's backtrace()), and seed 003 in process: in the
 * function rt_mcall runs, the DWARF chain ends at rt_mcall; the FP chain ends
 * there too (clean), unless FPRT_INJECT=mcall-bp-leak, where it runs on past
 * rt_mcall: on amd64 from g0 into the goroutine stack at a pc that is no
 * transition; on arm64 into the g0 frame g0.sched.bp names (mstart's), which
 * did not call rt_mcall (the seed's "cgocallback calls mcall").
 *
 * White-box: calls rt_mcall and resumes the goroutine itself, as Go's mcall
 * functions that do not deschedule (rt.h is the runtime's internal header).
 */
#include <execinfo.h>
#include <string.h>

#include "helpers.h"
#include "../../runtime/src/rt.h"

#define MAXF 64

/* Names of the DWARF chain, innermost first, in out[] (returns count). */
static int dwarf_chain(char names[][64], int max)
{
	void *pcs[MAXF];
	int n = backtrace(pcs, MAXF);
	for (int i = 0; i < n && i < max; i++) {
		rt_symbolize((uintptr_t)pcs[i], names[i], 64);
		char *plus = strchr(names[i], '+');
		if (plus)
			*plus = 0;
	}
	return n < max ? n : max;
}

static int find(char names[][64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

struct seen {
	int n; char names[MAXF][64]; struct fpu_walk_result fp; size_t fpn;
	int past_mcall;      /* FP frames after rt_mcall's (-1: rt_mcall not in it) */
};

/* How many frames the FP chain pcs[0..n) has after rt_mcall's. */
static int frames_past_mcall(const uintptr_t *pcs, size_t n)
{
	char name[64];
	for (size_t i = 0; i < n; i++) {
		rt_symbolize(pcs[i] - 1, name, sizeof name);
		if (strncmp(name, "rt_mcall+", 9) == 0)
			return (int)(n - i - 1);
	}
	return -1;
}

__attribute__((noinline)) static void on_g0(void *arg)
{
	struct seen *s = arg;
	s->n = dwarf_chain(s->names, MAXF);
	uintptr_t pcs[MAXF];
	s->fpn = rt_callers(pcs, MAXF, &s->fp);
}

__attribute__((noinline)) void cfi_caller(struct seen *s)
{
	rt_systemstack(on_g0, s);
	__asm__ volatile("" ::: "memory");
}

static int systemstack(int argc, char **argv)
{
	(void)argc; (void)argv;
	struct seen *s = calloc(1, sizeof *s);
	cfi_caller(s);
	int ss = find(s->names, s->n, "rt_systemstack"), c = find(s->names, s->n, "cfi_caller");
	CHECK(ss > 0 && c > ss, "DWARF chain from g0: rt_systemstack at %d, cfi_caller at %d", ss, c);
	CHECK(s->n > 0 && strcmp(s->names[s->n - 1], "rt_goexit") == 0,
	      "DWARF chain ends at %s, not rt_goexit", s->n ? s->names[s->n - 1] : "?");
	CHECK(s->fp.end == FPU_END_CLEAN && s->fp.crossings == 1,
	      "FP chain from g0: %s after %u frames, %u crossings", fpu_end_name(s->fp.end),
	      s->fp.frames, s->fp.crossings);
	free(s);
	return 0;
}
RT_TEST(cfi, systemstack_dwarf_and_fp, systemstack, 60)

static struct seen mc;

/* Run by rt_mcall on g0: look at both chains, then resume the goroutine. */
__attribute__((noinline)) static void look_m(struct rt_g *gp)
{
	mc.n = dwarf_chain(mc.names, MAXF);
	uintptr_t pcs[MAXF];
	mc.fpn = rt_callers(pcs, MAXF, &mc.fp);
	mc.past_mcall = frames_past_mcall(pcs, mc.fpn);
	rt_setg(gp);
	rt_gogo(&gp->sched);
}

static int mcall(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_mcall(look_m);
	CHECK(mc.n >= 2 && strcmp(mc.names[mc.n - 1], "rt_mcall") == 0,
	      "DWARF chain from the mcall function ends at %s, not rt_mcall",
	      mc.n ? mc.names[mc.n - 1] : "?");
	CHECK(mc.past_mcall >= 0, "rt_mcall is not in the FP chain of the mcall function");
#if defined(__aarch64__)
	/* the leaked chain stays on g0 and ends cleanly: what gives it away is
	 * that it goes on past rt_mcall, where the DWARF chain ends */
	if (rt_injected("mcall-bp-leak"))
		CHECK(mc.past_mcall > 0, "the FP chain ends at rt_mcall despite the injection");
	else
		CHECK(mc.past_mcall == 0 && mc.fp.end == FPU_END_CLEAN && mc.fp.crossings == 0,
		      "FP chain from the mcall function ended %s, %d frame(s) past rt_mcall",
		      fpu_end_name(mc.fp.end), mc.past_mcall);
#else
	if (rt_injected("mcall-bp-leak"))
		CHECK(mc.fp.end == FPU_END_ILLEGAL_TRANSITION &&
		      mc.fp.from.kind == FPU_REGION_G0 && mc.fp.to.kind == FPU_REGION_GOROUTINE,
		      "leaked FP chain ended %s (from %s to %s)", fpu_end_name(mc.fp.end),
		      fpu_region_kind_name(mc.fp.from.kind), fpu_region_kind_name(mc.fp.to.kind));
	else
		CHECK(mc.past_mcall == 0 && mc.fp.end == FPU_END_CLEAN && mc.fp.crossings == 0,
		      "FP chain from the mcall function ended %s after %u frames",
		      fpu_end_name(mc.fp.end), mc.fp.frames);
#endif
	return 0;
}
RT_TEST(cfi, mcall_ends_chains, mcall, 60)

Test(cfi, mcall_bp_leak_crosses_into_goroutine, .timeout = 60)
{
	setenv("FPRT_INJECT", "mcall-bp-leak", 1);
	rt_test_run(mcall, NULL);
	cr_assert(rt_injected("mcall-bp-leak"), "the injection was not enabled");
#if defined(__aarch64__)
	cr_assert_gt(mc.past_mcall, 0);
#else
	cr_assert_eq(mc.fp.end, FPU_END_ILLEGAL_TRANSITION);
#endif
}
