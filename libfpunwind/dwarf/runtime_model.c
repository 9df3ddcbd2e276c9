/*
 * runtime_model.c — the runtime model's table: built once per process from the
 * symbols of its executable mappings, looked up by pc for every frame.
 */
#include "runtime_model_int.h"
#include "fpu_record.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fpu_rt_add(struct fpu_runtime *rt, uint64_t lo, uint64_t hi, enum fpu_rt_role role,
	       const char *name, const char *why)
{
	if (lo >= hi)
		return 0;
	if (rt->nfuncs == rt->capfuncs) {
		size_t cap = rt->capfuncs ? 2 * rt->capfuncs : 32;
		struct fpu_rt_func *f = realloc(rt->funcs, cap * sizeof *f);
		if (!f)
			return -1;
		rt->funcs = f;
		rt->capfuncs = cap;
	}
	rt->funcs[rt->nfuncs++] = (struct fpu_rt_func){ .lo = lo, .hi = hi, .role = role,
							.name = name, .why = why };
	return 0;
}

int fpu_rt_elf_open(struct fpu_rt_elf *e, const struct fpu_mapping *m)
{
	memset(e, 0, sizeof *e);
	e->fd = -1;
	e->path = m->path;
	if (!m->path || m->path[0] != '/')
		return -1;
	/* Only a regular file: a mapping's path may name a FIFO, whose open()
	 * would wait for a writer forever. */
	char why[128];
	e->fd = fpu_open_regular(m->path, NULL, why, sizeof why);
	if (e->fd < 0) {
		e->fd = -1;
		return -1;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t nph;
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh) ||
	    elf_getphdrnum(e->elf, &nph) != 0)
		goto fail;
	/*
	 * The bias of the mapping: the PT_LOAD that holds file offset pgoff is
	 * mapped at start, so a link-time address a is at a + start - (vaddr +
	 * pgoff - offset).  Non-PIE Go binaries get 0.
	 */
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (m->pgoff >= (ph.p_offset & ~(ph.p_align - 1)) &&
		    m->pgoff < ph.p_offset + ph.p_filesz) {
			uint64_t link = ph.p_vaddr - ph.p_offset + m->pgoff;
			e->bias = m->start - link;
			return 0;
		}
	}
fail:
	fpu_rt_elf_close(e);
	return -1;
}

void fpu_rt_elf_close(struct fpu_rt_elf *e)
{
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	e->elf = NULL;
	e->fd = -1;
}

Elf_Scn *fpu_rt_elf_section(struct fpu_rt_elf *e, const char *name)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(e->elf, NULL); scn; scn = elf_nextscn(e->elf, scn)) {
		GElf_Shdr sh;
		const char *n;
		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(e->elf, shstrndx, sh.sh_name)) &&
		    strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

int fpu_rt_elf_read(struct fpu_rt_elf *e, uint64_t addr, void *out, size_t len)
{
	for (Elf_Scn *scn = elf_nextscn(e->elf, NULL); scn; scn = elf_nextscn(e->elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type == SHT_NOBITS || addr < sh.sh_addr ||
		    addr + len > sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || addr - sh.sh_addr + len > d->d_size)
			return -1;
		memcpy(out, (const char *)d->d_buf + (addr - sh.sh_addr), len);
		return 0;
	}
	return -1;
}

int fpu_rt_elf_symbols(struct fpu_rt_elf *e, fpu_rt_sym_fn fn, void *arg)
{
	Elf_Scn *tab = NULL;
	for (Elf_Scn *scn = elf_nextscn(e->elf, NULL); scn; scn = elf_nextscn(e->elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !tab))
			tab = scn;
	}
	if (!tab)
		return 0;
	GElf_Shdr sh;
	Elf_Data *d = elf_getdata(tab, NULL);
	if (!gelf_getshdr(tab, &sh) || !d || !sh.sh_entsize)
		return 0;
	size_t n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !(name = elf_strptr(e->elf, sh.sh_link, sym.st_name)))
			continue;
		if (fn(arg, name, &sym) != 0)
			return -1;
	}
	return 0;
}

int fpu_rt_add_image(struct fpu_runtime *rt, struct fpu_rt_elf *e)
{
	size_t nph;
	if (elf_getphdrnum(e->elf, &nph) != 0)
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (rt->nimages == rt->capimages) {
			size_t cap = rt->capimages ? 2 * rt->capimages : 16;
			struct fpu_rt_image *im = realloc(rt->images, cap * sizeof *im);
			if (!im)
				return -1;
			rt->images = im;
			rt->capimages = cap;
		}
		rt->images[rt->nimages++] = (struct fpu_rt_image){
			.lo = ph.p_vaddr + e->bias, .hi = ph.p_vaddr + e->bias + ph.p_memsz };
	}
	return 0;
}

int fpu_rt_is_go_code(const struct fpu_runtime *rt, uint64_t pc)
{
	return rt && pc >= rt->go_text_lo && pc < rt->go_text_hi;
}

int fpu_rt_in_image(const struct fpu_runtime *rt, uint64_t addr)
{
	for (size_t i = 0; rt && i < rt->nimages; i++)
		if (addr >= rt->images[i].lo && addr < rt->images[i].hi)
			return 1;
	return 0;
}

static int by_lo(const void *a, const void *b)
{
	const struct fpu_rt_func *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

struct fpu_runtime *fpu_runtime_new(const struct fpu_mapping *maps, size_t nmaps)
{
	struct fpu_runtime *rt = calloc(1, sizeof *rt);
	if (!rt || elf_version(EV_CURRENT) == EV_NONE) {
		free(rt);
		return NULL;
	}
	for (size_t i = 0; i < nmaps; i++) {
		/* Each file once: its first executable mapping. */
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = maps[j].path && maps[i].path && (maps[j].prot & 4) &&
			       strcmp(maps[j].path, maps[i].path) == 0;
		struct fpu_rt_elf e;
		if (seen || !(maps[i].prot & 4 /* PROT_EXEC */) ||
		    fpu_rt_elf_open(&e, &maps[i]) != 0)
			continue;
		int rc = fpu_rt_add_image(rt, &e);
		if (rc == 0)
			rc = fpu_rt_scan_go(rt, &e);
		if (rc == 0)
			rc = fpu_rt_scan_ucontext(rt, &e);
		fpu_rt_elf_close(&e);
		if (rc != 0) {
			fpu_runtime_free(rt);
			return NULL;
		}
	}
	if (!rt->nfuncs && !rt->nimages) {
		fpu_runtime_free(rt);
		return NULL;
	}
	if (rt->nfuncs)     /* images only: funcs is NULL, which qsort may not get */
		qsort(rt->funcs, rt->nfuncs, sizeof *rt->funcs, by_lo);
	return rt;
}

void fpu_runtime_free(struct fpu_runtime *rt)
{
	if (!rt)
		return;
	free(rt->funcs);
	free(rt->images);
	free(rt->go_path);
	free(rt);
}

const char *fpu_runtime_go_version(const struct fpu_runtime *rt)
{
	return rt && rt->go_version[0] ? rt->go_version : NULL;
}

const char *fpu_runtime_go_path(const struct fpu_runtime *rt)
{
	return rt ? rt->go_path : NULL;
}

const struct fpu_rt_func *fpu_runtime_lookup(const struct fpu_runtime *rt, uint64_t pc,
					     int is_return)
{
	if (!rt || !pc)
		return NULL;
	uint64_t at = is_return ? pc - 1 : pc;
	size_t lo = 0, hi = rt->nfuncs;
	while (lo < hi) {   /* the last function starting at or below at */
		size_t mid = lo + (hi - lo) / 2;
		if (rt->funcs[mid].lo <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct fpu_rt_func *f = &rt->funcs[lo - 1];
	return at < f->hi ? f : NULL;
}

enum fpu_rt_role fpu_runtime_role_at(const struct fpu_rt_func *f, size_t index)
{
	if (!f)
		return FPU_RT_NONE;
	/*
	 * Interrupted inside an END function (index 0) the thread may be before
	 * or in the middle of its switch (mcall between loading SP and calling
	 * fn): the frame above is on the other stack, or not yet.
	 */
	if (index == 0 && f->role == FPU_RT_END)
		return FPU_RT_SWITCH;
	return f->role;
}

const char *fpu_runtime_why(const struct fpu_runtime *rt, const struct fpu_verdict *v)
{
	if (v->cls == FPU_CLASS_FP_CLOBBERED)
		return "rbp held an address in the program's image, not a stack: this function "
		       "uses BP as a general register, so chains through it read data as "
		       "frame pointers";
	for (unsigned i = 0; rt && v->cls == FPU_CLASS_FP_LEAK && i < rt->nblamed; i++)
		if (rt->blamed[i].pc == v->culprit_pc)
			return rt->blamed[i].end->why;
	const struct fpu_rt_func *f = fpu_runtime_lookup(rt, v->culprit_pc, v->culprit_is_return);
	return f ? f->why : NULL;
}
