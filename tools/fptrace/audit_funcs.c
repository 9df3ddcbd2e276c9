/*
 * audit_funcs.c — the functions of one ELF object: every function symbol of
 * .symtab (the object's, or its debug file's) and .dynsym, one entry per
 * address with the other names as aliases, plus every FDE range of
 * .eh_frame and .debug_frame that no symbol covers (stripped objects keep
 * their FDEs, and so do PLTs and .cold parts).
 */
#include "audit.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sym {
	uint64_t lo, size;
	const char *name;
	int rank;                 /* which name to show: global > weak > local */
};

struct range {
	uint64_t lo, hi;
	const char *section;      /* where the FDE's code lies, for its name */
};

struct collect {
	struct sym *syms;
	size_t nsyms, capsyms;
	struct range *fdes;
	size_t nfdes, capfdes;
};

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 256;
	void *p = realloc(*v, ncap * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

static int bind_rank(unsigned bind)
{
	return bind == STB_GLOBAL ? 3 : bind == STB_WEAK ? 2 : 1;
}

static int add_symbols(struct collect *c, Elf *elf)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    sh.sh_entsize == 0)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t n = data->d_size / sizeof(Elf64_Sym);
		for (size_t i = 1; i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(data, (int)i, &s))
				continue;
			unsigned type = GELF_ST_TYPE(s.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
			    s.st_value == 0)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (grow((void **)&c->syms, &c->capsyms, c->nsyms, sizeof *c->syms) != 0)
				return -1;
			c->syms[c->nsyms++] = (struct sym){ s.st_value, s.st_size, name,
							    bind_rank(GELF_ST_BIND(s.st_info)) };
		}
	}
	return 0;
}

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

static const char *section_of(Elf *elf, uint64_t addr)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC) && addr >= sh.sh_addr &&
		    addr - sh.sh_addr < sh.sh_size)
			return elf_strptr(elf, shstrndx, sh.sh_name);
	}
	return NULL;
}

static int add_fdes_of(struct collect *c, Elf *elf, Elf_Scn *scn, int eh_frame)
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
			if (grow((void **)&c->fdes, &c->capfdes, c->nfdes, sizeof *c->fdes) != 0)
				return -1;
			c->fdes[c->nfdes++] = (struct range){ lo, lo + len, NULL };
		}
next:
		if (next <= off)
			break;
		off = next;
	}
	return 0;
}

static int add_fdes(struct collect *c, Elf *elf)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		int eh = !strcmp(name, ".eh_frame");
		if ((eh || !strcmp(name, ".debug_frame")) && add_fdes_of(c, elf, scn, eh) != 0)
			return -1;
	}
	return 0;
}

static int by_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	if ((x->size != 0) != (y->size != 0))
		return x->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int by_func(const void *a, const void *b)
{
	const struct fpt_elf_func *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const struct range *fde_at(const struct collect *c, uint64_t lo)
{
	size_t l = 0, h = c->nfdes;
	while (l < h) {
		size_t m = (l + h) / 2;
		if (c->fdes[m].lo < lo)
			l = m + 1;
		else
			h = m;
	}
	return l < c->nfdes && c->fdes[l].lo == lo ? &c->fdes[l] : NULL;
}

/* Where a symbol without a size ends: its FDE, else the next symbol, else
 * the end of its segment. */
static uint64_t end_of_sizeless(const struct fpt_elf *o, const struct collect *c,
				uint64_t lo, uint64_t next_lo)
{
	const struct range *r = fde_at(c, lo);
	if (r)
		return r->hi;
	for (size_t i = 0; i < o->nsegs; i++) {
		const struct fpt_elf_segment *s = &o->segs[i];
		if (lo >= s->vaddr && lo - s->vaddr < s->filesz) {
			uint64_t seg_end = s->vaddr + s->filesz;
			return next_lo > lo && next_lo < seg_end ? next_lo : seg_end;
		}
	}
	return next_lo > lo ? next_lo : lo;
}

/* Symbols grouped by address into functions; the aliases joined. */
static size_t group_symbols(const struct fpt_elf *o, const struct collect *c,
			    struct fpt_arena *arena, struct fpt_elf_func *out)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nsyms;) {
		size_t j = i;
		uint64_t size = 0;
		char aliases[512];
		size_t at = 0;
		aliases[0] = 0;
		for (; j < c->nsyms && c->syms[j].lo == c->syms[i].lo; j++) {
			if (c->syms[j].size > size)
				size = c->syms[j].size;
			int dup = !strcmp(c->syms[j].name, c->syms[i].name);
			for (size_t k = i + 1; k < j && !dup; k++)
				dup = !strcmp(c->syms[j].name, c->syms[k].name);
			if (j > i && !dup && at + strlen(c->syms[j].name) + 2 < sizeof aliases)
				at += (size_t)snprintf(aliases + at, sizeof aliases - at, "%s%s",
						       at ? " " : "", c->syms[j].name);
		}
		uint64_t lo = c->syms[i].lo;
		uint64_t hi = size ? lo + size :
			      end_of_sizeless(o, c, lo, j < c->nsyms ? c->syms[j].lo : 0);
		out[n++] = (struct fpt_elf_func){
			.lo = lo, .hi = hi, .name = fpt_arena_strdup(arena, c->syms[i].name),
			.aliases = at ? fpt_arena_strdup(arena, aliases) : NULL, .has_symbol = 1 };
		i = j;
	}
	return n;
}

/* Is lo inside one of the first n functions (sorted by lo)? */
static int covered(const struct fpt_elf_func *f, size_t n, uint64_t lo)
{
	size_t l = 0, h = n;
	while (l < h) {
		size_t m = (l + h) / 2;
		if (f[m].lo <= lo)
			l = m + 1;
		else
			h = m;
	}
	return l > 0 && lo < f[l - 1].hi;
}

int fpt_elf_functions(const struct fpt_elf *o, struct fpt_arena *arena,
		      struct fpt_elf_func **out, size_t *count)
{
	struct collect c = { 0 };
	int rc = -1;
	Elf *elfs[2] = { o->elf, o->debug ? o->debug->elf : NULL };

	for (int i = 0; i < 2; i++)
		if (elfs[i] && (add_symbols(&c, elfs[i]) != 0 || add_fdes(&c, elfs[i]) != 0))
			goto out;
	if (c.nsyms)
		qsort(c.syms, c.nsyms, sizeof *c.syms, by_sym);
	if (c.nfdes)
		qsort(c.fdes, c.nfdes, sizeof *c.fdes, by_range);
	struct fpt_elf_func *f = fpt_arena_alloc(arena, (c.nsyms + c.nfdes + 1) * sizeof *f);
	if (!f)
		goto out;
	size_t n = group_symbols(o, &c, arena, f), nsym = n;
	for (size_t i = 0; i < c.nfdes; i++) {
		const struct range *r = &c.fdes[i];
		if ((i > 0 && c.fdes[i - 1].lo == r->lo) || covered(f, nsym, r->lo))
			continue;
		char name[64];
		const char *sec = section_of(o->elf, r->lo);
		if (sec && !strncmp(sec, ".plt", 4))
			snprintf(name, sizeof name, "<%s>@%#" PRIx64, sec, r->lo);
		else
			snprintf(name, sizeof name, "fde@%#" PRIx64, r->lo);
		f[n++] = (struct fpt_elf_func){ .lo = r->lo, .hi = r->hi,
						.name = fpt_arena_strdup(arena, name) };
	}
	if (n)
		qsort(f, n, sizeof *f, by_func);
	for (size_t i = 0; i < n; i++)
		if (!f[i].name)
			goto out;
	*out = f;
	*count = n;
	rc = 0;
out:
	free(c.syms);
	free(c.fdes);
	return rc;
}
