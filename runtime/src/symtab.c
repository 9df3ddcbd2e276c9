/*
 * symtab.c — names for pcs in tracebacks.  dladdr only knows the dynamic
 * symbol table, which lacks every static function (and, without -rdynamic,
 * every function of the executable); so the module's ELF .symtab is read
 * (mapped once per module, never unmapped) and dladdr is only the fallback.
 * Called on fatal paths, including signal handlers: uses open/fstat/mmap only
 * and a fixed table; a lost race between two threads costs one extra mmap.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"
#include "symtab.h"

#define MAXMOD 32

struct mod {
	uintptr_t base;                    /* dli_fbase */
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	uintptr_t bias;                    /* 0 for ET_EXEC, base for ET_DYN */
	int state;                         /* 0 unknown, 1 ok, -1 no symtab */
};

static struct mod mods[MAXMOD];

static void load(struct mod *m, const char *path)
{
	m->state = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(Elf64_Ehdr))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	const unsigned char *b = map;
	const Elf64_Ehdr *eh = map;
	size_t size = (size_t)st.st_size;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
		return;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(b + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *strsh = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > size ||
		    strsh->sh_offset + strsh->sh_size > size)
			return;
		m->syms = (const Elf64_Sym *)(b + sh[i].sh_offset);
		m->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
		m->strs = (const char *)(b + strsh->sh_offset);
		m->bias = eh->e_type == ET_DYN ? m->base : 0;
		m->state = 1;
		return;
	}
}

static struct mod *module(uintptr_t base, const char *path)
{
	for (int i = 0; i < MAXMOD; i++) {
		if (mods[i].base == base)
			return mods[i].state == 1 ? &mods[i] : NULL;
		if (mods[i].base == 0) {
			mods[i].base = base;
			load(&mods[i], path);
			return mods[i].state == 1 ? &mods[i] : NULL;
		}
	}
	return NULL;
}

const char *rt_symtab_lookup(uintptr_t pc, uintptr_t *off, const char **modname)
{
	Dl_info di;
	*modname = "?";
	*off = 0;
	if (pc == 0 || !dladdr((void *)pc, &di)) {
		const char *t = rt_export_lookup(pc, off);   /* a thunk (export.c) */
		if (t)
			*modname = "[fprt thunks]";
		return t;
	}
	if (di.dli_fname)
		*modname = di.dli_fname;
	/* The runtime is linked statically, so the module that holds this
	 * function is the executable, whose dli_fname is argv[0] (or a name a
	 * test harness gave it): read it through /proc/self/exe instead. */
	Dl_info self;
	const char *path = di.dli_fname;
	if (dladdr((void *)rt_symtab_lookup, &self) && self.dli_fbase == di.dli_fbase)
		path = "/proc/self/exe";
	struct mod *m = path ? module((uintptr_t)di.dli_fbase, path) : NULL;
	if (m) {
		uintptr_t a = pc - m->bias;
		const Elf64_Sym *best = NULL;
		for (size_t i = 0; i < m->nsyms; i++) {
			const Elf64_Sym *s = &m->syms[i];
			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > a ||
			    (s->st_size && a >= s->st_value + s->st_size))
				continue;
			if (!best || s->st_value > best->st_value)
				best = s;
		}
		if (best) {
			*off = a - best->st_value;
			return m->strs + best->st_name;
		}
	}
	if (di.dli_sname) {
		*off = pc - (uintptr_t)di.dli_saddr;
		return di.dli_sname;
	}
	*off = pc - (uintptr_t)di.dli_fbase;
	return NULL;
}
