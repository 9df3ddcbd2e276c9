/*
 * check's counting rules: what is a system library, and what a sample counts
 * for when both DWARF backends judged it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "analyze.h"
#include "check.h"

/* The program under test is never a system library, wherever it is installed. */
Test(check, the_executable_is_never_a_system_library)
{
	const char *exe = "/usr/libexec/fptrace-demo/prog";
	cr_assert_not(fpt_module_is_system(exe, exe));
	cr_assert_not(fpt_module_is_system("/usr/lib/pkg/bin/tool", "/usr/lib/pkg/bin/tool"));
	cr_assert(fpt_module_is_system("/usr/lib/x86_64-linux-gnu/libc.so.6", exe));
	cr_assert(fpt_module_is_system("/usr/libexec/other", exe));
	cr_assert(fpt_module_is_system("/usr/lib/x86_64-linux-gnu/libc.so.6", NULL));
	cr_assert_not(fpt_module_is_system("/work/build/progs/yield", NULL));
	cr_assert_not(fpt_module_is_system(NULL, exe));
}

Test(check, both_backends_judge_each_sample)
{
	const enum fpu_class skips_skips[2] = { FPU_CLASS_FP_SKIPS, FPU_CLASS_FP_SKIPS };
	const enum fpu_class skips_leaf[2] = { FPU_CLASS_FP_SKIPS, FPU_CLASS_LEAF_WINDOW };
	const int user[2] = { 0, 0 }, libc_one[2] = { 0, 1 };
	cr_assert(fpt_both_defect(skips_skips, user, 0));
	cr_assert_not(fpt_both_defect(skips_leaf, user, 0), "one backend's opinion");
	cr_assert_not(fpt_both_defect(skips_skips, libc_one, 0), "blamed on libc by one");
	cr_assert(fpt_both_defect(skips_skips, libc_one, 1), "--strict");
}

/*
 * 100 samples libdw blames on the program; both backends agree on 10 of them
 * and on 500 in libc: 10 defects, 510 with --strict (not the smaller of 100
 * and 510).
 */
Test(check, both_backends_count_per_sample)
{
	static struct fpt_analysis a;
	static struct fpt_site site;
	struct fpt_check_opts o = { 0 };

	memset(&a, 0, sizeof a);
	site.cls = FPU_CLASS_FP_SKIPS;
	site.samples = 100;
	a.backend[0] = (struct fpt_backend_stats){ .used = 1, .sites = &site, .nsites = 1 };
	a.backend[1].used = 1;
	a.samples = 1000;
	a.malignant_both = 510;
	a.defects_both = 10;
	cr_assert_eq(fpt_check_defects(&a, &o), 10);
	o.strict = 1;
	cr_assert_eq(fpt_check_defects(&a, &o), 510);
	/* One backend: its sites, as before. */
	a.backend[1].used = 0;
	o.strict = 0;
	cr_assert_eq(fpt_check_defects(&a, &o), 100);
}

/* A pc and a return address must never share a symbolization cache entry. */
Test(check, pc_keys_are_exact)
{
	uint64_t base = 0x55dbaceea200;
	cr_assert_neq(fpt_pc_key(base + 0x3c, 0), fpt_pc_key(base + 0x33, 1));
	cr_assert_neq(fpt_pc_key(base + 0x3c, 0), fpt_pc_key(base + 0x3c, 1));
	cr_assert_neq(fpt_pc_key(0, 0), 0, "0 is the empty slot");
	for (uint64_t pc = base; pc < base + 256; pc++)
		for (int r = 0; r < 2; r++)
			cr_assert_eq(fpt_pc_key(pc, r), ((pc << 1) | (uint64_t)r) + 1);
}
