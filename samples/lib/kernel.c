/*
 * kernel.c - start-up and shutdown helpers shared by the samples:
 * kernel_init(), kexit() through isa-debug-exit, and reading the Multiboot
 * command line.
 */
#include "io.h"
#include "kernel.h"

void kernel_init(void)
{
	serial_init();
	idt_init();
	pic_init();
}

void kexit(uint32_t value)
{
	/* QEMU and rrvm end the VM here with status (value << 1) | 1. */
	outl(DEBUG_EXIT_PORT, value);
	/* No isa-debug-exit device: stop with interrupts off. */
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

const char *multiboot_cmdline(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || info == 0)
		return NULL;
	/* Physical = virtual: boot.S identity-maps the first 1 GiB. */
	mbi = (const struct multiboot_info *)(uintptr_t)info;
	if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE) || mbi->cmdline == 0 ||
	    mbi->cmdline >= 0x40000000u)
		return NULL;
	return (const char *)(uintptr_t)mbi->cmdline;
}
