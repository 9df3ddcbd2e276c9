/*
 * san.h — telling AddressSanitizer and ThreadSanitizer about fprt's stack
 * switches.  Compiled in only when the translation unit
 * is built with -fsanitize=address or -fsanitize=thread; in every other build
 * the hooks below are empty inline functions and the assembly hooks are not
 * assembled, so release and checked builds are unchanged.
 *
 * The model (Boost.Context, Go's -asan/-race runtimes): every G is a fiber;
 * g0 is the M's own fiber.  A switch is announced on the stack being LEFT,
 * immediately before the assembly that switches (rt_san_switch), or, where only
 * assembly runs before the new stack is reached (rt_morestack), as the first
 * thing on the new stack.  Between the announcement and the switch nothing
 * calls into the sanitizer runtime.
 *
 *   ASan: __sanitizer_start_switch_fiber(&from->san_fake, to's bounds) and
 *         __sanitizer_finish_switch_fiber(to->san_fake) back to back, so that
 *         __asan_handle_no_return (before every noreturn call: rt_gogo,
 *         rt_schedule, rt_fatal) unpoisons the right stack and reports name the
 *         right one.  A dying goroutine passes NULL (its fake stack dies).
 *         Stacks are unpoisoned when they are mapped, freed or reused.
 *   LSan: goroutine, g0 and signal stacks are mmap'ed, so LeakSanitizer would
 *         not look at them: each is a root region while it is mapped and
 *         readable (rt_san_stack_mapped), or a parked goroutine's pointers
 *         would be reported as leaks.  Goroutine stacks come from 1 GiB
 *         arenas, one root region each (stack.c: LSan's cost per region).
 *   TSan: one fiber per G (created on first switch to it, kept with the G,
 *         which is never freed); g0's fiber is the thread's own until g0 is
 *         first entered from the top, then a fresh one per such entry
 *         (RT_SAN_G0_TOP).  A cgo callback pins the g0 fiber that holds the C
 *         frames and switches back to exactly that one when it returns.
 *         __tsan_switch_to_fiber(.., 0) synchronises, which is exactly the
 *         handoff the scheduler does under its own (C11-atomic) locks.
 */
#ifndef FPRT_SAN_H
#define FPRT_SAN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RT_TSAN 1
#endif
#endif
#if defined(RT_ASAN) || defined(RT_TSAN)
#define RT_SAN_FIBERS 1
#endif

#ifdef RT_ASAN
/* Loads that read stacks wholesale (copystack's copy and scan) do not go
 * through ASan's checks: stack redzones are poisoned, by design. */
#define RT_NO_ASAN __attribute__((no_sanitize_address))
#else
#define RT_NO_ASAN
#endif

struct rt_g;
struct rt_m;

#define RT_SAN_DEAD 1u     /* from's frames are gone for good (goroutine exit) */
/*
 * `to` is g0, entered at its top (mcall, morestack): whatever g0 ran before
 * never returns (schedule ends in gogo), so its frames are abandoned.  TSan
 * keeps a shadow call stack per fiber and pops it only on function exit; g0
 * would grow it on every entry until the stack depot aborts
 * (sanitizer_stackdepot.cpp "args.size < 1 << kStackSizeBits").  So g0 gets
 * a fresh fiber on each such entry and the previous fresh one is destroyed.
 */
#define RT_SAN_G0_TOP 2u

/* What rt_cgocallback saves around a callback (see rt_san_cb_enter). */
struct rt_san_cb {
	uintptr_t lo, hi;
	void *fiber;
	void *fresh;        /* TSan: the M's fresh g0 fiber before the callback */
	void *pinned;       /* TSan: the fiber holding the C frames on g0 */
};

#ifdef RT_SAN_FIBERS
void rt_san_switch(struct rt_g *from, struct rt_g *to, unsigned flags);
void rt_san_mstart(struct rt_m *m);
void rt_san_cb_enter(struct rt_m *m, struct rt_san_cb *save);
void rt_san_cb_exit(struct rt_m *m, const struct rt_san_cb *save);
void rt_san_unpoison(uintptr_t lo, size_t size);
void rt_san_stack_mapped(uintptr_t lo, size_t size);
void rt_san_stack_unmapped(uintptr_t lo, size_t size);
void rt_san_root_region(uintptr_t lo, size_t size);
void rt_san_racy_copy_begin(void);
void rt_san_racy_copy_end(void);
#else
static inline void rt_san_switch(struct rt_g *from, struct rt_g *to, unsigned flags)
{ (void)from; (void)to; (void)flags; }
static inline void rt_san_mstart(struct rt_m *m) { (void)m; }
static inline void rt_san_cb_enter(struct rt_m *m, struct rt_san_cb *save)
{ (void)m; (void)save; }
static inline void rt_san_cb_exit(struct rt_m *m, const struct rt_san_cb *save)
{ (void)m; (void)save; }
static inline void rt_san_unpoison(uintptr_t lo, size_t size) { (void)lo; (void)size; }
static inline void rt_san_stack_mapped(uintptr_t lo, size_t size) { (void)lo; (void)size; }
static inline void rt_san_stack_unmapped(uintptr_t lo, size_t size) { (void)lo; (void)size; }
static inline void rt_san_root_region(uintptr_t lo, size_t size) { (void)lo; (void)size; }
static inline void rt_san_racy_copy_begin(void) {}
static inline void rt_san_racy_copy_end(void) {}
#endif

#endif
