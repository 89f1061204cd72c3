/*
 * hello.c - the smallest sample: boot, print one greeting line on COM1 and,
 * when the loader passed a command line (Multiboot flags bit 2), print it
 * as "cmdline: <command line>". Then exit through isa-debug-exit with
 * value 0, so QEMU and rrvm end with status 1.
 *
 * It prints nothing that could differ between two loaders of the same
 * command line (no memory sizes, no addresses): its output is a fixed
 * reference for "does the boot path work" and for record/replay checks.
 *
 * For testing the crash path, a command line with the word "crash" makes
 * it execute ud2 in hello_crash(): the runtime prints "EXCEPTION 6 at
 * rip=<address of the symbol hello_crash_ud2> err=0x0" and exits with
 * value 0x7f (status 255).
 */
#include <stdbool.h>

#include "kernel.h"

/* The label names the faulting instruction, for tests to compare. */
__attribute__((noinline)) void hello_crash(void)
{
	__asm__ volatile(".globl hello_crash_ud2\nhello_crash_ud2: ud2");
}

void kmain(uint32_t magic, uint32_t info)
{
	const char *cmdline;

	kernel_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		kprintf("hello: bad Multiboot magic 0x%x\n", magic);
		kexit(0x7e);
	}
	kprintf("Hello from rrvm!\n");
	cmdline = multiboot_cmdline(magic, info);
	if (cmdline) {
		kprintf("cmdline: %s\n", cmdline);
		if (cmdline_has(cmdline, "crash"))
			hello_crash();
	}
	kexit(0);
}
