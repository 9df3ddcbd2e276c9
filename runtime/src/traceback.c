/*
 * traceback.c — goroutine tracebacks on libfpunwind, printed like Go's:
 *
 *   goroutine 7 [chan receive]:
 *   worker+0x2a
 *   	/path/to/prog pc=0x55d0c3a1b2ea
 *   ...
 *
 * A goroutine that is not running is traced from sched.pc plus the FP walk from
 * sched.bp, holding the G_SCAN status bit so that no M resumes it meanwhile
 * (Go's suspendG).  A goroutine running on another M is not traced (Go says the
 * same).  Every walk is fpu_walk_checked: a broken chain is reported with its
 * end reason instead of being followed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"
#include "symtab.h"

#define MAXFRAMES 64

void rt_printf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	for (int off = 0; n > 0 && off < n;) {
		ssize_t w = write(fd, buf + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += (int)w;
	}
}

/* A return address points after the call: look up pc-1 so that a call at the
 * very end of a function is not attributed to the next one; the offset printed
 * is pc's own. */
static const char *lookup(uintptr_t pc, uintptr_t *off, const char **module)
{
	const char *name = rt_symtab_lookup(pc ? pc - 1 : 0, off, module);
	if (pc)
		*off += 1;
	return name;
}

void rt_symbolize(uintptr_t pc, char *buf, size_t len)
{
	uintptr_t off;
	const char *mod, *name = lookup(pc, &off, &mod);
	if (name)
		snprintf(buf, len, "%s+%#lx", name, off);
	else
		snprintf(buf, len, "%s+%#lx", strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod, off);
}

/* The runtime's own printing frames at the top of the current goroutine's
 * trace say nothing: start at the frame that asked for the traceback. */
static size_t skip_own(const uintptr_t *pcs, size_t n)
{
	static const char *const own[] = { "die", "vfatal", "rt_fatal", "rt_traceback",
					   "rt_traceback_all", "rt_traceback_goid" };
	size_t i = 0;
	for (; i < n; i++) {
		uintptr_t off;
		const char *mod, *name = lookup(pcs[i], &off, &mod);
		size_t k = 0;
		while (name && k < sizeof own / sizeof own[0] && strcmp(name, own[k]) != 0)
			k++;
		if (!name || k == sizeof own / sizeof own[0])
			break;
	}
	return i < n ? i : 0;
}

static void print_frames(int fd, const uintptr_t *pcs, size_t n,
			 const struct fpu_walk_result *res)
{
	for (size_t i = 0; i < n; i++) {
		uintptr_t off;
		const char *mod, *name = lookup(pcs[i], &off, &mod);
		rt_printf(fd, "%s+%#lx\n\t%s pc=%#lx\n", name ? name : "?", off, mod, pcs[i]);
	}
	if (res->end != FPU_END_CLEAN)
		rt_printf(fd, "...chain ended: %s (fp %#lx, region %s [%#lx, %#lx))\n",
			  fpu_end_name(res->end), res->fp,
			  fpu_region_kind_name((enum fpu_region_kind)res->from.kind),
			  res->from.lo, res->from.hi);
}

static void header(int fd, struct rt_g *gp, uint32_t status)
{
	if (gp->is_g0)
		rt_printf(fd, "goroutine 0 [g0 of M%lld]:\n", (long long)gp->m->id);
	else if (gp->waitreason && (status & ~(uint32_t)G_SCAN) == G_WAITING)
		rt_printf(fd, "goroutine %llu [%s]:\n", (unsigned long long)gp->goid,
			  gp->waitreason);
	else
		rt_printf(fd, "goroutine %llu [%s]:\n", (unsigned long long)gp->goid,
			  rt_gstatus_name(status));
}

/* The FP walk of a goroutine that is parked: its own stack only.  In a
 * syscall or in C (G_SYSCALL) it starts at syscallpc and walks from syscallbp
 * (DESIGN.md; a stale syscallbp ends the walk as "stale", seed 000). */
static size_t walk_parked(struct rt_g *gp, uintptr_t *pcs, size_t max,
			  struct fpu_walk_result *res)
{
	struct fpu_region r = { .lo = gp->stack.lo, .hi = gp->stack.hi, .owner = gp->goid,
				.kind = FPU_REGION_GOROUTINE };
	struct fpu_ctx ctx = { .fixed = &r, .nfixed = 1,
			       .transitions = &rt_fpu_transitions,
			       .graveyard = &rt_fpu_graveyard };
	if ((rt_readgstatus(gp) & ~(uint32_t)G_SCAN) == G_SYSCALL) {
		if (!gp->syscallpc) {       /* an extra M's goroutine: only C frames */
			memset(res, 0, sizeof *res);
			res->end = FPU_END_CLEAN;
			return 0;
		}
		return fpu_walk_from(&ctx, gp->syscallpc, gp->syscallsp, gp->syscallbp, pcs,
				     max, res);
	}
	return fpu_walk_from(&ctx, gp->sched.pc, gp->sched.sp, gp->sched.bp, pcs, max, res);
}

/* Go's suspendG for a G that is not running: hold G_SCAN while walking. */
static long walk_other(struct rt_g *gp, uintptr_t *pcs, size_t max,
		       struct fpu_walk_result *res, uint32_t st)
{
	if (!rt_casgstatus(gp, st, st | G_SCAN))
		return -1;
	long n = (long)walk_parked(gp, pcs, max, res);
	atomic_fetch_and(&gp->status, ~(uint32_t)G_SCAN);
	return n;
}

long rt_goroutine_pcs(uint64_t goid, uintptr_t *pcs, size_t max,
		      struct fpu_walk_result *res, const char **status)
{
	rt_lock(&rt_sched.glock);
	struct rt_g *gp;
	for (gp = rt_sched.allgs; gp; gp = gp->alllink)
		if (gp->goid == goid && rt_readgstatus(gp) != G_DEAD)
			break;
	rt_unlock(&rt_sched.glock);
	if (!gp)
		return -1;
	uint32_t st = rt_readgstatus(gp) & ~(uint32_t)G_SCAN;
	if (status)
		*status = rt_gstatus_name(st);
	if (st != G_WAITING && st != G_RUNNABLE && st != G_SYSCALL)
		return -1;
	return walk_other(gp, pcs, max, res, st);
}

void rt_traceback_g(int fd, struct rt_g *gp, const void *uc, bool current)
{
	uintptr_t pcs[MAXFRAMES];
	struct fpu_walk_result res;
	size_t n;
	uint32_t st = rt_readgstatus(gp);
	header(fd, gp, current ? G_RUNNING : st);
	if (current) {
		struct fpu_ctx ctx;
		rt_unwind_ctx(&ctx);
		if (uc) {
			n = fpu_walk_ucontext(&ctx, uc, pcs, MAXFRAMES, &res);
		} else {
			uintptr_t sp = rt_getsp();
			n = fpu_walk_checked(&ctx, sp, (uintptr_t)__builtin_frame_address(0),
					     pcs, MAXFRAMES, &res);
		}
		size_t skip = uc ? 0 : skip_own(pcs, n);
		print_frames(fd, pcs + skip, n - skip, &res);
		return;
	}
	/* A goroutine suspended by this M's own g0 (rt_mcall, rt_morestack) is
	 * still "running" but its sched is valid: trace it like a parked one. */
	struct rt_g *me = rt_getg();
	bool suspended_here = st == G_RUNNING && me && me->is_g0 && gp->m == me->m;
	if (st != G_WAITING && st != G_RUNNABLE && st != G_SYSCALL && !suspended_here) {
		rt_printf(fd, "\tgoroutine running on other thread; stack unavailable\n");
		return;
	}
	if (!rt_casgstatus(gp, st, st | G_SCAN)) {
		rt_printf(fd, "\tgoroutine changed state; stack unavailable\n");
		return;
	}
	n = walk_parked(gp, pcs, MAXFRAMES, &res);
	atomic_fetch_and(&gp->status, ~(uint32_t)G_SCAN);
	print_frames(fd, pcs, n, &res);
}

size_t rt_callers(uintptr_t *pcs, size_t max, struct fpu_walk_result *res)
{
	struct fpu_ctx ctx;
	uintptr_t sp = rt_getsp();
	rt_unwind_ctx(&ctx);
	return fpu_walk_checked(&ctx, sp, (uintptr_t)__builtin_frame_address(0), pcs, max, res);
}

void rt_traceback(int fd)
{
	struct rt_g *g = rt_getg();
	if (g)
		rt_traceback_g(fd, g, NULL, true);
}

int rt_traceback_goid(int fd, uint64_t goid)
{
	struct rt_g *me = rt_getg();
	if (me && !me->is_g0 && me->goid == goid) {
		rt_traceback_g(fd, me, NULL, true);
		return 0;
	}
	rt_lock(&rt_sched.glock);
	struct rt_g *gp;
	for (gp = rt_sched.allgs; gp; gp = gp->alllink)
		if (gp->goid == goid && rt_readgstatus(gp) != G_DEAD)
			break;
	rt_unlock(&rt_sched.glock);
	if (!gp)
		return -1;
	rt_traceback_g(fd, gp, NULL, false);
	return 0;
}

/* Everything but the caller's own goroutine (the caller prints that one first). */
void rt_traceback_others(int fd, struct rt_g *self)
{
	struct rt_g *gp = __atomic_load_n(&rt_sched.allgs, __ATOMIC_ACQUIRE);
	for (; gp; gp = gp->alllink) {
		uint32_t st = rt_readgstatus(gp) & ~(uint32_t)G_SCAN;
		if (gp == self || st == G_DEAD || st == G_IDLE)
			continue;
		rt_printf(fd, "\n");
		rt_traceback_g(fd, gp, NULL, false);
	}
}

void rt_traceback_all(int fd)
{
	struct rt_g *g = rt_getg();
	if (g)
		rt_traceback_g(fd, g, NULL, true);
	rt_traceback_others(fd, g);
}
