/*
 * The vDSO of this process: its image is where /proc/self/maps says [vdso]
 * is, it is a whole ELF file (section headers included, which is what the
 * analysis copies), and it carries a 20-byte GNU build-id.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "fpu_vdso.h"

Test(vdso, self_image_and_range)
{
	struct fpu_vdso v;
	uint64_t start = 0, end = 0;

	cr_assert_eq(fpu_vdso_self(&v), 0, "no vDSO in this process");
	cr_assert_eq(fpu_vdso_range(0, &start, &end), 0, "no [vdso] line in /proc/self/maps");
	cr_assert_eq((uint64_t)(uintptr_t)v.image, start, "image %p, [vdso] at %#lx",
		     (void *)v.image, (unsigned long)start);
	cr_assert(v.size > sizeof(Elf64_Ehdr) && v.size <= end - start,
		  "image of %zu bytes in a mapping of %lu", v.size, (unsigned long)(end - start));
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)v.image;
	cr_assert_eq(eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize, v.size,
		     "the image ends with its section headers");
	cr_assert_eq(v.build_id_len, 20, "build-id of %u bytes", v.build_id_len);
}

Test(vdso, no_vdso_in_a_missing_process)
{
	uint64_t start = 1, end = 2;

	cr_assert_eq(fpu_vdso_range(999999999, &start, &end), -1);
	cr_assert(start == 1 && end == 2, "outputs written on failure");
}
