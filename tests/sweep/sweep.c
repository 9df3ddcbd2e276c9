/*
 * sweep.c — the tracer: fork the scenario, single-step every thread of it
 * under ptrace, check every stop inside a switch routine (sweep_sample.c),
 * print per routine what was swept and the verdicts.
 *
 * usage: sweep [--verbose]
 * Environment for the child: FPRT_MAXPROCS=1 and FPRT_DEBUG=stackforcemove
 * are set here; FPRT_INJECT passes through (the sweep must fail under
 * FPRT_INJECT=mcall-bp-leak, seed 003).
 * Exit: 0 no defect and every routine swept; 3 defects (listed on stderr);
 * 1 the sweep could not run (ptrace refused, the scenario failed, a routine
 * never reached), with the reason.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep.h"
#include "../../runtime/src/rt.h"
#include "../../runtime/src/prof.h"

#define THUNK_SIZE 32   /* export.c CODE_SIZE, rounded */

static int add_routine(struct sweep *sw, const char *name, uintptr_t lo, uintptr_t hi)
{
	if (sw->nr == SWEEP_MAX_ROUTINES || hi <= lo)
		return -1;
	struct sweep_routine *r = &sw->r[sw->nr++];
	memset(r, 0, sizeof *r);
	r->name = name;
	r->lo = lo;
	r->hi = hi;
	r->seen = calloc(hi - lo, 1);
	return r->seen ? 0 : -1;
}

/* [addr, addr + st_size) of a symbol of this executable (linked -rdynamic). */
static int add_symbol(struct sweep *sw, const char *name, void *addr)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size) {
		fprintf(stderr, "sweep: no symbol size for %s at %p (link with -rdynamic)\n",
			name, addr);
		return -1;
	}
	return add_routine(sw, name, (uintptr_t)addr, (uintptr_t)addr + sym->st_size);
}

static int routines(struct sweep *sw)
{
	return add_symbol(sw, "rt_gogo", (void *)rt_gogo) |
	       add_symbol(sw, "rt_mcall", (void *)rt_mcall) |
	       add_symbol(sw, "rt_systemstack", (void *)rt_systemstack) |
	       add_symbol(sw, "rt_stack_check", (void *)rt_stack_check) |
	       add_symbol(sw, "rt_morestack", (void *)rt_morestack) |
	       add_symbol(sw, "rt_asmcgocall", (void *)rt_asmcgocall) |
	       add_symbol(sw, "rt_cgocallback_asm", (void *)rt_cgocallback_asm) |
	       add_symbol(sw, "rt_goexit", (void *)rt_goexit) |
	       add_symbol(sw, "rt_mstart_asm", (void *)rt_mstart_asm);
}

static struct sweep_routine *routine_at(struct sweep *sw, uintptr_t pc)
{
	for (int i = 0; i < sw->nr; i++)
		if (pc >= sw->r[i].lo && pc < sw->r[i].hi)
			return &sw->r[i];
	return NULL;
}

static _Noreturn void run_child(void)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
		fprintf(stderr, "sweep: PTRACE_TRACEME: %s\n", strerror(errno));
		_exit(1);
	}
	raise(SIGSTOP);
	char *argv[] = { "sweep-scenario", NULL };
	_exit(rt_main(sweep_scenario, 1, argv));
}

static int step(pid_t tid, int sig)
{
	if (ptrace(PTRACE_SINGLESTEP, tid, NULL, (void *)(long)sig) == 0 || errno == ESRCH)
		return 0;
	fprintf(stderr, "sweep: PTRACE_SINGLESTEP of thread %d: %s\n", (int)tid, strerror(errno));
	return -1;
}

/* One stop of thread tid after a single step: check it if it is in a routine. */
static int on_step(struct sweep *sw, pid_t tid)
{
	struct user_regs_struct u;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &u) != 0)
		return errno == ESRCH ? 0 : -1;
	sw->steps++;
	if (u.rip == sw->thunk_ready_pc && sw->nr < SWEEP_MAX_ROUTINES) {
		uintptr_t thunk = 0;
		if (sweep_read(sw->pid, (uintptr_t)&sweep_thunk, &thunk, sizeof thunk) != 0 ||
		    !thunk || add_routine(sw, "sweep_thunk (rt_cgo_export)", thunk,
					  thunk + THUNK_SIZE) != 0) {
			fprintf(stderr, "sweep: cannot read the scenario's thunk address\n");
			return -1;
		}
		sw->thunk = &sw->r[sw->nr - 1];
	}
	struct sweep_routine *r = routine_at(sw, u.rip);
	if (!r)
		return 0;
	return sweep_check_stop(sw, tid, r, &u) < 0 ? -1 : 0;
}

/* Trace the child to its end; returns its wait status, or -1. */
static int trace(struct sweep *sw)
{
	int st;
	if (waitpid(sw->pid, &st, 0) != sw->pid || !WIFSTOPPED(st)) {
		fprintf(stderr, "sweep: the child did not stop for the tracer (status %#x)\n", st);
		return -1;
	}
	if (ptrace(PTRACE_SETOPTIONS, sw->pid, NULL,
		   (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) != 0) {
		fprintf(stderr, "sweep: PTRACE_SETOPTIONS: %s\n", strerror(errno));
		return -1;
	}
	if (step(sw->pid, 0) != 0)
		return -1;
	for (;;) {
		pid_t tid = waitpid(-1, &st, __WALL);
		if (tid < 0) {
			fprintf(stderr, "sweep: waitpid: %s\n", strerror(errno));
			return -1;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (tid == sw->pid)
				return st;
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), deliver = 0;
		if (sig == SIGTRAP && (st >> 16) == 0) {
			if (on_step(sw, tid) != 0) {
				kill(sw->pid, SIGKILL);
				return -1;
			}
		} else if (sig == SIGTRAP) {
			/* PTRACE_EVENT_CLONE: the new thread reports its own SIGSTOP */
		} else if (sig != SIGSTOP) {
			deliver = sig;
		}
		if (step(tid, deliver) != 0)
			return -1;
	}
}

static void print_report(const struct sweep *sw)
{
	printf("%-28s %6s %6s  %-44s %s\n", "routine", "pcs", "stops", "libdw | libunwind verdicts",
	       "defects");
	for (int i = 0; i < sw->nr; i++) {
		const struct sweep_routine *r = &sw->r[i];
		unsigned pcs = 0;
		for (uintptr_t o = 0; o < r->hi - r->lo; o++)
			pcs += r->seen[o];
		char v[2][128];
		for (int b = 0; b < 2; b++) {
			size_t n = 0;
			v[b][0] = 0;
			for (int c = 0; c < FPU_CLASS_COUNT; c++)
				if (r->classes[b][c])
					n += (size_t)snprintf(v[b] + n, sizeof v[b] - n, "%s%s %llu",
							      n ? ", " : "", fpu_class_name(c),
							      (unsigned long long)r->classes[b][c]);
		}
		printf("%-28s %6u %6llu  %-44s %llu", r->name, pcs, (unsigned long long)r->steps,
		       v[0], (unsigned long long)r->defects);
		if (r->allowed)
			printf(" (+%llu allowed)", (unsigned long long)r->allowed);
		if (r->skipped)
			printf(" (%llu stops off an M: not sampled)", (unsigned long long)r->skipped);
		printf("\n%-28s %6s %6s  %s\n", "", "", "", v[1]);
		if (r == sw->thunk)
			printf("%-28s (libdw's verdicts here rest on its frame-pointer fallback: no\n"
			       "%-28s  file holds the CFI of code generated at run time)\n", "", "");
		if (sw->verbose) {
			printf("%-28s pcs swept:", "");
			for (uintptr_t o = 0; o < r->hi - r->lo; o++)
				if (r->seen[o])
					printf(" +%#lx", (unsigned long)o);
			printf("\n");
		}
	}
}

int main(int argc, char **argv)
{
	/* The child is this program too: run_child never returns. */
	static struct sweep sw;
	sw.max_reports = 40;
	sw.show = getenv("SWEEP_SHOW");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verbose") == 0) {
			sw.verbose = 1;
		} else {
			fprintf(stderr, "usage: sweep [--verbose] (unknown argument '%s')\n", argv[i]);
			return 2;
		}
	}
	if (routines(&sw) != 0)
		return 1;
	sw.thunk_ready_pc = (uintptr_t)sweep_thunk_ready;
	/* the stack copies of the profiler's default (FPTRACE_SNAPSHOT_MAX) */
	rt_prof.snapshot_max = 65536;
	sw.tls_off = (uintptr_t)&rt_tls_g - (uintptr_t)__builtin_thread_pointer();
	setenv("FPRT_MAXPROCS", "1", 1);
	setenv("FPRT_DEBUG", "stackforcemove", 1);
	fflush(NULL);
	sw.pid = fork();
	if (sw.pid < 0) {
		perror("sweep: fork");
		return 1;
	}
	if (sw.pid == 0)
		run_child();
	int st = trace(&sw);
	if (st < 0)
		return 1;
	print_report(&sw);
	printf("%llu single steps; %llu defects\n", (unsigned long long)sw.steps,
	       (unsigned long long)sw.defects);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sweep: the scenario failed (status %#x)\n", st);
		return 1;
	}
	int unswept = 0;
	for (int i = 0; i < sw.nr; i++)
		if (sw.r[i].steps == 0) {
			fprintf(stderr, "sweep: %s was never reached\n", sw.r[i].name);
			unswept = 1;
		}
	if (sw.defects)
		return 3;
	return unswept ? 1 : 0;
}
