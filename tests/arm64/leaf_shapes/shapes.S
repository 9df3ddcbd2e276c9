/*
 * shapes.S — aarch64 functions stopped (in samples built by shapes.c, never
 * run) inside each leaf shape the comparator must tell apart, each with the
 * CFI GCC emits for it.  ls_outer calls ls_caller with x29 = 0 (the chain's
 * clean end) and x30 undefined (DWARF's outermost frame); ls_caller, a normal
 * frame-record function, calls the shape.  ls_pcs holds the sampled pcs and
 * the return addresses (enum ls_pc in shapes.c), local labels so that every
 * address symbolizes to its function.
 */
	.text

	.globl ls_outer
	.type ls_outer, %function
ls_outer:
	.cfi_startproc
	.cfi_undefined 30
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	mov x29, #0
	bl ls_caller
.Lret_in_outer:
	ldp x29, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore 29
	ret
	.cfi_endproc
	.size ls_outer, .-ls_outer

	.globl ls_caller
	.type ls_caller, %function
ls_caller:
	.cfi_startproc
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
	mov x29, sp
	blr x0
.Lret_in_caller:
	ldp x29, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore 29
	.cfi_restore 30
	ret
	.cfi_endproc
	.size ls_caller, .-ls_caller

/* A leaf that needs no stack: x30 holds the return address (the leaf window). */
	.globl ls_leaf
	.type ls_leaf, %function
ls_leaf:
	.cfi_startproc
	nop
.Lleaf_pc:
	nop
	ret
	.cfi_endproc
	.size ls_leaf, .-ls_leaf

/* A leaf with locals and no frame record (GCC without
 * -mno-omit-leaf-frame-pointer): x30 still holds the return address. */
	.globl ls_leafstack
	.type ls_leafstack, %function
ls_leafstack:
	.cfi_startproc
	sub sp, sp, #32
	.cfi_def_cfa_offset 32
.Lleafstack_pc:
	nop
	add sp, sp, #32
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc
	.size ls_leafstack, .-ls_leafstack

/* A non-leaf between stp x29, x30 and mov x29, sp (setup), in its body
 * (record), and after its ldp (after_ldp). */
	.globl ls_nonleaf
	.type ls_nonleaf, %function
ls_nonleaf:
	.cfi_startproc
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
.Lsetup_pc:
	mov x29, sp
.Lrecord_pc:
	bl ls_leaf
	ldp x29, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore 29
	.cfi_restore 30
.Lafter_ldp_pc:
	ret
	.cfi_endproc
	.size ls_nonleaf, .-ls_nonleaf

/* A non-leaf built with -fomit-frame-pointer: x30 saved beside x19, no frame
 * record; sampled just after its call returned (x30 points into itself). */
	.globl ls_norecord
	.type ls_norecord, %function
ls_norecord:
	.cfi_startproc
	stp x19, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 19, -16
	.cfi_offset 30, -8
	bl ls_leaf
.Lnorecord_pc:
	ldp x19, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore 19
	.cfi_restore 30
	ret
	.cfi_endproc
	.size ls_norecord, .-ls_norecord

/* -fomit-frame-pointer keeping x29 as an ordinary callee-saved register: the
 * stp looks like a frame record, but x29 then holds data. */
	.globl ls_x29data
	.type ls_x29data, %function
ls_x29data:
	.cfi_startproc
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
	mov x29, #0x1234
.Lx29data_pc:
	nop
	ldp x29, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore 29
	.cfi_restore 30
	ret
	.cfi_endproc
	.size ls_x29data, .-ls_x29data

	.data
	.balign 8
	.globl ls_pcs
ls_pcs:
	.quad .Lret_in_outer
	.quad .Lret_in_caller
	.quad .Lleaf_pc
	.quad .Lleafstack_pc
	.quad .Lsetup_pc
	.quad .Lrecord_pc
	.quad .Lafter_ldp_pc
	.quad .Lnorecord_pc
	.quad .Lx29data_pc

	.section .note.GNU-stack, "", %progbits
