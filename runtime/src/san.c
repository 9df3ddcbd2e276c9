/*
 * san.c — the sanitizer fiber hooks declared in san.h.  Empty unless built
 * with -fsanitize=address or -fsanitize=thread.
 */
#include "san.h"

#ifdef RT_SAN_FIBERS
#include <stddef.h>

#include "rt.h"

#ifdef RT_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
void __lsan_register_root_region(const void *p, size_t size);
void __lsan_unregister_root_region(const void *p, size_t size);
#endif
#ifdef RT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);

/* Enter g0 (of m) at its top on a fresh fiber; see RT_SAN_G0_TOP.  The
 * previous fresh fiber is not the current one (we are on the goroutine's), so
 * it can go.  The thread's own fiber and one pinned by a callback never are
 * m->tsan_g0_fresh, so they are never destroyed. */
static void tsan_enter_g0_top(struct rt_m *m, struct rt_g *g0)
{
	void *old = m->tsan_g0_fresh;
	void *fresh = __tsan_create_fiber(0);

	__tsan_switch_to_fiber(fresh, 0);
	if (old)
		__tsan_destroy_fiber(old);
	m->tsan_g0_fresh = fresh;
	g0->tsan_fiber = fresh;
}
#endif

/* The bounds of the stack `to` runs on, as the sanitizer should know them.
 * g0: the M's recorded bounds (exact for fprt's Ms; for an extra M the foreign
 * thread's stack as ASan knew it when the callback came in, not fprt's
 * estimate of it). */
__attribute__((unused)) static void bounds(struct rt_g *to, uintptr_t *lo, uintptr_t *hi)
{
	if (to->is_g0 && to->m && to->m->san_g0_hi) {
		*lo = to->m->san_g0_lo;
		*hi = to->m->san_g0_hi;
		return;
	}
	*lo = to->stack.lo;
	*hi = to->stack.hi;
}

void rt_san_switch(struct rt_g *from, struct rt_g *to, unsigned flags)
{
#ifdef RT_ASAN
	uintptr_t lo, hi;
	bounds(to, &lo, &hi);
	__sanitizer_start_switch_fiber(from && !(flags & RT_SAN_DEAD) ? &from->san_fake : NULL,
				       (const void *)lo, hi - lo);
	__sanitizer_finish_switch_fiber(to->san_fake, NULL, NULL);
#endif
#ifdef RT_TSAN
	(void)from;
	if ((flags & RT_SAN_G0_TOP) && to->is_g0 && to->m) {
		tsan_enter_g0_top(to->m, to);
		return;
	}
	if (!to->tsan_fiber)
		to->tsan_fiber = to->is_g0 ? __tsan_get_current_fiber() : __tsan_create_fiber(0);
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
}

/* rt_mstart_asm leaves the pthread stack for good: the thread's fiber is g0. */
void rt_san_mstart(struct rt_m *m)
{
	struct rt_g *g0 = m->g0;
	m->san_g0_lo = g0->stack.lo;
	m->san_g0_hi = g0->stack.hi;
#ifdef RT_ASAN
	__sanitizer_start_switch_fiber(NULL, (const void *)g0->stack.lo,
				       g0->stack.hi - g0->stack.lo);
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
#ifdef RT_TSAN
	g0->tsan_fiber = __tsan_get_current_fiber();
#endif
}

/*
 * rt_cgocallback, on g0 (which may be a foreign thread's stack, or a stack
 * the foreign code switched to): record g0 as the sanitizer knows it right
 * now, then announce the switch to the M's goroutine.  Nested callbacks save
 * and restore the record, like the g0 bounds themselves.
 */
void rt_san_cb_enter(struct rt_m *m, struct rt_san_cb *save)
{
	struct rt_g *g0 = m->g0, *gp = m->curg;
	save->lo = m->san_g0_lo;
	save->hi = m->san_g0_hi;
	save->fiber = g0->tsan_fiber;
#ifdef RT_ASAN
	const void *olo;
	size_t osize;
	__sanitizer_start_switch_fiber(&g0->san_fake, (const void *)gp->stack.lo,
				       gp->stack.hi - gp->stack.lo);
	__sanitizer_finish_switch_fiber(gp->san_fake, &olo, &osize);
	m->san_g0_lo = (uintptr_t)olo;
	m->san_g0_hi = (uintptr_t)olo + osize;
#else
	m->san_g0_lo = g0->stack.lo;
	m->san_g0_hi = g0->stack.hi;
#endif
#ifdef RT_TSAN
	/* Pin: the fiber we are on holds the C frames this callback returns to. */
	save->fresh = m->tsan_g0_fresh;
	m->tsan_g0_fresh = NULL;
	g0->tsan_fiber = save->pinned = __tsan_get_current_fiber();
	if (!gp->tsan_fiber)
		gp->tsan_fiber = __tsan_create_fiber(0);
	__tsan_switch_to_fiber(gp->tsan_fiber, 0);
#endif
}

/*
 * Back to the C frames on g0: to the fiber rt_san_cb_enter pinned, not to
 * g0's latest fiber (the callback's goroutine may have entered g0 from the
 * top meanwhile, on fresh fibers that hold none of the C frames).
 */
void rt_san_cb_exit(struct rt_m *m, const struct rt_san_cb *save)
{
#ifdef RT_TSAN
	void *fresh = m->tsan_g0_fresh;
	m->g0->tsan_fiber = save->pinned;
	m->tsan_g0_fresh = save->fresh;
#endif
	rt_san_switch(m->curg, m->g0, 0);
#ifdef RT_TSAN
	if (fresh)
		__tsan_destroy_fiber(fresh);
#endif
	m->san_g0_lo = save->lo;
	m->san_g0_hi = save->hi;
	m->g0->tsan_fiber = save->fiber;
}

/*
 * A copy of a goroutine's stack that races by design: the wall sampler
 * snapshots a parked goroutine's stack, and a CPU sample the interrupted
 * stack (and any its chain crossed into), while other threads may write the
 * shared objects that live on it (a channel send writes straight into a
 * parked receiver's slot, as Go's sendDirect does; locks and wait groups can
 * live on a stack).  The frame records the unwinder needs are not written by
 * other threads; a torn data word in the snapshot is harmless.  TSan is told
 * not to track this thread's accesses for the copy (safe in a signal handler:
 * it only counts, per thread).
 */
void rt_san_racy_copy_begin(void)
{
#ifdef RT_TSAN
	__tsan_ignore_thread_begin();
#endif
}

void rt_san_racy_copy_end(void)
{
#ifdef RT_TSAN
	__tsan_ignore_thread_end();
#endif
}

void rt_san_unpoison(uintptr_t lo, size_t size)
{
#ifdef RT_ASAN
	__asan_unpoison_memory_region((const void *)lo, size);
#else
	(void)lo;
	(void)size;
#endif
}

void rt_san_stack_mapped(uintptr_t lo, size_t size)
{
#ifdef RT_ASAN
	__asan_unpoison_memory_region((const void *)lo, size);
	__lsan_register_root_region((const void *)lo, size);
#else
	(void)lo;
	(void)size;
#endif
}

/* A range LeakSanitizer scans for pointers wherever it is readable (the
 * goroutine stack arenas of stack.c); registered for good. */
void rt_san_root_region(uintptr_t lo, size_t size)
{
#ifdef RT_ASAN
	__lsan_register_root_region((const void *)lo, size);
#else
	(void)lo;
	(void)size;
#endif
}

void rt_san_stack_unmapped(uintptr_t lo, size_t size)
{
#ifdef RT_ASAN
	__asan_unpoison_memory_region((const void *)lo, size);
	__lsan_unregister_root_region((const void *)lo, size);
#else
	(void)lo;
	(void)size;
#endif
}

/* Called by rt_gogo (gogo.S) before it loads the goroutine's registers: the
 * caller (rt_execute, rt_newstack) made gp current on this M's g0. */
void rt_san_gogo(struct rt_gobuf *buf)
{
	struct rt_g *gp = (struct rt_g *)((char *)buf - offsetof(struct rt_g, sched));
	rt_san_switch(gp->m->g0, gp, 0);
}
#else
typedef int rt_san_empty;   /* ISO C: a translation unit is not empty */
#endif
