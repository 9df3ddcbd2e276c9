/*
 * prof_source.c — where an M's SIGPROFs come from.
 *
 * A CPU-time timer (timer_create on CLOCK_THREAD_CPUTIME_ID) is checked only
 * on the scheduler tick, so it fires at most CONFIG_HZ times per CPU second
 * (250 here) whatever rate is asked; the periods it missed come back in
 * si_overrun.  A perf_event_open task-clock event runs on an hrtimer while its
 * thread is on a CPU, so it samples at the asked rate; this is async-profiler's
 * cpu mode.  Each M opens one for its own thread and has the kernel signal that
 * thread: O_ASYNC, F_SETSIG SIGPROF, F_SETOWN_EX F_OWNER_TID.  The event has no
 * overflow limit (never PERF_EVENT_IOC_REFRESH), so every overflow signals
 * (si_code POLL_IN, si_fd the event) and nothing has to be re-armed in the
 * handler; it has no ring buffer either, since the handler reads the
 * registers from its ucontext.
 *
 * The timer remains the fallback where perf events are refused
 * (perf_event_paranoid 3, seccomp, no CONFIG_PERF_EVENTS): the file says which
 * source ran (a SAMPLING record) and why.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fpu_record.h"
#include "prof.h"
#include "rt.h"


static int perf_open(int exclude_kernel)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.sample_period = rt_prof.period_ns;   /* task-clock counts nanoseconds */
	attr.disabled = 1;
	attr.exclude_kernel = (unsigned)exclude_kernel;
	attr.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

/*
 * Kernel time counts as CPU time, as with the timer, when the kernel lets us
 * (perf_event_paranoid <= 1); otherwise user time only, which is what the
 * handler can unwind anyway.
 */
static int perf_open_any(void)
{
	int fd = perf_open(0);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = perf_open(1);
	return fd;
}

void rt_prof_source_choose(void)
{
	const char *mode = getenv("FPRT_PROF_MODE");
	int want_perf = !mode || !*mode || strcmp(mode, "auto") == 0;
	if (!want_perf && strcmp(mode, "timer") != 0 && strcmp(mode, "perf-event") != 0)
		rt_fatal("FPRT_PROF_MODE=%s: must be auto, perf-event or timer", mode);
	rt_prof.cpu_source = FPU_CPU_SOURCE_TIMER;
	rt_prof.perf_errno = 0;
	if (mode && strcmp(mode, "timer") == 0)
		return;
	int fd = perf_open_any();
	if (fd < 0) {
		int err = errno;
		if (!want_perf)
			rt_fatal("FPRT_PROF_MODE=perf-event: perf_event_open(task-clock) failed: %s "
				 "(perf_event_paranoid, seccomp or no perf events)", strerror(err));
		rt_prof.perf_errno = err;
		return;
	}
	close(fd);
	rt_prof.cpu_source = FPU_CPU_SOURCE_PERF_EVENT;
}

/* This thread gets SIGPROF with si_fd = fd on every overflow; 0 or -1. */
static int perf_arm(int fd, int tid)
{
	struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = tid };
	if (fcntl(fd, F_SETFL, O_ASYNC) != 0 || fcntl(fd, F_SETSIG, SIGPROF) != 0 ||
	    fcntl(fd, F_SETOWN_EX, &owner) != 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0)
		return -1;
	return 0;
}

static void timer_arm(struct rt_prof_m *pm, int64_t m_id, int tid)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &pm->timer) != 0)
		rt_fatal("profiler: timer_create for M%lld (tid %d) failed: %s", (long long)m_id,
			 tid, strerror(errno));
	pm->has_timer = 1;
	struct itimerspec its = {
		.it_interval = { (time_t)(rt_prof.period_ns / 1000000000u),
				 (long)(rt_prof.period_ns % 1000000000u) },
	};
	its.it_value = its.it_interval;
	if (timer_settime(pm->timer, 0, &its, NULL) != 0)
		rt_fatal("profiler: timer_settime for M%lld (tid %d) failed: %s", (long long)m_id,
			 tid, strerror(errno));
}

/* An extra M lent to another foreign thread: the old thread is gone. */
static void disarm(struct rt_prof_m *pm)
{
	if (pm->perf_fd >= 0)
		close(pm->perf_fd);
	pm->perf_fd = -1;
	if (pm->has_timer)
		timer_delete(pm->timer);
	pm->has_timer = 0;
}

void rt_prof_source_arm(struct rt_prof_m *pm, int64_t m_id, int tid)
{
	disarm(pm);
	if (rt_prof.cpu_source == FPU_CPU_SOURCE_PERF_EVENT) {
		int fd = perf_open_any();
		if (fd >= 0 && perf_arm(fd, tid) == 0) {
			pm->perf_fd = fd;
			return;
		}
		/* Refused for this thread only (EMFILE, a seccomp filter on a
		 * foreign thread): a timer still samples it, and the file says so. */
		if (fd >= 0)
			close(fd);
		atomic_fetch_add_explicit(&rt_prof.timer_threads, 1, memory_order_relaxed);
	}
	timer_arm(pm, m_id, tid);
}

uint64_t rt_prof_source_periods(const struct rt_prof_m *pm, const void *siginfo)
{
	const siginfo_t *si = siginfo;
	if (!si)
		return 1;
	if (si->si_code == POLL_IN || si->si_code == POLL_HUP)
		return pm->perf_fd >= 0 && si->si_fd == pm->perf_fd ? 1 : 0;
	/*
	 * A timer folds the periods it missed between two ticks into one signal
	 * and counts them in si_overrun; the sample stands for all of them, so
	 * CPU time stays right where the sample rate cannot be.
	 */
	if (si->si_code == SI_TIMER && si->si_overrun > 0)
		return 1 + (uint64_t)si->si_overrun;
	return 1;   /* a timer's, or one sent by hand (tgkill: the benchmark) */
}
