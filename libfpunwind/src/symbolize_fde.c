/*
 * symbolize_fde.c — a name for a function that has no symbol: a stripped
 * binary keeps no .symtab, and its .dynsym names only what it exports.  Its
 * .eh_frame still has one FDE per function (the unwinder needs it), whose
 * range is the function's.  Naming the function by the start of that range,
 * "sub_4300" as disassemblers do, puts every sample of one function on one
 * row instead of one row per address.
 */
#include "dwarf_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct fpu_made_name {
	struct fpu_made_name *next;
	char name[32];
};

const char *fpu_dwarf_fde_name(struct fpu_dwarf *d, Dwfl_Module *mod, uint64_t addr,
			       uint64_t *start)
{
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	Dwarf_Frame *frame;

	if (!cfi)
		cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (!cfi || dwarf_cfi_addrframe(cfi, addr - bias, &frame) != 0)
		return NULL;
	Dwarf_Addr lo, hi;
	bool signal_frame;
	int have_range = dwarf_frame_info(frame, &lo, &hi, &signal_frame) >= 0;

	free(frame);
	struct fpu_made_name *n = have_range ? malloc(sizeof *n) : NULL;
	if (!n)
		return NULL;
	/* lo is a link-time address: the one nm and objdump show for the file. */
	snprintf(n->name, sizeof n->name, "sub_%" PRIx64, (uint64_t)lo);
	n->next = d->made_names;
	d->made_names = n;
	*start = lo + bias;
	return n->name;
}

void fpu_dwarf_free_made_names(struct fpu_dwarf *d)
{
	while (d->made_names) {
		struct fpu_made_name *next = d->made_names->next;

		free(d->made_names);
		d->made_names = next;
	}
}
