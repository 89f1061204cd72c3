/*
 * boot.S - Multiboot v1 header and the 32-bit to 64-bit trampoline of the
 * sample guest kernels.
 *
 * A Multiboot loader (QEMU -kernel, rrvm, GRUB) enters _start in 32-bit
 * protected mode with paging off, EAX = 0x2BADB002 and EBX = the physical
 * address of the Multiboot information. We identity-map the first 1 GiB
 * with 2 MiB pages, enable PAE, EFER.LME (and EFER.NXE when the CPU has
 * NX), turn on paging, load a 64-bit GDT, far-jump into 64-bit code and
 * call kmain(magic, info) on a 16 KiB boot stack. Nothing here uses a
 * 32-bit stack, iret or software interrupts: the CPL0 emulator of the
 * development hosts cannot run those (shared/PLATFORM.md).
 *
 * The header sets flag bit 16 (address fields valid) because QEMU's
 * Multiboot loader refuses ELF64 images on its ELF path. The address fields
 * come from kernel.ld and describe exactly the one PT_LOAD segment of the
 * ELF file: load_addr = p_vaddr, load_end_addr = p_vaddr + p_filesz,
 * bss_end_addr = p_vaddr + p_memsz, entry_addr = e_entry.
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010002 /* bit 1: memory info, bit 16: address fields */

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define CR4_PAE 0x20
#define CR0_PE_PG 0x80000001
#define PTE_P_RW 0x03
#define PDE_2M 0x83 /* present, writable, page size */

	.cfi_sections .debug_frame

	.section .multiboot, "a"
	.balign 4
	.globl multiboot_header
multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long multiboot_header	/* header_addr */
	.long __image_start	/* load_addr */
	.long _edata		/* load_end_addr */
	.long _end		/* bss_end_addr */
	.long _start		/* entry_addr */

	.section .text.boot, "ax"
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movl %eax, %esi		/* keep magic and info for kmain */
	movl %ebx, %ebp

	/* Zero .bss: the page tables and stacks live there. */
	movl $__bss_start, %edi
	movl $_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB. */
	movl $boot_pdpt + PTE_P_RW, boot_pml4
	movl $boot_pd + PTE_P_RW, boot_pdpt
	movl $boot_pd, %edi
	movl $PDE_2M, %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	decl %ecx
	jnz 1b

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4

	/* EFER.NXE only if CPUID says NX exists, or wrmsr would #GP. */
	xorl %edi, %edi
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb 2f
	movl $0x80000001, %eax
	cpuid
	btl $20, %edx
	jnc 2f
	movl $EFER_NXE, %edi
2:	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl %edi, %eax
	wrmsr

	movl %cr0, %eax
	orl $CR0_PE_PG, %eax
	movl %eax, %cr0

	lgdt gdt64_ptr
	ljmp $KERNEL_CS, $long_mode_entry
	.size _start, . - _start

	.code64
	.type long_mode_entry, @function
long_mode_entry:
	.cfi_startproc
	.cfi_undefined rip	/* outermost frame: gdb's backtrace ends here */
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	movl %esi, %edi		/* kmain(magic, info) */
	movl %ebp, %esi
	xorl %ebp, %ebp
	call kmain
3:	cli
	hlt
	jmp 3b
	.cfi_endproc
	.size long_mode_entry, . - long_mode_entry

	.data
	.balign 16
gdt64:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf93000000ffff	/* 0x10: data, DPL 0 */
gdt64_end:
	.balign 8
	.globl gdt64_ptr
gdt64_ptr:
	.word gdt64_end - gdt64 - 1
	.quad gdt64

	.bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096
	.balign 16
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
