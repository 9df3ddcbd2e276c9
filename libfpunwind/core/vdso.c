/*
 * vdso.c — find this process's vDSO image and its build-id, and where another
 * process has its vDSO mapped.  No dependency: the runtime's profile writer
 * and the perf recorder both use it to record the [vdso] mapping.
 */
#include "fpu_vdso.h"
#include "fpunwind.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

/* The GNU build-id note among the notes of [p, p + len). */
static void find_build_id(const uint8_t *p, size_t len, struct fpu_vdso *out)
{
	size_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)(p + off);
		size_t name = (n->n_namesz + 3) & ~(size_t)3, desc = (n->n_descsz + 3) & ~(size_t)3;

		off += sizeof *n;
		if (name > len - off || desc > len - off - name)
			return;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    memcmp(p + off, "GNU", 4) == 0 && n->n_descsz <= sizeof out->build_id) {
			memcpy(out->build_id, p + off + name, n->n_descsz);
			out->build_id_len = n->n_descsz;
			return;
		}
		off += name + desc;
	}
}

int fpu_vdso_self(struct fpu_vdso *out)
{
	const uint8_t *image = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;

	memset(out, 0, sizeof *out);
	if (!image || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	/* The image ends with its section headers (the kernel keeps them, so
	 * that debuggers and unwinders can read symbols and CFI). */
	size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh->e_phoff);

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_offset + ph[i].p_filesz > size)
			size = ph[i].p_offset + ph[i].p_filesz;
		if (ph[i].p_type == PT_NOTE)
			find_build_id(image + ph[i].p_offset, ph[i].p_filesz, out);
	}
	out->image = image;
	out->size = size;
	return 0;
}

static int vdso_line(const struct fpu_maps_line *m, void *arg)
{
	uint64_t *range = arg;
	if (m->path_len != sizeof FPU_VDSO_PATH - 1 || memcmp(m->path, FPU_VDSO_PATH, m->path_len))
		return 0;
	range[0] = m->start;
	range[1] = m->end;
	return 1;
}

int fpu_vdso_range(int pid, uint64_t *start, uint64_t *end)
{
	char line[512];
	uint64_t range[2];
	if (fpu_maps_each(pid, line, sizeof line, vdso_line, range) != 1)
		return -1;
	*start = range[0];
	*end = range[1];
	return 0;
}
