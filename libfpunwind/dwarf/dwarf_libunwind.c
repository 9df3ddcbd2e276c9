/*
 * dwarf_libunwind.c — unwind a sample with libunwind's remote interface: an
 * address space whose accessors serve registers from the sample, stack memory
 * from its snapshot, and code/CFI memory from the mapped files, and whose
 * find_proc_info searches each file's .eh_frame_hdr binary-search table (the
 * way perf's libunwind support does).
 */
#include "dwarf_internal.h"

#include <gelf.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Exported by libunwind-x86_64 but not declared in its public headers. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

/* Where a file's .eh_frame_hdr is; found once per mapping. */
struct eh_hdr {
	int state;              /* 0 unknown, 1 found, -1 none */
	uint64_t offset;        /* of .eh_frame_hdr in the file */
	uint64_t fde_count;
};

struct unw_state {
	unw_addr_space_t as;
	struct eh_hdr *hdr;     /* per mapping */
};

/* Read a 4-byte little-endian value at file offset off; -1 when out of range. */
static int64_t u32_at(const uint8_t *b, size_t size, uint64_t off)
{
	uint32_t v;
	if (off > size || size - off < 4)
		return -1;
	memcpy(&v, b + off, 4);
	return v;
}

/*
 * .eh_frame_hdr: version 1, then encodings of eh_frame_ptr, fde_count and the
 * table.  Only the layout every toolchain emits is accepted (udata4 count,
 * datarel|sdata4 table): for anything else say "no table", and libunwind
 * reports no unwind info for those pcs, which the comparator calls dwarf-fail.
 */
static void find_eh_hdr(struct fpu_dwarf *d, const struct fpu_mapping *m, struct eh_hdr *h)
{
	size_t size;
	const uint8_t *bytes = fpu_dwarf_file_bytes(d, m, &size);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	h->state = -1;
	if (!bytes || elf_version(EV_CURRENT) == EV_NONE)
		return;
	elf = elf_memory((char *)bytes, size);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		if (elf)
			elf_end(elf);
		return;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".eh_frame_hdr") != 0)
			continue;
		const uint8_t *p = bytes + sh.sh_offset;
		if (sh.sh_offset + 12 > size || p[0] != 1 || p[2] != 0x03 || p[3] != 0x3b)
			break;
		int64_t count = u32_at(bytes, size, sh.sh_offset + 8);
		if (count < 0 || sh.sh_offset + 12 + (uint64_t)count * 8 > size)
			break;
		h->offset = sh.sh_offset;
		h->fde_count = (uint64_t)count;
		h->state = 1;
		break;
	}
	elf_end(elf);
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, void *arg)
{
	struct fpu_dwarf *d = arg;
	const struct fpu_mapping *m = fpu_dwarf_mapping_of(d, ip);

	if (!m || !(m->prot & PROT_EXEC))
		return -UNW_ENOINFO;
	struct eh_hdr *h = &d->unw->hdr[m - d->maps];
	if (h->state == 0)
		find_eh_hdr(d, m, h);
	if (h->state < 0)
		return -UNW_ENOINFO;
	/*
	 * Where file offset 0 would be mapped (what read_by_bias serves from):
	 * the table's address from its file offset, not from its link address,
	 * which differs for a non-PIE executable (a cgo binary at 0x400000:
	 * vaddr + (start - pgoff) counted the 0x400000 twice).
	 */
	uint64_t file_at = m->start - m->pgoff;
	unw_dyn_info_t di;
	memset(&di, 0, sizeof di);
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = m->start;
	di.end_ip = m->end;
	di.u.rti.segbase = file_at + h->offset;
	di.u.rti.table_data = file_at + h->offset + 12;
	di.u.rti.table_len = h->fde_count * 8 / sizeof(unw_word_t);
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as; (void)pi; (void)arg;
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as; (void)addr; (void)arg;
	return -UNW_ENOINFO;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *valp,
		      int write, void *arg)
{
	(void)as;
	uint64_t word;
	if (write)
		return -UNW_EINVAL;
	if (fpu_dwarf_read_word(arg, addr, &word) != 0)
		return -UNW_EINVAL;
	*valp = word;
	return 0;
}

/* libunwind's x86-64 register numbers are the DWARF ones, as in fpu_reg.  Its
 * aarch64 ones (a recording unwound on arm64) are x0..x30 = 0..30, sp = 31,
 * pc = 32: fpu_a64_slot's numbers, which say where a sample keeps each. */
static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *valp,
		      int write, void *arg)
{
	struct fpu_dwarf *d = arg;
	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	int slot = reg;
	if (d->machine == FPU_REC_MACHINE_AARCH64)
		slot = reg < 0 ? -1 : fpu_a64_slot((unsigned)reg);
	if (slot < 0 || slot >= FPU_NREGS)
		return -UNW_EBADREG;
	*valp = d->cur->regs[slot];
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
			int write, void *arg)
{
	(void)as; (void)reg; (void)val; (void)write; (void)arg;
	return -UNW_EINVAL;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as; (void)c; (void)arg;
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			 size_t len, unw_word_t *offp, void *arg)
{
	(void)as; (void)addr; (void)buf; (void)len; (void)offp; (void)arg;
	return -UNW_EINVAL;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

static int ensure_state(struct fpu_dwarf *d, struct fpu_dwarf_result *res)
{
	if (d->unw)
		return 0;
	struct unw_state *u = calloc(1, sizeof *u);
	struct eh_hdr *hdr = calloc(d->nmaps ? d->nmaps : 1, sizeof *hdr);
	unw_addr_space_t as = unw_create_addr_space(&accessors, 0);
	if (!u || !hdr || !as) {
		free(u);
		free(hdr);
		if (as)
			unw_destroy_addr_space(as);
		res->end = FPU_DWARF_END_ERROR;
		snprintf(res->reason, sizeof res->reason, "libunwind: cannot create address space");
		return -1;
	}
	/* Cached proc info is keyed by ip; valid for the whole session's mappings. */
	unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
	u->as = as;
	u->hdr = hdr;
	d->unw = u;
	return 0;
}

void fpu_dwarf_libunwind_free(struct fpu_dwarf *d)
{
	if (!d->unw)
		return;
	unw_destroy_addr_space(d->unw->as);
	free(d->unw->hdr);
	free(d->unw);
	d->unw = NULL;
}

/* A frame without CFI counts only if a step was taken from it. */
static void no_step_from_last(struct fpu_dwarf_result *res, size_t n)
{
	if (res->unverified_from >= n)
		res->unverified_from = 0;
}

size_t fpu_dwarf_unwind_libunwind(struct fpu_dwarf *d, const struct fpu_sample *s,
				  uint64_t *pcs, size_t max, struct fpu_dwarf_result *res)
{
	unw_cursor_t cursor;
	size_t n = 0;
	int rc;
	(void)s;

	if (ensure_state(d, res) != 0)
		return 0;
	rc = unw_init_remote(&cursor, d->unw->as, d);
	while (rc >= 0) {
		unw_word_t ip;
		if (n == max) {
			res->end = FPU_DWARF_END_DEPTH;
			return n;
		}
		if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0)
			break;
		/*
		 * Without CFI for ip, unw_step falls back to following rbp (its
		 * frame-pointer heuristic): that step is not independent evidence.
		 * This backend's find_proc_info reads .eh_frame only.
		 */
		if (!res->unverified_from && !fpu_dwarf_pc_has_cfi(d, n ? ip - 1 : ip, 1))
			res->unverified_from = (uint32_t)n + 1;
		pcs[n++] = ip;
		rc = unw_step(&cursor);
		if (rc == 0) {
			res->end = FPU_DWARF_END_CLEAN;
			no_step_from_last(res, n);
			return n;
		}
	}
	no_step_from_last(res, n);
	res->end = FPU_DWARF_END_ERROR;
	snprintf(res->reason, sizeof res->reason, "libunwind: %s",
		 unw_strerror(rc < 0 ? rc : -UNW_EUNSPEC));
	return n;
}
