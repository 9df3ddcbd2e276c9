/*
 * symtab.c — names for pcs in tracebacks.  dladdr only knows the dynamic
 * symbol table, which lacks every static function (and, without -rdynamic,
 * every function of the executable); so the module's ELF .symtab is read
 * (mapped once per module, never unmapped) and dladdr is only the fallback.
 * Called on fatal paths, including signal handlers: uses open/fstat/mmap only
 * and a fixed table; a race between two threads costs one extra mmap.
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

struct symtab {
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	uintptr_t bias;                    /* 0 for ET_EXEC, base for ET_DYN */
};

/* A module's entry is claimed by the thread that sets base and published by
 * its state; until then another thread that needs the same module loads a
 * copy of its own (one more mapping) instead of taking the half-made entry
 * for "no symtab": the stack-scan report (stackscan.c) and a goroutine taking
 * tracebacks may symbolize for the first time at once. */
struct mod {
	_Atomic uintptr_t base;            /* dli_fbase; 0: free */
	_Atomic int state;                 /* 0 loading, 1 ok, -1 no symtab */
	struct symtab tab;
};

static struct mod mods[MAXMOD];

/* Maps path and finds its .symtab: true and *t filled, or false. */
static bool load(struct symtab *t, uintptr_t base, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(Elf64_Ehdr))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	const unsigned char *b = map;
	const Elf64_Ehdr *eh = map;
	size_t size = (size_t)st.st_size;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
		return false;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(b + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *strsh = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > size ||
		    strsh->sh_offset + strsh->sh_size > size)
			return false;
		t->syms = (const Elf64_Sym *)(b + sh[i].sh_offset);
		t->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
		t->strs = (const char *)(b + strsh->sh_offset);
		t->bias = eh->e_type == ET_DYN ? base : 0;
		return true;
	}
	return false;
}

/* base's symbol table into *t: from the table, or loaded now. */
static bool module(uintptr_t base, const char *path, struct symtab *t)
{
	for (int i = 0; i < MAXMOD; i++) {
		uintptr_t b = atomic_load(&mods[i].base);
		if (b == 0) {
			if (atomic_compare_exchange_strong(&mods[i].base, &b, base)) {
				bool ok = load(&mods[i].tab, base, path);
				atomic_store(&mods[i].state, ok ? 1 : -1);
				*t = mods[i].tab;
				return ok;
			}
			/* b now holds the base another thread claimed the entry for */
		}
		if (b != base)
			continue;
		int state = atomic_load(&mods[i].state);
		if (state == 0)
			return load(t, base, path);
		*t = mods[i].tab;
		return state == 1;
	}
	return false;
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
	struct symtab tab;
	struct symtab *m = path && module((uintptr_t)di.dli_fbase, path, &tab) ? &tab : NULL;
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
