/*
 * perf_session.c — what the perf_event_open recorders share (perf_record.c
 * starts a program, perf_attach.c attaches to running ones): the events and
 * their rings, the fallback mappings from /proc, END, the status line.
 */
#include "perf_session.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fpu_vdso.h"

#define RING_PAGES_MAX 512         /* per CPU, a power of two */
#define RING_PAGES_MIN 32          /* two full 64 KiB samples */
#define STATUS_NS 250000000ull

uint64_t fpt_now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long fpt_read_sysctl(const char *path, long dflt)
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


static void perf_open_error(const struct fpt_perf_rec *r, int e, unsigned hz, char *err,
			    size_t errlen)
{
	if (fpt_perf_event_refused(r->event, e, err, errlen) == 0)
		return;
	if (e == EACCES || e == EPERM) {
		long p = fpt_read_sysctl("/proc/sys/kernel/perf_event_paranoid", -999);
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
		long max = fpt_read_sysctl("/proc/sys/kernel/perf_event_max_sample_rate", -1);
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

int fpt_rec_open_events(struct fpt_perf_rec *r, const pid_t *tids, size_t ntids, int attach,
			unsigned hz, uint32_t stack, uint32_t max_stack, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu < 1)
		ncpu = 1;
	r->rings = calloc((size_t)ncpu, sizeof *r->rings);
	r->extra_fds = calloc((size_t)ncpu * ntids, sizeof *r->extra_fds);
	if (!r->rings || !r->extra_fds) {
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
	/* a program started here: enabled at its exec; a running one: at once */
	a.disabled = !attach;
	a.enable_on_exec = !attach;
	a.inherit = !r->no_inherit;
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
	for (long cpu = 0; cpu < ncpu && !first_err; cpu++) {
		struct fpt_ring *ring = NULL;
		for (size_t t = 0; t < ntids; t++) {
			int fd;
			for (;;) {
				a.wakeup_watermark =
					(uint32_t)(pages * (size_t)sysconf(_SC_PAGESIZE) / 4);
				fd = (int)syscall(SYS_perf_event_open, &a, tids[t], (int)cpu, -1,
						  PERF_FLAG_FD_CLOEXEC);
				if (fd < 0 && errno == EINVAL && a.build_id) {
					a.build_id = 0;   /* kernels before 5.12 */
					continue;
				}
				break;
			}
			if (fd < 0 && (errno == ENODEV || errno == ENXIO))
				break;      /* offline CPU */
			if (fd < 0 && errno == ESRCH && attach)
				continue;   /* a thread that ended meanwhile */
			if (fd < 0) {
				first_err = errno;
				break;
			}
			if (ring) {
				/* the other threads' samples on this CPU go to its ring */
				r->extra_fds[r->nextra++] = fd;
				if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring->fd) != 0) {
					first_err = errno;
					break;
				}
				continue;
			}
			ring = &r->rings[r->nrings];
			ring->cpu = (int)cpu;
			while (fpt_ring_map(ring, fd, pages) != 0) {
				int e = errno;
				if ((e == EPERM || e == ENOMEM) && pages > RING_PAGES_MIN) {
					pages /= 2;   /* over kernel.perf_event_mlock_kb */
					continue;
				}
				close(fd);
				snprintf(err, errlen,
					 "mmap of the perf ring buffer: %s (limit "
					 "kernel.perf_event_mlock_kb is %ld KiB per user): run as "
					 "root or raise it",
					 strerror(e),
					 fpt_read_sysctl("/proc/sys/kernel/perf_event_mlock_kb", -1));
				return -1;
			}
			r->nrings++;
		}
	}
	if (first_err || r->nrings == 0) {
		perf_open_error(r, first_err ? first_err : ENODEV, hz, err, errlen);
		return -1;
	}
	r->attr = a;
	return 0;
}

void fpt_rec_close_events(struct fpt_perf_rec *r)
{
	for (size_t i = 0; i < r->nextra; i++)
		close(r->extra_fds[i]);
	free(r->extra_fds);
	r->extra_fds = NULL;
	r->nextra = 0;
	for (size_t i = 0; i < r->nrings; i++) {
		fpt_ring_unmap(&r->rings[i]);
		close(r->rings[i].fd);
	}
	free(r->rings);
	r->rings = NULL;
	r->nrings = 0;
}

size_t fpt_rec_drain_once(struct fpt_perf_rec *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nrings; i++)
		n += fpt_ring_drain(&r->rings[i], &r->dec);
	fpt_decoder_end_round(&r->dec);
	return n;
}

void fpt_rec_drain(struct fpt_perf_rec *r)
{
	while (fpt_rec_drain_once(r))
		;
	fpt_decoder_flush(&r->dec);
}

void fpt_rec_disable(struct fpt_perf_rec *r)
{
	for (size_t i = 0; i < r->nrings; i++)
		ioctl(r->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
	for (size_t i = 0; i < r->nextra; i++)
		ioctl(r->extra_fds[i], PERF_EVENT_IOC_DISABLE, 0);
}

/* ---------------------------------------------------------------------------
 * PROCESS, fallback mappings, END
 * ------------------------------------------------------------------------- */

/*
 * The child's [vdso], with the build-id of ours: the kernel maps one image
 * into every process, and the build-id lets the analysis check that the vDSO
 * it reads symbols and CFI from (its own) is the one the child ran.
 */
uint64_t fpt_rec_put_vdso_mapping(struct fpt_perf_rec *r, struct fpt_exec_stream *es,
				  uint64_t start, uint64_t end)
{
	struct fpu_vdso self;

	if (start == end || fpu_vdso_self(&self) != 0 ||
	    (!es && fpt_decoder_has_range(&r->dec, start, end)))
		return 0;
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_MAPPING;
	rec.u.mapping = (struct fpu_rec_mapping){
		.start = start, .end = end, .prot = PROT_READ | PROT_EXEC,
		.build_id_len = self.build_id_len, .build_id = self.build_id,
		.path_len = (uint32_t)strlen(FPU_VDSO_PATH), .path = FPU_VDSO_PATH };
	fpt_decoder_put_to(&r->dec, es, &rec);
	if (!es)
		fpt_decoder_add_range(&r->dec, start, end);
	return 1;
}

/* Executable file mappings from /proc/PID/maps that no MMAP2 record covered. */
uint64_t fpt_rec_put_proc_mappings(struct fpt_perf_rec *r, struct fpt_exec_stream *es,
				   const struct fpu_mapping *maps, size_t nmaps)
{
	uint64_t n = 0;
	for (size_t i = 0; i < nmaps; i++) {
		const struct fpu_mapping *m = &maps[i];
		if (!(m->prot & PROT_EXEC) || !m->path || m->path[0] != '/' ||
		    (!es && fpt_decoder_has_range(&r->dec, m->start, m->end)))
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
		fpt_decoder_put_to(&r->dec, es, &rec);
		if (!es)
			fpt_decoder_add_range(&r->dec, m->start, m->end);
		n++;
	}
	return n;
}

void fpt_rec_put_end(struct fpt_perf_rec *r, struct fpu_rec_end end)
{
	struct fpu_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = FPU_REC_END;
	rec.u.end = end;
	rec.u.end.samples = r->dec.samples;
	rec.u.end.drops = r->dec.lost;
	fpt_decoder_put(&r->dec, &rec);
}

/* ---------------------------------------------------------------------------
 * Status line
 * ------------------------------------------------------------------------- */


void fpt_status_update(struct fpt_status *s, const struct fpt_decoder *d, int force)
{
	if (!s->on)
		return;
	uint64_t t = fpt_now_ns(CLOCK_MONOTONIC);
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

void fpt_status_clear(struct fpt_status *s)
{
	if (s->on && s->shown && write(2, "\r\033[K", 4) < 0)
		s->on = 0;
}

