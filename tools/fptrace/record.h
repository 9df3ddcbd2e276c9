/* record.h — `fptrace record`: run a program under a sampler, write a .fpt. */
#ifndef FPT_RECORD_H
#define FPT_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "perf_record.h"

struct fpt_record_cmd {
	unsigned hz;
	uint32_t snapshot_max;
	const char *out_path;
	int force_perf;            /* --perf: perf_event_open even for fprt programs */
	const char *event;         /* -e: perf_event_open with this event; NULL: cpu-clock */
	uint64_t period;           /* -c: every PERIOD events instead of -F; 0: -F */
	int no_inherit;            /* --no-inherit: not its threads nor its children */
	uint32_t attach_pids[FPT_ATTACH_MAX];   /* -p: sample these running processes */
	size_t nattach;                         /* 0: run argv */
	uint64_t duration_ns;      /* --duration with -p; 0: until a signal or its end */
};

/*
 * Record argv, or with c->nattach those running processes (argv unused).  *wstatus gets the program's wait status, *samples the samples
 * written.  Returns 0, or -1 with a one-line reason in err.
 */
int fpt_record(char *const argv[], const struct fpt_record_cmd *c, int *wstatus,
	       uint64_t *samples, char *err, size_t errlen);

/* Does the executable that argv[0] names contain the fprt in-process profiler? */
int fpt_is_fprt_program(const char *cmd);

#endif
