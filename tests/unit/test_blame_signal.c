/*
 * fp-clobbered in a signal trampoline: a signal lands while a function uses
 * BP as a data register (Go's crypto/sha256 block: "#define TBL BP"), and the
 * sample catches Go's sigtramp (or its restorer) before it calls anything:
 * rbp is still the interrupted code's.  The trampoline is innocent; the
 * culprit is the pc the kernel saved in the signal frame.  Here an assembly
 * function points rbp at a table in this image and signals itself, and the
 * handler, named runtime.sigtramp in a model built by hand, spins with that
 * rbp until the sampler has caught it.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "fpu_dwarf.h"
#include "../../libfpunwind/dwarf/runtime_model_int.h"   /* a Go model by hand */
#include "sampler.h"

#define MAXPCS 128

uint64_t blame_bp_table[8];
void blame_data_bp_signal(long tgid, long tid, long sig);
void blame_sig_trampoline(int sig);
extern const char blame_sig_trampoline_end[];

/* tgkill(tgid, tid, sig) with rbp pointing at blame_bp_table. */
__asm__(".text\n"
	".globl blame_data_bp_signal\n"
	".type blame_data_bp_signal, @function\n"
	"blame_data_bp_signal:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %rbp, 0\n"
	"	leaq blame_bp_table(%rip), %rbp\n"
	"	movl $" "234" ", %eax\n"   /* SYS_tgkill */
	"	syscall\n"
	"	popq %rbp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size blame_data_bp_signal, .-blame_data_bp_signal\n"
	/* The handler: no frame, rbp untouched, until the sampler is done. */
	".globl blame_sig_trampoline\n"
	".type blame_sig_trampoline, @function\n"
	"blame_sig_trampoline:\n"
	"	.cfi_startproc\n"
	"	nop\n"
	"1:	movl sampler_stop(%rip), %eax\n"
	"	testl %eax, %eax\n"
	"	je 1b\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".globl blame_sig_trampoline_end\n"
	"blame_sig_trampoline_end:\n"
	".size blame_sig_trampoline, .-blame_sig_trampoline\n");

_Static_assert(SYS_tgkill == 234, "the assembly above calls tgkill by number");

static void signal_top(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = blame_sig_trampoline;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	blame_data_bp_signal(getpid(), syscall(SYS_gettid), SIGUSR1);
}

/* Caught in the handler's loop, with the table in rbp. */
static int in_trampoline(const struct fpu_sample *s)
{
	uint64_t rip = s->regs[FPU_REG_RIP];
	return rip > (uint64_t)(uintptr_t)blame_sig_trampoline &&
	       rip < (uint64_t)(uintptr_t)blame_sig_trampoline_end &&
	       s->regs[FPU_REG_RBP] == (uint64_t)(uintptr_t)blame_bp_table;
}

Test(blame_signal, clobbered_bp_in_a_signal_trampoline_blames_the_interrupted_code)
{
	const struct fpu_sample *s = sample_thread(signal_top, in_trampoline);
	cr_assert(in_trampoline(s), "no sample landed in the signal handler");
	struct sigaction old;
	cr_assert_eq(sigaction(SIGUSR1, NULL, &old), 0);
	uint64_t tramp = (uint64_t)(uintptr_t)blame_sig_trampoline;
	uint64_t tramp_end = (uint64_t)(uintptr_t)blame_sig_trampoline_end;
	uint64_t restorer = (uint64_t)(uintptr_t)old.sa_restorer;
	cr_assert_neq(restorer, 0, "libc set no restorer");

	struct fpu_dwarf *d = sampler_session(FPU_DWARF_LIBDW);
	struct fpu_runtime *rt = calloc(1, sizeof *rt);
	cr_assert_not_null(rt);
	rt->images = calloc(1, sizeof *rt->images);
	cr_assert_not_null(rt->images);
	rt->images[0].lo = (uint64_t)(uintptr_t)blame_bp_table;
	rt->images[0].hi = rt->images[0].lo + sizeof blame_bp_table;
	rt->nimages = rt->capimages = 1;
	int tramp_first = tramp < restorer;
	for (int k = 0; k < 2; k++)
		if (k == !tramp_first)
			cr_assert_eq(fpu_rt_add(rt, tramp, tramp_end, FPU_RT_SWITCH,
						"runtime.sigtramp", "signal"), 0);
		else
			cr_assert_eq(fpu_rt_add(rt, restorer, restorer + 16, FPU_RT_SWITCH,
						"runtime.sigreturn", "signal return"), 0);

	struct fpu_verdict v;
	struct fpu_dwarf_result dres;
	uint64_t pcs[MAXPCS];
	fpu_runtime_compare(rt, d, s, pcs, MAXPCS, &dres, &v);
	const char *at = sampler_fn(d, v.culprit_pc, v.culprit_is_return);
	cr_assert(v.cls == FPU_CLASS_FP_CLOBBERED && strcmp(at, "blame_data_bp_signal") == 0,
		  "%s at %s, want fp-clobbered at blame_data_bp_signal (the interrupted code)",
		  fpu_class_name(v.cls), at);

	/* The same sample once the handler's ret popped pretcode: the restorer
	 * (runtime.sigreturn) at its entry, the ucontext right at sp. */
	struct fpu_sample at_restorer = *s;
	at_restorer.regs[FPU_REG_RIP] = restorer;
	at_restorer.regs[FPU_REG_RSP] += 8;
	at_restorer.seg[0].lo += 8;   /* a copy starts at sp: pretcode is gone */
	at_restorer.seg[0].len -= 8;
	at_restorer.seg[0].data += 8;
	fpu_runtime_compare(rt, d, &at_restorer, pcs, MAXPCS, &dres, &v);
	at = sampler_fn(d, v.culprit_pc, v.culprit_is_return);
	cr_assert(v.cls == FPU_CLASS_FP_CLOBBERED && strcmp(at, "blame_data_bp_signal") == 0,
		  "at the restorer: %s at %s, want fp-clobbered at blame_data_bp_signal",
		  fpu_class_name(v.cls), at);
	fpu_runtime_free(rt);
	fpu_dwarf_free(d);
}
