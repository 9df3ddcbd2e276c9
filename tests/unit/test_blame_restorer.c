/*
 * A sample in the signal restorer (glibc's __restore_rt, the one sigaction
 * installs) while the handler ran on a signal stack, as Go's handlers do on
 * gsignal in a cgo program: rbp is the interrupted code's, on the stack the
 * signal interrupted, and a perf stack copy taken from the signal stack's sp
 * does not hold it.  The frame-pointer walk stops at the leaf, DWARF reads one
 * frame more from the kernel's signal frame and stops as well: both agree up
 * to the switch back, so the sample is to-switch, not fp-truncated blamed on
 * the interrupted code (a false defect seen about once in 20,000 samples of a
 * cgo program under perf record --call-graph dwarf).
 *
 * The sample is real: a handler (blame_sig_trampoline, test_blame_signal.c)
 * spins on this thread's stack with the interrupted rbp until the sampler
 * catches it.  Its ret would pop pretcode and enter the restorer: the test
 * takes that step (rip = the restorer's syscall, sp past pretcode) and keeps
 * of the copy only what lies below the interrupted sp, the part a separate
 * signal stack would hold.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "fpu_dwarf.h"
#include "fpu_runtime.h"
#include "sampler.h"

#define MAXPCS 128
#define UC_MCONTEXT 40             /* uc_flags, uc_link, uc_stack */
#define SIGCONTEXT_RSP (15 * 8)    /* r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp */

void blame_sig_trampoline(int sig);
extern const char blame_sig_trampoline_end[];

static void signal_plain_top(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = blame_sig_trampoline;
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	__asm__ volatile("" ::: "memory");   /* no tail call: this frame stays */
}

static int in_trampoline(const struct fpu_sample *s)
{
	uint64_t rip = s->regs[FPU_REG_RIP];
	return rip > (uint64_t)(uintptr_t)blame_sig_trampoline &&
	       rip < (uint64_t)(uintptr_t)blame_sig_trampoline_end;
}

Test(blame_restorer, restorer_on_a_signal_stack_is_to_switch)
{
	const struct fpu_sample *s = sample_thread(signal_plain_top, in_trampoline);
	cr_assert(in_trampoline(s), "no sample landed in the signal handler");
	struct sigaction old;
	cr_assert_eq(sigaction(SIGUSR2, NULL, &old), 0);
	uint64_t restorer = (uint64_t)(uintptr_t)old.sa_restorer;
	cr_assert_neq(restorer, 0, "libc set no restorer");

	/* The handler's ret: pretcode popped, the restorer at its syscall, the
	 * ucontext at sp (rt_sigreturn reads it from there). */
	struct fpu_sample r = *s;
	uint64_t sp = s->regs[FPU_REG_RSP] + 8, interrupted_sp;
	r.regs[FPU_REG_RIP] = restorer + 7;
	r.regs[FPU_REG_RSP] = sp;
	cr_assert_eq(fpu_sample_read(s, sp + UC_MCONTEXT + SIGCONTEXT_RSP, &interrupted_sp, 8), 0);
	cr_assert(interrupted_sp > sp && interrupted_sp - sp < r.seg[0].len,
		  "interrupted sp %#lx, restorer sp %#lx", (unsigned long)interrupted_sp,
		  (unsigned long)sp);
	r.seg[0].lo = sp;
	r.seg[0].data += 8;
	r.seg[0].len = (uint32_t)(interrupted_sp - sp);   /* the signal stack's part */
	cr_assert(r.regs[FPU_REG_RBP] >= interrupted_sp, "rbp %#lx is not the interrupted code's",
		  (unsigned long)r.regs[FPU_REG_RBP]);
	/* What a walk in that copy gives: the leaf, then an fp it does not hold. */
	uint64_t fp_pcs[1] = { r.regs[FPU_REG_RIP] };
	r.fp_pcs = fp_pcs;
	r.nfp = 1;
	r.fp_end = FPU_END_OUT_OF_BOUNDS;
	r.fp_end_fp = r.regs[FPU_REG_RBP];

	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_verdict v;
	struct fpu_dwarf_result dres;
	uint64_t pcs[MAXPCS];
	size_t nd = fpu_runtime_compare(NULL, d, &r, pcs, MAXPCS, &dres, &v);
	cr_assert(nd >= 2, "DWARF did not step the restorer's signal frame (%zu frames)", nd);
	cr_assert(v.cls == FPU_CLASS_TO_SWITCH, "%s at %s, want to-switch at the restorer",
		  fpu_class_name(v.cls), sampler_fn(d, v.culprit_pc, v.culprit_is_return));
	fpu_dwarf_free(d);
}
