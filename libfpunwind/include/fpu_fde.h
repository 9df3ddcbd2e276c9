/*
 * fpu_fde.h — the functions an object's CFI knows: one FDE per function in
 * .eh_frame (kept by stripped objects, since the unwinder needs it) and in
 * .debug_frame, and the one name fptrace gives a function that has no symbol.
 * The symbolizer and `fptrace audit` both name such a function this way, so a
 * frame of a stripped object is the same function in `report`, `check` and
 * `audit`.
 */
#ifndef FPU_FDE_H
#define FPU_FDE_H

#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The code range of one FDE, [lo, hi), in link-time addresses of the file. */
struct fpu_fde_range {
	uint64_t lo, hi;
};

/*
 * The FDE ranges of elf's .eh_frame and .debug_frame, sorted by lo (equal
 * starts kept once), in *out (malloc'ed; free it) and *count.  FDEs whose
 * pointer encoding is not read are skipped.  0, or -1 when out of memory.
 */
int fpu_elf_fde_ranges(Elf *elf, struct fpu_fde_range **out, size_t *count);

/*
 * The section of elf named name (the first one, as libelf numbers them), its
 * header in *sh when sh is not NULL; NULL when there is none or the section
 * name table cannot be read.  The one section-by-name lookup of the
 * symbolizer and `fptrace audit`.
 */
Elf_Scn *fpu_elf_section(Elf *elf, const char *name, GElf_Shdr *sh);

/*
 * The name of a function without a symbol that starts at link-time address
 * lo: "sub_<lo in hex>", as disassemblers name it and nm shows its address.
 * Writes at most size bytes to buf; returns what snprintf returns.
 */
int fpu_fde_func_name(char *buf, size_t size, uint64_t lo);

#ifdef __cplusplus
}
#endif

#endif
