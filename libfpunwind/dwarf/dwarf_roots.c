/*
 * dwarf_roots.c — the start-up frames at the outer end of a DWARF chain: what
 * runs below main (_start, __libc_start_main, __libc_start_call_main) and
 * below a thread's start routine (start_thread, clone3), and the shut-down
 * path that main returns into (exit, __run_exit_handlers: the program's atexit
 * handlers and destructors run above them).  glibc builds them
 * without frame pointers (Debian's does), so a frame-pointer chain ends or
 * goes astray there in every program; the comparator calls such a sample
 * root-window instead of blaming libc for it.
 */
#include "dwarf_internal.h"

#include <string.h>

/* The names with their leading underscores, and GI_ aliases, stripped. */
static const char *const root_names[] = {
	"libc_start_call_main", "libc_start_main", "libc_start_main_impl",
	"start_thread", "clone3", "clone",
	"exit", "run_exit_handlers",
};

/* name without leading '_', "GI_", version (@...) or clone suffix (.part.0). */
static size_t core_name(const char *name, const char **core)
{
	while (*name == '_')
		name++;
	if (!strncmp(name, "GI_", 3))
		for (name += 3; *name == '_'; name++)
			;
	*core = name;
	return strcspn(name, "@.");
}

static int is_root_frame(struct fpu_dwarf *d, uint64_t pc)
{
	struct fpu_symbol sym;
	const char *core;

	if (fpu_symbolize_function(d, pc, 1, &sym) != 0 || !sym.function)
		return 0;
	/* _start is linked into the executable (crt1.o); the rest live in libc. */
	if (!strcmp(sym.function, "_start"))
		return 1;
	if (!sym.system)
		return 0;
	size_t len = core_name(sym.function, &core);
	for (size_t i = 0; i < sizeof root_names / sizeof root_names[0]; i++)
		if (strlen(root_names[i]) == len && !strncmp(core, root_names[i], len))
			return 1;
	return 0;
}

uint32_t fpu_dwarf_root_from(struct fpu_dwarf *d, const uint64_t *pcs, size_t n)
{
	size_t k = n;
	/* From the outer end inwards; pcs[0], the interrupted pc, never counts. */
	while (k > 1 && is_root_frame(d, pcs[k - 1]))
		k--;
	return k < n ? (uint32_t)k : 0;
}
