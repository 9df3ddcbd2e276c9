/*
 * dwarf_vdso.c — give a DWARF session the vDSO of the sampled process, which
 * no file holds.  When the recorded [vdso] mapping carries the build-id of
 * this process's own vDSO, the image is the same (one kernel, one ABI): it is
 * copied into a memory file that libdw reports as a module (symbols such as
 * __vdso_clock_gettime, and the CFI to unwind through them) and that serves
 * the mapping's bytes to the libunwind backend.  Another kernel's vDSO stays
 * unnamed, as it has to.
 */
#include "dwarf_internal.h"
#include "fpu_vdso.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int is_our_vdso(const struct fpu_mapping *m, struct fpu_vdso *self)
{
	return strcmp(m->path, FPU_VDSO_PATH) == 0 && m->build_id_len &&
	       fpu_vdso_self(self) == 0 && self->build_id_len == m->build_id_len &&
	       memcmp(self->build_id, m->build_id, m->build_id_len) == 0;
}

int fpu_dwarf_report_vdso(struct fpu_dwarf *d, size_t i)
{
	const struct fpu_mapping *m = &d->maps[i];
	struct fpu_vdso self;

	if (!is_our_vdso(m, &self))
		return 0;
	int fd = memfd_create("vdso", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	void *copy = MAP_FAILED;
	if (write(fd, self.image, self.size) == (ssize_t)self.size)
		copy = mmap(NULL, self.size, PROT_READ, MAP_PRIVATE, fd, 0);
	/* libdw keeps the descriptor it is given (and closes it at dwfl_end). */
	int dwfl_fd = copy != MAP_FAILED ? dup(fd) : -1;
	close(fd);
	if (dwfl_fd < 0) {
		if (copy != MAP_FAILED)
			munmap(copy, self.size);
		return 0;
	}
	d->files[d->file_of[i]].data = copy;
	d->files[d->file_of[i]].size = self.size;
	if (!dwfl_report_elf(d->dwfl, FPU_VDSO_PATH, FPU_VDSO_PATH, dwfl_fd, m->start - m->pgoff,
			     false))
		close(dwfl_fd);
	return 1;
}
