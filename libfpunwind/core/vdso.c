/*
 * vdso.c — find this process's vDSO image and its build-id, and where another
 * process has its vDSO mapped.  No dependency: the runtime's profile writer
 * and the perf recorder both use it to record the [vdso] mapping.
 */
#include "fpu_vdso.h"

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

int fpu_vdso_range(int pid, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	int found = -1;

	snprintf(path, sizeof path, pid > 0 ? "/proc/%d/maps" : "/proc/self/maps", pid);
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (found && fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;
		int at = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &at) == 2 && at &&
		    strncmp(line + at, FPU_VDSO_PATH "\n", sizeof FPU_VDSO_PATH) == 0) {
			*start = lo;
			*end = hi;
			found = 0;
		}
	}
	fclose(f);
	return found;
}
