/*
 * dwarf_session.c — a DWARF session over the file mappings of one sampled
 * process: the Dwfl with its modules, reads of stack and file memory for the
 * unwinders, and symbolization.
 */
#include "dwarf_internal.h"
#include "fpu_record.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *debuginfo_path;

/* fpu_symbolize's answer for one (pc, is_return), as the symbol cache keeps it. */
struct cached_symbol {
	int rc;
	struct fpu_symbol sym;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
	.section_address = dwfl_offline_section_address,
};

const char *fpu_dwarf_backend_name(enum fpu_dwarf_backend b)
{
	switch (b) {
	case FPU_DWARF_LIBDW: return "libdw";
	case FPU_DWARF_LIBUNWIND: return "libunwind";
	}
	return "unknown";
}

static int by_start(const void *a, const void *b)
{
	const struct fpu_mapping *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Copy the mappings and their strings into one block, sorted by address. */
static struct fpu_mapping *copy_maps(const struct fpu_mapping *maps, size_t n)
{
	size_t bytes = n * sizeof *maps;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(maps[i].path ? maps[i].path : "") + 1 + maps[i].build_id_len;
	struct fpu_mapping *out = malloc(bytes ? bytes : 1);
	if (!out)
		return NULL;
	char *p = (char *)(out + n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(maps[i].path ? maps[i].path : "") + 1;
		out[i] = maps[i];
		memcpy(p, maps[i].path ? maps[i].path : "", len);
		out[i].path = p;
		p += len;
		if (maps[i].build_id_len) {
			memcpy(p, maps[i].build_id, maps[i].build_id_len);
			out[i].build_id = (const uint8_t *)p;
			p += maps[i].build_id_len;
		}
	}
	qsort(out, n, sizeof *out, by_start);
	return out;
}

/* Order of mapping indices by file: path, then build id (maps passed as arg,
 * qsort_r: sessions may be made on several threads). */
static int by_file(const void *a, const void *b, void *maps)
{
	const struct fpu_mapping *x = (const struct fpu_mapping *)maps + *(const uint32_t *)a;
	const struct fpu_mapping *y = (const struct fpu_mapping *)maps + *(const uint32_t *)b;
	int c = strcmp(x->path, y->path);
	if (c == 0 && x->build_id_len != y->build_id_len)
		c = x->build_id_len < y->build_id_len ? -1 : 1;
	else if (c == 0 && x->build_id_len)   /* build_id may be NULL when its length is 0 */
		c = memcmp(x->build_id, y->build_id, x->build_id_len);
	return c;
}

/* Number the distinct files (path and build id) and point each mapping at its own. */
static int index_files(struct fpu_dwarf *d)
{
	uint32_t *order = malloc((d->nmaps ? d->nmaps : 1) * sizeof *order);
	d->file_of = malloc((d->nmaps ? d->nmaps : 1) * sizeof *d->file_of);
	if (!order || !d->file_of) {
		free(order);
		return -1;
	}
	for (size_t i = 0; i < d->nmaps; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, d->nmaps, sizeof *order, by_file, d->maps);
	for (size_t k = 0; k < d->nmaps; k++) {
		if (k == 0 || by_file(&order[k - 1], &order[k], d->maps) != 0)
			d->nfiles++;
		d->file_of[order[k]] = (uint32_t)(d->nfiles - 1);
	}
	d->files = calloc(d->nfiles ? d->nfiles : 1, sizeof *d->files);
	for (size_t i = 0; d->files && i < d->nmaps; i++)
		d->files[d->file_of[i]].path = d->maps[i].path;
	free(order);
	return d->files ? 0 : -1;
}

/*
 * How many modules one session may load: libdw holds a file descriptor for
 * each.  A quarter of RLIMIT_NOFILE, because fptrace runs two sessions (one
 * per backend), libdw may open a separate debuginfo file per module, and the
 * input file and the outputs need theirs.
 */
static size_t module_budget(uint64_t *limit)
{
	struct rlimit rl;
	*limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)rl.rlim_cur : 1024;
	uint64_t budget = *limit / 4;
	return budget < 8 ? 8 : budget > 4096 ? 4096 : (size_t)budget;
}

struct module_key { uint32_t file; uint64_t bias; };

static int by_module(const void *a, const void *b)
{
	const struct module_key *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->bias < y->bias ? -1 : x->bias > y->bias;
}

/*
 * Report every file once per load address, at the bias of its executable
 * mappings: the mapping of file offset pgoff at start puts offset 0 at
 * start - pgoff, and for the ELF files that linkers produce, p_vaddr - p_offset
 * is 0 in every segment, so that is the load bias libdw wants when add_p_vaddr
 * is false.  Only regular files are opened (a FIFO named by a hostile mapping
 * would block open() forever), and at most module_budget() of them.
 */
static int report_modules(struct fpu_dwarf *d, char *err, size_t errlen)
{
	struct module_key *keys = malloc((d->nmaps ? d->nmaps : 1) * sizeof *keys);
	size_t nkeys = 0, nexec = 0, loaded = 0, over_budget = 0, unusable = 0;
	uint64_t limit;
	size_t budget = module_budget(&limit);
	char first_bad[300] = "";

	if (!keys) {
		snprintf(err, errlen, "out of memory for %zu mappings", d->nmaps);
		return -1;
	}
	/* Before any module is reported (the vDSO below): dwfl_report_begin
	 * marks every module reported so far for deletion. */
	dwfl_report_begin(d->dwfl);
	for (size_t i = 0; i < d->nmaps; i++) {
		const struct fpu_mapping *m = &d->maps[i];
		if (!(m->prot & PROT_EXEC) || fpu_dwarf_report_vdso(d, i) || m->path[0] != '/')
			continue;
		nexec++;
		keys[nkeys++] = (struct module_key){ d->file_of[i], m->start - m->pgoff };
	}
	qsort(keys, nkeys, sizeof *keys, by_module);
	for (size_t k = 0; k < nkeys; k++) {
		if (k > 0 && by_module(&keys[k - 1], &keys[k]) == 0)
			continue;   /* the same file at the same address again */
		struct mapped_file *f = &d->files[keys[k].file];
		const char *path = f->path;
		if (f->data == MAP_FAILED)
			continue;   /* found unusable at another address */
		if (loaded == budget) {
			over_budget++;
			continue;
		}
		char why[200];
		int fd = fpu_open_regular(path, NULL, why, sizeof why);
		if (fd < 0) {
			/* a file that vanished: no CFI for it, as always; one that is
			 * there but not a file is worth a word */
			f->data = MAP_FAILED;
			if (fd == -2 && !unusable++)
				snprintf(first_bad, sizeof first_bad, "%s: %s", path, why);
			continue;
		}
		/* libdw keeps fd on success; on failure (not ELF) it is still ours */
		if (!dwfl_report_elf(d->dwfl, strrchr(path, '/') + 1, path, fd, keys[k].bias, false))
			close(fd);
		else
			loaded++;
	}
	free(keys);
	if (dwfl_report_end(d->dwfl, NULL, NULL) != 0) {
		snprintf(err, errlen, "libdw: reporting modules: %s", dwfl_errmsg(-1));
		return -1;
	}
	int n = 0;
	if (unusable)
		n = snprintf(d->note, sizeof d->note, "%s: no CFI for it%s", first_bad,
			     unusable > 1 ? " (and other mapped files)" : "");
	if (over_budget && n >= 0 && (size_t)n < sizeof d->note)
		snprintf(d->note + n, sizeof d->note - (size_t)n,
			 "%s%zu executable mappings: %zu modules loaded, %zu more left out "
			 "(open-file budget %zu: RLIMIT_NOFILE %llu / 4): no CFI for samples in them",
			 n ? "; " : "", nexec, loaded, over_budget, budget,
			 (unsigned long long)limit);
	return 0;
}

struct fpu_dwarf *fpu_dwarf_new(enum fpu_dwarf_backend backend,
				const struct fpu_mapping *maps, size_t nmaps,
				char *err, size_t errlen)
{
	return fpu_dwarf_new_machine(backend, FPU_REC_MACHINE_HOST, maps, nmaps, err, errlen);
}

struct fpu_dwarf *fpu_dwarf_new_machine(enum fpu_dwarf_backend backend, uint32_t machine,
					const struct fpu_mapping *maps, size_t nmaps,
					char *err, size_t errlen)
{
	if (!fpu_rec_machine_name(machine)) {
		snprintf(err, errlen, "recorded on an unsupported architecture (ELF machine %u): "
			 "fptrace unwinds x86-64 and aarch64 samples", machine);
		return NULL;
	}
	/* libunwind's remote unwinder is built for one architecture (the host's);
	 * libdw picks its backend from the modules' ELF headers. */
	if (backend == FPU_DWARF_LIBUNWIND && machine != FPU_REC_MACHINE_HOST) {
		snprintf(err, errlen, "libunwind here unwinds %s samples only, these are %s's "
			 "(--backend libdw unwinds them)", fpu_rec_machine_name(FPU_REC_MACHINE_HOST),
			 fpu_rec_machine_name(machine));
		return NULL;
	}
	struct fpu_dwarf *d = calloc(1, sizeof *d);

	if (!d || (backend != FPU_DWARF_LIBDW && backend != FPU_DWARF_LIBUNWIND)) {
		snprintf(err, errlen, d ? "unknown DWARF backend %d" : "out of memory",
			 (int)backend);
		free(d);
		return NULL;
	}
	d->backend = backend;
	d->machine = machine;
	d->nmaps = nmaps;
	fpu_pc_cache_init(&d->symbols, sizeof(struct cached_symbol));
	fpu_pc_cache_init(&d->functions, sizeof(struct cached_symbol));
	fpu_pc_cache_init(&d->cfi_rows, sizeof(struct fpu_cfi_row));
	fpu_dwarf_cfi_steps_init(d);
	d->maps = copy_maps(maps, nmaps);
	d->dwfl = dwfl_begin(&offline_callbacks);
	if (!d->maps || index_files(d) != 0 || !d->dwfl) {
		snprintf(err, errlen, "libdw: %s", d->maps ? dwfl_errmsg(-1) : "out of memory");
		fpu_dwarf_free(d);
		return NULL;
	}
	if (report_modules(d, err, errlen) != 0) {
		fpu_dwarf_free(d);
		return NULL;
	}
	return d;
}

const char *fpu_dwarf_note(const struct fpu_dwarf *d)
{
	return d && d->note[0] ? d->note : NULL;
}

void fpu_dwarf_free(struct fpu_dwarf *d)
{
	if (!d)
		return;
	fpu_dwarf_libunwind_free(d);
	fpu_dwarf_free_made_names(d);
	fpu_pc_cache_free(&d->symbols);
	fpu_pc_cache_free(&d->functions);
	fpu_pc_cache_free(&d->cfi_rows);
	fpu_pc_cache_free(&d->step_rules);
	if (d->dwfl)
		dwfl_end(d->dwfl);
	for (size_t i = 0; d->files && i < d->nfiles; i++)
		if (d->files[i].data && d->files[i].data != MAP_FAILED)
			munmap((void *)d->files[i].data, d->files[i].size);
	free(d->files);
	free(d->file_of);
	free(d->maps);
	free(d);
}

const struct fpu_mapping *fpu_dwarf_mapping_of(const struct fpu_dwarf *d, uint64_t addr)
{
	size_t lo = 0, hi = d->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < d->maps[mid].start)
			hi = mid;
		else if (addr >= d->maps[mid].end)
			lo = mid + 1;
		else
			return &d->maps[mid];
	}
	return NULL;
}

const uint8_t *fpu_dwarf_file_bytes(struct fpu_dwarf *d, const struct fpu_mapping *m,
				    size_t *size)
{
	struct mapped_file *f = &d->files[d->file_of[m - d->maps]];

	if (!f->data) {
		char why[200];
		uint64_t size;
		int fd = fpu_open_regular(m->path, &size, why, sizeof why);
		f->data = MAP_FAILED;
		if (fd >= 0 && size > 0) {
			void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (p != MAP_FAILED) {
				f->data = p;
				f->size = (size_t)size;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	if (f->data == MAP_FAILED)
		return NULL;
	*size = f->size;
	return f->data;
}

/*
 * A word of a read-only file mapping: what the process had there is what the
 * file has, at file offset addr - start + pgoff.
 */
static int read_file_word(struct fpu_dwarf *d, const struct fpu_mapping *m,
			  uint64_t addr, uint64_t *out)
{
	size_t size;
	const uint8_t *bytes = fpu_dwarf_file_bytes(d, m, &size);
	uint64_t off = addr - m->start + m->pgoff;

	if (!bytes || off > size || size - off < sizeof *out)
		return -1;
	memcpy(out, bytes + off, sizeof *out);
	return 0;
}

/*
 * perf reports only executable mappings (unless mmap_data is set), but
 * libunwind reads .eh_frame_hdr and .eh_frame, which live in the read-only
 * segment next to the code.  Serve such an address from the file of an
 * executable mapping whose load bias puts it inside that file: segments of one
 * ELF file are mapped at one bias.
 */
static int read_by_bias(struct fpu_dwarf *d, uint64_t addr, uint64_t *out)
{
	for (size_t i = 0; i < d->nmaps; i++) {
		const struct fpu_mapping *m = &d->maps[i];
		size_t size;
		uint64_t bias = m->start - m->pgoff;
		if (!(m->prot & PROT_EXEC) || addr < bias || m->path[0] != '/')
			continue;
		const uint8_t *bytes = fpu_dwarf_file_bytes(d, m, &size);
		uint64_t off = addr - bias;
		if (bytes && off <= size && size - off >= sizeof *out) {
			memcpy(out, bytes + off, sizeof *out);
			return 0;
		}
	}
	return -1;
}

/*
 * The largest user stack dump perf_event_open takes (sample_stack_user is
 * below 64 KiB and a multiple of 8), and fptrace record's --snapshot-max.
 */
#define LARGEST_SNAPSHOT 65528

/*
 * Did the snapshot cut the stack short of addr?  Only if addr lies above the
 * end of a segment that was clamped below its region's top (or whose top is
 * unknown: a perf dump), inside that region.  Returns 0 (no: below sp, off
 * every stack, past the top of a whole copy: what broken CFI reads), 1 (yes),
 * or 2 (yes, and a snapshot of the largest size would have held it).
 */
static int snapshot_cut_short(const struct fpu_sample *s, uint64_t addr)
{
	if (addr < s->regs[FPU_REG_RSP])
		return 0;
	for (uint32_t i = 0; i < s->nseg; i++) {
		const struct fpu_segment *g = &s->seg[i];
		uint64_t end = g->lo + g->len;
		if (addr < end || (g->region_hi && (end >= g->region_hi || addr >= g->region_hi)))
			continue;
		return addr - g->lo < LARGEST_SNAPSHOT ? 2 : 1;
	}
	return 0;
}

int fpu_dwarf_read_word(struct fpu_dwarf *d, uint64_t addr, uint64_t *out)
{
	for (size_t i = 0; i < d->ndead; i++)
		if (d->dead[i].addr == addr) {
			*out = d->dead[i].value;
			return 0;
		}
	if (d->cur && fpu_sample_read(d->cur, addr, out, sizeof *out) == 0)
		return 0;
	const struct fpu_mapping *m = fpu_dwarf_mapping_of(d, addr);
	if (m && !(m->prot & PROT_WRITE) && read_file_word(d, m, addr, out) == 0)
		return 0;
	if (!m && read_by_bias(d, addr, out) == 0)
		return 0;
	if (!d->read_outside)
		d->read_outside_addr = addr;
	d->read_outside = 1;
	int cut = d->cur ? snapshot_cut_short(d->cur, addr) : 0;
	if (cut > d->read_short)
		d->read_short = cut;
	return -1;
}

size_t fpu_dwarf_unwind(struct fpu_dwarf *d, const struct fpu_sample *s,
			uint64_t *pcs, size_t max, struct fpu_dwarf_result *res)
{
	memset(res, 0, sizeof *res);
	d->cur = s;
	d->read_outside = 0;
	d->read_short = 0;
	/* dead slots: x86-64's CFA rules (GCC's CFI for a pop before ret) */
	if (d->machine == FPU_REC_MACHINE_X86_64)
		fpu_dwarf_dead_slots(d, s->regs);
	res->leaf_frame = fpu_dwarf_leaf_frame(d, s->regs[FPU_REG_RIP]);
	size_t n = 0;
	if (d->backend == FPU_DWARF_LIBUNWIND) {
		n = fpu_dwarf_unwind_libunwind(d, s, pcs, max, res);
	} else if (d->cfi_steps && fpu_dwarf_unwind_cfi_steps(d, s, pcs, max, res, &n) == 0) {
		d->steps_samples++;
	} else {
		/* libdw's own unwinder, from scratch: what the steps read is not
		 * what it will read */
		if (d->cfi_steps)
			d->steps_handed_over++;
		d->read_outside = 0;
		d->read_short = 0;
		n = fpu_dwarf_unwind_libdw(d, s, pcs, max, res);
	}
	d->ndead = 0;
	/*
	 * libdw takes an unreadable return address for the end of the stack and
	 * reports success: the way perf's --call-graph dwarf silently cuts stacks
	 * at its dump size.  A read the snapshot could not serve is never a clean
	 * end here.
	 */
	res->read_outside_snapshot = d->read_short > 0;
	res->larger_snapshot_helps = d->read_short == 2;
	/* A read that failed is the likelier cause of any other error too. */
	if (d->read_outside && res->end != FPU_DWARF_END_DEPTH) {
		res->end = FPU_DWARF_END_ERROR;
		snprintf(res->reason, sizeof res->reason,
			 "read outside the stack snapshot at %#" PRIx64 " (sp %#" PRIx64 ")",
			 d->read_outside_addr, s->regs[FPU_REG_RSP]);
	}
	res->frames = (uint32_t)n;
	res->root_from = fpu_dwarf_root_from(d, pcs, n);
	d->cur = NULL;
	return n;
}

int fpu_path_is_system(const char *path)
{
	static const char *const dirs[] = { "/lib/", "/lib32/", "/lib64/", "/usr/lib/",
					    "/usr/lib32/", "/usr/lib64/", "/usr/libexec/" };
	if (!path)
		return 0;
	if (strcmp(path, "[vdso]") == 0)   /* the kernel's: not the code under test */
		return 1;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return 1;
	return 0;
}

/* The mapping, the symbol (or an FDE-made name) and the offset: symbol tables
 * only, no DWARF. */
static int function_uncached(struct fpu_dwarf *d, uint64_t pc, int is_return,
			     struct fpu_symbol *out)
{
	uint64_t addr = is_return && pc ? pc - 1 : pc;
	const struct fpu_mapping *m = fpu_dwarf_mapping_of(d, addr);

	memset(out, 0, sizeof *out);
	if (!m)
		return -1;
	out->module = m->path;
	out->system = fpu_path_is_system(m->path);
	out->offset = addr - m->start + m->pgoff;
	Dwfl_Module *mod = dwfl_addrmodule(d->dwfl, addr);
	if (!mod)
		return 0;
	GElf_Off off;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	uint64_t start;
	/* AArch64's mapping symbols ($x: code starts here, $d: data) name no
	 * function (ELF for the Arm 64-bit Architecture, 5.5.4) */
	if (name && name[0] == '$' && (name[1] == 'x' || name[1] == 'd') &&
	    (name[2] == 0 || name[2] == '.'))
		name = NULL;
	if (name) {
		out->function = name;
		out->offset = off + (addr != pc);
	} else if ((name = fpu_dwarf_fde_name(d, mod, addr, &start))) {
		out->function = name;
		out->offset = addr - start + (addr != pc);
	}
	return 0;
}

int fpu_symbolize_function(struct fpu_dwarf *d, uint64_t pc, int is_return,
			   struct fpu_symbol *out)
{
	uint64_t key = pc << 1 | (uint64_t)(is_return != 0);
	const struct cached_symbol *hit = fpu_pc_cache_find(&d->functions, key);
	if (hit) {
		*out = hit->sym;
		return hit->rc;
	}
	int rc = function_uncached(d, pc, is_return, out);
	struct cached_symbol *c = fpu_pc_cache_add(&d->functions, key);
	if (c)
		*c = (struct cached_symbol){ .rc = rc, .sym = *out };
	return rc;
}

/* The function, then its source line: the line table is the module's DWARF. */
static int symbolize_uncached(struct fpu_dwarf *d, uint64_t pc, int is_return,
			      struct fpu_symbol *out)
{
	uint64_t addr = is_return && pc ? pc - 1 : pc;
	int rc = fpu_symbolize_function(d, pc, is_return, out);
	Dwfl_Module *mod = rc == 0 ? dwfl_addrmodule(d->dwfl, addr) : NULL;
	Dwfl_Line *line = mod ? dwfl_module_getsrc(mod, addr) : NULL;
	if (line) {
		int lineno = 0;
		out->file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		out->line = lineno;
	}
	return rc;
}

/*
 * Every string of an answer lives as long as the session (libdw's module
 * data, the mapping paths, the made names), so the answer is kept as it is.
 */
int fpu_symbolize(struct fpu_dwarf *d, uint64_t pc, int is_return, struct fpu_symbol *out)
{
	uint64_t key = pc << 1 | (uint64_t)(is_return != 0);
	const struct cached_symbol *hit = fpu_pc_cache_find(&d->symbols, key);
	if (hit) {
		*out = hit->sym;
		return hit->rc;
	}
	int rc = symbolize_uncached(d, pc, is_return, out);
	struct cached_symbol *c = fpu_pc_cache_add(&d->symbols, key);
	if (c)
		*c = (struct cached_symbol){ .rc = rc, .sym = *out };
	return rc;
}
