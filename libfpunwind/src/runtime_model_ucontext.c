/*
 * runtime_model_ucontext.c — glibc's makecontext/swapcontext as a runtime:
 * a coroutine's stack ends at the trampoline that starts it.
 *
 * makecontext makes the coroutine's first frame return to __start_context,
 * and the coroutine is entered with the rbp that getcontext captured in the
 * thread that made it.  Its frame-pointer chain therefore runs on past the
 * trampoline into the creator's stack, a frame that may have returned long
 * ago: a leak across stacks of the same kind as seed 003.  A coroutine
 * library ends its chains cleanly by entering the coroutine with rbp = 0.
 *
 * __start_context is a local symbol, found in .symtab (a libc with its symbol
 * table, a static link); without one the trampoline has no role here.
 */
#include "runtime_model_int.h"

#include <string.h>

static const char start_context_why[] =
	"__start_context starts a ucontext coroutine: the coroutine's stack ends here, "
	"so the coroutine must be entered with rbp = 0";

static int add_ucontext_symbol(void *arg, const char *name, const GElf_Sym *sym)
{
	void **a = arg;
	struct fpu_runtime *rt = a[0];
	struct fpu_rt_elf *e = a[1];
	if (strcmp(name, "__start_context") != 0 || !sym->st_value)
		return 0;
	/* Its symbol may say size 0 (hand-written assembly): the trampoline is a
	 * few instructions; 32 bytes cover the return address into it. */
	uint64_t size = sym->st_size ? sym->st_size : 32;
	return fpu_rt_add(rt, sym->st_value + e->bias, sym->st_value + e->bias + size,
			  FPU_RT_END, "__start_context", start_context_why);
}

int fpu_rt_scan_ucontext(struct fpu_runtime *rt, struct fpu_rt_elf *e)
{
	void *arg[2] = { rt, e };
	return fpu_rt_elf_symbols(e, add_ucontext_symbol, arg);
}
