/* Stack regions of a process from /proc/PID/maps, and of the calling thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include "fpunwind.h"

static int covers(const struct fpu_region *r, int n, uintptr_t addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= r[i].lo && addr < r[i].hi)
			return 1;
	return 0;
}

static void *thread_probe(void *arg)
{
	struct fpu_region r[64];
	volatile int local = 0;
	int n = fpu_regions_from_maps(0, r, 64);
	*(int *)arg = n > 0 && covers(r, n, (uintptr_t)&local);
	return NULL;
}

Test(maps, own_stack_is_found)
{
	struct fpu_region r[64];
	volatile int local = 0;
	int n = fpu_regions_from_maps(getpid(), r, 64);
	cr_assert_gt(n, 0);
	cr_assert(covers(r, n, (uintptr_t)&local), "no region holds %p", (void *)&local);
	for (int i = 0; i < n; i++)
		cr_assert_eq(r[i].kind, FPU_REGION_THREAD);
}

Test(maps, pthread_stack_is_found)
{
	pthread_t t;
	int found = 0;
	pthread_create(&t, NULL, thread_probe, &found);
	pthread_join(t, NULL);
	cr_assert(found, "the thread's stack is not among the regions");
}

Test(maps, missing_process_is_an_error)
{
	struct fpu_region r[4];
	errno = 0;
	cr_assert_eq(fpu_regions_from_maps(0x7ffffff0, r, 4), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(maps, current_thread_region)
{
	struct fpu_region r;
	volatile int local = 0;
	cr_assert_eq(fpu_region_current_thread(&r), 0);
	cr_assert((uintptr_t)&local >= r.lo && (uintptr_t)&local < r.hi);
	cr_assert_eq(r.owner, (uint64_t)gettid());
}
