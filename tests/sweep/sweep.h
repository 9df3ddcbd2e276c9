/*
 * sweep.h — the instruction sweep of fprt's stack-switch routines.
 *
 * build/sweep/sweep forks itself: the child runs a scenario (sweep_scenario.c)
 * that passes through every switch routine; the parent single-steps every
 * thread of the child under ptrace and, at every instruction inside a switch
 * routine, takes the sample the in-process profiler would take if SIGPROF
 * arrived there (the M's published regions, the registers, the stack copies),
 * walks it with the checked walker, unwinds it with libdw and with libunwind,
 * and classifies it with the comparator (sweep_sample.c).  The child is the
 * same executable, so every code and data address is the same in both.
 */
#ifndef FPT_SWEEP_H
#define FPT_SWEEP_H

#include <stdint.h>
#include <sys/types.h>

#include "fpu_dwarf.h"

/* A routine whose every instruction is checked: [lo, hi) in the child. */
struct sweep_routine {
	const char *name;
	uintptr_t lo, hi;
	uint64_t steps;                 /* stops at a pc inside it */
	uint64_t skipped;               /* stops off an M (no g): nothing published */
	uint8_t *seen;                  /* per byte offset: pc swept */
	uint64_t classes[2][FPU_CLASS_COUNT];   /* [backend][class] */
	uint64_t defects, allowed;
};

#define SWEEP_MAX_ROUTINES 16

struct sweep {
	pid_t pid;
	struct sweep_routine r[SWEEP_MAX_ROUTINES];
	int nr;
	uintptr_t tls_off;              /* &rt_tls_g - thread pointer, any thread */
	uintptr_t thunk_ready_pc;       /* scenario marker: the thunk exists now */
	struct fpu_dwarf *dwarf[2];     /* libdw, libunwind: made at first use */
	uint64_t steps;                 /* single steps, all threads */
	uint64_t defects;
	struct sweep_routine *thunk;    /* the scenario's export thunk, once known */
	const char *show;               /* SWEEP_SHOW=routine: print its every sample */
	int verbose;
	int max_reports;                /* defect lines printed in full */
};

/* sweep_scenario.c: runs in the child under rt_main. */
int sweep_scenario(int argc, char **argv);
/* The scenario's thunk (rt_cgo_export), published before its first call. */
extern uintptr_t sweep_thunk;
void sweep_thunk_ready(void);

/* sweep_sample.c: the sample at the current stop of thread tid, checked. */
int sweep_check_stop(struct sweep *sw, pid_t tid, struct sweep_routine *rt,
		     const void *user_regs);
int sweep_read(pid_t pid, uintptr_t addr, void *out, size_t len);

#endif
