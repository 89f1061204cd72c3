/*
 * isr.S - 64-bit interrupt entry stubs for the sample guest kernels.
 *
 * One stub per vector 0-47 pushes a zero error code when the CPU pushes
 * none, then the vector number, and jumps to isr_common, which saves all
 * general registers into a struct isr_frame (kernel.h) and calls
 * isr_dispatch(frame). isr_dispatch returns the frame to resume: normally
 * the same one, or another thread's saved frame when race.c switches
 * threads. Then the registers are restored and iretq returns (64-bit iretq
 * at CPL0 works on every backend; 32-bit iret does not).
 *
 * The CFI describes the hardware frame so that gdb can unwind from an
 * interrupt handler back into the interrupted code ("bt" across the IRQ).
 */
	.cfi_sections .debug_frame

/* DWARF register numbers: rsp 7, return address (rip) 16, rflags 49. */
#define DW_RSP 7
#define DW_RIP 16
#define DW_RFLAGS 49

/* On entry rsp points at the CPU frame: rip, cs, rflags, rsp, ss. */
.macro ISR_HW_CFI cfa
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_def_cfa DW_RSP, \cfa
	.cfi_offset DW_RIP, -40
	.cfi_offset DW_RFLAGS, -24
	.cfi_offset DW_RSP, -16
.endm

.macro ISR_NOERR vec
	.balign 8
isr_stub_\vec:
	ISR_HW_CFI 40
	pushq $0
	.cfi_adjust_cfa_offset 8
	pushq $\vec
	.cfi_adjust_cfa_offset 8
	jmp isr_common
	.cfi_endproc
.endm

.macro ISR_ERR vec
	.balign 8
isr_stub_\vec:
	ISR_HW_CFI 48
	pushq $\vec
	.cfi_adjust_cfa_offset 8
	jmp isr_common
	.cfi_endproc
.endm

.macro SAVE reg
	pushq %\reg
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset \reg, 0
.endm

.macro RESTORE reg
	popq %\reg
	.cfi_adjust_cfa_offset -8
	.cfi_restore \reg
.endm

	.text
	.type isr_common, @function
isr_common:
	ISR_HW_CFI 56
	SAVE rax
	SAVE rbx
	SAVE rcx
	SAVE rdx
	SAVE rsi
	SAVE rdi
	SAVE rbp
	SAVE r8
	SAVE r9
	SAVE r10
	SAVE r11
	SAVE r12
	SAVE r13
	SAVE r14
	SAVE r15
	/* 15 + 2 + 5 quadwords = 176 bytes; the CPU aligned rsp to 16 first. */
	movq %rsp, %rdi
	cld
	call isr_dispatch
	movq %rax, %rsp
	RESTORE r15
	RESTORE r14
	RESTORE r13
	RESTORE r12
	RESTORE r11
	RESTORE r10
	RESTORE r9
	RESTORE r8
	RESTORE rbp
	RESTORE rdi
	RESTORE rsi
	RESTORE rdx
	RESTORE rcx
	RESTORE rbx
	RESTORE rax
	addq $16, %rsp
	.cfi_adjust_cfa_offset -16
	iretq
	.cfi_endproc
	.size isr_common, . - isr_common

	ISR_NOERR 0
	ISR_NOERR 1
	ISR_NOERR 2
	ISR_NOERR 3
	ISR_NOERR 4
	ISR_NOERR 5
	ISR_NOERR 6
	ISR_NOERR 7
	ISR_ERR 8
	ISR_NOERR 9
	ISR_ERR 10
	ISR_ERR 11
	ISR_ERR 12
	ISR_ERR 13
	ISR_ERR 14
	ISR_NOERR 15
	ISR_NOERR 16
	ISR_ERR 17
	ISR_NOERR 18
	ISR_NOERR 19
	ISR_NOERR 20
	ISR_ERR 21
	ISR_NOERR 22
	ISR_NOERR 23
	ISR_NOERR 24
	ISR_NOERR 25
	ISR_NOERR 26
	ISR_NOERR 27
	ISR_NOERR 28
	ISR_ERR 29
	ISR_ERR 30
	ISR_NOERR 31
	/* 0x20-0x2f: the remapped 8259 IRQs. */
	ISR_NOERR 32
	ISR_NOERR 33
	ISR_NOERR 34
	ISR_NOERR 35
	ISR_NOERR 36
	ISR_NOERR 37
	ISR_NOERR 38
	ISR_NOERR 39
	ISR_NOERR 40
	ISR_NOERR 41
	ISR_NOERR 42
	ISR_NOERR 43
	ISR_NOERR 44
	ISR_NOERR 45
	ISR_NOERR 46
	ISR_NOERR 47

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr_stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits
