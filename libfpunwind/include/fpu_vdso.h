/*
 * fpu_vdso.h — the vDSO, the one code mapping of a process with no file behind
 * it.  The kernel maps the same image into every process it runs (of one
 * ABI), so a recorder on the same kernel identifies it by the build-id of its
 * own vDSO, and an analyzer whose own vDSO has that build-id can read the
 * recorded process's vDSO (symbols, CFI) from itself.
 */
#ifndef FPU_VDSO_H
#define FPU_VDSO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The path a recording gives the vDSO mapping, as /proc/PID/maps names it. */
#define FPU_VDSO_PATH "[vdso]"

struct fpu_vdso {
	const uint8_t *image;      /* the kernel's mapping in this process */
	size_t size;               /* bytes of the ELF image (headers to sections) */
	uint8_t build_id[20];
	uint32_t build_id_len;     /* 0 when the image has no GNU build-id note */
};

/* This process's vDSO.  0, or -1 when it has none or its ELF image is odd. */
int fpu_vdso_self(struct fpu_vdso *out);

/* Where process pid (0: this one) has its vDSO.  0, or -1 when it has none. */
int fpu_vdso_range(int pid, uint64_t *start, uint64_t *end);

#ifdef __cplusplus
}
#endif
#endif
