/*
 * export.c — rt_cgo_export: C-callable functions generated at run time that
 * call into goroutine code (cgo's //export, without a compiler).
 *
 * Each thunk is 31 bytes of code (32 with an int3) in a 64-byte slot of an executable arena:
 *
 *     push %rbp               55
 *     mov  %rsp,%rbp          48 89 e5
 *     mov  %rdi,%rsi          48 89 fe          arg
 *     movabs $fn,%rdi         48 bf <fn>
 *     movabs $rt_cgocallback,%rax   48 b8 <rt_cgocallback>
 *     call *%rax              ff d0
 *     leave                   c9
 *     ret                     c3
 *
 * and on arm64 32 bytes of code and two literals (48 bytes):
 *
 *     stp  x29, x30, [sp, #-16]!    a9bf7bfd
 *     mov  x29, sp                  910003fd
 *     mov  x1, x0                   aa0003e1   arg
 *     ldr  x0, <fn>                 580000a0   (pc + 20)
 *     ldr  x16, <rt_cgocallback>    580000d0   (pc + 24)
 *     blr  x16                      d63f0200
 *     ldp  x29, x30, [sp], #16      a8c17bfd
 *     ret                           d65f03c0
 *     <fn> <rt_cgocallback>         2 x 8 bytes
 *
 * so thunk(arg) is rt_cgocallback(fn, arg) with a frame record of its own:
 * the FP chain from fn goes fn -> rt_cgocallbackg -> rt_cgocallback_asm ->
 * rt_cgocallback -> the thunk -> the C caller.
 *
 * W^X.  The arena is anonymous memory (perf calls it //anon and looks the
 * pcs up in /tmp/perf-PID.map), never writable and executable at once: a
 * thunk is added by building the page anew in a fresh read-write mapping
 * (a copy of the live page plus the new slot), making that read+exec, and
 * moving it over the live page with mremap(MREMAP_FIXED), which replaces the
 * page in one step for threads running older thunks on it.
 *
 * Unwind info, per thunk, from one hand-built .eh_frame (a CIE and an FDE,
 * absolute pointers):
 *   - libgcc (_Unwind_Backtrace, glibc backtrace(), C++ exceptions):
 *     __register_frame;
 *   - libunwind, when the process has it loaded (looked up with dlsym, so
 *     the runtime does not depend on it): _U_dyn_register with a
 *     UNW_INFO_FORMAT_REMOTE_TABLE (a one-entry binary search table over
 *     the same .eh_frame), which unw_step and unw_get_proc_info consult
 *     before the ELF files;
 *   - gdb: the GDB JIT interface (__jit_debug_register_code), one in-memory
 *     ELF object per thunk with a .symtab naming it and the .eh_frame;
 *   - perf: perfmap.c (FPRT_PERFMAP, FPRT_JITDUMP).
 * Thunks live until the process exits: nothing is ever unregistered.
 */
#include <dlfcn.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rt.h"

#define PAGE 4096
#define SLOT 64
#if defined(__aarch64__)
/* 32 bytes of code and 16 of literals */
#define CODE_SIZE 48
/* padding: udf #0, a permanently undefined instruction */
#define PAD_BYTE 0x00
#else
/* 31 bytes of code and an int3: perf inject --jit puts the .eh_frame of a
 * jitdump code load right after the code, rounded up to 8 (16 is safe too) */
#define CODE_SIZE 32
#define PAD_BYTE 0xcc
#endif
#define MAX_NAME 128

struct rt_export {
	uintptr_t code;
	void (*fn)(void *);
	char name[MAX_NAME];
	struct rt_export *next;
	uint8_t *ehframe;          /* CIE, FDE, terminator */
	size_t ehframe_len;
	struct {                   /* libunwind's binary search table (int32 pairs) */
		int32_t start_ip_offset, fde_offset;
	} table;
	uint64_t dyn_info[16];     /* unw_dyn_info_t (see register_libunwind) */
};

static rt_lock_t exportlock;
static struct rt_export *_Atomic exports;   /* newest first; read without the lock */
static uintptr_t arena_page;                /* the page being filled */
static size_t arena_used = PAGE;

/* ---- code ----------------------------------------------------------------- */

#if defined(__aarch64__)
static void emit_code(uint8_t *p, void (*fn)(void *))
{
	static const uint32_t insn[] = {
		0xa9bf7bfd, 0x910003fd, 0xaa0003e1, 0x580000a0,
		0x580000d0, 0xd63f0200, 0xa8c17bfd, 0xd65f03c0,
	};
	uint64_t f = (uint64_t)(uintptr_t)fn, cb = (uint64_t)(uintptr_t)rt_cgocallback;
	memset(p, PAD_BYTE, SLOT);
	memcpy(p, insn, sizeof insn);
	memcpy(p + 32, &f, 8);
	memcpy(p + 40, &cb, 8);
}
#else
static void emit_code(uint8_t *p, void (*fn)(void *))
{
	static const uint8_t pro[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xfe, 0x48, 0xbf };
	uint64_t f = (uint64_t)(uintptr_t)fn, cb = (uint64_t)(uintptr_t)rt_cgocallback;
	memset(p, 0xcc, SLOT);                  /* int3 padding */
	memcpy(p, pro, sizeof pro);
	memcpy(p + 9, &f, 8);
	p[17] = 0x48;
	p[18] = 0xb8;
	memcpy(p + 19, &cb, 8);
	p[27] = 0xff;
	p[28] = 0xd0;
	p[29] = 0xc9;
	p[30] = 0xc3;
}
#endif

/* A slot's address, the page made executable with the new slot in it. */
static uintptr_t arena_add(void (*fn)(void *))
{
	uint8_t *fresh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		rt_fatal("rt_cgo_export: mmap: out of memory");
	bool newpage = arena_used + SLOT > PAGE;
	if (newpage) {
		memset(fresh, PAD_BYTE, PAGE);
		arena_used = 0;
	} else {
		memcpy(fresh, (void *)arena_page, PAGE);
	}
	uintptr_t off = arena_used;
	emit_code(fresh + off, fn);
	/* arm64's instruction cache does not snoop data writes: the new
	 * code's lines are cleaned here and invalidated again at the final
	 * address once the page is there (a no-op on x86) */
	__builtin___clear_cache((char *)fresh + off, (char *)fresh + off + SLOT);
	if (mprotect(fresh, PAGE, PROT_READ | PROT_EXEC) != 0)
		rt_fatal("rt_cgo_export: mprotect: cannot make the arena executable");
	if (newpage) {
		arena_page = (uintptr_t)fresh;
	} else if (mremap(fresh, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			  (void *)arena_page) == MAP_FAILED) {
		rt_fatal("rt_cgo_export: mremap: cannot replace the arena page");
	}
	arena_used += SLOT;
	__builtin___clear_cache((char *)arena_page + off, (char *)arena_page + off + SLOT);
	return arena_page + off;
}

/* ---- .eh_frame ------------------------------------------------------------ */

#define DW_CFA_def_cfa 0x0c
#define DW_CFA_def_cfa_register 0x0d
#define DW_CFA_def_cfa_offset 0x0e
#define DW_CFA_advance_loc(n) (0x40 | (n))
#define DW_CFA_offset(r) (0x80 | (r))
#define DW_CFA_restore(r) (0xc0 | (r))

#if defined(__aarch64__)
/* DWARF numbers: x29 29, x30 (the return address) 30, sp 31 */
static const uint8_t cie[] = {
	0x14, 0, 0, 0,          /* length 20 */
	0, 0, 0, 0,             /* CIE id */
	1,                      /* version */
	'z', 'R', 0,            /* augmentation */
	1,                      /* code alignment */
	0x78,                   /* data alignment -8 */
	30,                     /* return address: x30 */
	1, 0x00,                /* augmentation data: FDE pointers DW_EH_PE_absptr */
	DW_CFA_def_cfa, 31, 0,  /* CFA = sp */
	0, 0, 0, 0,             /* DW_CFA_nop: pad to 24 */
};
/* After the stp (4 bytes): CFA = sp + 16, x29 at CFA - 16, x30 at CFA - 8;
 * after mov x29, sp (4): CFA = x29 + 16; after the ldp (at 24, to the ret at
 * 28): CFA = sp, both restored. */
static const uint8_t fde_ops[] = {
	DW_CFA_advance_loc(4), DW_CFA_def_cfa_offset, 16, DW_CFA_offset(29), 2,
	DW_CFA_offset(30), 1,
	DW_CFA_advance_loc(4), DW_CFA_def_cfa_register, 29,
	DW_CFA_advance_loc(20), DW_CFA_def_cfa, 31, 0, DW_CFA_restore(29), DW_CFA_restore(30),
};
#else
/* DWARF numbers: rsp 7, rbp 6, return address 16 */
static const uint8_t cie[] = {
	0x14, 0, 0, 0,          /* length 20 */
	0, 0, 0, 0,             /* CIE id */
	1,                      /* version */
	'z', 'R', 0,            /* augmentation */
	1,                      /* code alignment */
	0x78,                   /* data alignment -8 */
	16,                     /* return address: rip */
	1, 0x00,                /* augmentation data: FDE pointers DW_EH_PE_absptr */
	DW_CFA_def_cfa, 7, 8,   /* CFA = rsp + 8 */
	DW_CFA_offset(16), 1,   /* rip at CFA - 8 */
	0, 0,                   /* DW_CFA_nop: pad to 24 */
};
/* The thunk's rules after the CIE's: push %rbp (1 byte), mov %rsp,%rbp (3),
 * body and leave (at 29) to the ret at 30, where CFA = rsp + 8 again. */
static const uint8_t fde_ops[] = {
	DW_CFA_advance_loc(1), DW_CFA_def_cfa_offset, 16, DW_CFA_offset(6), 2,
	DW_CFA_advance_loc(3), DW_CFA_def_cfa_register, 6,
	DW_CFA_advance_loc(26), DW_CFA_def_cfa, 7, 8,
};
#endif

/* CIE + FDE + zero terminator for [code, code + CODE_SIZE), pointers absolute
 * (pcrel = 0) or pc-relative to where the bytes will lie, as if the .eh_frame
 * started at `at` (jitdump: the code's address + `at`).  Returns the length;
 * *fde_off gets the FDE's offset. */
size_t rt_export_ehframe(uint8_t *out, uint64_t code, int64_t pcrel_at, size_t *fde_off)
{
	size_t n = 0;
	memcpy(out, cie, sizeof cie);
	if (pcrel_at)
		out[16] = 0x1b;          /* DW_EH_PE_pcrel | DW_EH_PE_sdata4 */
	n = sizeof cie;
	*fde_off = n;
	size_t ptrs = pcrel_at ? 4 : 8;
	size_t body = 4 + 2 * ptrs + 1 + sizeof fde_ops;
	uint32_t len = (uint32_t)(((4 + body + 7) & ~(size_t)7) - 4);   /* 4 + len: 8-aligned */
	memcpy(out + n, &len, 4);
	uint32_t cie_ptr = (uint32_t)(n + 4);   /* from this field back to the CIE */
	memcpy(out + n + 4, &cie_ptr, 4);
	size_t p = n + 8;
	if (pcrel_at) {
		/* the code lies at `code`, this field at code + pcrel_at + p */
		int32_t rel = (int32_t)(-(pcrel_at + (int64_t)p));
		int32_t size = CODE_SIZE;
		memcpy(out + p, &rel, 4);
		memcpy(out + p + 4, &size, 4);
	} else {
		uint64_t size = CODE_SIZE;
		memcpy(out + p, &code, 8);
		memcpy(out + p + 8, &size, 8);
	}
	p += 2 * ptrs;
	out[p++] = 0;            /* augmentation data length */
	memcpy(out + p, fde_ops, sizeof fde_ops);
	p += sizeof fde_ops;
	size_t end = n + 4 + len;
	memset(out + p, 0, end - p);   /* DW_CFA_nop */
	memset(out + end, 0, 4);       /* terminator */
	return end + 4;
}

/* ---- libgcc, libunwind ------------------------------------------------------ */

extern void __register_frame(void *begin);

/*
 * unw_dyn_info_t for x86-64 and aarch64 alike (libunwind-dynamic.h), without
 * including it:
 *   next, prev, start_ip, end_ip, gp, format (int32, padded), pad,
 *   u.rti = { name_ptr, segbase, table_len (in words), table_data }
 */
enum { UNW_INFO_FORMAT_REMOTE_TABLE_ = 2 };

static void register_libunwind(struct rt_export *e)
{
	void (*reg)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "_U_dyn_register");
	if (!reg)
		return;
	e->table.start_ip_offset = 0;                      /* from segbase = code */
	e->table.fde_offset = (int32_t)((uintptr_t)e->ehframe + sizeof cie - e->code);
	uint64_t *d = e->dyn_info;
	memset(d, 0, sizeof e->dyn_info);
	d[2] = e->code;                                    /* start_ip */
	d[3] = e->code + CODE_SIZE;                        /* end_ip */
	d[4] = 0;                                          /* gp */
	d[5] = UNW_INFO_FORMAT_REMOTE_TABLE_;              /* format */
	d[6] = 0;                                          /* pad */
	d[7] = (uintptr_t)e->name;                         /* u.rti.name_ptr */
	d[8] = e->code;                                    /* u.rti.segbase */
	d[9] = sizeof e->table / sizeof(uint64_t);         /* u.rti.table_len */
	d[10] = (uintptr_t)&e->table;                      /* u.rti.table_data */
	reg(d);
}

/* ---- gdb: the JIT interface ------------------------------------------------- */

struct jit_code_entry {
	struct jit_code_entry *next_entry, *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};
struct jit_descriptor {
	uint32_t version, action_flag;
	struct jit_code_entry *relevant_entry, *first_entry;
};
enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN };

/* gdb sets a breakpoint here and reads the descriptor (both names fixed). */
__attribute__((noinline, used)) void __jit_debug_register_code(void)
{
	__asm__ volatile("" ::: "memory");
}
struct jit_descriptor __jit_debug_descriptor = { 1, 0, NULL, NULL };

/* An ELF object for gdb: .text (NOBITS at the thunk), .eh_frame, .symtab. */
static void register_gdb(struct rt_export *e)
{
	static const char shstr[] = "\0.text\0.eh_frame\0.symtab\0.strtab\0.shstrtab";
	enum { S_TEXT = 1, S_EH, S_SYM, S_STR, S_SHSTR, NSEC };
	size_t namelen = strlen(e->name);
	size_t off_eh = sizeof(Elf64_Ehdr);
	size_t off_sym = (off_eh + e->ehframe_len + 7) & ~(size_t)7;
	size_t off_str = off_sym + 2 * sizeof(Elf64_Sym);
	size_t off_shstr = off_str + namelen + 2;
	size_t off_sh = (off_shstr + sizeof shstr + 7) & ~(size_t)7;
	size_t size = off_sh + NSEC * sizeof(Elf64_Shdr);
	uint8_t *img = calloc(1, size);
	struct jit_code_entry *ce = calloc(1, sizeof *ce);
	if (!img || !ce) {
		free(img);
		free(ce);
		return;                 /* gdb will not know the name: not fatal */
	}
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	eh->e_type = ET_EXEC;
#if defined(__aarch64__)
	eh->e_machine = EM_AARCH64;
#else
	eh->e_machine = EM_X86_64;
#endif
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shoff = off_sh;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = NSEC;
	eh->e_shstrndx = S_SHSTR;
	memcpy(img + off_eh, e->ehframe, e->ehframe_len);
	Elf64_Sym *sym = (Elf64_Sym *)(img + off_sym);
	sym[1] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			      .st_shndx = S_TEXT, .st_value = e->code, .st_size = CODE_SIZE };
	memcpy(img + off_str + 1, e->name, namelen);
	memcpy(img + off_shstr, shstr, sizeof shstr);
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + off_sh);
	sh[S_TEXT] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_NOBITS,
				   .sh_flags = SHF_ALLOC | SHF_EXECINSTR, .sh_addr = e->code,
				   .sh_offset = off_eh, .sh_size = CODE_SIZE, .sh_addralign = 16 };
	sh[S_EH] = (Elf64_Shdr){ .sh_name = 7, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC,
				 .sh_addr = (uintptr_t)img + off_eh, .sh_offset = off_eh,
				 .sh_size = e->ehframe_len, .sh_addralign = 8 };
	sh[S_SYM] = (Elf64_Shdr){ .sh_name = 17, .sh_type = SHT_SYMTAB, .sh_offset = off_sym,
				  .sh_size = 2 * sizeof(Elf64_Sym), .sh_link = S_STR, .sh_info = 1,
				  .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[S_STR] = (Elf64_Shdr){ .sh_name = 25, .sh_type = SHT_STRTAB, .sh_offset = off_str,
				  .sh_size = namelen + 2, .sh_addralign = 1 };
	sh[S_SHSTR] = (Elf64_Shdr){ .sh_name = 33, .sh_type = SHT_STRTAB, .sh_offset = off_shstr,
				    .sh_size = sizeof shstr, .sh_addralign = 1 };
	ce->symfile_addr = (const char *)img;
	ce->symfile_size = size;
	/* under exportlock: one registration at a time, as the protocol wants */
	ce->next_entry = __jit_debug_descriptor.first_entry;
	if (ce->next_entry)
		ce->next_entry->prev_entry = ce;
	__jit_debug_descriptor.first_entry = ce;
	__jit_debug_descriptor.relevant_entry = ce;
	__jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
	__jit_debug_register_code();
	__jit_debug_descriptor.action_flag = JIT_NOACTION;
}

/* ---- rt_cgo_export ----------------------------------------------------------- */

void (*rt_cgo_export(void (*fn)(void *arg), const char *name))(void *arg)
{
	if (!fn)
		rt_fatal("rt_cgo_export: fn is NULL");
	rt_init_once();
	struct rt_export *e = calloc(1, sizeof *e);
	uint8_t *eh = malloc(128);
	if (!e || !eh)
		rt_fatal("rt_cgo_export: out of memory");
	e->fn = fn;
	snprintf(e->name, sizeof e->name, "%s", name && name[0] ? name : "rt_cgo_export_thunk");
	rt_lock(&exportlock);
	e->code = arena_add(fn);
	size_t fde_off;
	e->ehframe = eh;
	e->ehframe_len = rt_export_ehframe(eh, e->code, 0, &fde_off);
	__register_frame(e->ehframe);
	register_libunwind(e);
	register_gdb(e);
	rt_perfmap_add(e->code, CODE_SIZE, e->name);
	e->next = exports;
	atomic_store_explicit(&exports, e, memory_order_release);
	rt_unlock(&exportlock);
	return (void (*)(void *))e->code;
}

const char *rt_export_lookup(uintptr_t pc, uintptr_t *off)
{
	for (struct rt_export *e = atomic_load_explicit(&exports, memory_order_acquire); e;
	     e = e->next)
		if (pc >= e->code && pc < e->code + SLOT) {
			*off = pc - e->code;
			return e->name;
		}
	return NULL;
}

