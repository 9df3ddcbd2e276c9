/*
 * audit_funcs.c — the functions of one ELF object: every function symbol of
 * .symtab (the object's, or its debug file's) and .dynsym, one entry per
 * address with the other names as aliases, plus every FDE range of
 * .eh_frame and .debug_frame that no symbol covers (stripped objects keep
 * their FDEs, and so do PLTs and .cold parts).
 */
#include "audit.h"
#include "fpu_fde.h"

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

struct collect {
	struct sym *syms;
	size_t nsyms, capsyms;
	struct fpu_fde_range *fdes;
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

/* Append the FDE ranges of elf (fpu_fde.h reads them, for the symbolizer too). */
static int add_fdes(struct collect *c, Elf *elf)
{
	struct fpu_fde_range *v;
	size_t n;
	if (fpu_elf_fde_ranges(elf, &v, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (grow((void **)&c->fdes, &c->capfdes, c->nfdes, sizeof *c->fdes) != 0) {
			free(v);
			return -1;
		}
		c->fdes[c->nfdes++] = v[i];
	}
	free(v);
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
	const struct fpu_fde_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int by_func(const void *a, const void *b)
{
	const struct fpt_elf_func *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const struct fpu_fde_range *fde_at(const struct collect *c, uint64_t lo)
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
	const struct fpu_fde_range *r = fde_at(c, lo);
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
		const struct fpu_fde_range *r = &c.fdes[i];
		if ((i > 0 && c.fdes[i - 1].lo == r->lo) || covered(f, nsym, r->lo))
			continue;
		char name[64];
		const char *sec = section_of(o->elf, r->lo);
		if (sec && !strncmp(sec, ".plt", 4))
			snprintf(name, sizeof name, "<%s>@%#" PRIx64, sec, r->lo);
		else
			fpu_fde_func_name(name, sizeof name, r->lo);
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
