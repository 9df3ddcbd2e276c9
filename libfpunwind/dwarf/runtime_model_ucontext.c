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
 * __start_context is a local symbol: Debian's libc has no .symtab, so it is
 * read from the detached debug file named by the build id
 * (/usr/lib/debug/.build-id/xx/yyyy.debug, package libc6-dbg).
 */
#include "runtime_model_int.h"
#include "fpu_record.h"

#include <fcntl.h>
#include <stdio.h>
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
	/*
	 * makecontext stores &__start_context itself as the entry's return
	 * address: no call precedes it, so the lookup of that return address
	 * (at pc - 1) lands on the byte before the symbol, which the range
	 * therefore covers.  A size of 0 (hand-written assembly) gets 32 bytes.
	 */
	uint64_t size = sym->st_size ? sym->st_size : 32;
	if (fpu_rt_add(rt, sym->st_value + e->bias - 1, sym->st_value + e->bias + size,
		       FPU_RT_END, "__start_context", start_context_why) != 0)
		return -1;
	rt->funcs[rt->nfuncs - 1].blame_callee = 1;
	return 0;
}

/* Copy the build id of e as hex into out (2 * 20 + 1 bytes); 0, or -1. */
static int build_id_hex(struct fpu_rt_elf *e, char *out, size_t outlen)
{
	for (Elf_Scn *scn = elf_nextscn(e->elf, NULL); scn; scn = elf_nextscn(e->elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4) != 0 ||
			    2 * nh.n_descsz + 1 > outlen || nh.n_descsz < 2)
				continue;
			const uint8_t *id = (const uint8_t *)d->d_buf + desc_off;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", id[i]);
			return 0;
		}
	}
	return -1;
}

int fpu_rt_scan_ucontext(struct fpu_runtime *rt, struct fpu_rt_elf *e)
{
	size_t before = rt->nfuncs;
	void *arg[2] = { rt, e };
	if (fpu_rt_elf_symbols(e, add_ucontext_symbol, arg) != 0)
		return -1;
	char id[64], path[128];
	if (rt->nfuncs != before || !strstr(e->path, "/libc.so") ||
	    build_id_hex(e, id, sizeof id) != 0)
		return 0;
	snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	/* The debug file has the same link-time addresses: the same bias. */
	struct fpu_rt_elf dbg = { .fd = -1, .bias = e->bias, .path = path };
	char why[128];
	dbg.fd = fpu_open_regular(path, NULL, why, sizeof why);
	if (dbg.fd < 0)
		return 0;
	dbg.elf = elf_begin(dbg.fd, ELF_C_READ_MMAP, NULL);
	int rc = 0;
	if (dbg.elf) {
		arg[1] = &dbg;
		rc = fpu_rt_elf_symbols(&dbg, add_ucontext_symbol, arg);
	}
	fpu_rt_elf_close(&dbg);
	return rc;
}
