/*
 * proc.c — runtime start (rt_main), Ms and their threads (Go's newm/mstart).
 *
 * rt_main does not turn the calling thread into an M: the caller's thread only
 * waits for the main goroutine, which lets rt_main return its status (an
 * embedded runtime must give control back; Go would exit instead) while every M runs on a thread whose
 * g0 stack fprt allocated, so that g0 bounds are exact.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

#define G0_STACK (256 * 1024)
#define SIG_STACK (64 * 1024)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int64_t mgen;

static void init(void)
{
	rt_env_init();
	int n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	rt_sched.nprocs = rt_env_int("FPRT_MAXPROCS", n > 0 ? n : 1);
	if (rt_sched.nprocs > 256)
		rt_sched.nprocs = 256;
	size_t ss = (size_t)rt_env_int("FPRT_STACK", 16384);
	size_t pow = 4096;
	while (pow < ss)
		pow *= 2;
	if (pow < (size_t)RT_STACK_RESERVE * 4)
		pow = (size_t)RT_STACK_RESERVE * 4;
	rt_stack_default = pow;
	rt_sched.allp = calloc((size_t)rt_sched.nprocs, sizeof(struct rt_p));
	if (!rt_sched.allp)
		rt_fatal("out of memory allocating %d Ps", rt_sched.nprocs);
	for (int i = rt_sched.nprocs; i-- > 0;) {
		rt_sched.allp[i].id = i;
		rt_sched.allp[i].link = rt_sched.pidle;
		rt_sched.pidle = &rt_sched.allp[i];
	}
	atomic_store(&rt_sched.npidle, rt_sched.nprocs);
	rt_unwind_init();
	rt_signals_init();
	rt_timers_init();
	rt_prof_init();
}

void rt_init_once(void) { pthread_once(&once, init); }

/* On the new M's g0 stack, BP = 0 (rt_mstart_asm). */
static _Noreturn void mstart1(struct rt_m *m)
{
	/* The sanitizers learn of the switch first thing on g0, not before
	 * rt_mstart_asm: ASan's __asan_handle_no_return, which GCC puts before
	 * that noreturn call, would otherwise see the pthread stack's sp with
	 * g0's top ("ASan is ignoring requested __asan_handle_no_return"). */
	rt_san_mstart(m);
	/* mcall/systemstack start here: 16 bytes below the top, so that sp
	 * right after a switch to g0 lies inside g0's region [lo, hi), where the
	 * profiler finds it (at sp == hi it would copy no stack at all) */
#if defined(__aarch64__)
	/* arm64: runtime code on g0 starts right below this function's frame
	 * record, which stays intact (mstart1 never returns), and g0.sched.bp
	 * names it: the frame that entered the scheduler on g0, the way Go's
	 * g0.sched.bp names the frame that last used g0.  Only the injected
	 * seed 003 reads it (arch/arm64/mcall.S). */
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	m->g0->sched.sp = fp & ~(uintptr_t)15;
	m->g0->sched.bp = fp;
#else
	m->g0->sched.sp = m->g0->stack.hi - 16;
#endif
	rt_m_regions_set(m, NULL);
	if (m->nextp) {
		struct rt_p *p = m->nextp;
		m->nextp = NULL;
		m->p = p;
		p->m = m;
	} else {
		rt_stopm(m);
	}
	rt_schedule();
}

static void *mstart_thread(void *arg)
{
	struct rt_m *m = arg;
	m->tid = (pid_t)syscall(SYS_gettid);
	/* Until mstart1 publishes g0's stack, the thread runs on its pthread
	 * stack: a sample taken there walks and unwinds it (rt_mstart_asm). */
	pthread_attr_t attr;
	void *lo;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
			struct fpu_region r = { .lo = (uintptr_t)lo, .hi = (uintptr_t)lo + size,
						.owner = (uint64_t)m->id, .kind = FPU_REGION_THREAD };
			fpu_regions_replace(&m->regions, &r, 1);
		}
		pthread_attr_destroy(&attr);
	}
	rt_setg(m->g0);
	rt_minit_signals(m);
	rt_prof_minit(m);
	rt_mstart_asm(m, m->g0->stack.hi, (void (*)(struct rt_m *))mstart1);
}

void rt_newm(struct rt_p *p, bool spinning)
{
	struct rt_m *m = calloc(1, sizeof *m);
	struct rt_g *g0 = calloc(1, sizeof *g0);
	if (!m || !g0)
		rt_fatal("out of memory allocating an M");
	m->id = atomic_fetch_add(&mgen, 1);
	g0->is_g0 = true;
	g0->m = m;
	g0->stack = rt_sysstack_alloc(G0_STACK);
	rt_stack_init_g(g0);
	atomic_store(&g0->status, G_RUNNING);
	m->g0 = g0;
	m->sigstack = rt_sysstack_alloc(SIG_STACK);
	m->nextp = p;
	m->spinning = spinning;
	fpu_regions_init(&m->regions);

	rt_lock(&rt_sched.lock);
	m->alllink = rt_sched.allm;
	/* Release: the profile writer walks allm without the lock. */
	__atomic_store_n(&rt_sched.allm, m, __ATOMIC_RELEASE);
	rt_sched.mcount++;
	rt_unlock(&rt_sched.lock);

	/* The pthread stack only runs mstart_thread up to the switch to g0. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Threads start with every signal blocked but the synchronous ones, so
	 * SIGQUIT & co. go to a thread that has its signal stack ready. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int err = pthread_create(&t, &attr, mstart_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		rt_fatal("pthread_create for M%lld failed: %s", (long long)m->id, strerror(err));
}

/* ---- rt_main ---------------------------------------------------------------- */

struct mainarg {
	int (*fn)(int, char **);
	int argc;
	char **argv;
	int status;
	_Atomic uint32_t done;
};

static void main_g(void *arg)
{
	struct mainarg *a = arg;
	a->status = a->fn(a->argc, a->argv);
	atomic_store(&a->done, 1);
	rt_futex_wake(&a->done, 1);
}

int rt_main(int (*fn)(int, char **), int argc, char **argv)
{
	rt_init_once();
	struct mainarg a = { fn, argc, argv, 0, 0 };
	atomic_fetch_add(&rt_sched.nmain, 1);
	rt_go(main_g, &a);
	while (atomic_load(&a.done) == 0)
		rt_futex_wait(&a.done, 0, -1);
	atomic_fetch_sub(&rt_sched.nmain, 1);
	return a.status;
}
