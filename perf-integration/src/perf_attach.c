/*
 * perf_attach.c — fptrace record -p PID[,PID...]: sample processes that run
 * already, as `perf record -p` does, and leave them running untouched.
 *
 * Sequence: list their threads (/proc/PID/task); open the event on every CPU
 * for each of them (inherit: threads and children they create later are
 * sampled too), enabled at once; the first process writes into the file,
 * each other one into a stream of its own (perf_exec.h), as its own section
 * of the file at the end (perf_sections.c); for each: PROCESS (exe and
 * command line from /proc), its executable mappings and [vdso] as they are
 * at attach time (/proc/PID/maps: the kernel reports only mappings made from
 * now on, as MMAP2), and a THREAD per thread; drain the rings until SIGINT,
 * SIGTERM or SIGHUP, the duration, or the end of every process; close the
 * events (that is all a detach is: the processes never stop), write END.
 * END says how a process ended only when that is known: it is not our child,
 * so never.
 */
#include "perf_record.h"
#include "perf_session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fpu_vdso.h"

#define MAX_THREADS 4096

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* The thread ids of pid, from /proc/PID/task; how many (0: no such process). */
static size_t list_threads(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	size_t n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; n < max && (e = readdir(d));) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (tid > 0 && !*end)
			tids[n++] = (pid_t)tid;
	}
	closedir(d);
	return n;
}

/* A /proc file's bytes (up to len), NUL-terminated; the length read. */
static size_t read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t got;
	if (fd < 0) {
		buf[0] = 0;
		return 0;
	}
	while (n + 1 < len && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	buf[n] = 0;
	return n;
}

static void put_process(struct fpt_perf_rec *r, unsigned rate, uint32_t stack)
{
	char exe[PATH_MAX], path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)r->pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)r->pid);
	char *cmdline = malloc(FPU_REC_MAX_CMDLINE);
	size_t clen = cmdline ? read_proc(path, cmdline, FPU_REC_MAX_CMDLINE) : 0;
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_PROCESS;
	rec.u.process = (struct fpu_rec_process){
		.pid = (uint32_t)r->pid, .sample_hz = rate, .snapshot_max = stack,
		.start_monotonic_ns = fpt_now_ns(CLOCK_MONOTONIC),
		.start_realtime_ns = fpt_now_ns(CLOCK_REALTIME),
		.exe_len = (uint32_t)strnlen(exe, FPU_REC_MAX_PATH), .exe = exe,
		.cmdline_len = (uint32_t)clen, .cmdline = cmdline ? cmdline : "" };
	fpt_decoder_put(&r->dec, &rec);
	free(cmdline);
}

static void put_threads(struct fpt_perf_rec *r, struct fpt_exec_stream *es, pid_t pid,
			const pid_t *tids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[96], name[32];
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tids[i]);
		size_t len = read_proc(path, name, sizeof name);
		if (len && name[len - 1] == '\n')
			name[--len] = 0;
		struct fpu_record rec;
		memset(&rec, 0, sizeof rec);
		rec.type = FPU_REC_THREAD;
		rec.u.thread = (struct fpu_rec_thread){
			.tid = (uint32_t)tids[i], .name = name,
			.name_len = (uint32_t)(len < 16 ? len : 16),
			.time_ns = fpt_now_ns(CLOCK_MONOTONIC) };
		fpt_decoder_put_to(&r->dec, es, &rec);
	}
}

/* What attach time says of process pid (its section's head): executable
 * mappings, [vdso], threads.  Into stream es, or the file when NULL. */
static void put_attach_state(struct fpt_perf_rec *r, struct fpt_exec_stream *es, pid_t pid,
			     const pid_t *tids, size_t ntids)
{
	size_t nmaps = 0;
	struct fpu_mapping *maps = fpu_mappings_from_proc(pid, &nmaps);
	if (maps)
		fpt_rec_put_proc_mappings(r, es, maps, nmaps);
	free(maps);
	uint64_t vdso_start = 0, vdso_end = 0;
	if (fpu_vdso_range(pid, &vdso_start, &vdso_end) == 0)
		fpt_rec_put_vdso_mapping(r, es, vdso_start, vdso_end);
	put_threads(r, es, pid, tids, ntids);
}

/* Has every process ended?  Each pidfd polls readable once its process has
 * ended; without one, kill(pid, 0) says. */
static int all_gone(const uint32_t *pids, size_t npids, const struct pollfd *pidfds)
{
	for (size_t i = 0; i < npids; i++) {
		int gone = pidfds[i].fd >= 0 ? (pidfds[i].revents & POLLIN) != 0
					     : kill((pid_t)pids[i], 0) != 0 && errno == ESRCH;
		if (!gone)
			return 0;
	}
	return 1;
}

/* Drain until a stop signal, the deadline (0: none) or every process's end. */
static void attach_loop(struct fpt_perf_rec *r, const uint32_t *pids, size_t npids,
			uint64_t deadline, struct fpt_status *status)
{
	/* pfd: a pidfd per process (-1: none, poll skips it), then the rings */
	struct pollfd *pfd = calloc(npids + r->nrings, sizeof *pfd);
	for (size_t i = 0; pfd && i < npids; i++) {
		int fd = -1;
#ifdef SYS_pidfd_open
		fd = (int)syscall(SYS_pidfd_open, (pid_t)pids[i], 0);
#endif
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	for (size_t i = 0; pfd && i < r->nrings; i++)
		pfd[npids + i] = (struct pollfd){ .fd = r->rings[i].fd, .events = POLLIN };
	while (!stop_signal) {
		uint64_t now = fpt_now_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			break;
		int timeout = 250;
		if (deadline && (deadline - now) / 1000000 < 250)
			timeout = (int)((deadline - now) / 1000000) + 1;
		if (!pfd || poll(pfd, npids + r->nrings, timeout) < 0)
			usleep(20000);   /* EINTR: a stop signal, seen above */
		fpt_rec_drain_once(r);
		fpt_status_update(status, &r->dec, 0);
		if (pfd && all_gone(pids, npids, pfd))
			break;
	}
	fpt_rec_disable(r);   /* they run on: the last drain must have an end */
	fpt_rec_drain(r);
	for (size_t i = 0; pfd && i < npids; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	free(pfd);
}

int fpt_perf_attach(const uint32_t *pids, size_t npids, const struct fpt_record_opts *o,
		    char *err, size_t errlen)
{
	unsigned hz = fpt_perf_hz(o);
	uint32_t stack = fpt_perf_stack_size(o);
	uint32_t max_stack = (uint32_t)fpt_read_sysctl("/proc/sys/kernel/perf_event_max_stack", 127);
	if (max_stack > 127 || max_stack < 1)
		max_stack = 127;
	struct fpt_perf_rec r;
	memset(&r, 0, sizeof r);
	if (err && errlen)
		err[0] = 0;
	if (!npids || npids > FPT_ATTACH_MAX) {
		snprintf(err, errlen, "-p: %zu processes (1 to %d)", npids, FPT_ATTACH_MAX);
		return -1;
	}
	r.pid = (pid_t)pids[0];
	r.event = fpt_perf_event_find(o->event);
	r.period = o->period;
	if (!r.event) {
		snprintf(err, errlen, "-e %s: no such event", o->event);
		return -1;
	}
	/* every process's threads, one after another: first[i] is where pids[i]'s begin */
	pid_t *tids = malloc(MAX_THREADS * sizeof *tids);
	size_t ntids = 0, first[FPT_ATTACH_MAX + 1];
	for (size_t i = 0; i < npids; i++) {
		first[i] = ntids;
		size_t n = tids ? list_threads((pid_t)pids[i], tids + ntids, MAX_THREADS - ntids) : 0;
		if (!n) {
			snprintf(err, errlen, "-p %u: %s", pids[i],
				 tids ? "no such process" : "out of memory");
			free(tids);
			return -1;
		}
		ntids += n;
	}
	first[npids] = ntids;
	if (fpu_writer_open(&r.w, o->out_path) != 0) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(errno));
		free(tids);
		return -1;
	}
	char tmpdir[PATH_MAX];
	fpt_rec_tmpdir(o->out_path, tmpdir, sizeof tmpdir);
	int failed = fpt_rec_open_events(&r, tids, ntids, 1, hz, stack, max_stack, err, errlen) != 0 ||
		     fpt_decoder_init(&r.dec, &r.w, &r.attr, pids[0]) != 0;
	r.dec.tmpdir = tmpdir;
	/* the other processes: a stream each, a section of the file at the end */
	for (size_t i = 1; !failed && i < npids; i++) {
		struct fpt_exec_stream *es = fpt_exec_stream_new(pids[i], tmpdir);
		if (!es) {
			snprintf(err, errlen, "-p %u: a temporary file in %s: %s", pids[i], tmpdir,
				 strerror(errno ? errno : ENOMEM));
			failed = 1;
			break;
		}
		r.dec.execs[r.dec.nexecs++] = es;
	}
	if (failed) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		fpt_rec_close_events(&r);
		fpt_decoder_free(&r.dec);
		fpu_writer_close(&r.w);
		unlink(o->out_path);
		free(tids);
		return -1;
	}
	struct sigaction stop = { .sa_handler = on_stop }, old[3];
	const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	sigemptyset(&stop.sa_mask);
	stop_signal = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &stop, &old[i]);   /* no SA_RESTART: poll returns */

	unsigned rate = !r.period ? hz : r.event->is_clock ? (unsigned)(1000000000ull / r.period) : 0;
	put_process(&r, rate, stack);
	for (size_t i = 0; i < npids; i++)
		put_attach_state(&r, i ? r.dec.execs[i - 1] : NULL, (pid_t)pids[i],
				 tids + first[i], first[i + 1] - first[i]);
	free(tids);

	uint64_t t0 = fpt_now_ns(CLOCK_MONOTONIC);
	uint64_t deadline = o->duration_ns ? t0 + o->duration_ns : 0;
	struct fpt_status status = { .on = o->status_line && isatty(2), .last_ns = t0 };
	attach_loop(&r, pids, npids, deadline, &status);
	fpt_rec_close_events(&r);   /* the detach: the processes run on */
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);

	fpt_status_update(&status, &r.dec, 1);
	fpt_status_clear(&status);
	struct fpu_rec_process base = { .sample_hz = rate, .snapshot_max = stack,
					.start_monotonic_ns = t0,
					.start_realtime_ns = fpt_now_ns(CLOCK_REALTIME) };
	struct fpu_rec_end end = { .how = FPU_END_HOW_UNKNOWN,
				   .time_ns = fpt_now_ns(CLOCK_MONOTONIC) };
	int wfail = fpt_rec_finish(&r, o->out_path, &base, end);
	fpt_decoder_free(&r.dec);
	if (wfail) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(wfail));
		return -1;
	}
	return 0;
}
