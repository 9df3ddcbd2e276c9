/*
 * audit_elf.c — one ELF object for the audit: validated against truncation
 * and foreign architectures before libelf sees more than its header, its
 * loaded segments (code is read through them, so section-less objects work),
 * its CFI (libdw over .eh_frame and .debug_frame), its separate debug file
 * (found by build-id, for the symbols and producers of stripped libraries)
 * and what DW_AT_producer says about frame pointers.
 */
#include "audit.h"
#include "fpu_fde.h"

#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_AARCH64: return "aarch64";
	case EM_ARM: return "arm";
	case EM_RISCV: return "riscv";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	case EM_MIPS: return "mips";
	case EM_LOONGARCH: return "loongarch";
	}
	return NULL;
}

/* The checks libelf would make too late or not at all: the header's own
 * fields against the file size, before any table is read. */
static int check_header(const uint8_t *d, size_t size, char *err, size_t errlen)
{
	if (size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG) != 0) {
		snprintf(err, errlen, "not an ELF file (%zu bytes, starts with %02x %02x %02x %02x)",
			 size, size > 0 ? d[0] : 0, size > 1 ? d[1] : 0, size > 2 ? d[2] : 0,
			 size > 3 ? d[3] : 0);
		return -1;
	}
	/* e_machine sits at offset 18 in both classes. */
	unsigned machine = size >= 20 ? (unsigned)(d[18] | d[19] << 8) : 0;
	const char *mname = machine_name(machine);
	if (d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB || machine != EM_X86_64) {
		char mbuf[32];
		if (!mname) {
			snprintf(mbuf, sizeof mbuf, "machine %u", machine);
			mname = mbuf;
		}
		snprintf(err, errlen, "ELF for %s (%s, %s), not x86-64: only x86-64 objects are audited",
			 mname, d[EI_CLASS] == ELFCLASS32 ? "32-bit" : d[EI_CLASS] == ELFCLASS64 ? "64-bit" : "bad class",
			 d[EI_DATA] == ELFDATA2MSB ? "big-endian" : "little-endian");
		return -1;
	}
	if (size < sizeof(Elf64_Ehdr)) {
		snprintf(err, errlen, "truncated ELF: %zu bytes, the header alone needs %zu",
			 size, sizeof(Elf64_Ehdr));
		return -1;
	}
	Elf64_Ehdr h;
	memcpy(&h, d, sizeof h);
	if (h.e_phnum && (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phoff > size ||
			  (uint64_t)h.e_phnum * sizeof(Elf64_Phdr) > size - h.e_phoff)) {
		snprintf(err, errlen, "truncated ELF: %u program headers at offset %" PRIu64
			 " (entry size %u) do not fit in %zu bytes",
			 h.e_phnum, (uint64_t)h.e_phoff, h.e_phentsize, size);
		return -1;
	}
	if (h.e_shnum && (h.e_shentsize != sizeof(Elf64_Shdr) || h.e_shoff > size ||
			  (uint64_t)h.e_shnum * sizeof(Elf64_Shdr) > size - h.e_shoff)) {
		snprintf(err, errlen, "truncated ELF: %u section headers at offset %" PRIu64
			 " (entry size %u) do not fit in %zu bytes",
			 h.e_shnum, (uint64_t)h.e_shoff, h.e_shentsize, size);
		return -1;
	}
	if (h.e_type == ET_REL) {
		snprintf(err, errlen, "relocatable object (.o): audit the linked program or library");
		return -1;
	}
	if (h.e_type != ET_EXEC && h.e_type != ET_DYN) {
		snprintf(err, errlen, "ELF type %u is neither an executable nor a shared object",
			 h.e_type);
		return -1;
	}
	return 0;
}

/* Every section with file bytes must lie inside the file: libelf would hand
 * out data past the end of a truncated file. */
static int check_sections(struct fpt_elf *o, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_offset > o->size || sh.sh_size > o->size - sh.sh_offset) {
			snprintf(err, errlen, "truncated ELF: section %zu needs bytes %" PRIu64
				 "..%" PRIu64 ", the file has %zu", elf_ndxscn(scn),
				 (uint64_t)sh.sh_offset, (uint64_t)(sh.sh_offset + sh.sh_size), o->size);
			return -1;
		}
	}
	return 0;
}

static int read_segments(struct fpt_elf *o, char *err, size_t errlen)
{
	size_t n;
	if (elf_getphdrnum(o->elf, &n) != 0)
		n = 0;
	o->segs = calloc(n ? n : 1, sizeof *o->segs);
	if (!o->segs) {
		snprintf(err, errlen, "out of memory for %zu program headers", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > o->size || ph.p_filesz > o->size - ph.p_offset) {
			snprintf(err, errlen, "truncated ELF: segment %zu needs bytes %" PRIu64
				 "..%" PRIu64 ", the file has %zu", i, (uint64_t)ph.p_offset,
				 (uint64_t)(ph.p_offset + ph.p_filesz), o->size);
			return -1;
		}
		o->segs[o->nsegs++] = (struct fpt_elf_segment){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz, .offset = ph.p_offset,
			.filesz = ph.p_filesz, .flags = ph.p_flags };
	}
	return 0;
}

static int build_id(const struct fpt_elf *o, uint8_t *id, size_t cap, size_t *len)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0 ||
			    nh.n_descsz == 0 || nh.n_descsz > cap)
				continue;
			memcpy(id, (const char *)data->d_buf + desc_off, nh.n_descsz);
			*len = nh.n_descsz;
			return 0;
		}
	}
	return -1;
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug, where Debian's -dbgsym packages put it. */
int fpt_elf_debug_path(const struct fpt_elf *o, char *path, size_t len)
{
	uint8_t id[64];
	size_t n = 0;
	if (build_id(o, id, sizeof id, &n) != 0 || n < 2)
		return -1;
	int at = snprintf(path, len, "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (size_t i = 1; i < n && at > 0 && (size_t)at < len; i++)
		at += snprintf(path + at, len - (size_t)at, "%02x", id[i]);
	if (at <= 0 || (size_t)at >= len)
		return -1;
	return (size_t)snprintf(path + at, len - (size_t)at, ".debug") < len - (size_t)at ? 0 : -1;
}

static struct fpt_elf *open_debug_file(const struct fpt_elf *o)
{
	char path[256];
	if (fpt_elf_debug_path(o, path, sizeof path) != 0)
		return NULL;
	if (access(path, R_OK) != 0)
		return NULL;
	struct fpt_elf *d = calloc(1, sizeof *d);
	char err[256];
	if (!d || fpt_elf_open(d, path, err, sizeof err) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static int has_section(Elf *elf, const char *name)
{
	return fpu_elf_section(elf, name, NULL) != NULL;
}

int fpt_elf_open_mem(struct fpt_elf *o, uint8_t *data, size_t size, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->data = data;
	o->size = size;
	if (check_header(data, size, err, errlen) != 0)
		return -1;
	elf_version(EV_CURRENT);
	o->elf = elf_memory((char *)data, size);
	if (!o->elf || !gelf_getehdr(o->elf, &o->ehdr)) {
		snprintf(err, errlen, "libelf cannot read it: %s", elf_errmsg(-1));
		fpt_elf_close(o);
		return -1;
	}
	if (check_sections(o, err, errlen) != 0 || read_segments(o, err, errlen) != 0) {
		fpt_elf_close(o);
		return -1;
	}
	if (has_section(o->elf, ".eh_frame"))
		o->eh_cfi = dwarf_getcfi_elf(o->elf);
	return 0;
}

int fpt_elf_open(struct fpt_elf *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		snprintf(err, errlen, "not an ELF file (empty)");
		return -1;
	}
	/* Private and writable: libelf may write into the image it is given. */
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap %lld bytes: %s", (long long)st.st_size, strerror(errno));
		return -1;
	}
	if (fpt_elf_open_mem(o, p, (size_t)st.st_size, err, errlen) != 0) {
		munmap(p, (size_t)st.st_size);
		return -1;
	}
	o->mapped = 1;
	return 0;
}

void fpt_elf_load_debug(struct fpt_elf *o, int search_debug_file, int producers)
{
	/*
	 * dwarf_begin_elf inflates every compressed .debug_* section at once
	 * (Debian's libc6-dbg: 0.04 s, a fifth of `fptrace check` on a small
	 * perf.data, for verdicts that read none of it).
	 */
	int has_info = has_section(o->elf, ".debug_info");
	int skipped = has_info && !producers && !has_section(o->elf, ".debug_frame");
	if ((has_info || has_section(o->elf, ".debug_frame")) && !skipped)
		o->dwarf = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
	if (o->dwarf)
		o->debug_cfi = dwarf_getcfi(o->dwarf);   /* owned by o->dwarf */
	/* Stripped (Debian's libraries): symbols, producers and .debug_frame
	 * may be in the -dbgsym package's file. */
	if (search_debug_file && ((!o->dwarf && !skipped) || !has_section(o->elf, ".symtab"))) {
		o->debug = open_debug_file(o);
		if (o->debug)
			fpt_elf_load_debug(o->debug, 0, producers);
	}
}

void fpt_elf_close(struct fpt_elf *o)
{
	if (o->debug) {
		fpt_elf_close(o->debug);
		free(o->debug);
	}
	if (o->dwarf)
		dwarf_end(o->dwarf);
	if (o->eh_cfi)
		dwarf_cfi_end(o->eh_cfi);
	if (o->elf)
		elf_end(o->elf);
	if (o->mapped)
		munmap(o->data, o->size);
	free(o->segs);
	memset(o, 0, sizeof *o);
}

const uint8_t *fpt_elf_bytes(const struct fpt_elf *o, uint64_t vaddr, size_t *len)
{
	for (size_t i = 0; i < o->nsegs; i++) {
		const struct fpt_elf_segment *s = &o->segs[i];
		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		uint64_t in = vaddr - s->vaddr;
		if (*len > s->filesz - in)
			*len = (size_t)(s->filesz - in);
		return o->data + s->offset + in;
	}
	*len = 0;
	return NULL;
}

int fpt_elf_offset_to_vaddr(const struct fpt_elf *o, uint64_t offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < o->nsegs; i++) {
		const struct fpt_elf_segment *s = &o->segs[i];
		if (offset >= s->offset && offset - s->offset < s->filesz) {
			*vaddr = offset - s->offset + s->vaddr;
			return 0;
		}
	}
	return -1;
}

const char *fpt_elf_producer_hint(const struct fpt_elf *o, uint64_t vaddr)
{
	Dwarf *dw = o->dwarf ? o->dwarf : o->debug ? o->debug->dwarf : NULL;
	Dwarf_Die cu;
	if (!dw || !dwarf_addrdie(dw, vaddr, &cu))
		return NULL;
	Dwarf_Attribute attr;
	const char *p = dwarf_formstring(dwarf_attr(&cu, DW_AT_producer, &attr));
	if (!p)
		return NULL;
	if (!strncmp(p, "GNU AS", 6) || strstr(p, "assembler"))
		return "assembler";
	/* The last flag wins, as on the compiler's command line. */
	const char *omit = NULL, *keep = NULL, *s;
	for (s = p; (s = strstr(s, "-fomit-frame-pointer")); s++)
		omit = s;
	for (s = p; (s = strstr(s, "-fno-omit-frame-pointer")); s++)
		keep = s;
	if (omit && (!keep || omit > keep))
		return "-fomit-frame-pointer";
	if (keep)
		return "-fno-omit-frame-pointer";
	return "compiler";
}
