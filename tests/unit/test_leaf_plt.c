/*
 * A sample in a PLT stub is the leaf window, not a frame without a record.
 * Lazy binding's first call of each imported function goes through PLT0,
 * whose CFI says CFA = rsp+16 (the relocation index pushed by the entry), then
 * rsp+24 (the link map): a stack frame that saves no rbp, which in a function
 * means -fomit-frame-pointer.  In the linker's stub it means nothing: rbp is
 * still the caller's, and only the caller is missing from the FP chain.  (An
 * ASan build of a scenario program was sampled there once, and check called
 * the stub "fp-skips, hiding its caller".)  This test binary is linked with
 * lazy binding, so its own PLT0 is the specimen.  (A function's frame without
 * a record stays NO_RECORD: test_blame's nofp_leaf_with_a_frame_is_fp_skips.)
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <unistd.h>

#include "fpu_dwarf.h"
#include "fpu_fde.h"
#include "../../libfpunwind/dwarf/dwarf_internal.h"   /* fpu_dwarf_leaf_frame */
#include "sampler.h"

static int main_program_bias(struct dl_phdr_info *info, size_t size, void *out)
{
	(void)size;
	*(uint64_t *)out = info->dlpi_addr;   /* the first object is the program */
	return 1;
}

/* The run-time address of this program's section name, or 0. */
static uint64_t own_section(const char *name)
{
	uint64_t bias = 0, addr = 0;
	dl_iterate_phdr(main_program_bias, &bias);
	elf_version(EV_CURRENT);
	int fd = open("/proc/self/exe", O_RDONLY);
	cr_assert_geq(fd, 0);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Shdr sh;
	cr_assert_not_null(elf, "%s", elf_errmsg(-1));
	if (fpu_elf_section(elf, name, &sh))
		addr = bias + sh.sh_addr;
	elf_end(elf);
	close(fd);
	return addr;
}

Test(leaf_plt, plt0_is_the_leaf_window)
{
	uint64_t plt = own_section(".plt");
	cr_assert_neq(plt, 0, "this test binary has no .plt: is it linked with -z now?");
	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);

	/* push GOT[1] (CFA = rsp+16); jmp *GOT[2] (CFA = rsp+24) */
	cr_expect_eq(fpu_dwarf_leaf_frame(d, plt), FPU_LEAF_FRAME_NONE, "PLT0: shape %d",
		     fpu_dwarf_leaf_frame(d, plt));
	cr_expect_eq(fpu_dwarf_leaf_frame(d, plt + 6), FPU_LEAF_FRAME_NONE, "PLT0+6: shape %d",
		     fpu_dwarf_leaf_frame(d, plt + 6));
	/* named by its section, as objdump and perf do, not sub_<address> */
	cr_expect_str_eq(sampler_fn(d, plt + 6, 0), "[plt]");
	fpu_dwarf_free(d);
}
