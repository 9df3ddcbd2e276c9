/*
 * syscall.c — Go's entersyscall family and the public syscall wrappers.
 *
 * Invariants (DESIGN.md "Syscalls and cgo"):
 *   - While gp->syscallsp != 0 the goroutine is G_SYSCALL, its frames at and
 *     above syscallsp are frozen and its stack must not move (copystack is
 *     fatal); a traceback from another thread starts at syscallpc and walks
 *     from syscallbp (traceback.c).
 *   - syscallsp and syscallbp lie inside [stack.lo, stack.hi] when recorded
 *     ("entersyscall inconsistent sp/bp" otherwise).  The bp check is seed 000's
 *     detector: a syscallbp kept untracked across a stack move points into the
 *     old stack (Go commit bacd0c58, golang/go#69085).
 *   - exitsyscall's caller is at or below syscallsp: a caller above it means
 *     syscallsp names a frame that has returned (seed 002, golang/go#7978).
 *
 * P handoff: entersyscall keeps the P for a short call, retakable
 * (P_SYSCALL): an M that needs a P and finds none idle takes it (Go's sysmon
 * retake, done by the waiter: there is no sysmon), so a goroutine that waits
 * in rt_cgocall for a foreign thread's callback does not hold the only P
 * from it; entersyscallblock hands it to another M at once, so a goroutine
 * blocked in rt_read/rt_nanosleep/rt_poll does not stop the others even with
 * one P.  exitsyscall takes the P back unless it was retaken, else an idle
 * one, else waits for one on this M.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

static struct rt_g *cur(void)
{
	struct rt_g *g = rt_getg();
	return g && !g->is_g0 ? g : NULL;
}

void rt_reentersyscall(uintptr_t pc, uintptr_t sp, uintptr_t bp, bool block)
{
	struct rt_g *gp = rt_getg();
	if (!gp || gp->is_g0)
		rt_fatal("entersyscall outside a goroutine (pc %#lx)", pc);
	if (sp < gp->stack.lo || sp > gp->stack.hi)
		rt_fatal("entersyscall inconsistent sp %#lx [%#lx, %#lx] (goroutine %llu, pc %#lx)",
			 sp, gp->stack.lo, gp->stack.hi, (unsigned long long)gp->goid, pc);
	/* bp == 0: no goroutine frames above (an extra M's goroutine). */
	bool checkbp = bp != 0;
#ifdef FPRT_CHECKED
	checkbp = checkbp && !rt_inject.syscallbp_nocheck;   /* seed 000, undetected */
#endif
	if (checkbp && (bp < gp->stack.lo || bp > gp->stack.hi))
		rt_fatal("entersyscall inconsistent bp %#lx [%#lx, %#lx] (goroutine %llu, sp %#lx, "
			 "pc %#lx)", bp, gp->stack.lo, gp->stack.hi, (unsigned long long)gp->goid,
			 sp, pc);
	gp->syscallpc = pc;
	gp->syscallbp = bp;
	gp->syscallsp = sp;
	rt_casgstatus_or_die(gp, G_RUNNING, G_SYSCALL);
	struct rt_m *m = gp->m;
	if (block) {
		struct rt_p *p = m->p;
		m->p = NULL;
		rt_handoffp(p);
	} else {
		rt_entersyscall_keepp(m);
	}
}

/* The caller's sp (rt.h), pc and bp (from this function's own frame record). */
#define CALLER_SP() RT_CALLER_SP()
#define CALLER_PC() ((uintptr_t)__builtin_return_address(0))
#define CALLER_BP() (*(uintptr_t *)__builtin_frame_address(0))

__attribute__((noinline)) void rt_entersyscall(void)
{
	rt_reentersyscall(CALLER_PC(), CALLER_SP(), CALLER_BP(), false);
}

__attribute__((noinline)) void rt_entersyscallblock(void)
{
	rt_reentersyscall(CALLER_PC(), CALLER_SP(), CALLER_BP(), true);
}

__attribute__((noinline)) void rt_exitsyscall(void)
{
	struct rt_g *gp = rt_getg();
	uintptr_t sp = CALLER_SP();
	if (sp > gp->syscallsp)
		rt_fatal("exitsyscall: syscall frame is no longer valid (caller sp %#lx above "
			 "syscallsp %#lx, goroutine %llu)", sp, gp->syscallsp,
			 (unsigned long long)gp->goid);
	struct rt_m *m = gp->m;
	if (!m->p && !rt_exitsyscall_oldp(m))
		rt_acquirep_wait(m);
	/* casgstatus waits while a traceback holds G_SCAN: the walk of our
	 * syscall frames finishes before they change. */
	if (!rt_casgstatus(gp, G_SYSCALL, G_RUNNING))
		rt_fatal("exitsyscall: goroutine %llu is %s, not in a syscall",
			 (unsigned long long)gp->goid, rt_gstatus_name(rt_readgstatus(gp)));
	gp->syscallsp = 0;
	gp->syscallpc = 0;
	gp->syscallbp = 0;
}

/* ---- public wrappers: blocking calls hand the P off --------------------- */

long rt_read(int fd, void *buf, size_t n)
{
	if (!cur())
		return read(fd, buf, n);
	rt_entersyscallblock();
	long r = read(fd, buf, n);
	int e = errno;
	rt_exitsyscall();
	errno = e;
	return r;
}

long rt_write(int fd, const void *buf, size_t n)
{
	if (!cur())
		return write(fd, buf, n);
	rt_entersyscallblock();
	long r = write(fd, buf, n);
	int e = errno;
	rt_exitsyscall();
	errno = e;
	return r;
}

int rt_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (!cur())
		return nanosleep(req, rem);
	rt_entersyscallblock();
	int r = nanosleep(req, rem);
	int e = errno;
	rt_exitsyscall();
	errno = e;
	return r;
}

int rt_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	if (!cur())
		return poll(fds, (nfds_t)nfds, timeout_ms);
	rt_entersyscallblock();
	int r = poll(fds, (nfds_t)nfds, timeout_ms);
	int e = errno;
	rt_exitsyscall();
	errno = e;
	return r;
}
