/*
 * symbolize_fde.c — a name for a function that has no symbol: a stripped
 * binary keeps no .symtab, and its .dynsym names only what it exports.  Its
 * .eh_frame still has one FDE per function (the unwinder needs it), whose
 * range is the function's.  Naming the function by the start of that range,
 * "sub_4300" as disassemblers do, puts every sample of one function on one
 * row instead of one row per address.  The FDE ranges are read here for the
 * symbolizer and for `fptrace audit` alike (fpu_fde.h), so both give one
 * function one name.
 *
 * The range is the FDE's, read from the section: libdw's Dwarf_Frame covers
 * only the CFI row of an address (from one DW_CFA_advance_loc to the next),
 * which would name one function after each of its rows.
 */
#include "dwarf_internal.h"
#include "fpu_fde.h"

#include <dwarf.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fpu_fde_func_name(char *buf, size_t size, uint64_t lo)
{
	return snprintf(buf, size, "sub_%" PRIx64, lo);
}

struct fde_list {
	struct fpu_fde_range *v;
	size_t n, cap;
};

/* A pointer of DW_EH_PE encoding enc at p (field_vaddr: its own address, for
 * pcrel).  0, or -1 for an encoding we do not read or bytes past end. */
static int read_encoded(uint8_t enc, const uint8_t *p, const uint8_t *end,
			uint64_t field_vaddr, int apply, uint64_t *out)
{
	uint64_t v = 0;
	size_t len;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: case DW_EH_PE_udata8: case DW_EH_PE_sdata8: len = 8; break;
	case DW_EH_PE_udata4: case DW_EH_PE_sdata4: len = 4; break;
	case DW_EH_PE_udata2: case DW_EH_PE_sdata2: len = 2; break;
	default: return -1;
	}
	if (p > end || (size_t)(end - p) < len)
		return -1;
	memcpy(&v, p, len);
	if ((enc & 0x0f) == DW_EH_PE_sdata4)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if ((enc & 0x0f) == DW_EH_PE_sdata2)
		v = (uint64_t)(int64_t)(int16_t)v;
	if (apply) {
		switch (enc & 0x70) {
		case 0: break;
		case DW_EH_PE_pcrel: v += field_vaddr; break;
		default: return -1;
		}
	}
	*out = v;
	return 0;
}

/* The FDE pointer encoding of a CIE: the 'R' entry of its augmentation. */
static uint8_t cie_fde_encoding(const Dwarf_CIE *cie)
{
	const char *aug = cie->augmentation;
	const uint8_t *d = cie->augmentation_data;
	size_t n = cie->augmentation_data_size, i = 0;
	if (!aug || aug[0] != 'z' || !d)
		return DW_EH_PE_absptr;
	for (const char *a = aug + 1; *a; a++) {
		if (*a == 'R')
			return i < n ? d[i] : DW_EH_PE_omit;
		if (*a == 'L')
			i++;
		else if (*a == 'P') {
			if (i >= n)
				return DW_EH_PE_omit;
			uint8_t penc = d[i++];
			unsigned f = penc & 0x0f;
			i += f == DW_EH_PE_udata2 || f == DW_EH_PE_sdata2 ? 2 :
			     f == DW_EH_PE_udata4 || f == DW_EH_PE_sdata4 ? 4 : 8;
		} else if (*a != 'S' && *a != 'B')
			return DW_EH_PE_omit;
	}
	return DW_EH_PE_absptr;
}

struct cie_enc {
	uint64_t off;
	uint8_t enc;
};

static int find_cie(const struct cie_enc *v, size_t n, uint64_t off, uint8_t *enc)
{
	for (size_t i = n; i-- > 0;)
		if (v[i].off == off) {
			*enc = v[i].enc;
			return 0;
		}
	return -1;
}

static int add_fdes_of(struct fde_list *c, Elf *elf, Elf_Scn *scn, int eh_frame)
{
	GElf_Shdr sh;
	Elf_Data *data = elf_getdata(scn, NULL);
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	if (!data || !data->d_buf || !ident || !gelf_getshdr(scn, &sh))
		return 0;
	struct cie_enc cies[64];
	size_t ncies = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	const uint8_t *base = data->d_buf, *end = base + data->d_size;

	while (dwarf_next_cfi(ident, data, eh_frame, off, &next, &e) == 0) {
		if (dwarf_cfi_cie_p(&e)) {
			if (ncies == sizeof cies / sizeof cies[0])
				memmove(cies, cies + 1, (--ncies) * sizeof *cies);
			cies[ncies++] = (struct cie_enc){ off, cie_fde_encoding(&e.cie) };
		} else {
			uint8_t enc;
			uint64_t lo, len;
			const uint8_t *p = e.fde.start;
			if (find_cie(cies, ncies, e.fde.CIE_pointer, &enc) != 0 || enc == DW_EH_PE_omit ||
			    p < base || p >= end)
				goto next;
			unsigned fmt = enc & 0x0f;
			size_t width = fmt == DW_EH_PE_udata2 || fmt == DW_EH_PE_sdata2 ? 2 :
				       fmt == DW_EH_PE_udata4 || fmt == DW_EH_PE_sdata4 ? 4 : 8;
			if (read_encoded(enc, p, e.fde.end, sh.sh_addr + (uint64_t)(p - base), 1, &lo) ||
			    read_encoded(enc & 0x0f, p + width, e.fde.end, 0, 0, &len) || len == 0 ||
			    lo == 0 || lo + len < lo)
				goto next;
			if (c->n == c->cap) {
				size_t ncap = c->cap ? c->cap * 2 : 256;
				struct fpu_fde_range *p = realloc(c->v, ncap * sizeof *p);
				if (!p)
					return -1;
				c->v = p;
				c->cap = ncap;
			}
			c->v[c->n++] = (struct fpu_fde_range){ lo, lo + len };
		}
next:
		if (next <= off)
			break;
		off = next;
	}
	return 0;
}

Elf_Scn *fpu_elf_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr h;
		const char *s;
		if (gelf_getshdr(scn, &h) && (s = elf_strptr(elf, shstrndx, h.sh_name)) &&
		    !strcmp(s, name)) {
			if (sh)
				*sh = h;
			return scn;
		}
	}
	return NULL;
}

/* .eh_frame and .debug_frame, when they have contents in this file. */
static int add_fdes(struct fde_list *c, Elf *elf)
{
	static const char *const names[] = { ".eh_frame", ".debug_frame" };
	for (int i = 0; i < 2; i++) {
		GElf_Shdr sh;
		Elf_Scn *scn = fpu_elf_section(elf, names[i], &sh);
		if (scn && sh.sh_type != SHT_NOBITS && add_fdes_of(c, elf, scn, i == 0) != 0)
			return -1;
	}
	return 0;
}

static int by_lo(const void *a, const void *b)
{
	const struct fpu_fde_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int fpu_elf_fde_ranges(Elf *elf, struct fpu_fde_range **out, size_t *count)
{
	struct fde_list c = { 0 };

	*out = NULL;
	*count = 0;
	if (elf && add_fdes(&c, elf) != 0) {
		free(c.v);
		return -1;
	}
	if (c.n) {
		qsort(c.v, c.n, sizeof *c.v, by_lo);
		size_t k = 0;
		for (size_t i = 0; i < c.n; i++)
			if (k == 0 || c.v[k - 1].lo != c.v[i].lo)
				c.v[k++] = c.v[i];
		c.n = k;
	}
	*out = c.v;
	*count = c.n;
	return 0;
}

/* One module's FDE ranges and the names made for them, hung on the module's
 * userdata slot (the session sets no other) and listed for freeing. */
struct fpu_made_name {
	struct fpu_made_name *next;
	struct fpu_fde_range *ranges;
	char **names;              /* names[i] for ranges[i], made on first use */
	size_t n;
};

static struct fpu_made_name *table_of(struct fpu_dwarf *d, Dwfl_Module *mod, Dwarf_Addr *bias)
{
	void **userdata = NULL;
	if (!dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL) || !userdata)
		return NULL;
	Elf *elf = dwfl_module_getelf(mod, bias);
	struct fpu_made_name *t = *userdata;
	if (t)
		return elf ? t : NULL;
	if (!(t = calloc(1, sizeof *t)))
		return NULL;
	if (elf)
		fpu_elf_fde_ranges(elf, &t->ranges, &t->n);
	if (t->n == 0) {   /* only in a separate debug file's .debug_frame */
		Dwarf_Addr dbias;
		Dwarf *dw = dwfl_module_getdwarf(mod, &dbias);
		Elf *delf = dw ? dwarf_getelf(dw) : NULL;
		if (delf && delf != elf)
			fpu_elf_fde_ranges(delf, &t->ranges, &t->n);
	}
	if (t->n && !(t->names = calloc(t->n, sizeof *t->names))) {
		free(t->ranges);
		t->ranges = NULL;
		t->n = 0;
	}
	t->next = d->made_names;
	d->made_names = t;
	*userdata = t;
	return elf ? t : NULL;
}

const char *fpu_dwarf_plt_section(Dwfl_Module *mod, uint64_t pc)
{
	static const char *const plts[] = { ".plt", ".plt.got", ".plt.sec", ".iplt" };
	Dwarf_Addr addr = pc, bias, ebias;
	if (!mod)
		return NULL;
	Elf_Scn *scn = dwfl_module_address_section(mod, &addr, &bias);
	Elf *elf = dwfl_module_getelf(mod, &ebias);
	size_t shstrndx;
	GElf_Shdr sh;
	const char *name;
	if (!scn || !elf || elf_getshdrstrndx(elf, &shstrndx) != 0 || !gelf_getshdr(scn, &sh) ||
	    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
		return NULL;
	for (size_t i = 0; i < sizeof plts / sizeof plts[0]; i++)
		if (!strcmp(name, plts[i]))
			return plts[i];
	return NULL;
}

const char *fpu_dwarf_fde_name(struct fpu_dwarf *d, Dwfl_Module *mod, uint64_t addr,
			       uint64_t *start)
{
	Dwarf_Addr bias = 0;
	struct fpu_made_name *t = table_of(d, mod, &bias);

	if (!t || t->n == 0 || addr < bias)
		return NULL;
	uint64_t a = addr - bias;
	size_t l = 0, h = t->n;
	while (l < h) {   /* the first range starting above a */
		size_t m = (l + h) / 2;
		if (t->ranges[m].lo <= a)
			l = m + 1;
		else
			h = m;
	}
	/* The innermost range holding a: the last that starts at or below it
	 * (ranges of one object do not overlap but for odd hand-written CFI). */
	for (size_t i = l; i-- > 0 && l - i <= 4;) {
		if (a >= t->ranges[i].hi)
			continue;
		if (!t->names[i]) {
			/* the linker's stubs by their section's name, as objdump and
			 * perf call them; other code without a symbol by its address */
			char buf[32];
			const char *plt = fpu_dwarf_plt_section(mod, t->ranges[i].lo + bias);
			if (plt)
				snprintf(buf, sizeof buf, "[%s]", plt + 1);
			else
				fpu_fde_func_name(buf, sizeof buf, t->ranges[i].lo);
			if (!(t->names[i] = strdup(buf)))
				return NULL;
		}
		*start = t->ranges[i].lo + bias;
		return t->names[i];
	}
	return NULL;
}

void fpu_dwarf_free_made_names(struct fpu_dwarf *d)
{
	while (d->made_names) {
		struct fpu_made_name *t = d->made_names, *next = t->next;

		for (size_t i = 0; i < t->n; i++)
			free(t->names[i]);
		free(t->names);
		free(t->ranges);
		free(t);
		d->made_names = next;
	}
}
