/*
 * stack.c — goroutine stacks: allocation with a guard page, growth by copying
 * (Go's newstack/copystack), tracked slots, FPRT_DEBUG stack options.
 *
 * Invariant after copystack: no word that the runtime knows to hold a frame
 * pointer or a stack address points into the old stack.  The words it knows
 * are every aligned word of the used part of the stack (saved frame pointers
 * and whatever the C compiler spilled: see copystack), sched.sp and sched.bp,
 * the callee-saved registers of g->sched (the analogue of Go's register maps),
 * and the tracked slots, which may also live outside the stack.  Anything else
 * (a heap object holding &local) goes stale: it is a frame pointer or stack
 * address into a dead stack (DESIGN.md "Stacks"; seed 000).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt.h"

size_t rt_stack_default = 16384;
static size_t pagesz = 4096;
#define STACK_MAX ((size_t)1 << 30)      /* Go's maxstacksize on 64-bit */
#define POISON 0xdeadbeefdeadbeefULL

/* Free stacks, one list per power-of-two size, bounded per class.  A cached
 * stack keeps its guard page; its list link lives in its top word.  Gs keep
 * their default-size stack across exit and reuse (sched.c); these lists take
 * the stacks that moves leave behind.  FPRT_DEBUG=stackpoison stacks are
 * filled with POISON before they are cached, so a stale read sees it. */
#define NCLASS 32
static rt_lock_t cachelock;
static struct cached { struct cached *next; size_t size; } *cache[NCLASS];
static int ncached[NCLASS];
static _Atomic long nfaulted;             /* stackfaultonfree reservations */

static int sizeclass(size_t size)
{
	int c = 0;
	while (((size_t)1 << c) < size)
		c++;
	return ((size_t)1 << c) == size && c < NCLASS ? c : -1;
}

static int cachemax(size_t size) { return size <= 65536 ? 256 : size <= (1 << 20) ? 16 : 2; }

static uintptr_t map_stack(size_t size, void *hint, int extra)
{
	void *p = mmap(hint, size + pagesz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra, -1, 0);
	if (p == MAP_FAILED && hint)
		p = mmap(NULL, size + pagesz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		rt_fatal("out of memory allocating a %zu-byte stack", size);
	if (mprotect(p, pagesz, PROT_NONE) != 0)
		rt_fatal("mprotect of the guard page at %p failed", p);
	/* shadow left by whatever was mapped here before (ASan); LSan root */
	rt_san_stack_mapped((uintptr_t)p + pagesz, size);
	return (uintptr_t)p + pagesz;
}

#ifdef RT_ASAN
/*
 * Under ASan, goroutine stacks are carved from arenas of ARENA_SIZE bytes, each
 * ONE LeakSanitizer root region.  LSan re-reads /proc/self/maps once per root
 * region at every leak check (ProcessRootRegion in lsan_common.cpp): with one
 * region per stack, the soak's 10,000 goroutines took 358 s to exit.  A stack
 * that leaves the cache becomes PROT_NONE (its memory released) instead of
 * being unmapped, so that no other mapping ever lands inside a root region;
 * LSan scans only the readable parts of a region.  Stacks bigger than
 * ARENA_SIZE / 8 are mapped and registered one by one, as without ASan.
 */
#define ARENA_SIZE ((size_t)1 << 30)
static rt_lock_t arenalock;
static uintptr_t arena_next, arena_end;

static bool from_arena(size_t size) { return size + pagesz <= ARENA_SIZE / 8; }

static uintptr_t arena_stack(size_t size)
{
	size_t need = size + pagesz;
	rt_lock(&arenalock);
	if (arena_end - arena_next < need) {
		void *p = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			rt_fatal("out of memory reserving a %zu-byte stack arena", ARENA_SIZE);
		rt_san_root_region((uintptr_t)p, ARENA_SIZE);
		arena_next = (uintptr_t)p;
		arena_end = arena_next + ARENA_SIZE;
	}
	uintptr_t guard = arena_next;
	arena_next += need;
	rt_unlock(&arenalock);
	if (mprotect((void *)guard, pagesz, PROT_NONE) != 0)
		rt_fatal("mprotect of the guard page at %#lx failed", guard);
	rt_san_unpoison(guard + pagesz, size);
	return guard + pagesz;
}

/*
 * Under ASan a freed stack is never reused.  A goroutine whose stack moved
 * may go on writing the OLD stack's shadow: GCC computes the shadow address
 * of a scoped local once and keeps it in a register across a loop (soak's
 * member: `token`, poisoned at the end of every iteration), and copystack
 * relocates only values that point into the stack itself.  A reused stack
 * then held stale stack-use-after-scope poison and copystack's scan of the
 * next goroutine moved onto it was reported (FPRT_DEBUG=stackforcemove).
 * So freed stacks leave the arena's use for good (PROT_NONE, see
 * unmap_stack); address space is what they cost.
 */
static const bool reuse_stacks = false;
#else
static const bool reuse_stacks = true;
static bool from_arena(size_t size) { (void)size; return false; }
static uintptr_t arena_stack(size_t size) { (void)size; return 0; }
#endif

/* The stack [lo, lo + size) and its guard page go back to the system. */
static void unmap_stack(uintptr_t lo, size_t size)
{
	if (from_arena(size)) {     /* keep the range reserved: see arena_stack */
		if (mmap((void *)(lo - pagesz), size + pagesz, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
			rt_fatal("releasing the arena stack [%#lx, %#lx) failed", lo, lo + size);
		return;
	}
	rt_san_stack_unmapped(lo, size);
	munmap((void *)(lo - pagesz), size + pagesz);
}

struct rt_stack rt_stackalloc(size_t size)
{
	int c = sizeclass(size);
	if (c >= 0 && !rt_debug.stackfaultonfree) {
		rt_lock(&cachelock);
		struct cached *k = cache[c];
		if (k) {
			cache[c] = k->next;
			ncached[c]--;
		}
		rt_unlock(&cachelock);
		if (k)
			return (struct rt_stack){ (uintptr_t)(k + 1) - size, (uintptr_t)(k + 1) };
	}
	uintptr_t lo = from_arena(size) ? arena_stack(size) : map_stack(size, NULL, 0);
	return (struct rt_stack){ lo, lo + size };
}

/*
 * g0 and signal stacks.  Placed low in the address space (hint below the mmap
 * area) so that they lie BELOW every goroutine stack: gdb refuses to unwind
 * from a frame to a caller at a lower address ("previous frame inner to this
 * frame"), and the systemstack transition goes from g0 to the goroutine.
 */
#ifdef RT_ASAN
/* 16 TiB lies in ASan's shadow; 32 TiB is application memory to ASan (its
 * high range starts at 0x10007fff8000, its allocator at 96 TiB) and still
 * below the mmap area where the goroutine stack arenas are. */
#define SYSSTACK_BASE 0x200000000000ULL      /* 32 TiB */
#else
#define SYSSTACK_BASE 0x100000000000ULL      /* 16 TiB */
#endif

struct rt_stack rt_sysstack_alloc(size_t size)
{
	static _Atomic uintptr_t next = SYSSTACK_BASE;
	uintptr_t hint = atomic_fetch_add(&next, size + pagesz);
#ifdef RT_TSAN
	/* 16 TiB lies in ThreadSanitizer's shadow ("mmap at bad address"):
	 * under TSan the kernel places them (gdb's inner-frame rule aside). */
	(void)hint;
	uintptr_t lo = map_stack(size, NULL, 0);
#else
	uintptr_t lo = map_stack(size, (void *)hint, MAP_FIXED_NOREPLACE);
#endif
	return (struct rt_stack){ lo, lo + size };
}

void rt_stackfree(struct rt_stack s, uint64_t owner, uint32_t kind)
{
	(void)owner;
	(void)kind;
	size_t size = s.hi - s.lo;
	/* The dead frames' redzones (ASan) must not outlive them: the stack is
	 * filled below, cached for reuse, or unmapped. */
	rt_san_unpoison(s.lo, size);
	if (rt_debug.stackpoison)
		for (uint64_t *w = (uint64_t *)s.lo; w < (uint64_t *)s.hi; w++)
			*w = POISON;
	if (rt_debug.stackfaultonfree) {
		/* Keep the range reserved and unreadable, so that a stale access
		 * faults and the SIGSEGV handler names the old and new range (from
		 * the graveyard).  Bounded: past 16384 of them, stacks are unmapped. */
		if (atomic_fetch_add(&nfaulted, 1) < 16384) {
			if (!from_arena(size))
				rt_san_stack_unmapped(s.lo, size);
			madvise((void *)s.lo, size, MADV_DONTNEED);
			mprotect((void *)s.lo, size, PROT_NONE);
			return;
		}
	} else {
		int c = sizeclass(size);
		bool cached = false;
		rt_lock(&cachelock);
		if (reuse_stacks && c >= 0 && ncached[c] < cachemax(size)) {
			struct cached *k = (struct cached *)s.hi - 1;
			k->size = size;
			k->next = cache[c];
			cache[c] = k;
			ncached[c]++;
			cached = true;
		}
		rt_unlock(&cachelock);
		if (cached)
			return;
	}
	unmap_stack(s.lo, size);
}

void rt_stack_init_g(struct rt_g *gp)
{
	gp->stackguard = gp->stack.lo + RT_STACK_RESERVE;
}

static inline bool in(uintptr_t v, struct rt_stack s) { return v >= s.lo && v < s.hi; }

/* Inlined into copystack, RT_NO_ASAN like its scan: out of line, ASan would
 * check each word the scan reads (redzones are read by design: san.h), and
 * its epilogue in mid-function had CFI that libdw could not follow from a
 * sample at its ret (saved registers below sp, outside the stack copy). */
static inline __attribute__((always_inline)) void reloc(uintptr_t *w, struct rt_stack old, uintptr_t delta)
{
	if (in(*w, old))
		*w += delta;
}

/*
 * The copy of the used stack and its conservative relocation in ONE pass: each
 * word is read once, and a word that points into the old stack [lo, lo + size)
 * is written with delta added.  Before, a memcpy and a second scan over the
 * copy read every word twice, and the scan's branch per word was 70% of
 * stack-grow-64k.  The test is branch-free (an unsigned v - lo < size is
 * lo <= v < hi), so the loop is a load, a compare, a select, an add and a
 * store.  The frames' ASan redzones are poisoned by design: RT_NO_ASAN, and
 * volatile loads, so the compiler never turns the loop into an (intercepted)
 * memcpy call.
 */
RT_NO_ASAN static inline void copy_relocate_words(uintptr_t dst, uintptr_t src, size_t n,
						  struct rt_stack old, uintptr_t delta)
{
	const volatile uintptr_t *s = (const volatile uintptr_t *)src;
	uintptr_t *d = (uintptr_t *)dst;
	uintptr_t lo = old.lo, size = old.hi - old.lo;
	for (size_t i = 0; i < n / 8; i++) {
		uintptr_t v = s[i];
		d[i] = v + (v - lo < size ? delta : 0);
	}
}

/* Go's copystack: the used part [sp, hi) moves to the top of the new stack.
 * RT_NO_ASAN: the chain check and the conservative scan read every word of
 * the frames, redzones included (san.h). */
RT_NO_ASAN static void copystack(struct rt_g *gp, size_t newsize)
{
	struct rt_stack old = gp->stack;
	struct rt_stack new = rt_stackalloc(newsize);
	rt_unbury(new);   /* a cached or re-mmapped range: live, not stale */
	uintptr_t sp = gp->sched.sp;
	uintptr_t delta = new.hi - old.hi;

	/* A goroutine in a syscall or in C has frames that C or the kernel may
	 * still use through syscallsp: its stack must not move (DESIGN.md). */
	if (gp->syscallsp)
		rt_fatal("copystack: goroutine %llu is in a syscall (syscallsp %#lx)",
			 (unsigned long long)gp->goid, gp->syscallsp);
	if (!in(sp, old) && sp != old.hi)
		rt_fatal("copystack: goroutine %llu sched.sp %#lx outside its stack [%#lx, %#lx)",
			 (unsigned long long)gp->goid, sp, old.lo, old.hi);

	/* The frame chain must be sound before anything is rewritten: a broken
	 * chain here is a frame-pointer defect that the copy would hide. */
	for (uintptr_t fp = gp->sched.bp; in(fp, old);) {
		uintptr_t next = *(uintptr_t *)fp;
		if (fp & 7 || fp + 16 > old.hi || fp < sp || (in(next, old) && next <= fp))
			rt_fatal("copystack: goroutine %llu bad frame chain at fp %#lx -> %#lx "
				 "(sp %#lx, stack [%#lx, %#lx))", (unsigned long long)gp->goid,
				 fp, next, sp, old.lo, old.hi);
		fp = next;
	}

	if (rt_debug.stackscanreport)
		rt_stackscan_report(gp, old, new, sp);
	/* Every aligned word of the moved frames that points into the old stack
	 * is relocated as it is copied (copy_relocate_words): the saved frame
	 * pointers, and also the stack addresses that the C compiler keeps where
	 * it likes (spill slots, callee-saved registers pushed by a prologue).  Go relocates only what its stack maps
	 * call pointers; a C compiler gives no such maps, and GCC does spill
	 * &local across the call that moves the stack.  So the scan is
	 * conservative, and its one hazard is a word that only looks like an
	 * old-stack address: an integer of that value (rare: 0x7f... mmap
	 * addresses), or a partly written buffer whose unwritten bytes still hold
	 * an address left by an earlier call.  delta is a multiple of the page
	 * size, so bits 0-11 never change; bits 12-47 of such a word would.
	 * Code that keeps partly initialised byte buffers across a stack check
	 * must initialise them fully (tests/runtime/test_stack.c does).
	 * The scan heals a stale frame pointer as silently as a spill, so it must
	 * never be what keeps a rule of DESIGN.md: FPRT_DEBUG=stackscanreport
	 * lists what it relocated outside the frame chain and the tracked slots
	 * (stackscan.c), and the runtime keeps the values it depends on (seed
	 * 000's saved syscallbp) where the scan cannot see them. */
	copy_relocate_words(sp + delta, sp, old.hi - sp, old, delta);

	struct rt_gobuf *b = &gp->sched;
	b->sp += delta;
	reloc(&b->bp, old, delta);
#if defined(__aarch64__)
	/* the general callee-saved registers; d8..d15 hold no addresses */
	for (int i = 0; i < 10; i++)
		reloc(&b->x19_x28[i], old, delta);
#else
	reloc(&b->rbx, old, delta);
	reloc(&b->r12, old, delta);
	reloc(&b->r13, old, delta);
	reloc(&b->r14, old, delta);
	reloc(&b->r15, old, delta);
#endif
	/* Tracked slots on the stack moved with it (their values were relocated
	 * by the scan); slots elsewhere (heap, g0) get their values relocated. */
	for (uint32_t i = 0; i < gp->nslots; i++) {
		uintptr_t slot = (uintptr_t)gp->slots[i];
		if (in(slot, old))
			gp->slots[i] = (void **)(slot + delta);
		else
			reloc((uintptr_t *)slot, old, delta);
	}

	/* asmcgocall's records on g0 (cgo.S) chain C frames into this stack */
	for (struct rt_cgoframe *r = gp->m ? gp->m->cgoframe : NULL; r; r = r->prev)
		if (r->g == gp)
			reloc(&r->fp, old, delta);

	gp->stack = new;
	rt_stack_init_g(gp);
	gp->moves++;
	struct rt_m *m = gp->m;
	fpu_regions_move(&m->regions, old.lo, new.lo, new.hi);
	rt_bury(old, gp->goid, FPU_REGION_GOROUTINE, &new);
	rt_stackfree(old, gp->goid, FPU_REGION_GOROUTINE);
}

/* On g0, called by rt_morestack with gp->sched describing the caller of the
 * failed check and gp->need the bytes it asked for. */
void rt_newstack(struct rt_g *gp)
{
	uintptr_t sp = gp->sched.sp;
	size_t used = gp->stack.hi - sp;
	size_t size = gp->stack.hi - gp->stack.lo;
	size_t need = gp->need;
	bool short_ = need > sp || sp - need < gp->stackguard;

	/* rt_morestack switched to g0 in assembly: announce it here, first */
	rt_san_switch(gp, gp->m->g0, RT_SAN_G0_TOP);

	if (short_) {
		while (size - RT_STACK_RESERVE < used + need && size <= STACK_MAX)
			size *= 2;
		if (size > STACK_MAX || need > STACK_MAX)
			rt_fatal("goroutine %llu stack exceeds %zu-byte limit (in use %zu, "
				 "check asked for %zu)", (unsigned long long)gp->goid,
				 STACK_MAX, used, need);
	}
	/* Not short: FPRT_DEBUG=stackforcemove; move to a stack of the same size. */
	copystack(gp, size);
	rt_setg(gp);
	rt_gogo(&gp->sched);
}

/* RT_STACK_CHECK on g0 (or on a g0-like stack): nothing moves. */
void rt_morestack_g0(size_t bytes)
{
	struct rt_g *g = rt_getg();
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (bytes > sp || sp - bytes < g->stackguard)
		rt_fatal("g0 stack overflow on M%lld: sp %#lx, %zu bytes asked, g0 stack [%#lx, %#lx)",
			 (long long)g->m->id, sp, bytes, g->stack.lo, g->stack.hi);
}

void rt_stack_track(void *slot)
{
	struct rt_g *g = rt_getg();
	if (!g || g->is_g0)
		rt_fatal("rt_stack_track(%p) outside a goroutine", slot);
	if (!slot || (uintptr_t)slot & 7)
		rt_fatal("rt_stack_track: slot %p of goroutine %llu is not an aligned word",
			 slot, (unsigned long long)g->goid);
	if (g->nslots == RT_MAX_SLOTS)
		rt_fatal("rt_stack_track: goroutine %llu already tracks %d slots",
			 (unsigned long long)g->goid, RT_MAX_SLOTS);
	g->slots[g->nslots++] = slot;
}

void rt_stack_untrack(void *slot)
{
	struct rt_g *g = rt_getg();
	for (uint32_t i = g ? g->nslots : 0; i-- > 0;)
		if (g->slots[i] == slot) {
			g->slots[i] = g->slots[--g->nslots];
			return;
		}
	rt_fatal("rt_stack_untrack(%p): not a tracked slot of goroutine %llu", slot,
		 g ? (unsigned long long)g->goid : 0ULL);
}

void rt_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	struct rt_g *g = rt_getg();
	*lo = g ? g->stack.lo : 0;
	*hi = g ? g->stack.hi : 0;
}

uint64_t rt_stack_moves(void)
{
	struct rt_g *g = rt_getg();
	return g ? g->moves : 0;
}

/* For the SIGSEGV handler: is addr in a guard page or a dead stack? */
int rt_stack_fault_message(uintptr_t addr, char *buf, size_t len)
{
	struct fpu_grave gr;
	if (fpu_graveyard_find(&rt_fpu_graveyard, addr, 1, &gr)) {
		if (gr.why == FPU_GRAVE_MOVED)
			return snprintf(buf, len, "access to stale stack address %#lx: goroutine "
					"%llu's stack [%#lx, %#lx) moved to [%#lx, %#lx)", addr,
					(unsigned long long)gr.owner, gr.lo, gr.hi, gr.new_lo,
					gr.new_hi);
		return snprintf(buf, len, "access to freed stack address %#lx: stack [%#lx, "
				"%#lx) of goroutine %llu was freed", addr, gr.lo, gr.hi,
				(unsigned long long)gr.owner);
	}
	return 0;
}
