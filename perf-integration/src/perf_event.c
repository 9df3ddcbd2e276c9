/*
 * perf_event.c — see fpt_perf_event.h.  The names and configs are those of
 * perf list (tools/perf/util/parse-events.c, event_symbols_hw/sw).
 */
#include "fpt_perf_event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/perf_event.h>

static const struct fpt_perf_event events[] = {
	{ "cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, 1 },
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, 1 },
	{ "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 0 },
	{ "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 0 },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, 0 },
	{ "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, 0 },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, 0 },
	{ "branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 0 },
	{ "branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 0 },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, 0 },
	{ "bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES, 0 },
	{ "ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES, 0 },
};
#define NEVENTS (sizeof events / sizeof events[0])

const struct fpt_perf_event *fpt_perf_event_find(const char *name)
{
	if (!name)
		return &events[0];
	for (size_t i = 0; i < NEVENTS; i++)
		if (!strcmp(events[i].name, name))
			return &events[i];
	return NULL;
}

void fpt_perf_event_names(char *buf, size_t len)
{
	size_t n = 0;
	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < NEVENTS && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", events[i].name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int fpt_perf_event_refused(const struct fpt_perf_event *e, int e_errno, char *buf,
			   size_t len)
{
	if (e->type != PERF_TYPE_HARDWARE ||
	    (e_errno != ENOENT && e_errno != EOPNOTSUPP && e_errno != ENODEV))
		return -1;
	snprintf(buf, len,
		 "-e %s: this machine has no hardware performance counters for it "
		 "(perf_event_open: %s; a VM without a virtual PMU has none): "
		 "use -e cpu-clock or -e task-clock",
		 e->name, strerror(e_errno));
	return 0;
}
