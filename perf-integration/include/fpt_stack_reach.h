/*
 * fpt_stack_reach.h — how much of a sample's user stack dump unwinding can
 * reach, so that `fptrace record` (perf_ring.c's decoder) keeps only that.
 *
 * The kernel copies sample_stack_user bytes from sp up, or as far as memory
 * is mapped.  For a program's main thread that copy runs on past the
 * outermost frame into argv, the environment, the auxiliary vector and the
 * random gap the kernel leaves at the top of [stack] (3 to 8 KiB here); for
 * any thread it may run on into whatever mapping lies above its stack.  No
 * unwinder reads those bytes: every frame lies below the top of the mapping
 * that holds sp, and on the main thread's stack below the stack pointer the
 * kernel started the program with (mm->start_stack, field 28 of
 * /proc/PID/stat, where argc is), which _start's frame sits under.  On a
 * glibc thread's stack (x86-64), below its struct pthread, which glibc puts
 * at the top of the stack mapping: 2.3 KB that every thread sample's dump
 * held, found in the dump by its TCB (tcbhead_t's tcb and self words, at
 * offsets 0 and 16, both point to it).
 */
#ifndef FPT_STACK_REACH_H
#define FPT_STACK_REACH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bytes kept above start_stack: argc and argv[0].  A start routine without a
 * CFI end (Go's rt0_go jumps from _rt0_amd64, so its CFA is start_stack + 8)
 * reads argc as its "return address"; that word stays, so DWARF reads the
 * same value it read from the untrimmed dump and ends there as before.
 */
#define FPT_STACK_START_MARGIN 16

struct fpt_stack_span {
	uint64_t lo, hi;
};

/* What one process's /proc files said at the last look. */
struct fpt_stack_proc {
	uint32_t pid;
	int gone;                        /* /proc/PID is no longer readable */
	uint64_t start_stack;            /* 0: unknown */
	struct fpt_stack_span *maps;     /* every mapping, sorted by lo */
	size_t nmaps;
	uint64_t samples_since_read;     /* bounds how often a miss reads again */
};

struct fpt_stack_reach {
	struct fpt_stack_proc *procs;
	size_t nprocs, cap_procs;
	uint64_t reads;                  /* /proc/PID/maps reads (for tests) */
};

/*
 * The pure rule: how many of the len bytes copied from sp to keep, given the
 * mapping [map_lo, map_hi) that holds sp (map_hi 0: unknown) and the
 * process's start_stack (0: unknown).  Keeps [sp, map_hi), and on the stack
 * that holds start_stack only [sp, start_stack + FPT_STACK_START_MARGIN);
 * never more than len.  A sp it cannot place keeps len.
 */
uint32_t fpt_stack_keep_rule(uint64_t sp, uint32_t len, uint64_t map_lo, uint64_t map_hi,
			     uint64_t start_stack);

/*
 * The address of a glibc thread's TCB (its struct pthread) in the dump of
 * len bytes copied from sp, when the dump reaches that high: the highest
 * 64-aligned word A within FPT_STACK_TCB_WINDOW below map_hi with [A] == A
 * and [A + 16] == A.  0 if there is none (the main thread, a thread glibc
 * did not make, a dump that ends lower, another architecture).  The highest
 * match is taken: one above the real TCB lies in struct pthread, which no
 * frame uses either.
 */
#define FPT_STACK_TCB_WINDOW 16384
uint64_t fpt_stack_thread_tcb(const uint8_t *dump, uint64_t sp, uint32_t len, uint64_t map_hi);

/*
 * fpt_stack_keep_rule for a sample of process pid, with the mapping and
 * start_stack read from /proc/PID (again when sp lies in no mapping seen
 * before: a new thread's stack; at most once per FPT_STACK_REREAD samples of
 * that process, so that a program that maps stacks all the time does not
 * make the recorder read its maps at every sample).  On a stack that does
 * not hold start_stack, a glibc thread's TCB found in the dump
 * (fpt_stack_thread_tcb) is the top.
 */
#define FPT_STACK_REREAD 64
uint32_t fpt_stack_keep(struct fpt_stack_reach *r, uint32_t pid, uint64_t sp,
			const uint8_t *dump, uint32_t len);

/* pid exec'd another program: what was read of it no longer holds. */
void fpt_stack_forget(struct fpt_stack_reach *r, uint32_t pid);
void fpt_stack_reach_free(struct fpt_stack_reach *r);

/* Field 28 of /proc/PID/stat (pid 0: this process), or 0. */
uint64_t fpt_proc_start_stack(uint32_t pid);

#endif
