/*
 * fpu_sample.h — one profiling sample as libfpunwind sees it: the registers of
 * the interrupted (or parked) code, the frame-pointer chain the sampler walked,
 * and a snapshot of the stacks that chain ran on, made of segments each clamped
 * to its region so that a DWARF unwinder never runs off a truncated copy the way
 * perf's fixed 8 KiB user-stack dump does.
 *
 * The same structure is filled by the in-process profiler (fprt), by the
 * perf_event_open sampler and by the perf.data reader, written to and read from
 * .fpt files (fpu_record.h), and unwound by the DWARF backends (fpu_dwarf.h).
 * Pointers in it (pcs, segment data) point into memory the producer owns: a
 * per-M buffer, a file mapping, a perf ring.  Nothing here allocates.
 */
#ifndef FPU_SAMPLE_H
#define FPU_SAMPLE_H

#include <stdint.h>
#include "fpunwind.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Registers in DWARF numbering for x86-64 (the System V psABI), which is what
 * libdw's dwfl_thread_state_registers and libunwind's UNW_X86_64_* expect:
 * 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15, 16 rip.
 */
enum fpu_reg {
	FPU_REG_RAX = 0, FPU_REG_RDX, FPU_REG_RCX, FPU_REG_RBX, FPU_REG_RSI,
	FPU_REG_RDI, FPU_REG_RBP, FPU_REG_RSP, FPU_REG_R8, FPU_REG_R9, FPU_REG_R10,
	FPU_REG_R11, FPU_REG_R12, FPU_REG_R13, FPU_REG_R14, FPU_REG_R15, FPU_REG_RIP,
	FPU_NREGS
};

/*
 * An aarch64 recording (fpu_record.h: the file's machine) keeps its registers
 * in the same 17 slots: x29, sp and pc where x86-64 keeps rbp, rsp and rip, so
 * that the walker, the snapshot and the comparator read them alike, and the
 * link register x30 and the callee-saved x19..x28 in slots of their own
 * (fpu_a64_slot).  x0..x18 are not kept: a DWARF unwind from a sample needs the
 * registers that survive calls, as it does on x86-64.
 */
#define FPU_A64_DWARF_PC 32   /* pc's number here (AArch64 DWARF has none) */
/* The slot of aarch64 DWARF register r (x0..x30 = 0..30, sp = 31) or of pc
 * (FPU_A64_DWARF_PC), or -1 when a sample does not keep it. */
int fpu_a64_slot(unsigned r);

/* Fill regs[] from a signal handler's ucontext (a ucontext_t *), in the
 * slots of the architecture this was built for. */
void fpu_regs_from_ucontext(uint64_t regs[FPU_NREGS], const void *ucontext);

enum fpu_sample_kind {
	FPU_SAMPLE_CPU = 1,   /* a thread interrupted on a CPU (SIGPROF, perf event) */
	FPU_SAMPLE_WALL = 2,  /* a goroutine not on a CPU, from sched or syscall pc/sp/bp */
};

/* Copy n bytes of a live stack (the caller's own, or the one a signal
 * interrupted) to dst; async-signal-safe.  Under AddressSanitizer a live
 * stack holds the poisoned redzones of every instrumented frame's locals,
 * and copying them is what a snapshot is for, not a bug: the copy is
 * uninstrumented, byte by byte and never through memcpy, which ASan
 * intercepts.  Other builds use memcpy. */
void fpu_copy_live_stack(void *dst, const void *src, size_t n);

/* Goroutine status at sample time (Go's names). */
enum fpu_g_status {
	FPU_G_NONE = 0,       /* not a goroutine (g0, a foreign thread, perf mode) */
	FPU_G_RUNNING, FPU_G_RUNNABLE, FPU_G_WAITING, FPU_G_SYSCALL, FPU_G_CGO,
};

#define FPU_MAX_SEGMENTS 4

/* One contiguous piece of a stack: [lo, lo + len) copied to data. */
struct fpu_segment {
	uint64_t lo;
	uint32_t len;
	uint32_t kind;        /* enum fpu_region_kind of the region it was cut from */
	uint64_t owner;       /* that region's owner */
	uint64_t region_hi;   /* the region's top: len < region_hi - lo means clamped */
	const uint8_t *data;
};

struct fpu_sample {
	uint64_t time_ns;     /* CLOCK_MONOTONIC */
	uint32_t kind;        /* enum fpu_sample_kind */
	uint32_t tid;
	uint64_t m_id;        /* 0 when not an fprt M */
	uint64_t g_id;        /* 0 when not on a goroutine */
	uint32_t g_status;    /* enum fpu_g_status */
	uint32_t sp_kind;     /* enum fpu_region_kind of the region holding rsp */
	uint64_t weight;      /* CPU: period in ns; wall: interval in ns */
	uint64_t regs[FPU_NREGS];

	/* The frame-pointer chain the sampler walked (pcs[0] = rip). */
	uint32_t nfp;
	uint32_t fp_end;          /* enum fpu_end */
	uint64_t fp_end_fp;       /* fpu_walk_result.fp */
	uint64_t fp_end_pc;       /* fpu_walk_result.pc */
	uint32_t fp_end_from;     /* region kinds of an illegal transition */
	uint32_t fp_end_to;
	uint32_t fp_crossings;
	uint32_t pad_;
	const uint64_t *fp_pcs;

	uint32_t nseg;
	uint32_t pad2_;
	struct fpu_segment seg[FPU_MAX_SEGMENTS];
};

/*
 * Read size bytes at addr from a sample's snapshot.  Returns 0 and fills out
 * only when [addr, addr+size) lies wholly inside one segment; -1 otherwise.
 */
int fpu_sample_read(const struct fpu_sample *s, uint64_t addr, void *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
