#include "ci_skip.h"
#include "scratch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

_Noreturn void fpt_skip_test(const char *why)
{
	const char *ci = getenv("CI");
	if (ci && strcmp(ci, "true") == 0)
		cr_assert_fail("skipped, and CI=true makes a skip a failure: %s", why);
	cr_skip_test("%s", why);
	abort();      /* not reached: both calls above leave the test */
}

void fpt_need_perf_event(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_freq = 100;
	a.freq = 1;
	a.exclude_kernel = 1;
	a.disabled = 1;
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd < 0) {
		char why[128];
		snprintf(why, sizeof why, "perf_event_open not permitted here: %s", strerror(errno));
		fpt_skip_test(why);
	}
	close(fd);
}

void fpt_need_perf_record(char *dir)
{
	char cmd[1024], log[600], why[256] = "", reason[400];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && command -v perf >/dev/null 2>&1 && "
		 "perf record -q -e cpu-clock -o probe.data -- true >probe.log 2>&1", dir);
	if (system(cmd) == 0)
		return;
	snprintf(log, sizeof log, "%s/probe.log", dir);
	FILE *f = fopen(log, "r");
	if (f) {
		size_t n = fread(why, 1, sizeof why - 1, f);
		why[n] = 0;
		why[strcspn(why, "\n")] = 0;
		fclose(f);
	}
	snprintf(reason, sizeof reason, "perf cannot record here (perf record -e cpu-clock: %s)",
		 why[0] ? why : "perf not installed");
	fpt_scratch_remove(dir);
	fpt_skip_test(reason);
}
