/*
 * fatal.c — fatal errors and the runtime's signal handlers.
 *
 * A fatal error prints "fatal error: <message>" (the message names the values
 * that were wrong), then the traceback of the goroutine that failed and of
 * every other goroutine, and exits with status 2, as Go does.  SIGSEGV/SIGBUS
 * on a goroutine's guard page is "goroutine N stack overflow"; on a stack that
 * moved or was freed (FPRT_DEBUG=stackfaultonfree) it names the old and new
 * range from the graveyard.  SIGQUIT prints every goroutine and exits 2.
 * Handlers run on the M's signal stack (sigaltstack), which is how a stack
 * overflow can be reported at all.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "fpu_sample.h"
#include "rt.h"

void rt_traceback_others(int fd, struct rt_g *self);

/*
 * RT_NO_ASAN on the fatal path (san.h): ASan calls __asan_handle_no_return
 * before every noreturn call, to unpoison the stack being abandoned; on the
 * signal stack, or on a stack C switched to behind ASan's back (the cgo stack
 * switch scenarios), it cannot know those bounds and prints a warning ahead
 * of the "fatal error:" line that the tests read first.  Nothing returns
 * here, so there is nothing to unpoison.
 */
static _Atomic int dying;
static __thread int dying_here;

RT_NO_ASAN static _Noreturn void die(const void *uc, const char *head, const char *msg)
{
	if (dying_here++)            /* fatal while printing a fatal error */
		_exit(2);
	if (atomic_fetch_add(&dying, 1) != 0)
		for (;;)             /* another thread is printing: let it finish */
			pause();
	rt_printf(2, "%s%s\n\n", head, msg);
	struct rt_g *g = rt_getg();
	if (g) {
		rt_traceback_g(2, g, uc, true);
		if (g->is_g0 && g->m->curg) {
			rt_printf(2, "\n");
			rt_traceback_g(2, g->m->curg, NULL, false);
		}
		rt_traceback_others(2, g->is_g0 ? g->m->curg : g);
	} else {
		rt_traceback_others(2, NULL);
	}
	/* FPRT_TRACEBACK=crash (Go's GOTRACEBACK=crash): dump core for a debugger */
	const char *tb = getenv("FPRT_TRACEBACK");
	if (tb && strcmp(tb, "crash") == 0) {
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	_exit(2);
}

RT_NO_ASAN static _Noreturn void vfatal(const void *uc, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof msg, fmt, ap);
	die(uc, "fatal error: ", msg);
}

RT_NO_ASAN _Noreturn void rt_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfatal(NULL, fmt, ap);
}

RT_NO_ASAN _Noreturn void rt_fatal_ctx(const void *uc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfatal(uc, fmt, ap);
}

RT_NO_ASAN static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t addr = (uintptr_t)si->si_addr;
	uint64_t regs[FPU_NREGS];
	fpu_regs_from_ucontext(regs, uc);   /* on arm64: pc and sp in these slots too */
	uintptr_t pc = (uintptr_t)regs[FPU_REG_RIP];
	uintptr_t sp = (uintptr_t)regs[FPU_REG_RSP];
	long page = sysconf(_SC_PAGESIZE);
	struct rt_g *g = rt_getg();
	char why[512];

	/* The guard page is an overflow.  Further below, a dead stack is named
	 * before the overflow guess: under ASan a moved goroutine's old stack
	 * lies right below its new one (stack.c's arenas). */
	bool in_guard = g && addr < g->stack.lo && addr + (uintptr_t)page >= g->stack.lo;
	if (!in_guard && rt_stack_fault_message(addr, why, sizeof why) > 0)
		rt_fatal_ctx(uc, "%s (pc %#lx)", why, pc);
	if (g && addr < g->stack.lo && addr + (uintptr_t)page * 16 >= g->stack.lo) {
		if (g->is_g0)
			rt_fatal_ctx(uc, "g0 stack overflow on M%lld: fault at %#lx, sp %#lx, "
				     "g0 stack [%#lx, %#lx)", (long long)g->m->id, addr, sp,
				     g->stack.lo, g->stack.hi);
		rt_fatal_ctx(uc, "goroutine %llu stack overflow: fault at %#lx below stack "
			     "[%#lx, %#lx) (%lu bytes), sp %#lx, pc %#lx",
			     (unsigned long long)g->goid, addr, g->stack.lo, g->stack.hi,
			     g->stack.hi - g->stack.lo, sp, pc);
	}
	if (rt_stack_fault_message(addr, why, sizeof why) > 0)
		rt_fatal_ctx(uc, "%s (pc %#lx)", why, pc);
	rt_fatal_ctx(uc, "unexpected signal %s: fault address %#lx, pc %#lx, sp %#lx",
		     sig == SIGBUS ? "SIGBUS" : "SIGSEGV", addr, pc, sp);
}

RT_NO_ASAN static void on_quit(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	char msg[64];
	snprintf(msg, sizeof msg, "quit (pid %d)", (int)getpid());
	die(uc, "SIGQUIT: ", msg);
}

void rt_signals_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_fault;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sa.sa_sigaction = on_quit;
	sigaction(SIGQUIT, &sa, NULL);
}

/* On the M's own thread, before it runs anything. */
void rt_minit_signals(struct rt_m *m)
{
	stack_t ss = { .ss_sp = (void *)m->sigstack.lo,
		       .ss_size = m->sigstack.hi - m->sigstack.lo };
	if (sigaltstack(&ss, NULL) != 0)
		rt_fatal("sigaltstack for M%lld [%#lx, %#lx) failed", (long long)m->id,
			 m->sigstack.lo, m->sigstack.hi);
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
}
