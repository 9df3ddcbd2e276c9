/*
 * fpt_perf_event.h — the sampling events `fptrace record -e` takes, by perf's
 * names: the software clocks (cpu-clock, task-clock) and the generic hardware
 * events (cycles, instructions, ...), which need a PMU: a VM without a virtual
 * PMU has none, and then the kernel refuses them (ENOENT).
 */
#ifndef FPT_PERF_EVENT_H
#define FPT_PERF_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct fpt_perf_event {
	const char *name;        /* as perf spells it */
	uint32_t type;           /* PERF_TYPE_SOFTWARE or PERF_TYPE_HARDWARE */
	uint64_t config;
	int is_clock;            /* its period is in nanoseconds */
};

/* The event called name (perf's aliases too: cpu-cycles, branches, ...);
 * NULL when there is none. NULL name: cpu-clock, the default. */
const struct fpt_perf_event *fpt_perf_event_find(const char *name);

/* "cpu-clock, task-clock, cycles, ..." into buf: the names -e takes. */
void fpt_perf_event_names(char *buf, size_t len);

/* Why the kernel refused event e with errno e_errno, as one line into buf,
 * when the reason is the event itself (a hardware event without a PMU);
 * 0, or -1 when the refusal has another cause. */
int fpt_perf_event_refused(const struct fpt_perf_event *e, int e_errno, char *buf,
			   size_t len);

#endif
