/* Tracebacks (current, by id, all, SIGQUIT), the libfpunwind accessors, the
 * injection framework. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* A goroutine's base frame returns into rt_goexit plus one instruction's
 * worth, so that pc - 1 still lies in it (Go's goexit+PCQuantum). */
#if defined(__aarch64__)
#define GOEXIT_RET "\nrt_goexit+0x4\n"
#else
#define GOEXIT_RET "\nrt_goexit+0x1\n"
#endif

/* Captures what fn writes to an fd (a temporary file). */
static char *capture(void (*fn)(int fd, void *), void *arg)
{
	char name[] = "/tmp/rt-tb-XXXXXX";
	int fd = mkstemp(name);
	unlink(name);
	RT_STACK_CHECK(16384);
	fn(fd, arg);
	off_t n = lseek(fd, 0, SEEK_CUR);
	char *buf = malloc((size_t)n + 1);
	pread(fd, buf, (size_t)n, 0);
	buf[n] = 0;
	close(fd);
	return buf;
}

__attribute__((noinline)) void parked_in_here(void *c)
{
	rt_chan_recv(c, NULL);
	__asm__ volatile("" ::: "memory");
}

static void tb_goid(int fd, void *arg) { CHECK(rt_traceback_goid(fd, *(uint64_t *)arg) == 0, "goid"); }
static void tb_self(int fd, void *arg) { (void)arg; rt_traceback(fd); }
static void tb_all(int fd, void *arg) { (void)arg; rt_traceback_all(fd); }

__attribute__((noinline)) static char *self_trace(void)
{
	return capture(tb_self, NULL);
}

static int tracebacks(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(0, 0);
	uint64_t id = rt_go(parked_in_here, c);
	while (1) {           /* wait until it is parked */
		rt_sleep(100000);
		char *t = capture(tb_goid, &id);
		bool parked = strstr(t, "[chan receive]:") != NULL;
		if (parked) {
			char head[64];
			snprintf(head, sizeof head, "goroutine %llu [chan receive]:\n",
				 (unsigned long long)id);
			CHECK(strncmp(t, head, strlen(head)) == 0, "header of:\n%s", t);
			CHECK(strstr(t, "\nparked_in_here+0x"), "frames:\n%s", t);
			CHECK(strstr(t, "\nrt_chan_recv+0x"), "frames:\n%s", t);
			CHECK(strstr(t, GOEXIT_RET), "goroutine base:\n%s", t);
			CHECK(!strstr(t, "chain ended"), "walk did not end cleanly:\n%s", t);
		}
		free(t);
		if (parked)
			break;
	}
	char *t = self_trace();
	CHECK(strncmp(t, "goroutine 1 [running]:\n", 23) == 0, "self:\n%s", t);
	CHECK(strstr(t, "\nself_trace+0x") && strstr(t, "\ntracebacks+0x"), "self:\n%s", t);
	free(t);
	t = capture(tb_all, NULL);
	CHECK(strstr(t, "goroutine 1 [running]:") && strstr(t, "parked_in_here+0x"), "all:\n%s", t);
	free(t);
	CHECK(rt_traceback_goid(2, 999999) == -1, "no such goroutine");
	rt_chan_close(c);
	return 0;
}
RT_TEST(traceback, current_byid_all, tracebacks, 60)

static int quit_self(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(0, 0);
	rt_go(parked_in_here, c);
	rt_sleep(20000000);
	raise(SIGQUIT);
	return 0;
}

Test(traceback, sigquit_prints_all_goroutines, .timeout = 60)
{
	struct child_result r = run_child(quit_self, NULL);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%s", r.status, r.err);
	/* First of the runtime's lines, not of stderr's: under ASan a warning
	 * about the stack switches ("ignoring requested __asan_handle_no_return")
	 * may come before it. */
	cr_assert(strncmp(r.err, "SIGQUIT: quit", 13) == 0 || strstr(r.err, "\nSIGQUIT: quit"),
		  "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "goroutine 1 [running]:"), "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "goroutine 2 [chan receive]:\nrt_chan_recv+0x"), "stderr:\n%s", r.err);
	child_result_free(&r);
}

/* ---- libfpunwind accessors ---------------------------------------------------- */

static void on_g0(void *arg)
{
	*(int *)arg = fpu_transitions_find(rt_transitions(),
					   (uintptr_t)__builtin_return_address(0)) != NULL;
}

static int accessors(int argc, char **argv)
{
	(void)argc; (void)argv;
	struct fpu_region r[FPU_MAX_REGIONS];
	int n = fpu_regions_read(rt_m_regions(), r, FPU_MAX_REGIONS);
	CHECK(n == 3, "%d regions on the M", n);
	int kinds = 0;
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	for (int i = 0; i < n; i++) {
		kinds |= 1 << r[i].kind;
		if (r[i].kind == FPU_REGION_GOROUTINE)
			CHECK(r[i].lo == lo && r[i].hi == hi && r[i].owner == rt_goid(),
			      "goroutine region [%#lx, %#lx) owner %llu", r[i].lo, r[i].hi,
			      (unsigned long long)r[i].owner);
	}
	CHECK(kinds == (1 << FPU_REGION_GOROUTINE | 1 << FPU_REGION_G0 | 1 << FPU_REGION_SIGNAL),
	      "region kinds %#x", kinds);
	int in_transition = 0;
	rt_systemstack(on_g0, &in_transition);
	CHECK(in_transition, "rt_systemstack's return address is a registered transition");

	RT_STACK_CHECK(100000);           /* moves: 16 KiB -> 128 KiB */
	uintptr_t nlo, nhi;
	rt_stack_bounds(&nlo, &nhi);
	struct fpu_grave g;
	CHECK(fpu_graveyard_find(rt_graveyard(), hi - 64, 8, &g) && g.why == FPU_GRAVE_MOVED &&
	      g.new_lo == nlo && g.new_hi == nhi && g.owner == rt_goid(),
	      "graveyard for the old stack [%#lx, %#lx): why %u new [%#lx, %#lx)", lo, hi,
	      g.why, g.new_lo, g.new_hi);
	n = fpu_regions_read(rt_m_regions(), r, FPU_MAX_REGIONS);
	bool found = false;
	for (int i = 0; i < n; i++)
		found |= r[i].kind == FPU_REGION_GOROUTINE && r[i].lo == nlo && r[i].hi == nhi;
	CHECK(found, "the M's goroutine region follows the move");
	return 0;
}
RT_TEST(unwind, regions_transitions_graveyard, accessors, 60)

/* ---- injections and debug options ----------------------------------------------- */

static int nothing(int argc, char **argv)
{
	(void)argc; (void)argv;
	return rt_injected("mcall-bp-leak") ? 7 : 0;
}

Test(inject, unknown_name_is_fatal, .timeout = 60)
{
	const char *env[] = { "FPRT_INJECT=mcall-bp-leak,no-such-bug", NULL };
	struct child_result r = run_child(nothing, env);
	cr_assert_eq(r.status, 2, "status %d", r.status);
	cr_assert(strstr(r.err, "fatal error: FPRT_INJECT: unknown regression \"no-such-bug\" "
				"(known: mcall-bp-leak"), "stderr:\n%s", r.err);
	child_result_free(&r);
}

Test(inject, known_name_is_enabled, .timeout = 60)
{
	cr_assert(rt_checked_build(), "tests link the checked runtime");
	const char *env[] = { "FPRT_INJECT=mcall-bp-leak", NULL };
	struct child_result r = run_child(nothing, env);
	cr_assert_eq(r.status, 7, "status %d, stderr:\n%s", r.status, r.err);
	child_result_free(&r);
	r = run_child(nothing, NULL);
	cr_assert_eq(r.status, 0, "status %d, stderr:\n%s", r.status, r.err);
	child_result_free(&r);
}

Test(inject, unknown_debug_option_is_fatal, .timeout = 60)
{
	const char *env[] = { "FPRT_DEBUG=stackforcemove,bogus", NULL };
	struct child_result r = run_child(nothing, env);
	cr_assert_eq(r.status, 2, "status %d", r.status);
	cr_assert(strstr(r.err, "fatal error: FPRT_DEBUG: unknown option \"bogus\" (known: "
				"stackforcemove, stackfaultonfree, stackpoison, stackscanreport)"),
		  "stderr:\n%s", r.err);
	child_result_free(&r);
}
