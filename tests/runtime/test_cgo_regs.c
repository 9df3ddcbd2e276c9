/*
 * Callee-saved registers across rt_cgocall (seed 000's kind of bug, inside
 * fprt).  A caller may keep &local in a callee-saved register across
 * rt_cgocall; C on g0 saves its callers' registers on g0 (rt_cgocallback
 * pushes r14 and r15 there, rt_cgocallback_asm rbx and r12-r14), where
 * copystack never looks.  If a callback moves the goroutine stack, the
 * register comes back holding the OLD stack's address, unless rt_asmcgocall
 * keeps the registers on the goroutine stack, where they are relocated, and
 * reloads them from there (runtime/arch/{amd64,arm64}/cgo.S).
 *
 * The caller is written in assembly so that the compiler cannot keep the
 * values anywhere else: it pins &local in r14 and r15 across rt_cgocall,
 * whose C function calls back into a goroutine that grows the stack.
 */
#include <stdint.h>

#include "helpers.h"

/* What pin_locals_across_cgocall saw after rt_cgocall returned: the two
 * pinned registers (r14 and r15 on amd64, x19 and x20 on arm64) and &local. */
uintptr_t pinned_reg1, pinned_reg2, pinned_local;

#if defined(__aarch64__)
/*
 * void pin_locals_across_cgocall(void (*fn)(void *), void *arg)
 *   x19 = x20 = &local (a word of its own frame), rt_cgocall(fn, arg), then
 *   stores x19, x20 and &local as they are after the call.
 */
__asm__(
	"	.text\n"
	"	.globl	pin_locals_across_cgocall\n"
	"	.type	pin_locals_across_cgocall, @function\n"
	"pin_locals_across_cgocall:\n"
	"	.cfi_startproc\n"
	"	stp	x29, x30, [sp, #-48]!\n"
	"	.cfi_def_cfa_offset 48\n"
	"	.cfi_offset x29, -48\n"
	"	.cfi_offset x30, -40\n"
	"	mov	x29, sp\n"
	"	.cfi_def_cfa_register x29\n"
	"	stp	x19, x20, [sp, #16]\n"
	"	.cfi_offset x19, -32\n"
	"	.cfi_offset x20, -24\n"
	"	movz	x2, #0x0ca1\n"
	"	movk	x2, #0x1, lsl #16\n"
	"	str	x2, [sp, #32]\n"               /* local: 0x10ca1 */
	"	add	x19, sp, #32\n"
	"	mov	x20, x19\n"
	"	bl	rt_cgocall\n"                  /* x0 = fn, x1 = arg */
	"	adrp	x2, pinned_reg1\n"
	"	str	x19, [x2, #:lo12:pinned_reg1]\n"
	"	adrp	x2, pinned_reg2\n"
	"	str	x20, [x2, #:lo12:pinned_reg2]\n"
	"	add	x3, sp, #32\n"
	"	adrp	x2, pinned_local\n"
	"	str	x3, [x2, #:lo12:pinned_local]\n"
	"	ldp	x19, x20, [sp, #16]\n"
	"	.cfi_restore x19\n"
	"	.cfi_restore x20\n"
	"	ldp	x29, x30, [sp], #48\n"
	"	.cfi_def_cfa sp, 0\n"
	"	.cfi_restore x29\n"
	"	.cfi_restore x30\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.size	pin_locals_across_cgocall, .-pin_locals_across_cgocall\n");
#else

/*
 * void pin_locals_across_cgocall(void (*fn)(void *), void *arg)
 *   r14 = r15 = &local (a word of its own frame), rt_cgocall(fn, arg), then
 *   stores r14, r15 and &local as they are after the call.
 */
__asm__(
	"	.text\n"
	"	.globl	pin_locals_across_cgocall\n"
	"	.type	pin_locals_across_cgocall, @function\n"
	"pin_locals_across_cgocall:\n"
	"	.cfi_startproc\n"
	"	pushq	%rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset rbp, -16\n"
	"	movq	%rsp, %rbp\n"
	"	.cfi_def_cfa_register rbp\n"
	"	pushq	%r15\n"
	"	.cfi_offset r15, -24\n"
	"	pushq	%r14\n"
	"	.cfi_offset r14, -32\n"
	"	subq	$16, %rsp\n"               /* local: 16 bytes, sp stays aligned */
	"	movq	$0x10ca1, (%rsp)\n"
	"	leaq	(%rsp), %r14\n"
	"	movq	%r14, %r15\n"
	"	call	rt_cgocall@PLT\n"          /* rdi = fn, rsi = arg */
	"	movq	%r14, pinned_reg1(%rip)\n"
	"	movq	%r15, pinned_reg2(%rip)\n"
	"	leaq	(%rsp), %rax\n"
	"	movq	%rax, pinned_local(%rip)\n"
	"	addq	$16, %rsp\n"
	"	popq	%r14\n"
	"	.cfi_restore r14\n"
	"	popq	%r15\n"
	"	.cfi_restore r15\n"
	"	popq	%rbp\n"
	"	.cfi_def_cfa rsp, 8\n"
	"	.cfi_restore rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.size	pin_locals_across_cgocall, .-pin_locals_across_cgocall\n");
#endif
void pin_locals_across_cgocall(void (*fn)(void *), void *arg);

/* On the goroutine, called back from C: grows (moves) the stack. */
static void grow(void *arg)
{
	(void)arg;
	RT_STACK_CHECK(64 * 1024);
}

/* C on g0 inside rt_cgocall. */
static void call_back(void *arg)
{
	rt_cgocallback(grow, arg);
}

static int pinned(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t moves = rt_stack_moves();
	pin_locals_across_cgocall(call_back, NULL);
	CHECK(rt_stack_moves() > moves, "the callback did not move the stack (moves %llu)",
	      (unsigned long long)rt_stack_moves());
	uintptr_t lo, hi;
	rt_stack_bounds(&lo, &hi);
	CHECK(pinned_local >= lo && pinned_local < hi,
	      "&local %#lx is not on the goroutine's stack [%#lx, %#lx)",
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	CHECK(pinned_reg1 == pinned_local,
	      "r14/x19 = %#lx after rt_cgocall, but &local = %#lx: the stack moved to [%#lx, "
	      "%#lx) and the register still points into the old one", (unsigned long)pinned_reg1,
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	CHECK(pinned_reg2 == pinned_local,
	      "r15/x20 = %#lx after rt_cgocall, but &local = %#lx: the stack moved to [%#lx, "
	      "%#lx) and the register still points into the old one", (unsigned long)pinned_reg2,
	      (unsigned long)pinned_local, (unsigned long)lo, (unsigned long)hi);
	return 0;
}

RT_TEST(cgo_regs, callee_saved_pinned_across_moving_callback, pinned, 60)
