/*
 * prof_writer.c — the profiler's writer thread: drains every M's ring into the
 * .fpt file, writes the process, its file mappings (again whenever
 * /proc/self/maps changes: dlopen) and its threads, counts drops, and takes
 * wall samples: every goroutine that is not on a CPU, from its saved sched,
 * held with the G_SCAN bit so that no M resumes it while its stack is copied.
 *
 * It is a plain pthread, not an M: it never runs goroutines, blocks every
 * signal, and may allocate.  At exit an atexit handler stops it and drains what
 * is left, so a program that returns or calls exit() loses nothing; one killed
 * outright leaves a file that is complete up to the last record written
 * (fptrace then appends how it ended).
 *
 * A write that fails (a full disk) stops the writing: the writer has cut the
 * file back to its last whole record, and every sample from then on is counted
 * as lost.  At exit the path, the error and that count go to fptrace as one
 * line on the fd FPTRACE_STATUS_FD names (or to stderr without one), and
 * fptrace exits 1 with it: a profile that silently holds half the samples is
 * the failure this avoids.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fpu_record.h"
#include "fpu_vdso.h"
#include "prof.h"
#include "rt.h"
#include "san.h"

#define DRAIN_INTERVAL_NS 10000000ull
/*
 * /proc/self/maps is checked for new mappings (dlopen) at most once a second,
 * and no more often than every MAPS_COST_SHARE times what the last check cost:
 * the kernel prints a line per mapping, and with 10,000 goroutine stacks
 * (20,000 lines) a check costs milliseconds, a percent of a CPU at once a
 * second.  The exit's check still sees every mapping left.
 */
#define MAPS_INTERVAL_NS 1000000000ull
#define MAPS_COST_SHARE 1000

static struct {
	struct fpu_writer w;
	int ok;                    /* 0 once a write failed: stop writing */
	int err;                   /* errno of that write */
	uint64_t lost;             /* samples not written because of it */
	const char *path;
	int status_fd;             /* FPTRACE_STATUS_FD, or -1 */
	pthread_t thread;
	pthread_mutex_t lock;      /* with wake: lets exit stop the writer at once */
	pthread_cond_t wake;
	int stop;                  /* under lock */
	uint64_t maps_hash;
	uint8_t *buf;              /* wall samples, encoded before writing */
	size_t cap, len;
	uint64_t next_wall_ns;
	uint64_t next_maps_ns;
	struct rt_prof_wall wall;  /* the round-robin's place (prof_wall.c) */
	uint64_t wall_dropped;
} W;

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void write_failed(void)
{
	W.ok = 0;
	W.err = errno ? errno : EIO;
}

static void put(const struct fpu_record *rec)
{
	if (W.ok && fpu_writer_put(&W.w, rec) != 0)
		write_failed();
}

/* The SAMPLE records in a run of whole encoded records. */
static uint64_t samples_in(const uint8_t *p, size_t len)
{
	uint64_t n = 0;
	for (size_t off = 0; off + FPU_REC_HEADER_SIZE <= len;) {
		uint32_t type, rlen;
		memcpy(&type, p + off, sizeof type);   /* a record starts with its type */
		memcpy(&rlen, p + off + 4, sizeof rlen);
		n += type == FPU_REC_SAMPLE;
		off += FPU_REC_HEADER_SIZE + (((size_t)rlen + 7) & ~(size_t)7);
	}
	return n;
}

/* One run of records from a ring (rt_prof_ring_drain): one write. */
static int emit(const void *recs, size_t len, void *arg)
{
	(void)arg;
	if (W.ok && fpu_writer_put_encoded(&W.w, recs, len) != 0)
		write_failed();
	if (!W.ok)
		W.lost += samples_in(recs, len);
	return 0;   /* a failed write drops the data: never block the producers */
}

/* The whole content of a small /proc file, NUL-terminated; caller frees. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t got;
	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((got = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)got;
		if (cap - n - 1 == 0) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Which CPU sample source ran: a reader must not take a timer's rate for
 * the asked one. */
static void write_sampling(void)
{
	struct fpu_record rec = { .type = FPU_REC_SAMPLING };
	rec.u.sampling = (struct fpu_rec_sampling){
		.cpu_source = rt_prof.cpu_source, .perf_errno = rt_prof.perf_errno,
		.timer_threads = atomic_load_explicit(&rt_prof.timer_threads, memory_order_relaxed),
		.wall_cap = rt_prof.wall_cap };
	put(&rec);
}

static void write_process(void)
{
	struct fpu_record rec = { .type = FPU_REC_PROCESS };
	struct fpu_rec_process *p = &rec.u.process;
	char exe[4096];
	size_t cmdlen = 0;
	struct timespec rt;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *cmd = slurp("/proc/self/cmdline", &cmdlen);

	clock_gettime(CLOCK_REALTIME, &rt);
	p->pid = (uint32_t)getpid();
	p->sample_hz = rt_prof.hz;
	p->wall_hz = rt_prof.wall_hz;
	p->snapshot_max = rt_prof.snapshot_max;
	p->start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
	p->start_monotonic_ns = now_ns();
	p->exe = exe;
	p->exe_len = n > 0 ? (uint32_t)n : 0;
	p->cmdline = cmd ? cmd : "";
	p->cmdline_len = cmd && cmdlen <= FPU_REC_MAX_CMDLINE ? (uint32_t)cmdlen : 0;
	put(&rec);
	free(cmd);
	write_sampling();
}

/* Every file mapping, when /proc/self/maps changed since the last look. */
static void write_mappings(void)
{
	size_t len;
	char *maps = slurp("/proc/self/maps", &len), *line, *save = NULL;
	if (!maps)
		return;
	/* Only file mappings count: stacks and rings come and go all the time. */
	uint64_t h = 1469598103934665603ull;
	for (char *l = maps; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		/* The '/' searched for within the line: from a line without one
		 * (every goroutine stack) strchr ran on to the next file mapping,
		 * quadratic in the mappings (15% of a run with 10,000 goroutines). */
		char *end = strchr(l, '\n');
		char *slash = memchr(l, '/', end ? (size_t)(end - l) : strlen(l));
		if (!slash)
			continue;
		for (char *c = l; c < (end ? end : l + strlen(l)); c++)
			h = (h ^ (uint8_t)*c) * 1099511628211ull;
	}
	if (h == W.maps_hash) {
		free(maps);
		return;
	}
	W.maps_hash = h;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct fpu_maps_line l;
		if (fpu_maps_parse_line(line, &l) != 0)
			continue;
		/* The vDSO has no file: its build-id lets the analysis read it
		 * from its own vDSO when that is the same image. */
		struct fpu_vdso vdso;
		int is_vdso = strcmp(l.path, FPU_VDSO_PATH) == 0 && fpu_vdso_self(&vdso) == 0;
		if (l.path[0] != '/' && !is_vdso)
			continue;
		struct fpu_record rec = { .type = FPU_REC_MAPPING };
		struct fpu_rec_mapping *m = &rec.u.mapping;
		if (is_vdso) {
			m->build_id = vdso.build_id;
			m->build_id_len = vdso.build_id_len;
		}
		m->start = l.start;
		m->end = l.end;
		m->offset = l.pgoff;
		m->prot = l.prot;
		m->path = l.path;
		m->path_len = (uint32_t)(l.path_len < FPU_REC_MAX_PATH ? l.path_len : FPU_REC_MAX_PATH);
		put(&rec);
	}
	free(maps);
}

static void write_thread(struct rt_m *m)
{
	char name[32];
	struct fpu_record rec = { .type = FPU_REC_THREAD };
	snprintf(name, sizeof name, "M%lld", (long long)m->id);
	rec.u.thread = (struct fpu_rec_thread){ .tid = (uint32_t)m->tid,
						 .m_id = (uint64_t)m->id + 1,
						 .time_ns = now_ns(), .name = name,
						 .name_len = (uint32_t)strlen(name) };
	put(&rec);
}

static void write_drops(uint32_t tid, uint64_t m_id, uint64_t dropped)
{
	struct fpu_record rec = { .type = FPU_REC_DROPS };
	rec.u.drops = (struct fpu_rec_drops){ .tid = tid, .m_id = m_id, .dropped = dropped,
					      .time_ns = now_ns() };
	put(&rec);
}

static void drain_all(void)
{
	for (struct rt_m *m = __atomic_load_n(&rt_sched.allm, __ATOMIC_ACQUIRE); m;
	     m = m->alllink) {
		struct rt_prof_m *pm = __atomic_load_n(&m->prof, __ATOMIC_ACQUIRE);
		if (!pm)
			continue;
		if (!pm->thread_reported) {
			write_thread(m);
			pm->thread_reported = 1;
		}
		rt_prof_ring_drain(&pm->events, emit, NULL);
		rt_prof_ring_drain(&pm->ring, emit, NULL);
		uint64_t d = atomic_load_explicit(&pm->dropped, memory_order_relaxed);
		if (d != pm->dropped_reported) {
			write_drops((uint32_t)m->tid, (uint64_t)m->id + 1, d - pm->dropped_reported);
			pm->dropped_reported = d;
		}
	}
}

/*
 * Encode one wall sample of a goroutine that is not on a CPU into W.buf.  A
 * parked or runnable one is unwound from its sched (callee-saved registers
 * included); one in a syscall or in C from syscallpc/sp/bp, the path a stale
 * syscallbp would poison (seed 000): its callee-saved registers are not
 * known, which DWARF does not need while rbp and rsp find every CFA.
 */
static void wall_sample(struct rt_g *gp, uint32_t status, uint64_t weight_ns, void *arg)
{
	uintptr_t pcs[256];
	struct fpu_walk_result res;
	struct fpu_region stack = { .lo = gp->stack.lo, .hi = gp->stack.hi,
				    .owner = gp->goid, .kind = FPU_REGION_GOROUTINE };
	struct fpu_ctx ctx = { .fixed = &stack, .nfixed = 1,
			       .transitions = &rt_fpu_transitions,
			       .graveyard = &rt_fpu_graveyard };
	struct fpu_sample s;
	const struct rt_gobuf *b = &gp->sched;
	int in_syscall = status == G_SYSCALL;
	uintptr_t pc = in_syscall ? gp->syscallpc : b->pc;
	uintptr_t sp = in_syscall ? gp->syscallsp : b->sp;
	uintptr_t bp = in_syscall ? gp->syscallbp : b->bp;

	/* An extra M's goroutine in C has no goroutine frames to walk. */
	if (in_syscall && !gp->syscallpc)
		return;
	memset(&s, 0, sizeof s);
	s.regs[FPU_REG_RIP] = pc;
	s.regs[FPU_REG_RSP] = sp;
	s.regs[FPU_REG_RBP] = bp;
#if defined(__aarch64__)
	if (!in_syscall)
		for (unsigned r = 19; r <= 28; r++)
			s.regs[fpu_a64_slot(r)] = b->x19_x28[r - 19];
#else
	if (!in_syscall) {
		s.regs[FPU_REG_RBX] = b->rbx;
		s.regs[FPU_REG_R12] = b->r12;
		s.regs[FPU_REG_R13] = b->r13;
		s.regs[FPU_REG_R14] = b->r14;
		s.regs[FPU_REG_R15] = b->r15;
	}
#endif
	size_t n = fpu_walk_from(&ctx, pc, sp, bp, pcs, 256, &res);
	s.time_ns = now_ns();
	s.kind = FPU_SAMPLE_WALL;
	s.g_id = gp->goid;
	s.g_status = in_syscall ? FPU_G_SYSCALL
		     : status == G_RUNNABLE ? FPU_G_RUNNABLE : FPU_G_WAITING;
	s.sp_kind = FPU_REGION_GOROUTINE;
	s.weight = weight_ns;
	rt_prof_set_chain(&s, pcs, n, &res);
	rt_prof_add_segment(&s, &stack, 1, sp);
	size_t need = fpu_rec_sample_size(&s);
	if (need && W.len + need > W.cap) {
		size_t cap = W.cap ? W.cap * 2 : 1 << 20;
		while (cap < W.len + need)
			cap *= 2;
		uint8_t *p = realloc(W.buf, cap);
		if (p) {
			W.buf = p;
			W.cap = cap;
		}
	}
	if (!need || W.len + need > W.cap) {
		W.wall_dropped++;
		return;
	}
	rt_san_racy_copy_begin();
	size_t put = fpu_rec_encode_sample(W.buf + W.len, need, &s);
	rt_san_racy_copy_end();
	if (put != need) {
		W.wall_dropped++;
		return;
	}
	W.len += need;
	(*(uint64_t *)arg)++;
}

static void wall_samples(void)
{
	uint64_t n = 0;
	W.len = 0;
	/* wall_sample counts what it encodes into n: lost if the file failed */
	rt_prof_wall_tick(&W.wall, rt_prof.wall_cap, now_ns(), wall_sample, &n);
	if (W.len && W.ok && fpu_writer_put_encoded(&W.w, W.buf, W.len) != 0)
		write_failed();
	if (!W.ok)
		W.lost += n;
}

/* The one line fptrace turns into its error: path, error, samples lost. */
static void report_write_failure(void)
{
	char line[600];
	int n = snprintf(line, sizeof line, "%s: %s (the file holds the %llu bytes written "
			 "before); %llu samples lost\n", W.path, strerror(W.err),
			 (unsigned long long)W.w.offset, (unsigned long long)W.lost);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	if (W.status_fd < 0 || write(W.status_fd, line, (size_t)n) != n)
		(void)!write(2, line, (size_t)n);
}

static void *writer_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)DRAIN_INTERVAL_NS;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&W.lock);
		while (!W.stop && pthread_cond_timedwait(&W.wake, &W.lock, &until) == 0)
			;
		int stop = W.stop;
		pthread_mutex_unlock(&W.lock);
		if (stop)
			break;
		drain_all();
		if (rt_prof.wall_hz && now_ns() >= W.next_wall_ns) {
			/* On a schedule, not from now: the writer wakes every drain
			 * interval, and "now + period" would tick at half the rate. */
			uint64_t period = 1000000000ull / rt_prof.wall_hz;
			W.next_wall_ns = W.next_wall_ns + period > now_ns() ? W.next_wall_ns + period
									     : now_ns() + period;
			wall_samples();
		}
		if (now_ns() >= W.next_maps_ns) {
			uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			write_mappings();
			uint64_t cost = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) * MAPS_COST_SHARE;
			W.next_maps_ns = now_ns() + (cost > MAPS_INTERVAL_NS ? cost : MAPS_INTERVAL_NS);
		}
	}
	return NULL;
}

static void flush_at_exit(void)
{
	/* Wake the writer rather than wait out its sleep: exit is not delayed. */
	pthread_mutex_lock(&W.lock);
	W.stop = 1;
	pthread_cond_signal(&W.wake);
	pthread_mutex_unlock(&W.lock);
	pthread_join(W.thread, NULL);
	drain_all();
	write_mappings();
	if (W.wall_dropped)
		write_drops(0, 0, W.wall_dropped);
	if (atomic_load_explicit(&rt_prof.timer_threads, memory_order_relaxed))
		write_sampling();   /* the last one wins */
	if (fpu_writer_close(&W.w) != 0 && W.ok)
		write_failed();
	if (!W.ok)
		report_write_failure();
}

int rt_prof_writer_start(const char *path)
{
	if (fpu_writer_open(&W.w, path) != 0)
		return -1;
	W.path = path;
	/* fptrace's pipe: kept from the program's own children */
	W.status_fd = (int)rt_env_int("FPTRACE_STATUS_FD", -1);
	if (W.status_fd >= 0 && fcntl(W.status_fd, F_SETFD, FD_CLOEXEC) != 0)
		W.status_fd = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&W.wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&W.lock, NULL);
	W.ok = 1;
	W.wall.last_ns = now_ns();
	W.next_wall_ns = W.wall.last_ns + (rt_prof.wall_hz ? 1000000000ull / rt_prof.wall_hz : 0);
	W.next_maps_ns = W.wall.last_ns + MAPS_INTERVAL_NS;
	write_process();
	write_mappings();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&W.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -1;
	pthread_setname_np(W.thread, "fprt-writer");   /* benchmarks find it by name */
	atexit(flush_at_exit);
	return 0;
}
