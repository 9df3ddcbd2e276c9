/*
 * perf_record.c — fptrace record --perf: run a program under perf_event_open
 * sampling and write a .fpt file (see perf_record.h for what it holds).
 *
 * Sequence: create the output file; fork a child that waits on a pipe
 * (fpt_launch.h); open the event on every CPU for the child (disabled,
 * enable_on_exec, inherit) and mmap their ring buffers (perf_session.c); let
 * the child exec; write PROCESS, then the executable mappings exec made
 * (/proc/PID/maps read just after exec: the kernel reports none of them);
 * drain the rings until the child exits; write END.
 */
#include "perf_record.h"
#include "perf_session.h"
#include "fpt_launch.h"
#include "fpt_perf_event.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fpunwind.h"
#include "fpu_vdso.h"

#define DEFAULT_HZ 997
#define DEFAULT_STACK 32768
#define MAX_STACK_DUMP 65528       /* the kernel wants < USHRT_MAX, 8-aligned */

unsigned fpt_perf_hz(const struct fpt_record_opts *o)
{
	return o && o->hz ? o->hz : DEFAULT_HZ;
}

uint32_t fpt_perf_stack_size(const struct fpt_record_opts *o)
{
	uint32_t s = o && o->snapshot_max ? o->snapshot_max : DEFAULT_STACK;
	if (s > MAX_STACK_DUMP)
		s = MAX_STACK_DUMP;
	s &= ~7u;
	return s ? s : 8;
}

static void put_process(struct fpt_perf_rec *r, char *const argv[], unsigned hz, uint32_t stack,
			uint64_t start_real, uint64_t start_mono)
{
	char exe[PATH_MAX], link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)r->pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	if (n > 0)
		exe[n] = 0;
	else {   /* it has exited already: argv[0] as execvp found it */
		char found[PATH_MAX];
		fpt_launch_which(argv[0], found, sizeof found);
		if (!realpath(found, exe))
			snprintf(exe, sizeof exe, "%s", found);
	}

	size_t clen = 0;
	for (size_t i = 0; argv[i]; i++)
		clen += strlen(argv[i]) + 1;
	if (clen > FPU_REC_MAX_CMDLINE)
		clen = FPU_REC_MAX_CMDLINE;
	char *cmdline = malloc(clen ? clen : 1);
	size_t off = 0;
	for (size_t i = 0; cmdline && argv[i] && off < clen; i++) {
		size_t l = strlen(argv[i]) + 1;   /* the NUL separates */
		if (l > clen - off)
			l = clen - off;
		memcpy(cmdline + off, argv[i], l);
		off += l;
	}
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_PROCESS;
	rec.u.process = (struct fpu_rec_process){
		.pid = (uint32_t)r->pid, .sample_hz = hz, .wall_hz = 0,
		.snapshot_max = stack, .start_realtime_ns = start_real,
		.start_monotonic_ns = start_mono,
		.exe_len = (uint32_t)strnlen(exe, FPU_REC_MAX_PATH), .exe = exe,
		.cmdline_len = cmdline ? (uint32_t)off : 0, .cmdline = cmdline };
	fpt_decoder_put(&r->dec, &rec);
	free(cmdline);
}

/* ---------------------------------------------------------------------------
 * The recording
 * ------------------------------------------------------------------------- */

/* Wait for the child while draining the rings. Returns its wait status. */
static int run_loop(struct fpt_perf_rec *r, struct fpt_status *status)
{
	int pidfd = -1;
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#endif
	struct pollfd *pfd = calloc(r->nrings + 1, sizeof *pfd);
	size_t npfd = 0;
	if (pidfd >= 0 && pfd)
		pfd[npfd++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	int st = 0;
	for (;;) {
		if (pfd) {
			/* the perf fds report POLLHUP once their task has exited:
			 * poll only the ones still live */
			size_t k = npfd;
			for (size_t i = 0; i < r->nrings; i++)
				pfd[k++] = (struct pollfd){ .fd = r->rings[i].fd, .events = POLLIN };
			int timeout = pidfd >= 0 ? 250 : 50;
			if (poll(pfd, k, timeout) < 0 && errno != EINTR)
				usleep(10000);
			int hup = 0;
			for (size_t i = npfd; i < k; i++)
				if (pfd[i].revents & (POLLHUP | POLLERR))
					hup = 1;
			if (hup)   /* avoid spinning on HUP until waitpid sees the exit */
				usleep(5000);
		} else {
			usleep(20000);
		}
		fpt_rec_drain_once(r);
		fpt_status_update(status, &r->dec, 0);
		int ended = fpt_launch_wait(&r->launch, &st, 1);
		if (ended > 0)
			break;
		if (ended < 0) {
			st = 0;
			break;
		}
	}
	fpt_rec_disable(r);   /* what it started may run on: the drain must end */
	fpt_rec_drain(r);
	if (pidfd >= 0)
		close(pidfd);
	free(pfd);
	return st;
}

int fpt_perf_record(char *const argv[], const struct fpt_record_opts *o,
			  int *wstatus, char *err,
			  size_t errlen)
{
	unsigned hz = fpt_perf_hz(o);
	uint32_t stack = fpt_perf_stack_size(o);
	uint32_t max_stack = (uint32_t)fpt_read_sysctl("/proc/sys/kernel/perf_event_max_stack", 127);
	if (max_stack > 127 || max_stack < 1)
		max_stack = 127;
	if (err && errlen)
		err[0] = 0;
	if (!argv || !argv[0] || !argv[0][0]) {
		snprintf(err, errlen, "no command to run");
		return -1;
	}
	if (!o || !o->out_path) {
		snprintf(err, errlen, "no output file");
		return -1;
	}

	struct fpt_perf_rec r;
	memset(&r, 0, sizeof r);
	r.event = fpt_perf_event_find(o->event);
	r.period = o->period;
	r.no_inherit = o->no_inherit;
	if (!r.event) {
		char names[256];
		fpt_perf_event_names(names, sizeof names);
		snprintf(err, errlen, "-e %s: no such event (there are %s)", o->event, names);
		return -1;
	}
	int ofd = open(o->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ofd < 0) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(errno));
		return -1;
	}
	if (fpu_writer_fdopen(&r.w, ofd, 1) != 0) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(errno));
		close(ofd);
		unlink(o->out_path);
		return -1;
	}

	uint64_t start_real = fpt_now_ns(CLOCK_REALTIME), start_mono = fpt_now_ns(CLOCK_MONOTONIC);
	/* held: the events are opened on the child before it execs */
	if (fpt_launch_fork(&r.launch, argv, 1, -1, err, errlen) != 0)
		goto fail_file;
	r.pid = r.launch.pid;

	int st = 0;
	if (fpt_rec_open_events(&r, &r.pid, 1, 0, hz, stack, max_stack, err, errlen) != 0 ||
	    fpt_decoder_init(&r.dec, &r.w, &r.attr, (uint32_t)r.pid) != 0) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		fpt_launch_abort(&r.launch, &st);
		fpt_rec_close_events(&r);
		fpt_decoder_free(&r.dec);
		if (wstatus)
			*wstatus = st;
		goto fail_file;
	}
	if (fpt_launch_exec(&r.launch, argv, &st, err, errlen) != 0)
		goto fail_events;
	/* the programs its children exec are followed, their streams kept next
	 * to the output file */
	char tmpdir[PATH_MAX];
	fpt_rec_tmpdir(o->out_path, tmpdir, sizeof tmpdir);
	r.dec.follow_exec = !o->no_inherit;
	r.dec.tmpdir = tmpdir;

	/* The program runs. */
	uint64_t t_exec = fpt_now_ns(CLOCK_MONOTONIC);
	size_t nproc = 0;
	struct fpu_mapping *proc_maps = fpu_mappings_from_proc(r.pid, &nproc);
	uint64_t vdso_start = 0, vdso_end = 0;
	fpu_vdso_range(r.pid, &vdso_start, &vdso_end);
	/* the PROCESS record's rate: a period of a clock is one; of a count, none */
	unsigned rate = !r.period ? hz : r.event->is_clock ? (unsigned)(1000000000ull / r.period) : 0;
	put_process(&r, argv, rate, stack, start_real, start_mono);
	/* The mappings exec made before sampling began (the executable, the
	 * loader, [vdso]: the kernel reports none of them) go right after
	 * PROCESS, not at the end: a file cut short keeps what its samples need. */
	if (proc_maps)
		fpt_rec_put_proc_mappings(&r, NULL, proc_maps, nproc);
	fpt_rec_put_vdso_mapping(&r, NULL, vdso_start, vdso_end);
	free(proc_maps);

	struct fpt_status status = { .on = o->status_line && isatty(2), .last_ns = t_exec };
	st = run_loop(&r, &status);
	fpt_rec_close_events(&r);
	fpt_status_update(&status, &r.dec, 1);
	fpt_status_clear(&status);
	if (wstatus)
		*wstatus = st;

	struct fpu_rec_process base = {
		.sample_hz = rate, .snapshot_max = stack, .start_realtime_ns = start_real,
		.start_monotonic_ns = start_mono };
	int wfail = fpt_rec_finish(&r, o->out_path, &base, fpt_launch_end_record(st));
	fpt_decoder_free(&r.dec);
	if (wfail) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(wfail));
		return -1;
	}
	return 0;

fail_events:
	if (wstatus)
		*wstatus = st;
	fpt_rec_close_events(&r);
	fpt_decoder_free(&r.dec);
fail_file:
	fpu_writer_close(&r.w);
	unlink(o->out_path);
	return -1;
}

