/*
 * perf_record.c — fptrace record --perf: run a program under perf_event_open
 * sampling and write a .fpt file (see perf_record.h for what it holds).
 *
 * Sequence: create the output file; fork a child that waits on a pipe; open
 * one cpu-clock event per CPU on the child (disabled, enable_on_exec, inherit)
 * and mmap their ring buffers; let the child exec (a CLOEXEC pipe carries
 * execvp's errno back); write PROCESS; drain the rings until the child exits;
 * add the executable mappings the kernel did not report from /proc/PID/maps
 * read just after exec; write END.
 */
#include "perf_record.h"
#include "perf_ring.h"
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
#define RING_PAGES_MAX 512         /* per CPU, a power of two */
#define RING_PAGES_MIN 32          /* two full 64 KiB samples */
#define STATUS_NS 250000000ull

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

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long read_sysctl(const char *path, long dflt)
{
	FILE *f = fopen(path, "re");
	long v = dflt;
	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* ---------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

struct rec {
	pid_t pid;
	struct fpt_launch launch;
	struct perf_event_attr attr;   /* what the events were opened with */
	struct fpt_ring *rings;
	size_t nrings;
	struct fpt_decoder dec;
	struct fpu_writer w;
	const struct fpt_perf_event *event;   /* -e */
	uint64_t period;                      /* -c; 0: hz */
};

static void perf_open_error(const struct rec *r, int e, unsigned hz, char *err,
			    size_t errlen)
{
	if (fpt_perf_event_refused(r->event, e, err, errlen) == 0)
		return;
	if (e == EACCES || e == EPERM) {
		long p = read_sysctl("/proc/sys/kernel/perf_event_paranoid", -999);
		char pv[32];
		if (p == -999)
			snprintf(pv, sizeof pv, "unreadable");
		else
			snprintf(pv, sizeof pv, "%ld", p);
		snprintf(err, errlen,
			 "perf_event_open: %s: kernel.perf_event_paranoid is %s (sampling a "
			 "program's user space needs <= 2, or CAP_PERFMON): run as root or "
			 "`sysctl -w kernel.perf_event_paranoid=1`",
			 strerror(e), pv);
	} else if (e == ENOENT || e == EOPNOTSUPP || e == ENOSYS) {
		snprintf(err, errlen,
			 "perf_event_open: %s: this kernel (or container) does not provide "
			 "the %s sampling event",
			 strerror(e), r->event->name);
	} else if (e == EINVAL) {
		long max = read_sysctl("/proc/sys/kernel/perf_event_max_sample_rate", -1);
		if (max > 0 && !r->period && hz > (unsigned long)max)
			snprintf(err, errlen,
				 "perf_event_open: -F %u is above "
				 "kernel.perf_event_max_sample_rate (%ld)",
				 hz, max);
		else
			snprintf(err, errlen,
				 "perf_event_open: %s (the kernel rejected the sampling event)",
				 strerror(e));
	} else {
		snprintf(err, errlen, "perf_event_open: %s", strerror(e));
	}
}

static int open_events(struct rec *r, unsigned hz, uint32_t stack, uint32_t max_stack,
		       char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu < 1)
		ncpu = 1;
	r->rings = calloc((size_t)ncpu, sizeof *r->rings);
	if (!r->rings) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = r->event->type;
	a.config = r->event->config;
	if (r->period) {
		a.sample_period = r->period;
	} else {
		a.freq = 1;
		a.sample_freq = hz;
	}
	a.sample_type = FPT_PERF_SAMPLE_TYPE;
	a.sample_regs_user = fpt_perf_regs_mask();
	a.sample_stack_user = stack;
	a.sample_max_stack = (uint16_t)max_stack;
	a.disabled = 1;
	a.enable_on_exec = 1;
	a.inherit = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.exclude_callchain_kernel = 1;
	a.mmap = 1;
	a.mmap2 = 1;
	a.comm = 1;
	a.comm_exec = 1;
	a.task = 1;
	a.sample_id_all = 1;
	a.use_clockid = 1;
	a.clockid = CLOCK_MONOTONIC;
	a.build_id = 1;
	a.watermark = 1;

	size_t pages = RING_PAGES_MAX;
	if (ncpu > 16)
		pages = RING_PAGES_MAX / 4;
	int first_err = 0;
	for (long cpu = 0; cpu < ncpu; cpu++) {
		int fd;
		for (;;) {
			a.wakeup_watermark = (uint32_t)(pages * (size_t)sysconf(_SC_PAGESIZE) / 4);
			fd = (int)syscall(SYS_perf_event_open, &a, r->pid, (int)cpu, -1,
					  PERF_FLAG_FD_CLOEXEC);
			if (fd < 0 && errno == EINVAL && a.build_id) {
				a.build_id = 0;   /* kernels before 5.12 */
				continue;
			}
			break;
		}
		if (fd < 0) {
			if (errno == ENODEV || errno == ENXIO) /* offline CPU */
				continue;
			first_err = errno;
			break;
		}
		struct fpt_ring *ring = &r->rings[r->nrings];
		ring->cpu = (int)cpu;
		while (fpt_ring_map(ring, fd, pages) != 0) {
			int e = errno;
			if ((e == EPERM || e == ENOMEM) && pages > RING_PAGES_MIN) {
				pages /= 2;   /* over kernel.perf_event_mlock_kb: smaller rings */
				continue;
			}
			close(fd);
			snprintf(err, errlen,
				 "mmap of the perf ring buffer: %s (limit "
				 "kernel.perf_event_mlock_kb is %ld KiB per user): run as root "
				 "or raise it",
				 strerror(e),
				 read_sysctl("/proc/sys/kernel/perf_event_mlock_kb", -1));
			return -1;
		}
		r->nrings++;
	}
	if (first_err || r->nrings == 0) {
		perf_open_error(r, first_err ? first_err : ENODEV, hz, err, errlen);
		return -1;
	}
	r->attr = a;
	return 0;
}

static void close_events(struct rec *r)
{
	for (size_t i = 0; i < r->nrings; i++) {
		fpt_ring_unmap(&r->rings[i]);
		close(r->rings[i].fd);
	}
	free(r->rings);
	r->rings = NULL;
	r->nrings = 0;
}

static void drain_all(struct rec *r)
{
	for (int again = 1; again;) {
		again = 0;
		for (size_t i = 0; i < r->nrings; i++)
			if (fpt_ring_drain(&r->rings[i], &r->dec))
				again = 1;
	}
}

/* ---------------------------------------------------------------------------
 * PROCESS, fallback mappings, END
 * ------------------------------------------------------------------------- */

static void put_process(struct rec *r, char *const argv[], unsigned hz, uint32_t stack,
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

/*
 * The child's [vdso], with the build-id of ours: the kernel maps one image
 * into every process, and the build-id lets the analysis check that the vDSO
 * it reads symbols and CFI from (its own) is the one the child ran.
 */
static uint64_t put_vdso_mapping(struct rec *r, uint64_t start, uint64_t end)
{
	struct fpu_vdso self;

	if (start == end || fpu_vdso_self(&self) != 0 || fpt_decoder_has_range(&r->dec, start, end))
		return 0;
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_MAPPING;
	rec.u.mapping = (struct fpu_rec_mapping){
		.start = start, .end = end, .prot = PROT_READ | PROT_EXEC,
		.build_id_len = self.build_id_len, .build_id = self.build_id,
		.path_len = (uint32_t)strlen(FPU_VDSO_PATH), .path = FPU_VDSO_PATH };
	fpt_decoder_put(&r->dec, &rec);
	fpt_decoder_add_range(&r->dec, start, end);
	return 1;
}

/* Executable file mappings from /proc/PID/maps that no MMAP2 record covered. */
static uint64_t put_proc_mappings(struct rec *r, const struct fpu_mapping *maps,
				  size_t nmaps)
{
	uint64_t n = 0;
	for (size_t i = 0; i < nmaps; i++) {
		const struct fpu_mapping *m = &maps[i];
		if (!(m->prot & PROT_EXEC) || !m->path || m->path[0] != '/' ||
		    fpt_decoder_has_range(&r->dec, m->start, m->end))
			continue;
		struct fpu_record rec;
		memset(&rec, 0, sizeof rec);
		rec.type = FPU_REC_MAPPING;
		rec.u.mapping = (struct fpu_rec_mapping){
			.start = m->start, .end = m->end, .offset = m->pgoff,
			.prot = m->prot & 7,
			.build_id_len = m->build_id_len <= FPU_REC_MAX_BUILD_ID ? m->build_id_len : 0,
			.build_id = m->build_id,
			.path_len = (uint32_t)strnlen(m->path, FPU_REC_MAX_PATH),
			.path = m->path };
		fpt_decoder_put(&r->dec, &rec);
		fpt_decoder_add_range(&r->dec, m->start, m->end);
		n++;
	}
	return n;
}

static void put_end(struct rec *r, int st)
{
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_END;
	rec.u.end = fpt_launch_end_record(st);
	rec.u.end.samples = r->dec.samples;
	rec.u.end.drops = r->dec.lost;
	fpt_decoder_put(&r->dec, &rec);
}

/* ---------------------------------------------------------------------------
 * Status line
 * ------------------------------------------------------------------------- */

struct status {
	int on;
	uint64_t last_ns, last_samples;
	int shown;
};

static void status_update(struct status *s, const struct fpt_decoder *d, int force)
{
	if (!s->on)
		return;
	uint64_t t = now_ns(CLOCK_MONOTONIC);
	if (!force && t - s->last_ns < STATUS_NS)
		return;
	double dt = (double)(t - s->last_ns) / 1e9;
	double rate = dt > 0 ? (double)(d->samples - s->last_samples) / dt : 0;
	char line[160];
	int n = snprintf(line, sizeof line,
			 "\r\033[Kfptrace: %llu samples, %.0f/s, %llu lost",
			 (unsigned long long)d->samples, rate,
			 (unsigned long long)d->lost);
	if (n > 0 && write(2, line, (size_t)n) < 0)
		s->on = 0;
	s->shown = 1;
	s->last_ns = t;
	s->last_samples = d->samples;
}

static void status_clear(struct status *s)
{
	if (s->on && s->shown && write(2, "\r\033[K", 4) < 0)
		s->on = 0;
}

/* ---------------------------------------------------------------------------
 * The recording
 * ------------------------------------------------------------------------- */

/* Wait for the child while draining the rings. Returns its wait status. */
static int run_loop(struct rec *r, struct status *status)
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
		drain_all(r);
		status_update(status, &r->dec, 0);
		int ended = fpt_launch_wait(&r->launch, &st, 1);
		if (ended > 0)
			break;
		if (ended < 0) {
			st = 0;
			break;
		}
	}
	drain_all(r);
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
	uint32_t max_stack = (uint32_t)read_sysctl("/proc/sys/kernel/perf_event_max_stack", 127);
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

	struct rec r;
	memset(&r, 0, sizeof r);
	r.event = fpt_perf_event_find(o->event);
	r.period = o->period;
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

	uint64_t start_real = now_ns(CLOCK_REALTIME), start_mono = now_ns(CLOCK_MONOTONIC);
	/* held: the events are opened on the child before it execs */
	if (fpt_launch_fork(&r.launch, argv, 1, -1, err, errlen) != 0)
		goto fail_file;
	r.pid = r.launch.pid;

	int st = 0;
	if (open_events(&r, hz, stack, max_stack, err, errlen) != 0 ||
	    fpt_decoder_init(&r.dec, &r.w, &r.attr, (uint32_t)r.pid) != 0) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		fpt_launch_abort(&r.launch, &st);
		close_events(&r);
		fpt_decoder_free(&r.dec);
		if (wstatus)
			*wstatus = st;
		goto fail_file;
	}
	if (fpt_launch_exec(&r.launch, argv, &st, err, errlen) != 0)
		goto fail_events;

	/* The program runs. */
	uint64_t t_exec = now_ns(CLOCK_MONOTONIC);
	size_t nproc = 0;
	struct fpu_mapping *proc_maps = fpu_mappings_from_proc(r.pid, &nproc);
	uint64_t vdso_start = 0, vdso_end = 0;   /* read now: the child may be gone at the end */
	fpu_vdso_range(r.pid, &vdso_start, &vdso_end);
	/* the PROCESS record's rate: a period of a clock is one; of a count, none */
	unsigned rate = !r.period ? hz : r.event->is_clock ? (unsigned)(1000000000ull / r.period) : 0;
	put_process(&r, argv, rate, stack, start_real, start_mono);

	struct status status = { .on = o->status_line && isatty(2), .last_ns = t_exec };
	st = run_loop(&r, &status);
	close_events(&r);
	if (proc_maps)
		put_proc_mappings(&r, proc_maps, nproc);
	put_vdso_mapping(&r, vdso_start, vdso_end);
	free(proc_maps);
	put_end(&r, st);
	status_update(&status, &r.dec, 1);
	status_clear(&status);
	if (wstatus)
		*wstatus = st;

	int wfail = r.dec.write_failed;
	fpt_decoder_free(&r.dec);
	if (fpu_writer_close(&r.w) != 0 && !wfail)
		wfail = errno ? errno : EIO;
	if (wfail) {
		snprintf(err, errlen, "%s: %s", o->out_path, strerror(wfail));
		return -1;
	}
	return 0;

fail_events:
	if (wstatus)
		*wstatus = st;
	close_events(&r);
	fpt_decoder_free(&r.dec);
fail_file:
	fpu_writer_close(&r.w);
	unlink(o->out_path);
	return -1;
}

