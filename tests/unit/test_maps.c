/* /proc/PID/maps: the line parser, stack regions and file mappings of a
 * process, the vDSO range; and the stack of the calling thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <pthread.h>
#include <unistd.h>
#include "fpunwind.h"
#include "fpu_vdso.h"

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

Test(maps, parse_line)
{
	struct fpu_maps_line m;
	char file[] = "7f2c9fcd0000-7f2c9fe25000 r-xp 00028000 08:01 1311     "
		      "   /usr/lib/x86_64-linux-gnu/libc.so.6";
	cr_assert_eq(fpu_maps_parse_line(file, &m), 0);
	cr_expect_eq(m.start, 0x7f2c9fcd0000ull);
	cr_expect_eq(m.end, 0x7f2c9fe25000ull);
	cr_expect_eq(m.pgoff, 0x28000);
	cr_expect_str_eq(m.perms, "r-xp");
	cr_expect_eq(m.prot, PROT_READ | PROT_EXEC);
	cr_expect_eq(m.inode, 1311);
	cr_expect_str_eq(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_expect_eq(m.path_len, strlen(m.path));

	/* a path with spaces, deleted: kept whole */
	char spaces[] = "400000-401000 rw-p 00000000 00:2a 77 /tmp/a b/prog (deleted)";
	cr_assert_eq(fpu_maps_parse_line(spaces, &m), 0);
	cr_expect_str_eq(m.path, "/tmp/a b/prog (deleted)");
	cr_expect_eq(m.prot, PROT_READ | PROT_WRITE);

	char anon[] = "7ffd1000-7ffd2000 ---p 00000000 00:00 0 ";
	cr_assert_eq(fpu_maps_parse_line(anon, &m), 0);
	cr_expect_eq(m.inode, 0);
	cr_expect_eq(m.path_len, 0);
	cr_expect_eq(m.prot, 0);

	char vdso[] = "7fff5000-7fff7000 r-xp 00000000 00:00 0                  [vdso]";
	cr_assert_eq(fpu_maps_parse_line(vdso, &m), 0);
	cr_expect_str_eq(m.path, "[vdso]");

	char *bad[] = { "", "garbage", "1000-", "2000-1000 r-xp 0 00:00 0", "1000 2000 r-xp" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(fpu_maps_parse_line(bad[i], &m), -1, "accepted \"%s\"", bad[i]);
}

/* The mapping that holds pc, in maps[0, n). */
static const struct fpu_mapping *holding(const struct fpu_mapping *maps, size_t n, uintptr_t pc)
{
	for (size_t i = 0; i < n; i++)
		if (pc >= maps[i].start && pc < maps[i].end)
			return &maps[i];
	return NULL;
}

Test(maps, file_mappings_of_this_process)
{
	size_t n = 0;
	struct fpu_mapping *maps = fpu_mappings_from_proc(0, &n);
	cr_assert_not_null(maps, "fpu_mappings_from_proc: %s", strerror(errno));
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	cr_assert_gt(len, 0);
	exe[len] = 0;
	const struct fpu_mapping *m = holding(maps, n, (uintptr_t)&holding);
	cr_assert_not_null(m, "no file mapping holds this test's code (%zu mappings)", n);
	cr_expect_str_eq(m->path, exe);
	cr_expect(m->prot & PROT_EXEC);
	m = holding(maps, n, (uintptr_t)&strlen);
	cr_expect(m && m->path[0] == '/', "libc's code is in no file mapping");
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(maps[i].path[0], '/', "mapping %zu: \"%s\" is no file", i, maps[i].path);
	free(maps);
}

Test(maps, vdso_range)
{
	uint64_t lo = 0, hi = 0;
	uintptr_t ehdr = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	if (!ehdr) {
		cr_expect_eq(fpu_vdso_range(0, &lo, &hi), -1);
		return;
	}
	cr_assert_eq(fpu_vdso_range(0, &lo, &hi), 0);
	cr_expect(ehdr >= lo && ehdr < hi, "vDSO at %#lx, range [%#llx, %#llx)",
		  (unsigned long)ehdr, (unsigned long long)lo, (unsigned long long)hi);
}
