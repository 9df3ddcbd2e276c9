/*
 * symbolize_inline.c — the chain of functions inlined at a pc, from the DWARF
 * scopes that contain it (DW_TAG_inlined_subroutine inside DW_TAG_subprogram),
 * the way perf, pprof and gdb show inlined frames: each inlined call is a frame
 * of its own, at the line in its caller where it was inlined.
 */
#include "dwarf_internal.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

/* The name of a subprogram or inlined subroutine, through its abstract origin. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return name;
}

/* DW_AT_call_file of an inlined subroutine, as a path from the CU's file table. */
static const char *call_file(Dwarf_Die *cu, Dwarf_Die *inl)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx;
	Dwarf_Files *files;
	size_t nfiles;
	if (!dwarf_attr(inl, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &idx) != 0 ||
	    dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static int call_line(Dwarf_Die *inl)
{
	Dwarf_Attribute attr;
	Dwarf_Word line;
	if (!dwarf_attr(inl, DW_AT_call_line, &attr) || dwarf_formudata(&attr, &line) != 0)
		return 0;
	return (int)line;
}

int fpu_symbolize_inlined(struct fpu_dwarf *d, uint64_t pc, int is_return,
			  struct fpu_symbol *out, int max)
{
	struct fpu_symbol base;
	uint64_t addr = is_return && pc ? pc - 1 : pc;
	Dwarf_Addr bias;
	Dwarf_Die *scopes = NULL;

	if (max < 1 || fpu_symbolize(d, pc, is_return, &base) != 0)
		return 0;
	Dwfl_Module *mod = dwfl_addrmodule(d->dwfl, addr);
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
	int nscopes = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : -1;
	int k = 0;
	while (k < nscopes && dwarf_tag(&scopes[k]) != DW_TAG_inlined_subroutine)
		k++;
	if (nscopes <= 0 || k == nscopes) {
		/* Nothing inlined at pc: the real function alone. */
		free(scopes);
		out[0] = base;
		return nscopes > 0 ? 1 : 0;
	}
	/*
	 * dwarf_getscopes follows an inlined instance into its abstract
	 * definition; the callers it was inlined into are the concrete scopes
	 * around the innermost instance, which dwarf_getscopes_die gives, from
	 * that instance outward to the subprogram.  Each inlined subroutine's
	 * DW_AT_call_file/line say where in the next one out it was inlined:
	 * that is the line to show for the next frame.
	 */
	Dwarf_Die *chain = NULL;
	int nchain = dwarf_getscopes_die(&scopes[k], &chain);
	int n = 0;
	const char *file = base.file;
	int line = base.line;
	for (int i = 0; i < nchain && n < max; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		/* Deeper than max: the callers in between go, the real function
		 * stays last (it has the frame; a culprit is named by it), at the
		 * line where the outermost inlined call sits. */
		if (tag == DW_TAG_inlined_subroutine && n == max - 1) {
			file = call_file(cu, &chain[i]);
			line = call_line(&chain[i]);
			continue;
		}
		out[n] = base;
		out[n].function = tag == DW_TAG_subprogram && base.function ? base.function
									  : die_name(&chain[i]);
		out[n].file = file;
		out[n].line = line;
		n++;
		if (tag == DW_TAG_subprogram)
			break;
		file = call_file(cu, &chain[i]);
		line = call_line(&chain[i]);
	}
	free(chain);
	free(scopes);
	return n;
}
